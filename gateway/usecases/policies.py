"""Reading a policy's status: who may see it, and what the fund says of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gateway.catalogue import Catalogue
from gateway.domain.applications import Owner
from gateway.domain.identifiers import enp_violations
from gateway.domain.model import Policy
from gateway.ports import ApplicationStore, BackendUnavailable, FundPort, NotFound
from gateway.usecases.errors import InputRejected, NotVisible, ServiceUnavailable

DEFAULT_RETRY_AFTER = 30


@dataclass(frozen=True)
class Reader:
    """Who asks: a citizen (their own and their applicants' policies) or a service client (any policy)."""

    owner: Owner
    may_read_any: bool = False


@dataclass(frozen=True)
class PolicyContext:
    store: ApplicationStore
    fund: FundPort
    catalogue: Catalogue
    new_message_id: Callable[[], str]


def check_enp(enp: str, catalogue: Catalogue, field: str = "enp") -> None:
    """Refuse an ЕНП with a wrong format or check digit before asking anyone."""
    violations = enp_violations(enp, field)
    if violations:
        raise InputRejected(tuple(catalogue.reason(violation) for violation in violations))


def ensure_visible(enp: str, reader: Reader, context: PolicyContext) -> None:
    """NotVisible unless the reader may see this ЕНП."""
    if reader.may_read_any or enp in context.store.owner_enps(reader.owner.sub):
        return
    if reader.owner.snils is None:
        raise NotVisible(enp)
    try:
        holder = context.fund.find_person(context.new_message_id(), enp)
    except BackendUnavailable as outage:
        raise ServiceUnavailable(int(outage.retry_after or DEFAULT_RETRY_AFTER)) from outage
    if holder is None or holder.snils != reader.owner.snils:
        raise NotVisible(enp)


def policy_status(enp: str, reader: Reader, context: PolicyContext) -> Policy:
    """The policy of an ЕНП as the fund has it now."""
    check_enp(enp, context.catalogue)
    ensure_visible(enp, reader, context)
    try:
        return context.fund.insurance_status(context.new_message_id(), enp)
    except NotFound as missing:
        raise NotVisible(enp) from missing
    except BackendUnavailable as outage:
        raise ServiceUnavailable(int(outage.retry_after or DEFAULT_RETRY_AFTER)) from outage
