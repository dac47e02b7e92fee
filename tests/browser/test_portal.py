"""A citizen uses the demo portal in a real headless Chromium: log in, apply, follow, be refused, replace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import contracts
from tests.support.browser import Tab, save_screenshot, skip_module_without_browser

skip_module_without_browser()
from playwright.sync_api import Locator, Page, expect  # noqa: E402  -- the package is a dev dependency

# The tests talk to a browser and the whole stack.
pytestmark = pytest.mark.network

PROCESSING = 20_000  # ms for an application to go through the fund and the insurer
expect.set_options(timeout=10_000)  # a shared machine may be slow; a missing element still fails in seconds


def catalogue_entry(code: str) -> dict[str, str]:
    entries = yaml.safe_load(contracts.path("rejections.yaml").read_text(encoding="utf-8"))["reasons"]
    entry: dict[str, str] = next(item for item in entries if item["code"] == code)
    return entry


def log_in(tab: Tab, login: str, full_name: str) -> Page:
    """Log in on the mock authorization server's page as a test user of mocks/data/oauth.yaml."""
    page = tab.page
    tab.open_portal()
    page.get_by_role("button", name="Войти через Госуслуги").click()
    page.wait_for_url(f"{tab.stack.mocks}/oauth/authorize?**")
    expect(page.get_by_text("Портал «Электронный полис ОМС»")).to_be_visible()
    page.get_by_label("Логин").fill(login)
    page.get_by_label("Пароль").fill(f"{login}-test")
    page.get_by_role("button", name="Войти", exact=True).click()
    page.wait_for_url(f"{tab.stack.gateway}/portal/")
    expect(page.locator("#user-name")).to_have_text(full_name)
    return page


def field(page: Page, label: str) -> Locator:
    """A field of the application form by its label (required ones end with " *")."""
    return page.locator("#application-form").get_by_label(label, exact=True)


def fill_passport(page: Page, series: str, number: str, issued: str) -> None:
    field(page, "Серия *").fill(series)
    field(page, "Номер *").fill(number)
    field(page, "Дата выдачи *").fill(issued)
    field(page, "Кем выдан").fill("ГУ МВД России по г. Москве")


def choose_insurer(page: Page, code: str, policy_form: str = "electronic") -> None:
    insurer = field(page, "Страховая медицинская организация *")
    expect(insurer.locator(f'option[value="{code}"]')).to_have_count(1)  # the list comes from the API
    insurer.select_option(code)
    field(page, "Форма полиса *").select_option(policy_form)


def apply(page: Page) -> None:
    page.get_by_role("button", name="Подать заявление").click()
    expect(page.locator("#view-application")).to_be_visible()


def test_a_citizen_logs_in_applies_and_sees_the_policy_issued(tab: Tab, tmp_path: Path) -> None:
    page = log_in(tab, "ivanova", "Иванова Анна Сергеевна")
    # What the login told about the citizen fills the form.
    expect(field(page, "Фамилия *")).to_have_value("Иванова")
    expect(field(page, "Дата рождения *")).to_have_value("1990-05-17")
    expect(field(page, "СНИЛС *")).to_have_value("112-233-445 95")
    field(page, "Пол *").select_option("female")
    field(page, "Место рождения").fill("г. Москва")
    fill_passport(page, "4510", "123456", "2010-06-01")
    choose_insurer(page, "77001")
    field(page, "Телефон").fill("+7 916 123-45-67")
    apply(page)

    expect(page.locator("#application-status")).to_have_text("Полис оформлен", timeout=PROCESSING)
    steps = page.locator("#application-history .step-name")
    expect(steps).to_have_text(
        [
            "Заявление принято",
            "Проверка в реестре застрахованных лиц (ТФОМС)",
            "Оформление полиса в страховой медицинской организации",
            "Полис оформлен",
        ]
    )
    # ЕНП: fund code 77 and the facet of 1990-05-17, female, shown in groups of four.
    expect(page.locator("#policy-enp")).to_have_text(re.compile(r"^7754 9008 82\d\d \d{4}$"))
    expect(page.locator("#policy-insurer")).to_have_text("АО «Столичная медицинская страховая компания»")
    expect(page.locator("#policy-status")).to_have_text("действует")
    expect(page.locator("#policy-holder")).to_have_text("И****** Анна 17.05.1990")

    save_screenshot(page, tmp_path / "portal-issued.png")


