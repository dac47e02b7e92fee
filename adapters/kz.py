"""The Kazakh social health insurance fund (ФСМС) over SOAP: KzFundPort on contracts/kz/osms.wsdl.

A SoapClient as for the fund and the insurers: the compiled messages, the answer checked against the XSD, the
correlation headers, the masked message log (the ИИН is in its table of identifiers), the same failure mapping.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests
from zeep import Plugin

import contracts
from adapters.mapping import InvalidAnswer, read_date
from adapters.signing import Signing
from adapters.soap import Contract, SoapClient, call, read
from gateway.domain.model import Source
from gateway.kz.domain import InsurancePeriod, InsuranceStatus, PackageCode
from gateway.ports import BackendRefusal, BackendUnavailable, NotFound

NS = "urn:epolicy:kz:osms:v1"
OSMS = Contract(contracts.path("kz", "osms.wsdl"), contracts.path("kz", "osms.xsd"), NS, f"{{{NS}}}OsmsBinding")
OPERATION = "GetInsuranceStatus"
IIN_NOT_FOUND = "IIN_NOT_FOUND"
# Refusals of the ИИН itself; the API names it `iin` (a path parameter).
IIN_REFUSALS = frozenset({"IIN_FORMAT", "IIN_CHECKSUM", IIN_NOT_FOUND})


class KzFundAdapter:
    """KzFundPort over the fund's SOAP service at one address."""

    def __init__(
        self,
        address: str,
        *,
        timeout: float,
        signing: Signing | None,
        session: requests.Session | None = None,
        plugins: Sequence[Plugin] = (),
    ):
        self._client = SoapClient(OSMS, timeout=timeout, signing=signing, session=session, plugins=plugins)
        self._service = self._client.bind(address)

    def close(self) -> None:
        """Release the connections of the session, if this adapter made it."""
        self._client.close()

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
