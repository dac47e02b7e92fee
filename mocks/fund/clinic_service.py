"""The fund's version 2 operations (fund-v2.xsd): clinics, attachment, visits and the policy card, as SOAP."""

from __future__ import annotations

from collections.abc import Callable

from mocks.fund.clinic_model import CHOICE, AttachmentRecord, ClinicRecord, VisitRecord
from mocks.fund.clinics import Clinics
from mocks.soap import Builder, Element, Handler, date_at, required_text, text

NS = "urn:epolicy:fund:v2"
b = Builder(NS)


def clinic_handlers(clinics: Clinics, policy: Callable[[str, Builder], Element]) -> dict[str, Handler]:
    """The handlers of the version 2 operations, by operation name; `policy` builds an ЕНП's Policy element."""
    handlers = ClinicHandlers(clinics, policy)
    return {
        "ListClinics": handlers.list_clinics,
        "AttachToClinic": handlers.attach_to_clinic,
        "GetAttachment": handlers.get_attachment,
        "GetVisits": handlers.get_visits,
        "GetPolicyCard": handlers.get_policy_card,
    }


class ClinicHandlers:
    """One handler per version 2 operation; the schema has checked each request before it gets here."""

    def __init__(self, clinics: Clinics, policy: Callable[[str, Builder], Element]):
        self.clinics = clinics
        self.policy = policy

    def list_clinics(self, request: Element) -> Element:
        """ListClinics: the clinics admitted in a region, each saying whether it has room."""
        message_id = required_text(request, "MessageId")
        found = self.clinics.in_region(required_text(request, "RegionCode"))
        return b("ListClinicsResponse", b("MessageId", message_id), *(self._clinic_xml(clinic) for clinic in found))

    def attach_to_clinic(self, request: Element) -> Element:
        """AttachToClinic: record the person's choice of a clinic; idempotent by MessageId."""
        message_id = required_text(request, "MessageId")
        on = date_at(request, "ApplicationDate")
        assert on is not None  # the schema requires it
        attachment = self.clinics.attach(
            message_id,
            required_text(request, "Enp"),
            required_text(request, "ClinicCode"),
            on,
            text(request, "Reason") or CHOICE,
        )
        return b("AttachToClinicResponse", b("MessageId", message_id), self._attachment_xml(attachment))

    def get_attachment(self, request: Element) -> Element:
        """GetAttachment: the clinic the person is attached to, if any."""
        message_id = required_text(request, "MessageId")
        enp = required_text(request, "Enp")
        current = self.clinics.current(enp)
        return b(
            "GetAttachmentResponse",
            b("MessageId", message_id),
            b("Enp", enp),
            None if current is None else self._attachment_xml(current),
        )

    def get_policy_card(self, request: Element) -> Element:
        """GetPolicyCard: the policy by ЕНП today and the clinic its holder is attached to, in one answer."""
        message_id = required_text(request, "MessageId")
        enp = required_text(request, "Enp")
        policy = self.policy(enp, b)  # refuses an ЕНП without a policy, as GetInsuranceStatus does
        current = self.clinics.current(enp)
        return b(
            "GetPolicyCardResponse",
            b("MessageId", message_id),
            policy,
            None if current is None else self._attachment_xml(current),
        )

    def get_visits(self, request: Element) -> Element:
        """GetVisits: the visits ОМС paid for in a period, oldest first."""
        message_id = required_text(request, "MessageId")
        enp = required_text(request, "Enp")
        visits = self.clinics.visits(enp, date_at(request, "From"), date_at(request, "To"))
        return b(
            "GetVisitsResponse",
            b("MessageId", message_id),
            b("Enp", enp),
            *(self._visit_xml(visit) for visit in visits),
        )

    def _clinic_xml(self, clinic: ClinicRecord) -> Element:
        return b(
            "Clinic",
            b("Code", clinic.code),
            b("Name", clinic.name),
            b("RegionCode", clinic.region_code),
            None if clinic.address is None else b("Address", clinic.address),
            None if clinic.phone is None else b("Phone", clinic.phone),
            b("AcceptsAttachment", self.clinics.accepts(clinic)),
        )

    def _attachment_xml(self, attachment: AttachmentRecord) -> Element:
        return b(
            "Attachment",
            b("Enp", attachment.enp),
            b("ClinicCode", attachment.clinic_code),
            b("ClinicName", self._clinic_name(attachment.clinic_code)),
            b("Since", attachment.since),
            b("Reason", attachment.reason),
            b("AttachmentId", attachment.attachment_id),
        )

    def _visit_xml(self, visit: VisitRecord) -> Element:
        return b(
            "Visit",
            b("VisitId", visit.visit_id),
            b("Date", visit.date),
            b("ClinicCode", visit.clinic_code),
            b("ClinicName", self._clinic_name(visit.clinic_code)),
            b("CareKind", visit.care_kind),
            b("Service", visit.service),
            None if visit.diagnosis_group is None else b("DiagnosisGroup", visit.diagnosis_group),
            b("AmountPaid", f"{visit.amount_paid:.2f}"),
        )

    def _clinic_name(self, code: str) -> str:
        clinic = self.clinics.clinic(code)
        # Seeds and derived visits only name known clinics; a code alone would still be a valid answer.
        return code if clinic is None else clinic.name
