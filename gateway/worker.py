"""Workers that drain the outbox: in-process threads under `make run`, or `epolicy worker` processes."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gateway.catalogue import Catalogue
from gateway.correlation import correlation_id, set_correlation_id
from gateway.domain.reference import Reference
from gateway.ports import ApplicationStore, ConcurrentUpdate, FundRegistry, Insurers
from gateway.usecases.processing import Processor, RetryPolicy, frames_of, utc_now

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerContext:
    """What a worker needs, and nothing of the API's: the store with its outbox, the fund's registry and the
    insurers, and the few values it carries applications by. `epolicy worker` builds no Flask app to get them."""

    store: ApplicationStore
    fund: FundRegistry  # the workers' registry calls: no breaker, since they retry with backoff anyway
    insurers: Insurers
    catalogue: Catalogue
    reference: Reference | None = None
    clock: Callable[[], datetime] = utc_now
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    idempotency_key_ttl: timedelta = timedelta(hours=24)
    # Told "refused" or "stalled" for each application a step failed for good (the metrics count them).
    unprocessable: Callable[[str], None] = lambda outcome: None

    def processor(self) -> Processor:
        """The processor that carries one application at a time with these ports."""
        return Processor(
            self.store,
            self.fund,
            self.insurers,
            self.catalogue,
            self.clock,
            self.retry,
            self.reference,
            unprocessable=self.unprocessable,
        )


@dataclass
class Worker:
    """Claims due applications and runs their next step, until stopped."""

    context: WorkerContext
    name: str
    poll_seconds: float = 0.5
    lease_seconds: float = 60.0
    batch: int = 10
    stop: threading.Event = field(default_factory=threading.Event)
    # Seconds between purges of expired Idempotency-Keys (None: this worker leaves them to another).
    purge_every: float | None = None
    _next_purge: datetime | None = field(default=None, init=False)

    def run_once(self) -> int:
        """Claim and process one batch; returns how many applications were worked on."""
        now = self.context.clock()
        claims = self.context.store.claim(self.name, now, self.lease_seconds, self.batch)
        processor = self.context.processor()
        for claim in claims:
            if self.stop.is_set():
                break
            # The application id is the correlation id of everything done for it, in every system.
            token = set_correlation_id(claim.application_id)
            try:
                processor.run(claim.application_id, claim.attempts)
            except ConcurrentUpdate:
                # Cancelled or moved on by someone else meanwhile: the stored state wins, the outbox tells.
                log.info("worker %s: %s changed meanwhile, step left", self.name, claim.application_id)
            except Exception as error:
                # Outside a step (a step's own failures end the application: gateway.usecases.processing), such
                # as a database that failed: the lease runs out and the step is tried again, so nothing is lost.
                # If it fails for good, /metrics and `epolicy idle` show the application as without progress.
                log.error("worker %s: %s carrying %s\n%s", self.name, type(error).__name__, claim.application_id,
                          frames_of(error))  # fmt: skip
            finally:
                correlation_id.reset(token)
        return len(claims)

    def purge_if_due(self) -> int:
        """Forget the Idempotency-Keys older than their time to live, at most once every `purge_every` seconds."""
        if self.purge_every is None:
            return 0
        now = self.context.clock()
        if self._next_purge is not None and now < self._next_purge:
            return 0
        self._next_purge = now + timedelta(seconds=self.purge_every)
        try:
            purged = self.context.store.purge_idempotency_keys(now - self.context.idempotency_key_ttl)
        except Exception:
            log.exception("worker %s: purging idempotency keys failed", self.name)
            return 0
        if purged:
            log.info("worker %s: %d idempotency keys older than %s forgotten", self.name, purged,
                     self.context.idempotency_key_ttl)  # fmt: skip
        return purged

    def run_forever(self) -> None:
        """Loop until `stop` is set; poll only when there was nothing to do."""
        log.info("worker %s started", self.name)
        while not self.stop.is_set():
            self.purge_if_due()
            try:
                busy = self.run_once()
            except Exception:
                log.exception("worker %s: claiming failed", self.name)
                busy = 0
            if not busy:
                self.stop.wait(self.poll_seconds)
        log.info("worker %s stopped", self.name)


PURGE_EVERY_SECONDS = 600.0


@dataclass
class WorkerPool:
    """Worker threads sharing one stop signal."""

    workers: list[Worker]
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for worker in self.workers:
            thread = threading.Thread(target=worker.run_forever, name=worker.name, daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        for worker in self.workers:
            worker.stop.set()
        for thread in self.threads:
            thread.join(timeout)


def worker_pool(context: WorkerContext, count: int, poll: float, lease: float, batch: int) -> WorkerPool:
    """`count` workers named after this host and process, so an operator can tell who holds a claim."""
    base = f"{socket.gethostname()}:{os.getpid()}"
    stop = threading.Event()
    workers = [Worker(context, f"{base}:{index}", poll, lease, batch, stop) for index in range(count)]
    if workers:
        workers[0].purge_every = PURGE_EVERY_SECONDS  # one purger a process is plenty; more would do no harm
    return WorkerPool(workers)
