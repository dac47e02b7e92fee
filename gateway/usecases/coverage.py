"""A clinic checks a person's coverage: by ЕНП or СНИЛС, in the clinic's region, as the fund has it today."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from gateway.catalogue import Catalogue
from gateway.domain.coverage import Coverage, CoverageQuery, assess, query_violations
from gateway.domain.model import Reason, Source, Violation
from gateway.ports import BackendUnavailable, FundReads, NotFound
from gateway.usecases.errors import InputRejected, NotVisible, ServiceUnavailable
from gateway.usecases.policies import DEFAULT_RETRY_AFTER


@dataclass(frozen=True)
class CoverageContext:
    fund: FundReads
    catalogue: Catalogue
    regions: Collection[str]
    new_message_id: Callable[[], str]


class NotInRegistry(NotVisible):
    """The registry has no policy for the identifier asked: 404, with the catalogue's reason saying which."""

    def __init__(self, reason: Reason):
        super().__init__(reason.code)
        self.reason = reason


def check_coverage(query: CoverageQuery, context: CoverageContext) -> Coverage:
    """Whether the person is covered today, by which insurer and under which programme in the clinic's region."""
    violations = query_violations(query, context.regions)
    if violations:
        raise InputRejected(tuple(context.catalogue.reason(violation) for violation in violations))
    try:
        enp = query.enp or _enp_of_snils(query, context)
        policy = context.fund.insurance_status(context.new_message_id(), enp)
    except NotFound as missing:
        raise _not_in_registry(query, context.catalogue) from missing
    except BackendUnavailable as outage:
        raise ServiceUnavailable(int(outage.retry_after or DEFAULT_RETRY_AFTER)) from outage
    return assess(policy, query.region_code)


def _enp_of_snils(query: CoverageQuery, context: CoverageContext) -> str:
    snils = query.snils
    assert snils is not None  # query_violations let only a well-formed СНИЛС through
    person = context.fund.find_person_by_snils(context.new_message_id(), snils)
    if person is None or person.enp is None:
        raise NotFound("no registry record with a policy for this СНИЛС")
    return person.enp


def _not_in_registry(query: CoverageQuery, catalogue: Catalogue) -> NotInRegistry:
    violation = Violation("ENP_NOT_FOUND", "enp") if query.enp else Violation("SNILS_NOT_FOUND", "snils")
    return NotInRegistry(catalogue.reason(violation, Source.FUND))
