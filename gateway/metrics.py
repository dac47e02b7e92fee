"""Prometheus metrics of one gateway app or worker process, in a registry of its own, served at `/metrics`.

- `epolicy_http_requests_total{method, endpoint, status}` and `epolicy_http_request_duration_seconds{method,
  endpoint}`: the endpoint is the route (`/api/v1/policies/<enp>`), never the path, which may hold an ЕНП.
- `epolicy_backend_calls_total{backend, operation, outcome}` and `epolicy_backend_call_duration_seconds{backend,
  operation}`: every call of the fund, an insurer or the Kazakh fund (the ports are wrapped in the composition
  root); outcome `ok` (an answer, "not found" included), `refused` (a business fault), `unavailable` (an outage),
  `error` (anything else: a bug).
- `epolicy_outbox_depth{state}` (`due`, `scheduled` for a retry, `stalled`) and
  `epolicy_outbox_oldest_pending_age_seconds`, read from the database at each scrape.
- `epolicy_circuit_breaker_state{backend, state}`: 1 for the breaker's current state, 0 for the others.
- `epolicy_applications_unprocessable_total{outcome}`: applications a worker's step failed for good (a message
  that cannot be built, a bug): `refused` (texts no SOAP message can carry) or `stalled` for an operator.
- `epolicy_applications_idle{status}`: unfinished applications unchanged for longer than `IDLE_AFTER_MINUTES`,
  read from the database at each scrape: whatever keeps one from its end, it shows here.

Under gunicorn (several processes) `PROMETHEUS_MULTIPROC_DIR` is set (deploy/gunicorn.conf.py) and a scrape adds
up the counters of every process; the outbox and the breakers are read live by the process that answers.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from flask import Flask, Response, g, request
from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    make_wsgi_app,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from gateway.breaker import BreakerState, CircuitBreaker
from gateway.config import Settings
from gateway.domain.model import ApplicationStatus
from gateway.ports import (
    BackendRefusal,
    BackendUnavailable,
    Idle,
    NotFound,
    OutboxStats,
)
from gateway.usecases.status_cache import StatusCache

log = logging.getLogger(__name__)

PATH = "/metrics"
# Seconds; SOAP calls wait up to BACKEND_TIMEOUT (10 s by default), so the buckets reach past it.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
NO_ROUTE = "(no route)"

OK, REFUSED, UNAVAILABLE, ERROR = "ok", "refused", "unavailable", "error"

T = TypeVar("T")


class Metrics:
    """The metrics of one app (tests build many apps in one process: each has its own registry)."""

    def __init__(self, multiprocess: bool | None = None) -> None:
        self.multiprocess = "PROMETHEUS_MULTIPROC_DIR" in os.environ if multiprocess is None else multiprocess
        self.registry = CollectorRegistry()
        if not self.multiprocess:
            # Per-process figures mean something only when one process answers for itself.
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)
        self.requests = Counter(
            "epolicy_http_requests",
            "Requests answered, by route and status",
            ["method", "endpoint", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "epolicy_http_request_duration_seconds",
            "Time to answer a request, by route",
            ["method", "endpoint"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.backend_calls = Counter(
            "epolicy_backend_calls",
            "Calls of the back-ends (fund, insurer, kz_fund) by operation and outcome",
            ["backend", "operation", "outcome"],
            registry=self.registry,
        )
        self.backend_seconds = Histogram(
            "epolicy_backend_call_duration_seconds",
            "Time of a back-end call, by operation",
            ["backend", "operation"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.unprocessable = Counter(
            "epolicy_applications_unprocessable",
            "Applications whose step failed for a reason that repeats on every attempt: refused, or stalled",
            ["outcome"],
            registry=self.registry,
        )
        self._live: LiveState | None = None
        self._exposed: CollectorRegistry | None = None
        self._request_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def request_series(self, method: str, endpoint: str, status: int) -> tuple[Any, Any]:
        """The children of the request counter and of the duration histogram for these labels.

        The same objects `.labels()` answers (it keeps them by label values too), remembered here by the route,
        method and status: `.labels()` checks and joins its arguments and takes a lock on every request.
        """
        key = (method, endpoint, status)
        found = self._request_series.get(key)
        if found is None:
            found = (self.requests.labels(method, endpoint, str(status)), self.request_seconds.labels(method, endpoint))
            self._request_series[key] = found
        return found

    def count_unprocessable(self, outcome: str) -> None:
        """Count an application a worker could not carry: `refused` or `stalled` (gateway.usecases.processing)."""
        self.unprocessable.labels(outcome).inc()

    def watch(self, sources: Sources) -> None:
        """Report the outbox, the circuit breakers and the status cache at every scrape."""
        if self._live is None:
            self._live = LiveState(sources)
            self.registry.register(self._live)

    def exposed(self) -> CollectorRegistry:
        """What a scrape reads: this registry, or every process's counters plus the live state of this one."""
        if not self.multiprocess:
            return self.registry
        if self._exposed is None:
            exposed = CollectorRegistry()
            MultiProcessCollector(exposed)  # type: ignore[no-untyped-call]
            if self._live is not None:
                exposed.register(self._live)
            self._exposed = exposed
        return self._exposed

    def guard(self, backend: str) -> Callable[[str, Callable[[], T]], T]:
        """A guard of gateway.guard counting and timing the operations of `backend`."""
        return functools.partial(self.call, backend)

    def call(self, backend: str, operation: str, action: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Call a back-end's operation, counting it by its outcome and timing it."""
        started = time.perf_counter()
        outcome = ERROR
        try:
            result = action(*args, **kwargs)
            outcome = OK
            return result
        except NotFound:
            outcome = OK  # the back-end answered
            raise
        except BackendRefusal:
            outcome = REFUSED
            raise
        except BackendUnavailable:
            outcome = UNAVAILABLE
            raise
        finally:
            self.backend_calls.labels(backend, operation, outcome).inc()
            self.backend_seconds.labels(backend, operation).observe(time.perf_counter() - started)


@dataclass(frozen=True)
class Sources:
    """What a scrape reads of the live state: each read when the scrape comes."""

    clock: Callable[[], datetime]
    outbox_stats: Callable[[datetime], OutboxStats]
    breakers: Callable[[], Mapping[str, CircuitBreaker]]
    status_cache: Callable[[], StatusCache[Any] | None]
    # Unfinished applications unchanged since before a time (the store's `without_progress`), and how long is long.
    idle: Callable[[datetime], Sequence[Idle]] | None = None
    idle_after: timedelta = timedelta(minutes=30)


class LiveState(Collector):
    """The outbox, the circuit breakers and the status cache as they are at the moment of a scrape."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        yield from self._outbox()
        yield from self._idle()
        cache = self.sources.status_cache()
        if cache is not None:
            reads = CounterMetricFamily(
                "epolicy_status_cache_reads",
                "Policy status reads answered from the status cache or not",
                labels=["result"],
            )
            reads.add_metric(["hit"], cache.hits)
            reads.add_metric(["miss"], cache.misses)
            yield reads
        states = GaugeMetricFamily(
            "epolicy_circuit_breaker_state",
            "Circuit breaker of a back-end's reads: 1 for its current state",
            labels=["backend", "state"],
        )
        for name, breaker in sorted(self.sources.breakers().items()):
            current = breaker.state
            for state in BreakerState:
                states.add_metric([backend_label(name), state.value], 1.0 if state is current else 0.0)
        yield states

    def _outbox(self) -> Iterator[GaugeMetricFamily]:
        now = self.sources.clock()
        try:
            stats = self.sources.outbox_stats(now)
        except Exception as error:  # the database is down: the other metrics are still worth a scrape
            log.warning("outbox metrics unavailable: %s", type(error).__name__)
            return
        depth = GaugeMetricFamily(
            "epolicy_outbox_depth",
            "Outbox entries: due now, scheduled for a retry, stalled (waiting for an operator)",
            labels=["state"],
        )
        depth.add_metric(["due"], stats.due)
        depth.add_metric(["scheduled"], stats.scheduled)
        depth.add_metric(["stalled"], stats.stalled)
        yield depth
        since = stats.oldest_pending_since
        age = max(0.0, (now - since).total_seconds()) if since is not None else 0.0
        yield GaugeMetricFamily(
            "epolicy_outbox_oldest_pending_age_seconds",
            "Age of the oldest application the workers still carry (stalled ones aside); 0 when none",
            value=age,
        )

    def _idle(self) -> Iterator[GaugeMetricFamily]:
        if self.sources.idle is None:
            return
        try:
            idle = self.sources.idle(self.sources.clock() - self.sources.idle_after)
        except Exception as error:  # as for the outbox: the rest of the scrape still counts
            log.warning("idle applications unavailable: %s", type(error).__name__)
            return
        counts = collections.Counter(item.status for item in idle)
        gauge = GaugeMetricFamily(
            "epolicy_applications_idle",
            f"Unfinished applications unchanged for more than {self.sources.idle_after.total_seconds() / 60:g} "
            "minutes, by status",
            labels=["status"],
        )
        for status in ApplicationStatus:
            if not status.is_final:
                gauge.add_metric([status.value], counts[status])
        yield gauge


def backend_label(name: str) -> str:
    """A breaker's or back-end's name as a label value (`kz fund` → `kz_fund`)."""
    return name.replace(" ", "_")


# --- the app ------------------------------------------------------------------------------------------------


def init_app(app: Flask, metrics: Metrics, sources: Sources, settings: Settings) -> None:
    """Count and time the requests of `app` and serve `/metrics`, unless `settings.metrics_enabled` is false."""
    sources = dataclasses.replace(sources, idle_after=timedelta(minutes=settings.idle_after_minutes))
    metrics.watch(sources)  # a worker process serves them on a port of its own (`epolicy worker --metrics-port`)
    if not settings.metrics_enabled:
        return
    networks = allowed_networks(settings.metrics_allow)
    app.wsgi_app = MetricsEndpoint(app.wsgi_app, make_wsgi_app(metrics.exposed()), networks)  # type: ignore[method-assign]

    @app.before_request
    def begin() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def count(response: Response) -> Response:
        rule = request.url_rule
        endpoint = rule.rule if rule is not None else NO_ROUTE
        method = request.method if request.method in METHODS else "other"
        answered, timed = metrics.request_series(method, endpoint, response.status_code)
        answered.inc()
        started = g.get("metrics_started")
        if started is not None:
            timed.observe(time.perf_counter() - started)
        return response


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def allowed_networks(setting: object) -> tuple[Network, ...] | None:
    """METRICS_ALLOW as networks: None (anyone) when unset, else `10.0.0.0/8,127.0.0.1` or a JSON list."""
    if not setting:
        return None
    items = setting.replace(",", " ").split() if isinstance(setting, str) else list(cast(Iterable[Any], setting))
    return tuple(ipaddress.ip_network(str(item), strict=False) for item in items)


class MetricsEndpoint:
    """WSGI middleware: `GET /metrics` from an allowed address gets the exposition, all else goes to the app.

    A scrape outside the Flask app is neither rate limited nor counted as a request; from an address not
    allowed, the app answers it as the 404 of any unknown path.
    """

    def __init__(self, app: Callable[..., Any], exposition: Callable[..., Any], networks: tuple[Network, ...] | None):
        self.app = app
        self.exposition = exposition
        self.networks = networks

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") != PATH or not self._allowed(environ.get("REMOTE_ADDR")):
            return self.app(environ, start_response)

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [*headers, ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return self.exposition(environ, respond)

    def _allowed(self, address: str | None) -> bool:
        if self.networks is None:
            return True
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self.networks)
