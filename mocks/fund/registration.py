"""The rules of RegisterPolicy: which application may be carried out, and what it does to a person's record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from mocks.fund.model import (
    CITIZENSHIP_RF,
    Application,
    InsurerRecord,
    PersonRecord,
    PolicyRecord,
    StatedPerson,
    stay_document,
)
from mocks.soap import BusinessFault

REASONS_BY_TYPE = {
    "insurer_choice": frozenset({"first_choice", "own_wish", "relocation", "insurer_contract_ended"}),
    "reissue": frozenset({"personal_data_change", "data_inaccuracy", "expiry_renewal"}),
    "duplicate": frozenset({"loss", "wear"}),
    "data_change": frozenset({"personal_data_change", "data_inaccuracy"}),
}
EVENT_OF_REPLACEMENT = {"reissue": "reissued", "duplicate": "duplicate_issued", "data_change": "data_changed"}
# A first choice made while insured elsewhere is a change all the same, so it counts against the yearly limit.
OWN_WISH = frozenset({"first_choice", "own_wish"})
PERSONAL_DATA_REASONS = frozenset({"personal_data_change", "data_inaccuracy"})
LAST_OWN_WISH_DAY = (11, 1)


@dataclass(frozen=True)
class Outcome:
    """What an application does: the person's record after it, the policy it concerns, the event it makes."""

    person: PersonRecord
    policy: PolicyRecord
    event_type: str
    enp_assigned: bool = False


def check_application(application: Application, insurer: InsurerRecord | None) -> None:
    """Refuse an application whose reason, insurer or ЕНП does not fit it, before looking the person up."""
    if application.reason not in REASONS_BY_TYPE[application.type]:
        raise BusinessFault(
            "REPLACEMENT_REASON_NOT_APPLICABLE",
            f"Основание {application.reason} не применяется к заявлению {application.type}.",
            field="Reason",
        )
    if insurer is None:
        raise BusinessFault(
            "INSURER_UNKNOWN", f"Страховая организация {application.insurer_code} не найдена.", field="InsurerCode"
        )
    if not insurer.admitted_on(application.application_date, application.region_code):
        raise BusinessFault(
            "INSURER_NOT_ADMITTED",
            f"Страховая организация {insurer.code} не допущена к работе в ОМС в регионе {application.region_code}"
            f" на {application.application_date:%d.%m.%Y}.",
            field="InsurerCode",
        )
    if application.type != "insurer_choice" and application.enp is None:
        raise BusinessFault("FIELD_REQUIRED", "Для замены полиса нужен ЕНП.", field="Enp")


def choose_insurer(
    application: Application,
    person: PersonRecord | None,
    insurer_of: Callable[[str], InsurerRecord | None],
    new_enp: Callable[[], str],
) -> Outcome:
    """Carry out a choice or change of insurer (insurer_choice)."""
    if person is None:
        person = new_person(application.person, new_enp())
        policy = _policy(application, person, valid_to(person, application.application_date))
        return Outcome(with_policy(person, policy), policy, "issued", enp_assigned=True)
    person = absorb(person, application.person, personal_data=False)
    policy = _policy(application, person, valid_to(person, application.application_date))
    current = person.current_policy
    if current is None or current.status_on(application.application_date) != "active":
        return Outcome(with_policy(person, policy), policy, "issued")
    if current.insurer_code == application.insurer_code:
        raise BusinessFault(
            "ALREADY_INSURED_SAME_INSURER",
            "Застрахованный уже застрахован в этой страховой организации.",
            field="InsurerCode",
        )
    _check_change(application, person, current, insurer_of)
    return Outcome(with_policy(person, policy), policy, "insurer_changed")


def replace_policy(application: Application, person: PersonRecord) -> Outcome:
    """Carry out a re-issue, a duplicate or a data change of the policy the insurer holds."""
    current = person.current_policy
    if current is None or current.insurer_code != application.insurer_code:
        raise BusinessFault(
            "POLICY_NOT_HELD",
            f"Полис застрахованного не обслуживается страховой организацией {application.insurer_code}.",
            field="InsurerCode",
        )
    renewal = application.reason == "expiry_renewal"
    if renewal and application.person.citizenship == CITIZENSHIP_RF:
        raise BusinessFault(
            "REPLACEMENT_REASON_NOT_APPLICABLE",
            "Полис гражданина РФ бессрочный: переоформление по окончании срока не применяется.",
            field="Reason",
        )
    # Renewal is how an expired policy of a foreigner comes back; everything else needs a policy in force.
    if not renewal and current.status_on(application.application_date) != "active":
        raise BusinessFault("POLICY_NOT_ACTIVE", "Полис застрахованного не действует.", field="Enp")
    person = absorb(person, application.person, personal_data=application.reason in PERSONAL_DATA_REASONS)
    if application.type == "data_change":
        return Outcome(person, current, "data_changed")
    # A duplicate replaces a lost or worn policy, it does not extend it.
    end = current.valid_to if application.type == "duplicate" else valid_to(person, application.application_date)
    policy = _policy(application, person, end)
    return Outcome(with_policy(person, policy), policy, EVENT_OF_REPLACEMENT[application.type])


