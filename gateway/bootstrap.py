"""The composition root: builds the real objects from the settings; tests hand fakes to the same function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from gateway.auth.jwks import JwksCache
from gateway.breaker import CircuitBreaker
from gateway.catalogue import Catalogue
from gateway.config import Settings
from gateway.domain.clinics import PolicyCard
from gateway.domain.model import Source
from gateway.domain.reference import DEFAULT_INSURERS, DEFAULT_REGIONS, Reference, load_reference
from gateway.guard import GuardedInsurers, guarded
from gateway.ids import new_application_id
from gateway.kz.domain import kz_today
from gateway.kz.ports import KzFundPort
from gateway.kz.usecase import KzContext
from gateway.metrics import Metrics
from gateway.ports import ApplicationStore, FundReads, FundRegistry, Insurers
from gateway.readiness import ReadinessRunner, gateway_checks
from gateway.usecases.policies import PolicyContext
from gateway.usecases.processing import Processor, RetryPolicy, utc_now
from gateway.usecases.status_cache import StatusCache
from gateway.usecases.submission import Context

if TYPE_CHECKING:
    from gateway.ratelimit import RateLimits


@dataclass
class Services:
    """Every long-lived object of one gateway app, built once."""

    catalogue: Catalogue
    reference: Reference
    store: ApplicationStore
    fund: FundReads  # the API's reads, behind a circuit breaker
    worker_fund: FundRegistry  # the workers' registry calls: no breaker, since they retry with backoff anyway
    insurers: Insurers
    clock: Callable[[], datetime] = utc_now
    idempotency_key_ttl: timedelta = timedelta(hours=24)  # how long an Idempotency-Key is remembered
    new_id: Callable[[], str] = new_application_id
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    engine: Engine | None = None
    kz_fund: KzFundPort | None = None  # the Kazakh profile's fund (ОСМС), behind a breaker; build_services sets it
    breakers: dict[str, CircuitBreaker] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)  # this app's Prometheus registry (gateway.metrics)
    status_cache: StatusCache[PolicyCard] | None = None
    settings: Settings = field(default_factory=Settings)
    # The API's: the authorization server's keys (gateway.auth) and the rate limits (gateway.ratelimit).
    jwks: JwksCache | None = None
    rate_limits: RateLimits | None = None
    # The checks of /readyz, run at most once an interval; build_services sets it.
    readiness: ReadinessRunner | None = None

    @property
    def submission(self) -> Context:
        return Context(self.store, self.catalogue, self.reference, self.clock, self.new_id)

    @property
    def policies(self) -> PolicyContext:
        return PolicyContext(self.store, self.fund, self.catalogue, self.read_message_id, self.status_cache)

    @property
    def kz(self) -> KzContext:
        """The Kazakh profile's reads: its fund, and the Kazakh calendar (from 19:00 UTC it is tomorrow in Almaty)."""
        fund = self.kz_fund
        if fund is None:  # Services built by hand without the Kazakh profile; build_services always sets it
            raise RuntimeError("the Kazakh profile has no fund configured")
        return KzContext(fund, self.catalogue, self.read_message_id, lambda: kz_today(self.clock()))

    # The settings the views read, by name, so that a view's Protocol of needs names a value rather than Settings.
    @property
    def json_max_depth(self) -> int:
        return self.settings.json_max_depth

    @property
    def page_size_default(self) -> int:
        return self.settings.page_size_default

    @property
    def page_size_max(self) -> int:
        return self.settings.page_size_max

    @property
    def demo_mark(self) -> bool:
        return self.settings.demo_mark

    def read_message_id(self) -> str:
        """A message id for a read that belongs to no application (`rd_` + a ULID)."""
        return "rd_" + self.new_id().removeprefix("app_")

    @property
    def processor(self) -> Processor:
        return Processor(
            self.store,
            self.worker_fund,
            self.insurers,
            self.catalogue,
            self.clock,
            self.retry,
            self.reference,
            unprocessable=self.metrics.count_unprocessable,
        )


