"""Building zeep clients over the local contracts, and calling them with every failure told apart.

One `SoapClient` per back-end WSDL parses it once from `contracts/` and compiles its operations (adapters.codec);
`bind(address)` makes a service for one address (the fund, or each insurer), all sharing the client, its transport
and its pooled session. `reference(address)` is zeep's own service proxy over the same client: the path the compiled
one is tested against.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import requests
from lxml import etree
from requests.structures import CaseInsensitiveDict
from zeep import Client, Plugin, Settings
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, TransportError
from zeep.transports import Transport

import contracts
from adapters.codec import CompiledService, Operation, compile_binding
from adapters.deadline import DeadlineAdapter, remaining, within
from adapters.mapping import InvalidAnswer, field_path
from adapters.plugins import COMMON_NS, AnswerCheck, CorrelationHeaders, MessageLog, mask_free_text
from adapters.signing import MessageSigning, SignatureRefused, Signing
from gateway.domain.model import Source
from gateway.ports import BackendRefusal, BackendUnavailable

log = logging.getLogger("epolicy.soap")

SCHEMA_VIOLATION = "SCHEMA_VIOLATION"
MIN_WAIT = 0.001  # seconds; requests reads a timeout of 0 as "do not wait at all", which urllib3 refuses

T = TypeVar("T")


@dataclass(frozen=True)
class Contract:
    """A back-end's contract in `contracts/`: its WSDL, its XSD, its namespace and the binding to call."""

    wsdl: Path
    xsd: Path
    namespace: str
    binding: str


FUND = Contract(
    contracts.path("fund", "fund.wsdl"),
    contracts.path("fund", "fund-all.xsd"),  # version 1 and the version 2 additions
    "urn:epolicy:fund:v1",
    "{urn:epolicy:fund:v1}FundBinding",
)
INSURER = Contract(
    contracts.path("insurer", "insurer.wsdl"),
    contracts.path("insurer", "insurer-v2.xsd"),  # imports version 1: one schema set for both
    "urn:epolicy:insurer:v1",
    "{urn:epolicy:insurer:v1}InsurerBinding",
)


def new_session(*, pool_connections: int = 10, pool_maxsize: int = 10) -> requests.Session:
    """A session keeping `pool_maxsize` connections to each of up to `pool_connections` hosts, never retrying.

    Its connections read every answer within the deadline of the call (adapters.deadline); a session made
    otherwise is given a timeout per read only.
    """
    # The worker retries with backoff and the same MessageId; a retry hidden in the transport would only add delay.
    session = requests.Session()
    adapter = DeadlineAdapter(pool_connections=pool_connections, pool_maxsize=pool_maxsize, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def safe_settings() -> Settings:
    """zeep settings for untrusted XML: strict, no DTD, no entities, no fetches, no huge trees."""
    return Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True, xml_huge_tree=False)


@dataclass(frozen=True)
class _Route:
    """What `requests` would work out again for every post to one address: its URL, headers and settings."""

    url: str
    headers: CaseInsensitiveDict[str]  # the session's own, merged in once
    settings: dict[str, Any]  # proxies, CA bundle, client certificate from the environment


class _QuietTransport(Transport):
    """zeep's transport, posting without logging in clear and working out each address once.

    zeep's Transport.post logs every envelope in clear at DEBUG on "zeep.transports", personal data included;
    MessageLog logs them masked instead. `requests` prepares every request anew (the session's headers merged,
    netrc looked up, cookies merged into a new jar) and reads the proxy and CA settings of the environment (a walk
    over os.environ for each). An adapter posts to a few fixed addresses, so that is done once per address; a
    session that holds cookies or credentials is prepared by `requests` in full every time.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]
        self._routes: dict[str, _Route | None] = {}

    def post(self, address: str, message: bytes, headers: dict[str, str]) -> requests.Response:
        session = self.session
        if address not in self._routes:
            self._routes[address] = self._route(address)
        route = self._routes[address]
        if route is None or session.cookies:
            prepared = session.prepare_request(requests.Request("POST", address, data=message, headers=headers))
            settings = route.settings if route is not None else self._settings(address)
        else:
            prepared = self.prepared(route, message, headers)
            settings = route.settings
        # One deadline for the whole call: connecting, sending and the whole answer, however slowly it comes; the
        # timeout of the call, or what is left of a sooner deadline of the context (a readiness check's).
        left = remaining()
        timeout = self.operation_timeout if left is None else max(min(left, self.operation_timeout), MIN_WAIT)
        with within(timeout) as deadline:
            try:
                return session.send(prepared, timeout=timeout, **settings)
            except requests.ConnectionError:
                # requests reports a body read that timed out as a ConnectionError; past the deadline it is a timeout.
                if time.monotonic() < deadline:
                    raise
                raise requests.ReadTimeout(f"no whole answer from {address} within the deadline") from None

    @staticmethod
    def prepared(route: _Route, message: bytes, headers: dict[str, str]) -> requests.PreparedRequest:
        """The request `requests` would prepare for `message` to the route's address, built from the route."""
        prepared = requests.PreparedRequest()
        prepared.method = "POST"
        prepared.url = route.url
        prepared.headers = route.headers.copy()
        prepared.headers.update(headers)
        prepared.headers["Content-Length"] = str(len(message))
        prepared.body = message
        return prepared

    def _route(self, address: str) -> _Route | None:
        sample = self.session.prepare_request(requests.Request("POST", address, data=b"-"))
        if "Authorization" in sample.headers or "Cookie" in sample.headers:
            return None  # credentials (the session's or netrc's): requests' own path every time
        del sample.headers["Content-Length"]
        assert sample.url is not None
        return _Route(sample.url, sample.headers, self._settings(address))

    def _settings(self, address: str) -> dict[str, Any]:
        return dict(self.session.merge_environment_settings(address, {}, None, None, None))


