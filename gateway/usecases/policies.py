"""Reading a policy's status: who may see it, and what the fund says of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from gateway.catalogue import Catalogue
from gateway.domain.applications import Owner
from gateway.domain.clinics import PolicyCard
from gateway.domain.identifiers import enp_violations
from gateway.domain.model import Policy
from gateway.ports import ApplicationStore, BackendRefusal, BackendUnavailable, FundReads, NotFound
from gateway.usecases.errors import InputRejected, NotVisible, ServiceUnavailable
from gateway.usecases.refusals import reason_of
from gateway.usecases.status_cache import StatusCache

DEFAULT_RETRY_AFTER = 30
T = TypeVar("T")


@dataclass(frozen=True)
class Reader:
    """Who asks: a citizen (their own and their applicants' policies) or a service client (any policy)."""

    owner: Owner
    may_read_any: bool = False


@dataclass(frozen=True)
class PolicyContext:
    store: ApplicationStore
    fund: FundReads
    catalogue: Catalogue
    new_message_id: Callable[[], str]
    status_cache: StatusCache[PolicyCard] | None = None


def check_enp(enp: str, catalogue: Catalogue, field: str = "enp") -> None:
    """Refuse an ЕНП with a wrong format or check digit before asking anyone."""
    violations = enp_violations(enp, field)
    if violations:
        raise InputRejected(tuple(catalogue.reason(violation) for violation in violations))


def ensure_visible(enp: str, reader: Reader, context: PolicyContext) -> None:
    """NotVisible unless the reader may see this ЕНП: a service client any, a citizen their own (the fund's holder has
    the token's СНИЛС) and those the gateway issued on an application of theirs; a pending or refused one grants
    nothing."""
    if reader.may_read_any or enp in context.store.granted_enps(reader.owner.sub):
        return
    if reader.owner.snils is None:
        raise NotVisible(enp)
    holder = ask_fund(context.catalogue, enp, lambda: context.fund.find_person(context.new_message_id(), enp))
    if holder is None or holder.person.snils != reader.owner.snils:
        raise NotVisible(enp)


def policy_status(enp: str, reader: Reader, context: PolicyContext) -> Policy:
    """The policy of an ЕНП as the fund has it now."""
    check_enp(enp, context.catalogue)
    ensure_visible(enp, reader, context)
    return ask_fund(context.catalogue, enp, lambda: context.fund.insurance_status(context.new_message_id(), enp))


def policy_card(enp: str, reader: Reader, context: PolicyContext) -> PolicyCard:
    """The policy of an ЕНП and its holder's clinic, from the fund or from its answer of a few seconds ago.

    The stamp is read before the fund is asked, so a change recorded while the fund answers makes the answer
    stale at once (see gateway.usecases.status_cache).
    """
    check_enp(enp, context.catalogue)
    ensure_visible(enp, reader, context)
    cache = context.status_cache
    if cache is None or not cache.enabled:
        return _fetch_card(enp, context)
    stamp = context.store.policy_changed_at(enp)
    card = cache.get(enp, stamp)
    if card is None:
        fetched_at = cache.now()
        card = _fetch_card(enp, context)
        cache.put(enp, stamp, card, fetched_at)
    return card


def _fetch_card(enp: str, context: PolicyContext) -> PolicyCard:
    # One call (GetPolicyCard), not GetInsuranceStatus and GetAttachment one after the other.
    return ask_fund(context.catalogue, enp, lambda: context.fund.policy_card(context.new_message_id(), enp))


def ask_fund(catalogue: Catalogue, subject: str, call: Callable[[], T]) -> T:
    """Call the fund, its answers translated once for every read and write of the API: an unknown ЕНП is "not
    found", an outage "try later", a refusal the catalogue's reason with the request field it concerns."""
    try:
        return call()
    except NotFound as missing:
        raise NotVisible(subject) from missing
    except BackendUnavailable as outage:
        raise ServiceUnavailable(int(outage.retry_after or DEFAULT_RETRY_AFTER)) from outage
    except BackendRefusal as refusal:
        raise InputRejected((reason_of(refusal, catalogue),)) from refusal
