"""The fund's SOAP endpoint: requests read into registry values, registry answers written back as fund.xsd says."""

from __future__ import annotations

import contracts
from mocks.fund.clinic_service import clinic_handlers
from mocks.fund.model import (
    Application,
    Document,
    InsurerRecord,
    PersonRecord,
    PolicyEvent,
    PolicyView,
    StatedPerson,
)
from mocks.fund.registry import Registry
from mocks.soap import Builder, Element, SoapService, date_at, find, required_text, text

NS = "urn:epolicy:fund:v1"
b = Builder(NS)


def create_fund_service(registry: Registry) -> SoapService:
    """The SOAP service of the mock fund over a registry."""
    handlers = FundHandlers(registry)
    return SoapService(
        "fund",
        contracts.path("fund", "fund.wsdl"),
        contracts.path("fund", "fund-all.xsd"),  # version 1 and the version 2 additions
        {
            "FindPerson": handlers.find_person,
            "VerifyPerson": handlers.verify_person,
            "GetInsuranceStatus": handlers.get_insurance_status,
            "RegisterPolicy": handlers.register_policy,
            "ListInsurers": handlers.list_insurers,
            "GetPolicyHistory": handlers.get_policy_history,
            **clinic_handlers(registry.clinics, lambda enp, builder: policy_xml(registry.status(enp), builder)),
        },
    )


class FundHandlers:
    """One handler per WSDL operation; the schema has checked each request before it gets here."""

    def __init__(self, registry: Registry):
        self.registry = registry

    def find_person(self, request: Element) -> Element:
        """FindPerson: by СНИЛС, by ЕНП, or by name + birth date + document."""
        message_id = required_text(request, "MessageId")
        snils, enp, by_name = text(request, "Snils"), text(request, "Enp"), find(request, "NameAndDocument")
        person: PersonRecord | None = None
        if snils is not None:
            person = self.registry.find_by_snils(snils)
        elif enp is not None:
            person = self.registry.person(enp)
        elif by_name is not None:
            names = (
                required_text(by_name, "LastName"),
                required_text(by_name, "FirstName"),
                text(by_name, "MiddleName"),
            )
            birth_date = date_at(by_name, "BirthDate")
            document = read_document(by_name, "Document")
            if birth_date is not None and document is not None:
                person = self.registry.find_by_name_and_document(names, birth_date, document)
        return b(
            "FindPersonResponse",
            b("MessageId", message_id),
            b("Found", person is not None),
            None if person is None else self._person_xml(person),
        )

    def verify_person(self, request: Element) -> Element:
        """VerifyPerson: the format-logical control and the identification of an applicant."""
        message_id = required_text(request, "MessageId")
        verification = self.registry.verify(read_person(request), text(request, "Enp"))
        return b(
            "VerifyPersonResponse",
            b("MessageId", message_id),
            b("Outcome", verification.outcome),
            None if verification.enp is None else b("Enp", verification.enp),
            None if verification.policy is None else policy_xml(verification.policy),
        )

    def get_insurance_status(self, request: Element) -> Element:
        """GetInsuranceStatus: the policy by ЕНП on a day."""
        message_id = required_text(request, "MessageId")
        view = self.registry.status(required_text(request, "Enp"), date_at(request, "OnDate"))
        return b("GetInsuranceStatusResponse", b("MessageId", message_id), policy_xml(view))

    def register_policy(self, request: Element) -> Element:
        """RegisterPolicy: record an application an insurer carried out."""
        message_id = required_text(request, "MessageId")
        application_date = date_at(request, "ApplicationDate")
        application = Application(
            message_id=message_id,
            application_date=application_date or self.registry.today(),
            type=required_text(request, "ApplicationType"),
            reason=required_text(request, "Reason"),
            person=read_person(request),
            insurer_code=required_text(request, "InsurerCode"),
            region_code=required_text(request, "RegionCode"),
            policy_form=required_text(request, "PolicyForm"),
            enp=text(request, "Enp"),
            insurer_application_id=text(request, "InsurerApplicationId"),
        )
        done = self.registry.register(application)
        return b(
            "RegisterPolicyResponse",
            b("MessageId", message_id),
            b("RegistrationId", done.registration_id),
            b("RegisteredAt", done.registered_at),
            b("Enp", done.enp),
            b("EnpAssigned", done.enp_assigned),
            policy_xml(done.policy),
        )

    def list_insurers(self, request: Element) -> Element:
        """ListInsurers: the insurers admitted in a region on a day (today by default)."""
        message_id = required_text(request, "MessageId")
        on = date_at(request, "OnDate") or self.registry.today()
        insurers = self.registry.insurers_in(required_text(request, "RegionCode"), on)
        return b("ListInsurersResponse", b("MessageId", message_id), *(insurer_xml(ins) for ins in insurers))

    def get_policy_history(self, request: Element) -> Element:
        """GetPolicyHistory: the events of a person's policies, oldest first."""
        message_id = required_text(request, "MessageId")
        enp = required_text(request, "Enp")
        events = self.registry.history(enp)
        return b(
            "GetPolicyHistoryResponse",
            b("MessageId", message_id),
            b("Enp", enp),
            *(event_xml(event) for event in events),
        )

    def _person_xml(self, person: PersonRecord) -> Element:
        view = self.registry.current_view(person)
        return b(
            "Person",
            b("Enp", person.enp),
            b("LastName", person.last_name),
            b("FirstName", person.first_name),
            None if person.middle_name is None else b("MiddleName", person.middle_name),
            b("BirthDate", person.birth_date),
            b("Sex", person.sex),
            b("Citizenship", person.citizenship),
            None if person.snils is None else b("Snils", person.snils),
            b("IdentityDocument", *document_children(person.identity_document)),
            None if person.death_date is None else b("DeathDate", person.death_date),
            None if view is None else policy_xml(view),
        )


