"""The insurers (СМО) over SOAP: InsurerPort on contracts/insurer/insurer.wsdl, and the directory of them by code."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import requests
from zeep import Plugin

from adapters import mapping
from adapters.signing import Signing
from adapters.soap import INSURER, SoapClient, call, read
from gateway.domain.model import Source
from gateway.domain.registry import InsurerApplication, InsurerResult
from gateway.ports import BackendUnavailable

T = TypeVar("T")


class InsurerAdapter:
    """InsurerPort over one insurer's SOAP service, through a client shared with the other insurers."""

    def __init__(self, client: SoapClient, address: str):
        if client.contract is not INSURER:
            raise ValueError("an insurer needs a client of the insurer contract")
        self._service = client.bind(address)

    def issue_policy(self, message_id: str, application: InsurerApplication) -> InsurerResult:
        """Issue a policy; idempotent by message id. A representative's application goes as IssuePolicyOnBehalf."""
        payload: dict[str, Any] = {
            "MessageId": message_id,
            "ApplicationDate": application.application_date,
            "Reason": application.reason.value,
            "Person": mapping.person_payload(application.person),
            "Enp": application.enp,
            "RegionCode": application.region_code,
            "PolicyForm": application.policy_form.value,
        }
        operation = "IssuePolicy"
        if application.representative is not None and application.relation is not None:
            operation = "IssuePolicyOnBehalf"
            payload["Representative"] = mapping.representative_payload(application.representative, application.relation)
        return self._read(operation, mapping.read_insurer_result, self._call(operation, **payload))

    def replace_policy(self, message_id: str, application: InsurerApplication) -> InsurerResult:
        """Re-issue, duplicate or change the data of a policy the insurer holds; idempotent by message id."""
        if application.enp is None or application.type is None:
            raise ValueError("a replacement states the ЕНП and the application type")
        answer = self._call(
            "ReplacePolicy",
            MessageId=message_id,
            ApplicationDate=application.application_date,
            Enp=application.enp,
            ApplicationType=application.type.value,
            Reason=application.reason.value,
            Person=mapping.person_payload(application.person),
            RegionCode=application.region_code,
            PolicyForm=application.policy_form.value,
        )
        return self._read("ReplacePolicy", mapping.read_insurer_result, answer)

    def application_state(self, message_id: str, application_message_id: str) -> InsurerResult | None:
        """What became of an application sent with `application_message_id`, or None if the insurer has none."""
        answer = self._call("GetApplicationState", MessageId=message_id, ApplicationMessageId=application_message_id)
        if not answer.Found:
            return None
        if answer.Result is None:
            raise BackendUnavailable(Source.INSURER, "GetApplicationState", "invalid answer: found, but no result")
        return self._read("GetApplicationState", mapping.read_insurer_result, answer.Result)

    def _call(self, operation: str, **payload: Any) -> Any:
        return call(self._service, Source.INSURER, operation, **payload)

    @staticmethod
    def _read(operation: str, reader: Callable[[Any], T], value: Any) -> T:
        return read(Source.INSURER, operation, reader, value)


class InsurerDirectory:
    """The configured insurers by code (Insurers), all over one parsed WSDL and one session."""

    def __init__(
        self,
        addresses: Mapping[str, str],
        *,
        timeout: float,
        signing: Signing | None,
        session: requests.Session | None = None,
        plugins: Sequence[Plugin] = (),
    ):
        self._client = SoapClient(INSURER, timeout=timeout, signing=signing, session=session, plugins=plugins)
        self._insurers = {code: InsurerAdapter(self._client, address) for code, address in addresses.items()}

    def get(self, code: str) -> InsurerAdapter | None:
        """The port of the insurer with this code, or None when none is configured."""
        return self._insurers.get(code)

    def codes(self) -> frozenset[str]:
        """Codes of every configured insurer."""
        return frozenset(self._insurers)

    def close(self) -> None:
        """Release the connections of the session, if this directory made it."""
        self._client.close()