def build_services(settings: Settings, **overrides: Any) -> Services:
    """Build the services from settings; any keyword replaces the object of that name (tests pass fakes)."""
    catalogue = overrides.pop("catalogue", None) or Catalogue.load()
    reference = overrides.pop("reference", None) or load_reference(
        Path(settings.insurers_file or DEFAULT_INSURERS), Path(settings.regions_file or DEFAULT_REGIONS)
    )
    engine = overrides.pop("engine", None)
    store = overrides.pop("store", None)
    if store is None:
        from gateway.storage.database import make_engine
        from gateway.storage.store import SqlApplicationStore

        engine = engine or make_engine(settings.database, pool_size=settings.database_pool_size)
        store = SqlApplicationStore(engine)
    timeout = settings.backend_timeout
    fund = overrides.pop("fund", None)
    if fund is None:
        from adapters.fund import FundAdapter

        fund = FundAdapter(settings.fund_url, timeout=timeout)
    insurers = overrides.pop("insurers", None)
    if insurers is None:
        from adapters.insurer import InsurerDirectory

        insurers = InsurerDirectory(settings.insurer_addresses(sorted(reference.insurers)), timeout=timeout)
    kz_fund = overrides.pop("kz_fund", None)
    if kz_fund is None:
        from adapters.kz import KzFundAdapter

        kz_fund = KzFundAdapter(settings.kz_fund_url, timeout=timeout)
    jwks = overrides.pop("jwks", None)
    if jwks is None:
        from adapters.soap import new_session

        # The authorization server's keys under the same whole-answer deadline as a back-end call: a server that
        # drips its JWKS must not hold every token check behind the fetch lock.
        jwks = JwksCache(settings.jwks_url, new_session(pool_connections=1, pool_maxsize=2))
    rate_limits = overrides.pop("rate_limits", None)
    if rate_limits is None:
        from gateway.ratelimit import build_limiter

        rate_limits = build_limiter(settings)
    # Every back-end call, the workers' and the API's, is counted by outcome and timed (inside the breakers).
    metrics = overrides.pop("metrics", None) or Metrics()
    retry = RetryPolicy(settings.retry_base_seconds, settings.retry_max_seconds, settings.retry_max_attempts)
    breakers = {
        name: CircuitBreaker(name, settings.breaker_failures, settings.breaker_cooldown_seconds)
        for name in ("fund", "kz fund")
    }
    # The API's reads behind the breakers; the workers retry with backoff anyway.
    fund_guard, kz_guard = breakers["fund"].guard(Source.FUND), breakers["kz fund"].guard(Source.FUND)
    readiness = overrides.pop("readiness", None)
    built = Services(
        catalogue=catalogue,
        reference=reference,
        store=store,
        fund=guarded(fund, FundReads, fund_guard, metrics.guard("fund")),
        insurers=GuardedInsurers(insurers, metrics.guard("insurer")),
        kz_fund=guarded(kz_fund, KzFundPort, kz_guard, metrics.guard("kz_fund")),
        worker_fund=guarded(fund, FundRegistry, metrics.guard("fund")),
        breakers=breakers,
        metrics=metrics,
        status_cache=StatusCache(settings.status_cache_seconds),
        retry=retry,
        idempotency_key_ttl=timedelta(hours=settings.idempotency_key_hours),
        engine=engine,
        settings=settings,
        jwks=jwks,
        rate_limits=rate_limits,
        **overrides,
    )
    built.readiness = readiness or readiness_runner(built)
    return built


def readiness_runner(services: Services) -> ReadinessRunner:
    """The checks of /readyz over the services' store and guarded back-ends, each within the adapters' deadline."""
    from adapters.deadline import within

    settings = services.settings
    checks = gateway_checks(
        engine=services.engine,
        fund=services.fund,
        insurers=services.insurers,
        kz_fund=services.kz_fund,
        breakers=services.breakers,
        region_code=min(services.reference.regions),
        message_id=services.read_message_id,
    )
    return ReadinessRunner(
        checks,
        interval=settings.readiness_interval_seconds,
        deadline=settings.readiness_check_seconds,
        scope=within,
    )
