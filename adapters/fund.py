"""The fund's registry (ТФОМС / ЕРЗЛ) over SOAP: FundPort on contracts/fund/fund.wsdl."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import requests
from zeep import Plugin

from adapters import fund_services, mapping
from adapters.signing import Signing
from adapters.soap import FUND, SoapClient, call, read
from gateway.domain.clinics import Attachment, Clinic, Period, PolicyCard, PolicyEvent, Visit
from gateway.domain.model import Insurer, Person, Policy, Source
from gateway.domain.registry import AttachmentRequest, Registration, RegistrationResult, RegistryPerson, Verification
from gateway.ports import BackendRefusal, BackendUnavailable, NotFound

ENP_NOT_FOUND = "ENP_NOT_FOUND"

T = TypeVar("T")


class FundAdapter:
    """FundPort over the fund's SOAP service at one address."""

    def __init__(
        self,
        address: str,
        *,
        timeout: float,
        signing: Signing | None,
        session: requests.Session | None = None,
        plugins: Sequence[Plugin] = (),
    ):
        self._client = SoapClient(FUND, timeout=timeout, signing=signing, session=session, plugins=plugins)
        self._service = self._client.bind(address)

    def close(self) -> None:
        """Release the connections of the session, if this adapter made it."""
        self._client.close()

    def verify_person(self, message_id: str, person: Person, enp: str | None = None) -> Verification:
        """Check an applicant against the registry."""
        answer = self._call("VerifyPerson", MessageId=message_id, Person=mapping.person_payload(person), Enp=enp)
        return self._read("VerifyPerson", mapping.read_verification, answer)

    def find_person(self, message_id: str, enp: str) -> RegistryPerson | None:
        """The registry's record of the holder of an ЕНП, or None."""
        return self._found(self._call("FindPerson", MessageId=message_id, Enp=enp))

    def _found(self, answer: Any) -> RegistryPerson | None:
        if not answer.Found:
            return None
        if answer.Person is None:
            raise BackendUnavailable(Source.FUND, "FindPerson", "invalid answer: found, but no person")
        return self._read("FindPerson", mapping.read_registry_person, answer.Person)

    def find_person_by_snils(self, message_id: str, snils: str) -> RegistryPerson | None:
        """The registry's record of the person with this СНИЛС, or None."""
        return self._found(self._call("FindPerson", MessageId=message_id, Snils=snils))

    def insurance_status(self, message_id: str, enp: str) -> Policy:
        """The policy of an ЕНП today; raises NotFound for an unknown ЕНП."""
        try:
            answer = self._call("GetInsuranceStatus", MessageId=message_id, Enp=enp)
        except BackendRefusal as refusal:
            if refusal.code == ENP_NOT_FOUND:
                raise NotFound("the registry has no policy for this ЕНП") from None
            raise
        return self._read("GetInsuranceStatus", mapping.read_policy, answer.Policy)

    def register_policy(self, message_id: str, registration: Registration) -> RegistrationResult:
        """Record an application carried out by an insurer; idempotent by message id."""
        answer = self._call(
            "RegisterPolicy",
            MessageId=message_id,
            ApplicationDate=registration.application_date,
            ApplicationType=registration.type.value,
            Reason=registration.reason.value,
            Person=mapping.person_payload(registration.person),
            Enp=registration.enp,
            InsurerCode=registration.insurer_code,
            RegionCode=registration.region_code,
            PolicyForm=registration.policy_form.value,
            InsurerApplicationId=registration.insurer_application_id,
        )
        return self._read("RegisterPolicy", mapping.read_registration, answer)

    def list_insurers(self, message_id: str, region_code: str) -> list[Insurer]:
        """Insurers admitted in a region today."""
        answer = self._call("ListInsurers", MessageId=message_id, RegionCode=region_code)
        return [self._read("ListInsurers", mapping.read_insurer, item) for item in answer.Insurer or ()]

    def policy_history(self, message_id: str, enp: str) -> list[PolicyEvent]:
        """What happened to the policies of an ЕНП, oldest first; raises NotFound for an unknown ЕНП."""
        answer = self._call_for_enp("GetPolicyHistory", MessageId=message_id, Enp=enp)
        return [self._read("GetPolicyHistory", fund_services.read_policy_event, item) for item in answer.Event or ()]

    def visits(self, message_id: str, enp: str, period: Period) -> list[Visit]:
        """Care paid by ОМС in a period, oldest first; raises NotFound for an unknown ЕНП."""
        payload = fund_services.period_payload(period)
        answer = self._call_for_enp("GetVisits", MessageId=message_id, Enp=enp, **payload)
        return [self._read("GetVisits", fund_services.read_visit, item) for item in answer.Visit or ()]

    def list_clinics(self, message_id: str, region_code: str) -> list[Clinic]:
        """Clinics admitted in a region."""
        answer = self._call("ListClinics", MessageId=message_id, RegionCode=region_code)
        return [self._read("ListClinics", fund_services.read_clinic, item) for item in answer.Clinic or ()]

    def attach_to_clinic(self, message_id: str, request: AttachmentRequest) -> Attachment:
        """Record a person's choice of a clinic; idempotent by message id; BackendRefusal when refused."""
        payload = fund_services.attachment_payload(request)
        answer = self._call_for_enp("AttachToClinic", MessageId=message_id, **payload)
        return self._read("AttachToClinic", fund_services.read_attachment, answer.Attachment)

    def policy_card(self, message_id: str, enp: str) -> PolicyCard:
        """The policy of an ЕНП and its holder's clinic, in one call; raises NotFound for an unknown ЕНП."""
        answer = self._call_for_enp("GetPolicyCard", MessageId=message_id, Enp=enp)
        policy = self._read("GetPolicyCard", mapping.read_policy, answer.Policy)
        if answer.Attachment is None:
            return PolicyCard(policy, None)
        return PolicyCard(policy, self._read("GetPolicyCard", fund_services.read_attachment, answer.Attachment))

    def _call_for_enp(self, operation: str, **payload: Any) -> Any:
        # An ЕНП the registry does not know is not a refusal of the caller's input: the policy is not there.
        try:
            return self._call(operation, **payload)
        except BackendRefusal as refusal:
            if refusal.code == ENP_NOT_FOUND:
                raise NotFound("the registry has no person with this ЕНП") from None
            raise

    def _call(self, operation: str, **payload: Any) -> Any:
        return call(self._service, Source.FUND, operation, **payload)

    @staticmethod
    def _read(operation: str, reader: Callable[[Any], T], value: Any) -> T:
        return read(Source.FUND, operation, reader, value)
