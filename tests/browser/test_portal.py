"""A citizen uses the demo portal in a real headless Chromium: log in, apply, follow, be refused, replace.

Every page on the way is held to axe-core (no violation) and to a phone's 390 px (no sideways scroll), with a
screenshot of each width (tests/browser/checks.py).
"""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

import contracts
from tests.browser.checks import inspect
from tests.support.browser import Tab, skip_module_without_browser
from tests.support.people import new_snils

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


def log_in(tab: Tab, login: str, full_name: str, axe: str | None = None, shots: Path | None = None) -> Page:
    """Log in on the mock authorization server's page as a test user of mocks/data/oauth.yaml (first holding the
    portal's login page to `inspect` when given axe-core)."""
    page = tab.page
    tab.open_portal()
    if axe is not None and shots is not None:
        expect(page.locator("#view-login")).to_be_visible()
        inspect(page, axe, shots / "portal-login.png")
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


def apply_for_oneself(page: Page, sex: str, insurer: str) -> None:
    """The form as the login filled it, with a passport of its own (random: the registry keeps who has which)."""
    field(page, "Пол *").select_option(sex)
    fill_passport(page, f"{random.randint(1000, 9999)}", f"{random.randint(100_000, 999_999)}", "2021-10-15")
    choose_insurer(page, insurer)
    apply(page)


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def test_a_citizen_logs_in_applies_and_sees_the_policy_issued(tab: Tab, tmp_path: Path, axe: str) -> None:
    page = log_in(tab, "ivanova", "Иванова Анна Сергеевна", axe, tmp_path)
    inspect(page, axe, tmp_path / "portal-form.png")
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
    # Screen readers hear the change: the announcer is a polite live region, not the badge redrawn at every poll.
    announcer = page.locator("#status-announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    expect(announcer).to_have_text(re.compile(r"^Заявление № [0-9A-Z]{4}-[0-9A-Z]{4}: Полис оформлен$"))
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
    # Her own policy: her name in full, as in the header; the API masks it for anyone.
    expect(page.locator("#policy-holder")).to_have_text("Иванова Анна Сергеевна, 17.05.1990")
    expect(page.locator("#policy-holder-label")).to_have_text("Владелец (вы)")
    # The number a person can read out, the whole id one click away.
    number = page.locator("#application-number").inner_text()
    full_id = page.locator("#application-id").text_content() or ""
    assert re.fullmatch(r"№ [0-9A-Z]{4}-[0-9A-Z]{4}", number), number
    assert re.fullmatch(r"app_[0-9A-Z]{26}", full_id) and full_id.endswith(number[2:].replace("-", "")), full_id
    page.get_by_text("Полный номер заявления").click()
    expect(page.locator("#application-id")).to_be_visible()
    inspect(page, axe, tmp_path / "portal-issued.png")

    with page.expect_download() as download:
        page.get_by_role("button", name="Скачать полис (PDF)").click()
    enp = page.locator("#policy-enp").inner_text().replace(" ", "")
    assert download.value.suggested_filename == f"polis-oms-{enp}.pdf"
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert enp in text and "Иванова Анна Сергеевна" in text
    assert "ДЕМО" in text, "epolicy stack marks its documents"
    expect(page.locator("#download-status")).to_have_text(f"Файл polis-oms-{enp}.pdf сохранён.")

    page.get_by_role("button", name="Заменить или переоформить полис").click()
    expect(page.locator("#replacement-form")).to_be_visible()
    inspect(page, axe, tmp_path / "portal-replacement-form.png")


def test_every_wrong_field_is_shown_under_it_at_once(tab: Tab, tmp_path: Path, axe: str) -> None:
    page = log_in(tab, "kuznetsov", "Кузнецов Дмитрий")
    field(page, "Фамилия *").fill("")
    field(page, "СНИЛС *").fill("100-079-190 01")
    field(page, "Серия *").fill("45")
    page.get_by_role("button", name="Проверить данные").click()

    # The schema's reasons (a missing surname, sex, passport number and date) with the domain's on what parsed
    # (the СНИЛС's check number, the series' pattern), in one answer.
    expected = {
        "person.last_name": "FIELD_REQUIRED",
        "person.sex": "FIELD_REQUIRED",
        "person.snils": "SNILS_CHECKSUM",
        "person.identity_document.series": "DOCUMENT_SERIES_FORMAT",
        "person.identity_document.number": "FIELD_REQUIRED",
        "person.identity_document.issue_date": "FIELD_REQUIRED",
    }
    form = page.locator("#application-form")
    for path, code in expected.items():
        message = form.locator(f'[data-field="{path}"] > .field-error')
        expect(message).to_have_attribute("data-code", code)
        expect(message).to_contain_text(catalogue_entry(code)["recommendation"])
        expect(form.locator(f'[data-field="{path}"] > :is(input, select)')).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field-error")).to_have_count(len(expected))
    summary = page.locator("#form-errors")
    expect(summary).to_be_focused()
    expect(summary.locator(".error-title")).to_have_text("Найдено ошибок: 6. Исправьте, пожалуйста:")
    # Listed as the form reads, each named as a field of its own: "Серия паспорта", not a bare "Серия".
    labels = ["Фамилия", "Пол", "СНИЛС", "Серия паспорта", "Номер паспорта", "Дата выдачи паспорта"]
    expect(summary.locator("li")).to_have_text([re.compile(f"^{label}: ") for label in labels])
    expect(summary.locator("li").first).to_have_text(f"Фамилия: {catalogue_entry('FIELD_REQUIRED')['message']}")
    summary.get_by_role("link", name=re.compile("^СНИЛС:")).click()
    expect(field(page, "СНИЛС *")).to_be_focused()
    inspect(page, axe, tmp_path / "portal-form-errors.png")


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


def test_a_refusal_of_the_fund_is_shown_with_its_recommendation(tab: Tab, tmp_path: Path, axe: str) -> None:
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
    # The fund names the element of its message (Person): the field line says which part of the form it was.
    expect(reason.locator(".reason-field")).to_have_text("Поле: Личные данные")
    expect(page.locator("#policy")).to_be_hidden()
    # The recommendation asks to check the data: the form comes back with them.
    actions = page.locator("#rejection-actions button")
    expect(actions).to_have_text(["Исправить данные и подать заново"])
    inspect(page, axe, tmp_path / "portal-refused.png")
    actions.first.click()
    expect(page.locator("#view-form")).to_be_visible()
    expect(field(page, "Фамилия *")).to_have_value("Сидоров")


def test_a_second_application_to_ones_insurer_offers_a_replacement(tab: Tab, tmp_path: Path, axe: str) -> None:
    page = log_in(tab, "kuznetsov", "Кузнецов Дмитрий")
    apply_for_oneself(page, "male", "77002")
    expect(page.locator("#application-status")).to_have_text("Полис оформлен", timeout=PROCESSING)
    enp = page.locator("#policy-enp").inner_text()
    page.get_by_role("button", name="Новое заявление").click()
    apply(page)

    expect(page.locator("#application-status")).to_have_text("В оформлении отказано", timeout=PROCESSING)
    entry = catalogue_entry("ALREADY_INSURED_SAME_INSURER")
    reason = page.locator('#rejection-reasons [data-code="ALREADY_INSURED_SAME_INSURER"]')
    # Said to him of himself, with the field the catalogue names, which the form's page is not there to label.
    assert entry["message"].startswith("Этот человек")
    expect(reason.locator(".reason-message")).to_have_text(
        "Вы уже застрахованы в выбранной страховой медицинской организации."
    )
    expect(reason.locator(".reason-field")).to_have_text("Поле: Страховая медицинская организация")
    # "Новый полис для этого не нужен": a replacement first, another insurer next; not "apply again".
    actions = page.locator("#rejection-actions button")
    expect(actions).to_have_text(["Заменить полис", "Выбрать другую страховую организацию"])
    inspect(page, axe, tmp_path / "portal-already-insured.png")

    actions.first.click()
    expect(page.locator("#policy-title")).to_have_text("Ваш действующий полис ОМС")
    expect(page.locator("#policy-enp")).to_have_text(enp)
    expect(page.locator("#policy-holder")).to_have_text("Кузнецов Дмитрий, 30.09.2001")
    replacement = page.locator("#replacement-form")
    expect(replacement).to_be_visible()
    inspect(page, axe, tmp_path / "portal-replace-instead.png")
    replacement.get_by_label("Причина *", exact=True).select_option("lost")
    page.get_by_role("button", name="Отправить заявление на замену").click()
    expect(page.locator("#application-title")).to_have_text("Заявление о замене полиса ОМС")
    expect(page.locator("#application-status")).to_have_text("Полис оформлен", timeout=PROCESSING)
    expect(page.locator("#policy-enp")).to_have_text(enp)


def test_applying_for_oneself_on_another_persons_data_is_refused_at_once(tab: Tab) -> None:
    # Петров types in a woman he is not: "for oneself" is his own СНИЛС, the one he logged in with.
    page = log_in(tab, "petrov", "Петров Сергей Николаевич")
    field(page, "Фамилия *").fill("Орлова")
    field(page, "Имя *").fill("Вера")
    field(page, "Отчество").fill("Павловна")
    field(page, "Дата рождения *").fill("1995-02-03")
    snils = field(page, "СНИЛС *")
    snils.fill(new_snils())
    field(page, "Пол *").select_option("female")
    fill_passport(page, "4517", "246810", "2021-10-15")
    choose_insurer(page, "77001")
    page.get_by_role("button", name="Подать заявление").click()

    entry = catalogue_entry("SELF_SNILS_MISMATCH")
    message = page.locator('[data-field="person.snils"] .field-error')
    expect(message).to_contain_text(entry["message"])
    expect(snils).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#view-application")).to_be_hidden()


def test_a_citizen_replaces_the_policy_after_a_name_change_and_keeps_the_enp(
    tab: Tab, tmp_path: Path, axe: str
) -> None:
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
    # Her new surname, which she gave here, matches the registry's masked one: shown in full.
    expect(page.locator("#policy-holder")).to_have_text("Кузьмина Мария Игоревна, 21.03.1978")
    expect(page.locator("#policy-form")).to_have_text("Электронный полис (выписка)")
    inspect(page, axe, tmp_path / "portal-replaced.png")

    page.get_by_role("button", name="Мои заявления").click()
    rows = page.locator("#list-items > li")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Замена полиса №")
    expect(rows.first).to_contain_text(f"ЕНП {enp}")
    expect(rows.nth(1)).to_contain_text("Новый полис №")
    inspect(page, axe, tmp_path / "portal-list.png")
    rows.nth(1).get_by_role("button").click()
    expect(page.locator("#application-title")).to_have_text("Заявление на полис ОМС")
    expect(page.locator("#application-title")).to_be_focused()


def test_a_policy_in_force_not_applied_for_here_is_asked_for_by_its_enp(tab: Tab, tmp_path: Path, axe: str) -> None:
    # Морозов of the registry's seed is insured with 77001 (mocks/data/registry.yaml) and applies there again.
    page = log_in(tab, "morozov", "Морозов Дмитрий Андреевич")
    field(page, "Пол *").select_option("male")
    fill_passport(page, "4505", "731942", "2005-12-14")
    choose_insurer(page, "77001")
    apply(page)
    expect(page.locator("#application-status")).to_have_text("В оформлении отказано", timeout=PROCESSING)
    # The citizen himself: the catalogue's words about "этот человек" become "вы".
    expect(page.locator("#rejection-reasons .reason-message")).to_have_text(
        "Вы уже застрахованы в выбранной страховой медицинской организации."
    )

    # No application here issued the policy in force, so its ЕНП is asked for.
    page.locator("#rejection-actions button", has_text="Заменить полис").click()
    finder = page.locator("#enp-finder")
    enp = finder.get_by_label("ЕНП вашего действующего полиса *", exact=True)
    expect(enp).to_be_focused()
    enp.fill("7748 4108")
    page.get_by_role("button", name="Показать полис").click()
    expect(finder.locator(".field-error .error-message")).to_have_text("ЕНП — это 16 цифр.")
    enp.fill("7752 0208 7600 0013")
    page.get_by_role("button", name="Показать полис").click()
    expect(finder.locator(".field-error")).to_have_attribute("data-code", "ENP_CHECKSUM")
    # Someone else's policy, which nothing of Морозов's concerns, is not shown to him.
    enp.fill("7752 0208 7600 0012")
    page.get_by_role("button", name="Показать полис").click()
    expect(finder.locator(".field-error .error-message")).to_have_text("Среди ваших полисов нет полиса с таким ЕНП.")
    expect(enp).to_have_attribute("aria-invalid", "true")
    expect(enp).to_be_focused()
    expect(page.locator("#enp-finder-errors")).to_be_hidden()  # one field: its reason is beside it
    expect(page.locator("#policy")).to_be_hidden()
    inspect(page, axe, tmp_path / "portal-enp-finder.png")
