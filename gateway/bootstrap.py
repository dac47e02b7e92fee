"""The composition root: builds the real objects from the settings; tests hand fakes to the same function."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from gateway.auth.jwks import JwksCache
from gateway.breaker import CircuitBreaker
from gateway.catalogue import Catalogue
from gateway.config import Settings, SettingsError
from gateway.domain.clinics import PolicyCard
from gateway.domain.model import Source
from gateway.domain.reference import DEFAULT_INSURERS, DEFAULT_REGIONS, Reference, load_reference
from gateway.guard import GuardedInsurers, guarded
from gateway.ids import new_application_id
from gateway.kz.domain import DEFAULT_PACKAGES, Packages, kz_today, load_packages
from gateway.kz.ports import KzFundPort
from gateway.kz.usecase import KzContext
from gateway.metrics import Metrics
from gateway.ports import ApplicationStore, FundReads, FundRegistry, Insurers, JournalEntry
from gateway.readiness import ReadinessRunner, gateway_checks
from gateway.usecases.policies import PolicyContext
from gateway.usecases.processing import RetryPolicy, utc_now
from gateway.usecases.status_cache import StatusCache
from gateway.usecases.submission import Context
from gateway.worker import WorkerContext

log = logging.getLogger("epolicy.signing")

if TYPE_CHECKING:
    from adapters.signing import Signing
    from gateway.ratelimit import RateLimits
    from gateway.storage.journal import SqlJournal


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
    kz_packages: Packages | None = None  # its packages of medical care (KZ_PACKAGES_FILE); build_services reads them
    breakers: dict[str, CircuitBreaker] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)  # this app's Prometheus registry (gateway.metrics)
    status_cache: StatusCache[PolicyCard] | None = None
    settings: Settings = field(default_factory=Settings)
    # The API's: the authorization server's keys (gateway.auth) and the rate limits (gateway.ratelimit).
    jwks: JwksCache | None = None
    rate_limits: RateLimits | None = None
    # The checks of /readyz, run at most once an interval; build_services sets it.
    readiness: ReadinessRunner | None = None
    # Who signed each SOAP message sent and received (gateway.storage.journal); None: not kept.
    journal: SqlJournal | None = None

    @property
    def submission(self) -> Context:
        return Context(self.store, self.catalogue, self.reference, self.clock, self.new_id)

    @property
    def policies(self) -> PolicyContext:
        return PolicyContext(self.store, self.fund, self.catalogue, self.read_message_id, self.status_cache)

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

    @property
    def kz(self) -> KzContext:
        """The Kazakh profile's reads: its fund, and "today" by the Kazakh calendar (from 19:00 UTC it is tomorrow
        in Almaty), by which a birth date "in the future" is judged."""
        if self.kz_fund is None:
            raise RuntimeError("the Kazakh profile has no fund configured")
        return KzContext(self.kz_fund, self.catalogue, self.read_message_id, lambda: kz_today(self.clock()))

    def read_message_id(self) -> str:
        """A message id for a read that belongs to no application (`rd_` + a ULID)."""
        return "rd_" + self.new_id().removeprefix("app_")

    @property
    def worker_context(self) -> WorkerContext:
        """What the workers take of these services: the store, the fund's registry, the insurers and their rules."""
        return WorkerContext(
            store=self.store,
            fund=self.worker_fund,
            insurers=self.insurers,
            catalogue=self.catalogue,
            reference=self.reference,
            clock=self.clock,
            retry=self.retry,
            idempotency_key_ttl=self.idempotency_key_ttl,
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
    journal = overrides.pop("journal", None)
    if journal is None and engine is not None:
        from gateway.storage.journal import SqlJournal

        journal = SqlJournal(engine, timedelta(days=settings.journal_days))
    fund, insurers, kz_fund = (overrides.pop(name, None) for name in ("fund", "insurers", "kz_fund"))
    insurer_addresses = settings.insurer_addresses(sorted(reference.insurers))
    if fund is None or insurers is None or kz_fund is None:
        signing = message_signing(settings, insurer_addresses, journal.record if journal is not None else None)
    if fund is None:
        from adapters.fund import FundAdapter

        fund = FundAdapter(settings.fund_url, timeout=timeout, signing=signing.fund)
    if insurers is None:
        from adapters.insurer import InsurerDirectory

        insurers = InsurerDirectory(insurer_addresses, timeout=timeout, signing=signing.insurers)
    if kz_fund is None:
        from adapters.kz import KzFundAdapter

        kz_fund = KzFundAdapter(settings.kz_fund_url, timeout=timeout, signing=signing.kz_fund)
    # Read once, at start: a broken packages file stops the app before it serves anything.
    kz_packages = overrides.pop("kz_packages", None)
    if kz_packages is None:
        kz_packages = load_packages(Path(settings.kz_packages_file or DEFAULT_PACKAGES))
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
        kz_packages=kz_packages,
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
        journal=journal,
        **overrides,
    )
    built.readiness = readiness or readiness_runner(built)
    return built


@dataclass(frozen=True)
class Signings:
    """How each client signs and checks: the fund's, the insurers' (one client, a trust store per address), the
    Kazakh fund's. None for each when signing is switched off."""

    fund: Signing | None
    insurers: Signing | None
    kz_fund: Signing | None


def message_signing(
    settings: Settings, insurer_addresses: dict[str, str], journal: Callable[[JournalEntry], None] | None
) -> Signings:
    """The signing of every client from the settings; SettingsError with every problem at once, a line each."""
    if not settings.signing_enabled:
        log.warning("signing is switched off (EPOLICY_SIGNING_ENABLED=false): SOAP messages go and come unsigned")
        return Signings(None, None, None)
    from adapters.signing import Identity, Signing, SigningError, TrustStore

    problems = settings.signing_problems()
    if problems:
        raise SettingsError(*problems)

    def trust(text: str, variable: str) -> TrustStore | None:
        try:
            return TrustStore.load(text, variable)
        except SigningError as error:
            problems.append(f"{variable}: {error}")
            return None

    identity = None
    assert settings.signing_key is not None and settings.signing_certificate is not None
    try:
        identity = Identity.load(settings.signing_key, settings.signing_certificate, settings.signing_algorithm)
    except SigningError as error:
        problems.append(f"EPOLICY_SIGNING_KEY, EPOLICY_SIGNING_CERTIFICATE: {error}")
    assert settings.fund_trusted_certificates is not None and settings.kz_fund_trusted_certificates is not None
    fund = trust(settings.fund_trusted_certificates, "EPOLICY_FUND_TRUSTED_CERTIFICATES")
    kz_fund = trust(settings.kz_fund_trusted_certificates, "EPOLICY_KZ_FUND_TRUSTED_CERTIFICATES")
    insurers = {}
    for code, address in insurer_addresses.items():
        given = settings.insurer_trust(code)
        if given is None:
            problems.append(
                f"no certificate is trusted for insurer {code}: set EPOLICY_INSURER_TRUSTED_CERTIFICATES "
                '({"' + code + '": "/path/cert.pem"}) or EPOLICY_INSURER_TRUSTED_CERTIFICATES_TEMPLATE'
            )
        elif (store := trust(given, f"the trusted certificates of insurer {code}")) is not None:
            insurers[address] = store
    if problems or identity is None or fund is None or kz_fund is None:
        raise SettingsError(*problems)
    window = settings.signing_window_seconds
    return Signings(
        fund=Signing(identity, {settings.fund_url: fund}, window, journal),
        insurers=Signing(identity, insurers, window, journal),
        kz_fund=Signing(identity, {settings.kz_fund_url: kz_fund}, window, journal),
    )


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