def load_schema(xsd: Path) -> etree.XMLSchema:
    """An XSD with its local imports, read with network access and entities off."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(xsd), parser=parser))


class SoapClient:
    """One zeep Client over a back-end's local WSDL, parsed once, making a service proxy per address."""

    def __init__(
        self,
        contract: Contract,
        *,
        timeout: float,
        signing: Signing | None,
        session: requests.Session | None = None,
        plugins: Sequence[Plugin] = (),
    ):
        self.contract = contract
        self.signing = signing
        self._owns_session = session is None
        self.session = session if session is not None else new_session()
        # zeep ships py.typed but leaves its constructors and create_service unannotated.
        transport = _QuietTransport(session=self.session, timeout=timeout, operation_timeout=timeout)
        self._client = Client(  # type: ignore[no-untyped-call]
            str(contract.wsdl),
            transport=transport,
            settings=safe_settings(),
            # Signing comes last but the answer check: it signs what the others made of a request, and checks an
            # answer's signature before its payload is looked at. The log and extra plugins see even the answers
            # refused. `signing` None: switched off (EPOLICY_SIGNING_ENABLED=false), messages go and come unsigned.
            plugins=[
                CorrelationHeaders(),
                MessageLog(),
                *plugins,
                *([MessageSigning(signing)] if signing is not None else []),
                AnswerCheck(load_schema(contract.xsd), contract.namespace),
            ],
        )

        self._operations = compile_binding(self._client, contract.binding)

    @property
    def operations(self) -> dict[str, Operation]:
        """The contract's operations, compiled, by name."""
        return self._operations

    def bind(self, address: str) -> CompiledService:
        """The contract's operations at `address`, called through their compiled shapes."""
        return CompiledService(self._client, self._operations, address)

    def reference(self, address: str) -> Any:
        """zeep's own service proxy for the contract's binding at `address`: the reference of the compiled path."""
        return self._client.create_service(self.contract.binding, address)  # type: ignore[no-untyped-call]

    def close(self) -> None:
        """Close the session if this client made it."""
        if self._owns_session:
            self.session.close()


def call(service: Any, source: Source, operation: str, **payload: Any) -> Any:
    """Call an operation; raise BackendRefusal for a business fault and BackendUnavailable for anything else."""
    # Causes are dropped (`from None`): zeep's messages quote the answer, personal data and all.
    try:
        return getattr(service, operation)(**payload)
    except Fault as fault:
        raise from_fault(fault, source, operation) from None
    except SignatureRefused as exc:
        raise BackendUnavailable(source, operation, f"answer not believed: {exc}") from None
    except InvalidAnswer as exc:
        raise BackendUnavailable(source, operation, f"invalid answer: {exc}") from None
    except TransportError as exc:
        reason = f"HTTP {exc.status_code}" if not exc.content else f"unreadable answer (HTTP {exc.status_code})"
        raise BackendUnavailable(source, operation, reason) from None
    except ZeepError as exc:
        # XMLSyntaxError, XMLParseError, ValidationError, DTDForbidden, EntitiesForbidden...
        raise BackendUnavailable(source, operation, f"invalid answer: {type(exc).__name__}") from None
    except requests.Timeout:
        raise BackendUnavailable(source, operation, "timeout") from None
    except requests.RequestException as exc:
        raise BackendUnavailable(source, operation, f"connection failed: {type(exc).__name__}") from None


def read(source: Source, operation: str, reader: Callable[[Any], T], value: Any) -> T:
    """Read an answer into domain values; one the domain cannot hold is the back-end's failure, not a refusal."""
    try:
        return reader(value)
    except InvalidAnswer as exc:
        raise BackendUnavailable(source, operation, f"invalid answer: {exc}") from None


def from_fault(fault: Fault, source: Source, operation: str) -> BackendRefusal | BackendUnavailable:
    """The refusal a c:BusinessFault carries; a technical failure for any other fault."""
    detail = _contract_detail(fault)
    kind = etree.QName(detail).localname if detail is not None else None
    if detail is None or kind not in ("BusinessFault", "TechnicalFault"):
        return BackendUnavailable(source, operation, f"fault without a contract detail ({fault.code or 'no code'})")
    code = _text(detail, "Code") or ""
    message = _text(detail, "Message") or ""
    if kind == "TechnicalFault":
        retry_after = _text(detail, "RetryAfterSeconds")
        return BackendUnavailable(
            source, operation, f"technical fault {code}", float(retry_after) if retry_after else None
        )
    soap_field = _text(detail, "Field")
    if code == SCHEMA_VIOLATION:
        # The gateway sent what the contract forbids: a bug on this side, to be seen at once.
        log.error(
            "%s refused %s (message %s) as breaking its schema at %s: %s",
            source,
            operation,
            _text(detail, "MessageId"),
            soap_field,
            mask_free_text(message),
        )
    allowed_from = _text(detail, "AllowedFrom")
    return BackendRefusal(
        source,
        code,
        message,
        field=field_path(soap_field),
        allowed_from=date.fromisoformat(allowed_from[:10]) if allowed_from else None,
    )


def _contract_detail(fault: Fault) -> etree._Element | None:
    # zeep puts the fault's <detail> element there, or a string for an answer that is not a SOAP fault at all.
    if not isinstance(fault.detail, etree._Element):
        return None
    children = [child for child in fault.detail if isinstance(child.tag, str)]
    if len(children) != 1 or etree.QName(children[0]).namespace != COMMON_NS:
        return None
    return children[0]


def _text(element: etree._Element, name: str) -> str | None:
    found = element.find(f"{{{COMMON_NS}}}{name}")
    return None if found is None or found.text is None else found.text.strip()
