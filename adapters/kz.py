"""The Kazakh social health insurance fund (ФСМС) over SOAP: KzFundPort on contracts/kz/osms.wsdl.

Built as adapters/soap.py builds its clients (strict zeep settings, no DTD or entities, the answer checked against
the XSD, correlation headers, the same failure mapping), except for the message log: the shared one does not know
the ИИН as personal data, so this client logs its envelopes with the ИИН masked too.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from typing import Any

import requests
from lxml import etree
from zeep import Client, Plugin
from zeep.transports import Transport

import contracts
from adapters.mapping import InvalidAnswer, read_date
from adapters.plugins import AnswerCheck, CorrelationHeaders, mask_number, masked_xml
from adapters.soap import Contract, call, load_schema, new_session, read, safe_settings
from gateway.domain.model import Source
from gateway.kz.domain import InsurancePeriod, InsuranceStatus, PackageCode
from gateway.ports import BackendRefusal, BackendUnavailable, NotFound

NS = "urn:epolicy:kz:osms:v1"
OSMS = Contract(contracts.path("kz", "osms.wsdl"), contracts.path("kz", "osms.xsd"), NS, f"{{{NS}}}OsmsBinding")
OPERATION = "GetInsuranceStatus"
IIN_NOT_FOUND = "IIN_NOT_FOUND"
# Refusals of the ИИН itself; the API names it `iin` (a path parameter).
IIN_REFUSALS = frozenset({"IIN_FORMAT", "IIN_CHECKSUM", IIN_NOT_FOUND})

log = logging.getLogger("epolicy.soap")


class _QuietTransport(Transport):
    # As in adapters/soap.py: zeep's Transport.post logs every envelope in clear at DEBUG; IinMessageLog logs them.
    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        return self.session.post(address, data=message, headers=headers, timeout=self.operation_timeout)


class IinMessageLog(Plugin):
    """Log every envelope at DEBUG on "epolicy.soap" as adapters.plugins.MessageLog does, the ИИН masked as well."""

    def egress(
        self, envelope: etree._Element, http_headers: dict[str, str], operation: Any, binding_options: Any
    ) -> tuple[etree._Element, dict[str, str]]:
        if log.isEnabledFor(logging.DEBUG):
            address = binding_options.get("address") if isinstance(binding_options, dict) else None
            log.debug("SOAP %s request to %s:\n%s", _name(operation), address, masked_envelope(envelope))
        return envelope, http_headers

    def ingress(self, envelope: etree._Element, http_headers: Any, operation: Any) -> tuple[etree._Element, Any]:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("SOAP %s answer:\n%s", _name(operation), masked_envelope(envelope))
        return envelope, http_headers


def masked_envelope(envelope: etree._Element) -> str:
    """The envelope as text with personal data masked: the ИИН, and what adapters.plugins masks."""
    masked = copy.deepcopy(envelope)
    for element in masked.iter(f"{{{NS}}}Iin"):
        if element.text:
            element.text = mask_number(element.text)
    return masked_xml(masked)


class KzFundAdapter:
    """KzFundPort over the fund's SOAP service at one address."""

    def __init__(
        self,
        address: str,
        *,
        timeout: float,
        session: requests.Session | None = None,
        plugins: Sequence[Plugin] = (),
    ):
        self._owns_session = session is None
        self._session = session if session is not None else new_session()
        transport = _QuietTransport(  # type: ignore[no-untyped-call]
            session=self._session, timeout=timeout, operation_timeout=timeout
        )
        client = Client(  # type: ignore[no-untyped-call]
            str(OSMS.wsdl),
            transport=transport,
            settings=safe_settings(),
            # The answer check comes last, so the log and extra plugins see even the answers it refuses.
            plugins=[CorrelationHeaders(), IinMessageLog(), *plugins, AnswerCheck(load_schema(OSMS.xsd), NS)],
        )
        self._service = client.create_service(OSMS.binding, address)  # type: ignore[no-untyped-call]

    def close(self) -> None:
        """Release the connections of the session, if this adapter made it."""
        if self._owns_session:
            self._session.close()

    def insurance_status(self, message_id: str, iin: str) -> InsuranceStatus:
        """Whether the holder of an ИИН is insured in ОСМС today; raises NotFound for an ИИН the fund lacks."""
        try:
            answer = call(self._service, Source.FUND, OPERATION, MessageId=message_id, Iin=iin)
        except BackendRefusal as refusal:
            if refusal.code == IIN_NOT_FOUND:
                raise NotFound("the fund has no person with this ИИН") from None
            if refusal.code in IIN_REFUSALS:
                raise BackendRefusal(refusal.source, refusal.code, refusal.message, "iin") from None
            raise
        status = read(Source.FUND, OPERATION, read_status, answer)
        if status.iin != iin:
            # An answer about someone else must never reach the caller.
            raise BackendUnavailable(Source.FUND, OPERATION, "invalid answer: about another ИИН")
        return status


def read_status(answer: Any) -> InsuranceStatus:
    """A GetInsuranceStatusResponse as the domain's InsuranceStatus; InvalidAnswer if the domain cannot hold it."""
    period = None
    if answer.Period is not None:
        end = answer.Period.To
        period = InsurancePeriod(read_date(answer.Period.From), None if end is None else read_date(end))
    try:
        return InsuranceStatus(
            iin=str(answer.Iin),
            on=read_date(answer.OnDate),
            insured=bool(answer.Insured),
            package=PackageCode(answer.Package),
            period=period,
        )
    except ValueError as exc:  # an unknown package code, or one that does not go with the status
        raise InvalidAnswer(str(exc)) from None


def _name(operation: Any) -> str:
    return str(getattr(operation, "name", "?"))
