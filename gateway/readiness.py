"""Readiness: the checks behind /readyz, run at most once an interval, one run at a time, each within a deadline.

/readyz needs no token, so whoever can reach it would, if every call asked the back-ends, keep them and the
gateway's request threads busy with probes. A run asks the database and every back-end at once, each check within
its own deadline; a call while a run is in flight, or within the interval after one began, is answered with the last
result. Only a call that finds no result yet waits, and not longer than one run.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from types import MappingProxyType
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from gateway.breaker import CircuitBreaker
from gateway.kz.ports import KzFundPort
from gateway.ports import BackendError, BackendUnavailable, FundReads, Insurers
from gateway.usecases.processing import utc_now

OK = "ok"
READY = frozenset({OK, "closed"})  # a check's "ok", a breaker's "closed"
PROBE_IIN = "000000000000"  # an ИИН no one has: any answer, "not found" or a refusal, shows the Kazakh fund is there
GRACE = 0.5  # seconds beyond a check's deadline that a run waits for a check that does not keep to it

Scope = Callable[[float], AbstractContextManager[Any]]


@dataclass(frozen=True)
class Check:
    """One thing the gateway needs: its name in the answer and a probe that says "ok" or raises why not."""

    name: str
    probe: Callable[[], str]


@dataclass(frozen=True)
class Readiness:
    """The result of a run: each check's state, and when the run began."""

    checks: Mapping[str, str]
    checked_at: datetime

    @property
    def ready(self) -> bool:
        """Whether every check is fine."""
        return all(state in READY for state in self.checks.values())


def _no_scope(seconds: float) -> AbstractContextManager[Any]:
    return contextlib.nullcontext()


class ReadinessRunner:
    """Runs `checks` concurrently, at most once every `interval` seconds, each within `deadline` seconds.

    `scope(seconds)` is entered around each probe: the adapters' call deadline (adapters.deadline.within), so that
    a probe's back-end call itself ends with the check, and its thread and connection are free again.
    """

    def __init__(
        self,
        checks: Sequence[Check],
        *,
        interval: float,
        deadline: float,
        scope: Scope = _no_scope,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.checks = tuple(checks)
        self.interval = interval
        self.deadline = deadline
        self.clock = clock
        self._scope = scope
        self._now = now
        self._lock = threading.Lock()
        self._last: Readiness | None = None
        self._began: float | None = None  # on `clock`, when the last run began
        self._in_flight: threading.Event | None = None  # set when the run in flight is done
        self._busy: set[str] = set()  # checks whose probe of an earlier run has not returned yet
        self._pool = ThreadPoolExecutor(max_workers=max(len(self.checks), 1), thread_name_prefix="readyz")

    def current(self) -> Readiness:
        """The last result while it is fresh or while a run is in flight; otherwise the result of a new run."""
        with self._lock:
            last, in_flight = self._last, self._in_flight
            fresh = self._began is not None and self.clock() - self._began < self.interval
            if last is not None and (fresh or in_flight is not None):
                return last
            if in_flight is None:
                in_flight = self._in_flight = threading.Event()
                self._began = self.clock()
                mine = True
            else:
                mine = False
        if mine:
            return self._run(in_flight)
        # No result yet, and a run in flight: wait for it, as long as a run may last.
        in_flight.wait(self.deadline + 2 * GRACE)
        with self._lock:
            if self._last is not None:
                return self._last
        waiting = {"readiness": "unavailable: the first checks are still running"}
        return Readiness(MappingProxyType(waiting), self._now())

    def _run(self, done: threading.Event) -> Readiness:
        result: Readiness | None = None
        try:
            result = self._check_all()
            return result
        finally:
            with self._lock:
                if result is not None:
                    self._last = result
                self._in_flight = None
            done.set()

    def _check_all(self) -> Readiness:
        checked_at = self._now()
        started: dict[str, Future[str]] = {}
        states: dict[str, str] = {}
        for check in self.checks:
            with self._lock:
                # A probe still out since an earlier run is not sent again: at most one per back-end at a time.
                if check.name in self._busy:
                    states[check.name] = "unavailable: the last check has not returned yet"
                    continue
                self._busy.add(check.name)
            started[check.name] = self._pool.submit(self._probe, check)
        wait_for(started.values(), timeout=self.deadline + GRACE)
        for name, future in started.items():
            states[name] = future.result() if future.done() else f"unavailable: no answer within {self.deadline:g} s"
        return Readiness(MappingProxyType({check.name: states[check.name] for check in self.checks}), checked_at)

    def _probe(self, check: Check) -> str:
        try:
            with self._scope(self.deadline):
                return check.probe()
        except BackendUnavailable as outage:
            return f"unavailable: {outage.reason}"
        except Exception as error:  # any failure means not ready; its kind is reported, never its message
            return f"unavailable: {type(error).__name__}"
        finally:
            with self._lock:
                self._busy.discard(check.name)


def gateway_checks(
    *,
    engine: Engine | None,
    fund: FundReads,
    insurers: Insurers,
    kz_fund: KzFundPort | None,
    breakers: Mapping[str, CircuitBreaker],
    region_code: str,
    message_id: Callable[[], str],
) -> list[Check]:
    """The database, the fund, every insurer, the Kazakh fund and each breaker, as the checks of /readyz."""
    checks: list[Check] = []
    if engine is not None:
        checks.append(Check("database", partial(_database, engine)))
    checks.append(Check("fund", lambda: _answered(fund.list_insurers, message_id(), region_code)))
    for code in sorted(insurers.codes()):
        checks.append(Check(f"insurer {code}", partial(_insurer, insurers, code, message_id)))
    if kz_fund is not None:
        checks.append(Check("kz fund", lambda: _answered(kz_fund.insurance_status, message_id(), PROBE_IIN)))
    for name, breaker in sorted(breakers.items()):
        # closed, open or half-open: an open breaker already makes its back-end's check fail fast.
        checks.append(Check(f"breaker {name}", partial(_breaker, breaker)))
    return checks


def _database(engine: Engine) -> str:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return OK


def _insurer(insurers: Insurers, code: str, message_id: Callable[[], str]) -> str:
    port = insurers.get(code)
    if port is None:
        return OK
    probe = message_id()
    # A read of an application that does not exist: harmless, and it crosses the whole SOAP path.
    return _answered(port.application_state, probe, probe)


def _breaker(breaker: CircuitBreaker) -> str:
    return breaker.state.value


def _answered(call: Callable[..., object], *args: str) -> str:
    """ "ok" once the back-end answered: a refusal or "not found" is an answer too; an outage goes up."""
    try:
        call(*args)
    except BackendUnavailable:
        raise
    except BackendError:
        pass
    return OK
