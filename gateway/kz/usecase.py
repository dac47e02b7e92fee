"""Reading a person's ОСМС insurance status by ИИН: who may ask, and what the fund says."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from gateway.catalogue import Catalogue
from gateway.kz.domain import IinFacts, InsuranceStatus, iin_facts, iin_violations
from gateway.kz.ports import KzFundPort
from gateway.usecases.errors import InputRejected, NotVisible
from gateway.usecases.policies import ask_fund


@dataclass(frozen=True)
class KzReader:
    """Who asks: a service client (any ИИН) or a citizen (only the ИИН their identity provider vouches for)."""

    may_read_any: bool
    own_iin: str | None = None


@dataclass(frozen=True)
class KzContext:
    fund: KzFundPort
    catalogue: Catalogue
    new_message_id: Callable[[], str]
    today: Callable[[], date]


@dataclass(frozen=True)
class KzStatus:
    """The answer: the fund's status and what the ИИН itself says of its holder."""

    holder: IinFacts
    status: InsuranceStatus


def check_iin(iin: str, context: KzContext, field: str = "iin") -> IinFacts:
    """Refuse an ИИН with a wrong format, birth date or check digit before asking anyone."""
    violations = iin_violations(iin, field, context.today())
    if violations:
        raise InputRejected(tuple(context.catalogue.reason(violation) for violation in violations))
    return iin_facts(iin)


def ensure_visible(iin: str, reader: KzReader) -> None:
    """NotVisible (404, as for a policy) unless the reader may see this ИИН's status."""
    if reader.may_read_any or (reader.own_iin is not None and reader.own_iin == iin):
        return
    raise NotVisible(iin)


def insurance_status(iin: str, reader: KzReader, context: KzContext) -> KzStatus:
    """Whether the holder of an ИИН is insured in ОСМС today, and which package applies to them."""
    holder = check_iin(iin, context)
    ensure_visible(iin, reader)
    status = ask_fund(context.catalogue, iin, lambda: context.fund.insurance_status(context.new_message_id(), iin))
    return KzStatus(holder, status)
