"""What the policy extract («выписка») says, in Russian, before any layout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.domain.model import Policy, PolicyStatus, Sex

TITLE = "Выписка из единого регистра застрахованных лиц"
SUBTITLE = "о полисе обязательного медицинского страхования"

STATUS_NAMES = {
    PolicyStatus.ACTIVE: "действует",
    PolicyStatus.EXPIRED: "не действует: срок действия истёк",
    PolicyStatus.SUSPENDED: "действие приостановлено",
    PolicyStatus.ANNULLED: "аннулирован",
    PolicyStatus.PENDING: "ещё не начал действовать",
}
FORM_NAMES = {
    "electronic": "полис в электронной форме (запись в едином регистре)",
    "paper": "полис на бумажном носителе",
    "plastic": "полис на пластиковой карте",
    "universal_card": "полис в составе универсальной электронной карты",
}
SEX_NAMES = {Sex.MALE: "мужской", Sex.FEMALE: "женский"}
DEMO_MARK = "ДЕМО"
DEMO_NOTE = (
    "ДЕМОНСТРАЦИОННЫЙ СТЕНД: выписка составлена по тестовым данным и не является документом об обязательном "
    "медицинском страховании."
)


def moscow() -> tzinfo:
    """Moscow time, in which the registry and its citizens read a document's times."""
    try:
        return ZoneInfo("Europe/Moscow")
    except ZoneInfoNotFoundError:
        # No time zone database on the machine (and no tzdata package): Moscow has kept UTC+3 since 2014.
        return timezone(timedelta(hours=3), "MSK")


@dataclass(frozen=True)
class PolicyExtract:
    """A policy as the registry has it, with the names the reference data give its insurer and region."""

    policy: Policy
    insurer_name: str | None
    region_name: str | None
    issued_at: datetime  # when the extract was made: the data are the registry's at that moment
    demo: bool = False  # made by a demonstration stack (EPOLICY_DEMO_MARK): marked «ДЕМО», said to be no document


def ru_date(value: date) -> str:
    """A date as Russian documents write it: 17.05.1990."""
    return value.strftime("%d.%m.%Y")


def holder_name(extract: PolicyExtract) -> str:
    """The holder's full name, surname first, unmasked: the extract is the holder's own document."""
    holder = extract.policy.holder
    return " ".join(part for part in (holder.last_name, holder.first_name, holder.middle_name) if part)


def extract_lines(extract: PolicyExtract) -> list[tuple[str, str]]:
    """The extract's data as (label, value) lines, in the order they are printed."""
    policy = extract.policy
    insurer = f"{extract.insurer_name} (код {policy.insurer_code})" if extract.insurer_name else policy.insurer_code
    region = f"{policy.region_code} — {extract.region_name}" if extract.region_name else policy.region_code
    lines = [
        ("Единый номер полиса (ЕНП)", policy.enp),
        ("Статус полиса", STATUS_NAMES[policy.status]),
        ("Застрахованное лицо", holder_name(extract)),
        ("Дата рождения", ru_date(policy.holder.birth_date)),
        ("Пол", SEX_NAMES[policy.holder.sex]),
        ("Страховая медицинская организация", insurer),
        ("Субъект РФ, где выдан полис", region),
        ("Форма полиса", FORM_NAMES.get(policy.policy_form, policy.policy_form)),
        ("Действует с", ru_date(policy.valid_from)),
        ("Действует по", ru_date(policy.valid_to) if policy.valid_to else "без ограничения срока"),
    ]
    lines.extend(("Требует внимания", restriction.description) for restriction in policy.restrictions)
    return lines


def footer(extract: PolicyExtract) -> list[str]:
    """The notes under the data: when the extract was made (Moscow time), what the QR code carries, what it is for."""
    made = extract.issued_at.astimezone(moscow()).strftime("%d.%m.%Y %H:%M")
    return [
        f"Выписка сформирована {made} по московскому времени (Europe/Moscow) по данным единого регистра "
        "застрахованных лиц на этот момент.",
        "QR-код содержит единый номер полиса (ЕНП): медицинская организация может считать его сканером.",
        "Полис ОМС даёт право на бесплатную медицинскую помощь по базовой программе ОМС на всей территории "
        "Российской Федерации и по территориальной программе ОМС в субъекте РФ, где выдан полис.",
    ]