def valid_to(person: PersonRecord, on: date) -> date | None:
    """End of a policy issued on a day: none for citizens, else the year's end or the residence document's."""
    if person.is_citizen:
        return None
    end = date(on.year, 12, 31)
    stay = stay_document(person.citizenship, person.identity_document, person.residence_document)
    if stay is not None and stay.expiry_date is not None:
        end = min(end, stay.expiry_date)
    return end


def new_person(stated: StatedPerson, enp: str) -> PersonRecord:
    """The record of a person the registry did not know."""
    return PersonRecord(
        enp=enp,
        last_name=stated.last_name,
        first_name=stated.first_name,
        middle_name=stated.middle_name,
        birth_date=stated.birth_date,
        sex=stated.sex,
        birth_place=stated.birth_place,
        citizenship=stated.citizenship,
        category=stated.category,
        snils=stated.snils,
        identity_document=stated.identity_document,
        residence_document=stated.residence_document,
    )


def absorb(person: PersonRecord, stated: StatedPerson, *, personal_data: bool) -> PersonRecord:
    """The record with the applicant's current documents, and with their personal data on a data change."""
    previous = person.previous_documents
    if stated.identity_document.key != person.identity_document.key:
        previous = (*previous, person.identity_document)
    person = replace(
        person,
        identity_document=stated.identity_document,
        previous_documents=previous,
        residence_document=stated.residence_document or person.residence_document,
        snils=stated.snils or person.snils,
    )
    if not personal_data:
        return person
    return replace(
        person,
        last_name=stated.last_name,
        first_name=stated.first_name,
        middle_name=stated.middle_name,
        birth_date=stated.birth_date,
        sex=stated.sex,
        birth_place=stated.birth_place or person.birth_place,
        citizenship=stated.citizenship,
        category=stated.category or person.category,
    )


def with_policy(person: PersonRecord, policy: PolicyRecord) -> PersonRecord:
    """The record with a new policy; the one before it ends the day before the new one starts."""
    policies = list(person.policies)
    if policies:
        last = policies[-1]
        day_before = policy.valid_from - timedelta(days=1)
        if last.valid_to is None or last.valid_to > day_before:
            policies[-1] = replace(last, valid_to=day_before)
    return replace(person, policies=(*policies, policy))


def _check_change(
    application: Application,
    person: PersonRecord,
    current: PolicyRecord,
    insurer_of: Callable[[str], InsurerRecord | None],
) -> None:
    on = application.application_date
    if application.reason in OWN_WISH:
        next_year = date(on.year + 1, 1, 1)
        if on > date(on.year, *LAST_OWN_WISH_DAY):
            raise BusinessFault(
                "INSURER_CHANGE_AFTER_NOVEMBER",
                "По собственному желанию страховую организацию меняют не позднее 1 ноября.",
                field="ApplicationDate",
                allowed_from=next_year,
            )
        changes = [
            event
            for event in person.events
            if event.type == "insurer_changed" and event.reason in OWN_WISH and event.date.year == on.year
        ]
        if changes:
            raise BusinessFault(
                "INSURER_CHANGE_LIMIT",
                f"Страховую организацию по собственному желанию уже меняли в {on.year} году.",
                field="Reason",
                allowed_from=next_year,
            )
    elif application.reason == "relocation" and application.region_code == current.region_code:
        raise BusinessFault(
            "REPLACEMENT_REASON_NOT_APPLICABLE",
            "Смена места жительства: регион нового полиса совпадает с регионом действующего.",
            field="Reason",
        )
    elif application.reason == "insurer_contract_ended":
        insurer = insurer_of(current.insurer_code)
        if insurer is None or insurer.admitted_to is None or insurer.admitted_to >= on:
            raise BusinessFault(
                "REPLACEMENT_REASON_NOT_APPLICABLE",
                f"Договор страховой организации {current.insurer_code} не прекращён.",
                field="Reason",
            )


def _policy(application: Application, person: PersonRecord, end: date | None) -> PolicyRecord:
    return PolicyRecord(
        enp=person.enp,
        insurer_code=application.insurer_code,
        region_code=application.region_code,
        policy_form=application.policy_form,
        valid_from=application.application_date,
        valid_to=end,
    )
