"""Mock insurers (СМО): every insurer serves the same WSDL and refuses what a real insurer would."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

import contracts
from mocks.calendar import age_on
from mocks.soap import (
    Builder,
    BusinessFault,
    Element,
    SoapService,
    date_at,
    find,
    required_text,
    text,
)

NS = "urn:epolicy:insurer:v1"
NS_V2 = "urn:epolicy:insurer:v2"
ADULT_AGE = 18
# Who may represent whom (326-ФЗ art. 16; ГК РФ art. 28, 32, 185): the insurer checks it before issuing.
AUTHORITIES = {
    "child": {"parent", "guardianship_decision"},
    "ward": {"guardianship_decision"},
    "spouse": {"power_of_attorney"},
}
b = Builder(NS)

# A temporary certificate is valid 30 working days; 42 calendar days covers them with weekends.
TEMPORARY_CERTIFICATE_DAYS = 42
REPLACEMENT_TYPES = {"reissue", "duplicate", "data_change"}
CHOICE_REASONS = {"first_choice", "own_wish", "relocation", "insurer_contract_ended"}
NON_CITIZEN_PERIOD_END = (12, 31)


class InsurerInfo(Protocol):
    """What an insurer mock needs to know of itself (the fund's registry record of it)."""

    @property
    def code(self) -> str: ...
    @property
    def region_code(self) -> str: ...
    @property
    def policy_forms(self) -> tuple[str, ...]: ...


class HeldPolicy(Protocol):
    """What an insurer mock reads of a policy in the registry (insurers work in the regional ЕРЗЛ segment)."""

    @property
    def insurer_code(self) -> str: ...

    def status_on(self, day: date) -> str: ...


@dataclass(frozen=True)
class Issue:
    """An application carried out by this insurer, kept to answer repeats and state queries."""

    message_id: str
    insurer_application_id: str
    policy_form: str
    valid_from: date
    valid_to: date | None
    temporary_certificate: tuple[str, date] | None
    issued_at: datetime

    def to_xml(self, tag: str, message_id: str, namespace: str | None = None) -> Element:
        """The IssueResult element, answering the request `message_id`; the root may be of another version."""
        certificate = None
        if self.temporary_certificate is not None:
            number, valid_to = self.temporary_certificate
            certificate = b("TemporaryCertificate", b("Number", number), b("ValidTo", valid_to))
        root = b(
            tag,
            b("MessageId", message_id),
            b("InsurerApplicationId", self.insurer_application_id),
            b("State", "executed"),
            b("PolicyForm", self.policy_form),
            b("ValidFrom", self.valid_from),
            None if self.valid_to is None else b("ValidTo", self.valid_to),
            certificate,
            b("IssuedAt", self.issued_at),
        )
        return root if namespace is None else _renamed(root, f"{{{namespace}}}{tag}")


class InsurerMock:
    """One insurer's state and rules."""

    def __init__(
        self,
        info: InsurerInfo,
        policy_of: Callable[[str], HeldPolicy | None],
        today: Callable[[], date],
    ):
        self.info = info
        self._policy_of = policy_of
        self._today = today
        self._lock = threading.Lock()
        self._issues: dict[str, Issue] = {}
        self._by_insurer_id: dict[str, Issue] = {}
        self._serial = itertools.count(1)

    @property
    def issue_count(self) -> int:
        """How many applications this insurer really carried out (repeats of a MessageId not counted)."""
        with self._lock:
            return len(self._issues)

    def reset(self) -> None:
        """Forget every application."""
        with self._lock:
            self._issues.clear()
            self._by_insurer_id.clear()
            self._serial = itertools.count(1)

    def service(self) -> SoapService:
        """The SOAP endpoint of this insurer."""
        return SoapService(
            f"insurer {self.info.code}",
            contracts.path("insurer", "insurer.wsdl"),
            # Version 2 imports version 1: one schema set validates the messages of both.
            contracts.path("insurer", "insurer-v2.xsd"),
            {
                "IssuePolicy": self.issue_policy,
                "IssuePolicyOnBehalf": self.issue_policy_on_behalf,
                "ReplacePolicy": self.replace_policy,
                "GetApplicationState": self.get_application_state,
            },
        )

    def issue_policy(self, request: Element) -> Element:
        """IssuePolicy: a person chose or changed to this insurer."""
        message_id = required_text(request, "MessageId")
        with self._lock:
            if (done := self._issues.get(message_id)) is not None:
                return done.to_xml("IssuePolicyResponse", message_id)
            reason = required_text(request, "Reason")
            if reason not in CHOICE_REASONS:
                raise BusinessFault(
                    "REPLACEMENT_REASON_NOT_APPLICABLE",
                    f"Основание {reason} не относится к выбору или замене страховой организации.",
                    field="Reason",
                )
            self._check_region_and_form(request)
            enp = text(request, "Enp")
            if enp is not None:
                held = self._policy_of(enp)
                on = self._application_date(request)
                if held is not None and held.insurer_code == self.info.code and held.status_on(on) == "active":
                    raise BusinessFault(
                        "ALREADY_INSURED_SAME_INSURER",
                        "Гражданин уже застрахован в этой страховой медицинской организации.",
                        field="Enp",
                    )
            return self._record(request, message_id).to_xml("IssuePolicyResponse", message_id)

    def issue_policy_on_behalf(self, request: Element) -> Element:
        """IssuePolicyOnBehalf (v2): as IssuePolicy, applied for by a representative the insurer must accept."""
        message_id = required_text(request, "MessageId")
        with self._lock:
            if (done := self._issues.get(message_id)) is not None:
                return done.to_xml("IssuePolicyOnBehalfResponse", message_id, NS_V2)
        _check_representative(request, self._application_date(request))
        issued = self.issue_policy(request)
        return _renamed(issued, f"{{{NS_V2}}}IssuePolicyOnBehalfResponse")

    def replace_policy(self, request: Element) -> Element:
        """ReplacePolicy: re-issue, duplicate or data change of a policy this insurer holds."""
        message_id = required_text(request, "MessageId")
        with self._lock:
            if (done := self._issues.get(message_id)) is not None:
                return done.to_xml("ReplacePolicyResponse", message_id)
            application_type = required_text(request, "ApplicationType")
            if application_type not in REPLACEMENT_TYPES:
                raise BusinessFault(
                    "REPLACEMENT_REASON_NOT_APPLICABLE",
                    "Замена полиса выполняется по заявлению о переоформлении, дубликате или изменении данных.",
                    field="ApplicationType",
                )
            self._check_region_and_form(request)
            held = self._policy_of(required_text(request, "Enp"))
            if held is None or held.insurer_code != self.info.code:
                raise BusinessFault(
                    "POLICY_NOT_HELD",
                    f"Полис с этим ЕНП не обслуживается страховой организацией {self.info.code}.",
                    field="Enp",
                )
            return self._record(request, message_id).to_xml("ReplacePolicyResponse", message_id)

    def get_application_state(self, request: Element) -> Element:
        """GetApplicationState: what became of an application, by its MessageId or the insurer's id."""
        message_id = required_text(request, "MessageId")
        with self._lock:
            by_message = text(request, "ApplicationMessageId")
            if by_message is not None:
                found = self._issues.get(by_message)
            else:
                found = self._by_insurer_id.get(required_text(request, "InsurerApplicationId"))
        return b(
            "GetApplicationStateResponse",
            b("MessageId", message_id),
            b("Found", found is not None),
            None if found is None else found.to_xml("Result", found.message_id),
        )

    def _check_region_and_form(self, request: Element) -> None:
        region = required_text(request, "RegionCode")
        if region != self.info.region_code:
            raise BusinessFault(
                "REGION_NOT_SERVED",
                f"Страховая организация {self.info.code} не работает в регионе {region}.",
                field="RegionCode",
            )
        form = required_text(request, "PolicyForm")
        if form not in self.info.policy_forms:
            raise BusinessFault(
                "POLICY_FORM_NOT_ISSUED",
                f"Страховая организация {self.info.code} не выдаёт полис в форме «{form}».",
                field="PolicyForm",
            )

    def _application_date(self, request: Element) -> date:
        return date_at(request, "ApplicationDate") or self._today()

    def _record(self, request: Element, message_id: str) -> Issue:
        on = self._application_date(request)
        form = required_text(request, "PolicyForm")
        serial = next(self._serial)
        issue = Issue(
            message_id=message_id,
            insurer_application_id=f"{self.info.code}-{on:%Y%m%d}-{serial:06d}",
            policy_form=form,
            valid_from=on,
            valid_to=_valid_to(request, on),
            temporary_certificate=_temporary_certificate(self.info.code, serial, form, on),
            issued_at=datetime.now(UTC).replace(microsecond=0),
        )
        self._issues[message_id] = issue
        self._by_insurer_id[issue.insurer_application_id] = issue
        return issue


def _valid_to(request: Element, on: date) -> date | None:
    # Citizens: no end date. Others: to the end of the year, never past the residence document.
    person = find(request, "Person")
    if person is None or text(person, "Citizenship") == "RUS":
        return None
    end = date(on.year, *NON_CITIZEN_PERIOD_END)
    expiry = date_at(person, "ResidenceDocument/ExpiryDate")
    return min(end, expiry) if expiry is not None else end


def _temporary_certificate(code: str, serial: int, form: str, on: date) -> tuple[str, date] | None:
    # A paper or plastic policy takes time to make; meanwhile a temporary certificate confirms the insurance.
    if form == "electronic":
        return None
    number = f"{code[:2]}{code[-2:]}{serial:05d}"
    return number, on + timedelta(days=TEMPORARY_CERTIFICATE_DAYS)


def _renamed(elem: Element, tag: str) -> Element:
    elem.tag = tag
    return elem


def _check_representative(request: Element, on: date) -> None:
    # The representative must be an adult, and the ground of representation must fit whom they apply for.
    relation = required_text(request, "Representative/Relation")
    authority = required_text(request, "Representative/Authority/Type")
    if authority not in AUTHORITIES[relation]:
        raise BusinessFault(
            "REPRESENTATIVE_AUTHORITY_INVALID",
            f"Основание представительства «{authority}» не подходит для заявления за «{relation}».",
            field="Representative/Authority/Type",
        )
    if authority != "parent" and (
        text(request, "Representative/Authority/Number") is None
        or date_at(request, "Representative/Authority/IssueDate") is None
    ):
        raise BusinessFault(
            "FIELD_REQUIRED",
            "Нужны номер и дата документа о полномочиях представителя.",
            field="Representative/Authority",
        )
    born = date_at(request, "Representative/BirthDate")
    if born is None or age_on(born, on) < ADULT_AGE:
        raise BusinessFault(
            "REPRESENTATIVE_NOT_ADULT",
            "Представитель должен быть совершеннолетним.",
            field="Representative/BirthDate",
        )