def test_a_wrong_snils_is_shown_next_to_the_field_with_its_recommendation(tab: Tab) -> None:
    page = log_in(tab, "kuznetsov", "Кузнецов Дмитрий")
    snils = field(page, "СНИЛС *")
    snils.fill("100-079-190 01")
    field(page, "Пол *").select_option("male")
    fill_passport(page, "4521", "654321", "2021-10-15")
    choose_insurer(page, "77002")
    page.get_by_role("button", name="Проверить данные").click()

    entry = catalogue_entry("SNILS_CHECKSUM")
    message = page.locator('[data-field="person.snils"] .field-error')
    expect(message).to_contain_text(entry["message"])
    expect(message).to_contain_text(entry["recommendation"])
    expect(snils).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field-error")).to_have_count(1)

    snils.fill("100-079-190 00")
    page.get_by_role("button", name="Проверить данные").click()
    expect(page.locator("#form-status")).to_have_text("Ошибок не найдено, заявление можно подавать.")
    expect(page.locator(".field-error")).to_have_count(0)
    expect(snils).not_to_have_attribute("aria-invalid", "true")


def test_a_refusal_of_the_fund_is_shown_with_its_recommendation(tab: Tab, tmp_path: Path) -> None:
    # The registry's seed holds him as having died on 2025-03-10 (mocks/data/registry.yaml): the fund refuses.
    page = log_in(tab, "sidorov", "Сидоров Пётр Ильич")
    field(page, "Пол *").select_option("male")
    fill_passport(page, "4503", "112233", "2003-10-01")
    choose_insurer(page, "77001")
    apply(page)

    expect(page.locator("#application-status")).to_have_text("В оформлении отказано", timeout=PROCESSING)
    entry = catalogue_entry("PERSON_DECEASED")
    reason = page.locator('#rejection-reasons [data-code="PERSON_DECEASED"]')
    expect(reason.locator(".reason-message")).to_have_text(entry["message"])
    expect(reason.locator(".reason-recommendation")).to_have_text(f"Что сделать: {entry['recommendation']}")
    expect(reason).to_contain_text("Кто отказал: территориальный фонд ОМС (реестр застрахованных лиц)")
    expect(page.locator("#policy")).to_be_hidden()
    save_screenshot(page, tmp_path / "portal-refused.png")


def test_a_citizen_replaces_the_policy_after_a_name_change_and_keeps_the_enp(tab: Tab, tmp_path: Path) -> None:
    page = log_in(tab, "smirnova", "Смирнова Мария Игоревна")
    field(page, "Пол *").select_option("female")
    fill_passport(page, "4523", "778899", "2023-04-10")
    choose_insurer(page, "77002", "paper")
    apply(page)
    expect(page.locator("#application-status")).to_have_text("Полис оформлен", timeout=PROCESSING)
    enp = page.locator("#policy-enp").inner_text()

    page.get_by_role("button", name="Заменить или переоформить полис").click()
    replacement = page.locator("#replacement-form")
    replacement.get_by_label("Причина *", exact=True).select_option("personal_data_change")
    replacement.get_by_label("Новая фамилия", exact=True).fill("Кузьмина")
    replacement.get_by_label("Форма полиса *", exact=True).select_option("electronic")
    page.get_by_role("button", name="Отправить заявление на замену").click()

    expect(page.locator("#application-title")).to_have_text("Заявление о замене полиса ОМС")
    expect(page.locator("#application-status")).to_have_text("Полис оформлен", timeout=PROCESSING)
    expect(page.locator("#policy-enp")).to_have_text(enp)
    expect(page.locator("#policy-holder")).to_have_text("К******* Мария 21.03.1978")
    expect(page.locator("#policy-form")).to_have_text("Электронный полис (выписка)")
    save_screenshot(page, tmp_path / "portal-replaced.png")

    page.get_by_role("button", name="Мои заявления").click()
    rows = page.locator("#list-body tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Замена полиса")
    expect(rows.nth(1)).to_contain_text("Новый полис")
