"""«Моя семья»: the people whose applications a citizen submitted, each with their policy's status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from gateway.domain.applications import Application, Owner
from gateway.domain.model import NewPolicyRequest, Policy, Relation, ReplacementRequest
from gateway.ports import ApplicationStore, BackendUnavailable, FundReads, NotFound

PAGE = 100


@dataclass(frozen=True)
class Member:
    """One person of the citizen's applications: who, how related, their latest application and policy."""

    relation: Relation
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: date
    enp: str | None
    latest: Application
    policy: Policy | None
    policy_known: bool  # False when the fund could not be asked just now


def all_applications(owner: Owner, store: ApplicationStore) -> list[Application]:
    """Every application of the owner, newest first."""
    found: list[Application] = []
    cursor: str | None = None
    while True:
        page = store.list_for_owner(owner.sub, PAGE, cursor)
        found += page.items
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def family(owner: Owner, store: ApplicationStore, fund: FundReads, new_message_id: Callable[[], str]) -> list[Member]:
    """The people of the owner's applications, self first, then by the newest application."""
    applications = all_applications(owner, store)
    granted = store.granted_enps(owner.sub)
    by_enp = {app.enp: app for app in reversed(applications) if app.enp and isinstance(app.request, NewPolicyRequest)}
    groups: dict[str, list[Application]] = {}
    for application in applications:
        groups.setdefault(_key(application, by_enp), []).append(application)
    found = [_member(group, by_enp, fund, new_message_id, owner, granted) for group in groups.values()]
    members = [member for member in found if member is not None]
    return sorted(members, key=lambda m: (m.relation is not Relation.SELF, -m.latest.updated_at.timestamp()))


def _key(application: Application, by_enp: dict[str, Application]) -> str:
    # One person, one entry: a new application by its person, a replacement by the person its ЕНП was issued to.
    request = application.request
    if isinstance(request, ReplacementRequest):
        origin = by_enp.get(request.enp)
        if origin is None:
            return f"enp:{request.enp}"
        request = origin.request
    assert isinstance(request, NewPolicyRequest)
    person = request.person
    if person.snils:
        return f"snils:{person.snils}"
    return f"person:{person.last_name}|{person.first_name}|{person.birth_date.isoformat()}"


def _member(
    group: list[Application],
    by_enp: dict[str, Application],
    fund: FundReads,
    new_message_id: Callable[[], str],
    owner: Owner,
    granted: frozenset[str],
) -> Member | None:
    latest = group[0]
    origin = next((app for app in group if isinstance(app.request, NewPolicyRequest)), None)
    if origin is None and latest.enp in by_enp:
        origin = by_enp[latest.enp]
    enp = next((app.enp for app in group if app.enp and _reaches(app, app.enp, owner, granted)), None)
    policy, known = _policy(enp, fund, new_message_id)
    if origin is not None:
        assert isinstance(origin.request, NewPolicyRequest)
        person = origin.request.person
        relation = origin.request.relation
        last, first, middle, born = person.last_name, person.first_name, person.middle_name, person.birth_date
    elif policy is not None:
        # Only replacements of a policy issued elsewhere: the registry's holder names the person.
        assert isinstance(latest.request, ReplacementRequest)
        holder = policy.holder
        relation = Relation.SELF
        last, first, middle, born = holder.last_name, holder.first_name, holder.middle_name, holder.birth_date
    else:
        return None
    return Member(relation, last, first, middle, born, enp, latest, policy, known)


def _reaches(application: Application, enp: str, owner: Owner, granted: frozenset[str]) -> bool:
    """Whether the owner may see the policy an application of theirs names (the rules of ensure_visible)."""
    request = application.request
    if enp in granted or isinstance(request, ReplacementRequest):
        return True  # issued for them, or a replacement, which was let in only for the holder or a representative
    return request.relation is Relation.SELF and owner.snils is not None and request.person.snils == owner.snils


def _policy(enp: str | None, fund: FundReads, new_message_id: Callable[[], str]) -> tuple[Policy | None, bool]:
    if enp is None:
        return None, True
    try:
        return fund.insurance_status(new_message_id(), enp), True
    except NotFound:
        return None, True
    except BackendUnavailable:
        return None, False