# --- reading requests ----------------------------------------------------------------------------------------


def read_person(request: Element) -> StatedPerson:
    """The Person element of a request (type c:Person)."""
    person = find(request, "Person")
    assert person is not None  # the schema requires it
    birth_date = date_at(person, "BirthDate")
    identity = read_document(person, "IdentityDocument")
    assert birth_date is not None and identity is not None  # the schema requires them
    return StatedPerson(
        last_name=required_text(person, "LastName"),
        first_name=required_text(person, "FirstName"),
        middle_name=text(person, "MiddleName"),
        birth_date=birth_date,
        sex=required_text(person, "Sex"),
        birth_place=text(person, "BirthPlace"),
        citizenship=required_text(person, "Citizenship"),
        category=text(person, "Category"),
        snils=text(person, "Snils"),
        inn=text(person, "Inn"),
        identity_document=identity,
        residence_document=read_document(person, "ResidenceDocument"),
    )


def read_document(parent: Element, path: str) -> Document | None:
    """A document element (type c:Document) at a path, or None when absent."""
    element = find(parent, path)
    if element is None:
        return None
    issue_date = date_at(element, "IssueDate")
    assert issue_date is not None  # the schema requires it
    return Document(
        type=required_text(element, "Type"),
        series=text(element, "Series"),
        number=required_text(element, "Number"),
        issue_date=issue_date,
        issuer=text(element, "Issuer"),
        expiry_date=date_at(element, "ExpiryDate"),
    )


# --- writing responses ---------------------------------------------------------------------------------------


def policy_xml(view: PolicyView, builder: Builder = b) -> Element:
    """A `Policy` element of the builder's namespace (type c:Policy, so its children are in the common namespace)."""
    policy, holder = view.policy, view.holder
    return builder(
        "Policy",
        b.c("Enp", policy.enp),
        b.c("Status", view.status),
        b.c("InsurerCode", policy.insurer_code),
        b.c("RegionCode", policy.region_code),
        b.c("PolicyForm", policy.policy_form),
        b.c("ValidFrom", policy.valid_from),
        None if policy.valid_to is None else b.c("ValidTo", policy.valid_to),
        b.c(
            "Holder",
            b.c("LastName", holder.last_name),
            b.c("FirstName", holder.first_name),
            None if holder.middle_name is None else b.c("MiddleName", holder.middle_name),
            b.c("BirthDate", holder.birth_date),
            b.c("Sex", holder.sex),
        ),
        *(
            b.c(
                "Restriction",
                b.c("Code", restriction.code),
                b.c("Description", restriction.description),
                None if restriction.since is None else b.c("Since", restriction.since),
            )
            for restriction in view.restrictions
        ),
    )


def document_children(document: Document) -> tuple[Element | None, ...]:
    """The children of an element of type c:Document (None where absent, so the builder leaves them out)."""
    return (
        b.c("Type", document.type),
        None if document.series is None else b.c("Series", document.series),
        b.c("Number", document.number),
        b.c("IssueDate", document.issue_date),
        None if document.issuer is None else b.c("Issuer", document.issuer),
        None if document.expiry_date is None else b.c("ExpiryDate", document.expiry_date),
    )


def insurer_xml(insurer: InsurerRecord) -> Element:
    """An `Insurer` element (type f:Insurer)."""
    return b(
        "Insurer",
        b("Code", insurer.code),
        b("Name", insurer.name),
        b("RegionCode", insurer.region_code),
        b("AdmittedFrom", insurer.admitted_from),
        None if insurer.admitted_to is None else b("AdmittedTo", insurer.admitted_to),
        *(b("PolicyForm", form) for form in insurer.policy_forms),
        None if insurer.phone is None else b("Phone", insurer.phone),
        None if insurer.website is None else b("Website", insurer.website),
    )


def event_xml(event: PolicyEvent) -> Element:
    """An `Event` element (type f:PolicyEvent)."""
    return b(
        "Event",
        b("Date", event.date),
        b("Type", event.type),
        None if event.reason is None else b("Reason", event.reason),
        b("InsurerCode", event.insurer_code),
        b("RegionCode", event.region_code),
        b("PolicyForm", event.policy_form),
        None if event.registration_id is None else b("RegistrationId", event.registration_id),
    )
