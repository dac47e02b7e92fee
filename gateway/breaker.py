"""A circuit breaker per back-end for the reads a user waits on: fail fast while a back-end is down.

Only a technical failure (BackendUnavailable) counts; a refusal or a "not found" is the back-end answering. The
outbox workers never go through a breaker: they retry with backoff anyway.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar

from gateway.domain.model import Source
from gateway.ports import (
    BackendUnavailable,
)

T = TypeVar("T")


class BreakerState(StrEnum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls fail at once until the cool-down ends
    HALF_OPEN = "half-open"  # one trial call is under way; its outcome closes or reopens the breaker


class CircuitBreaker:
    """Opens after `failures` technical failures in a row, lets one trial call through after `cooldown` seconds."""

    def __init__(
        self,
        name: str,
        failures: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.name = name
        self.failures = max(1, failures)
        self.cooldown = cooldown
        self.clock = clock
        self._lock = threading.Lock()
        self._consecutive = 0
        self._opened_at: float | None = None
        self._trial = False

    @property
    def state(self) -> BreakerState:
        """The state now (an open breaker whose cool-down is over reads as half-open)."""
        with self._lock:
            if self._opened_at is None:
                return BreakerState.CLOSED
            if self._trial or self.clock() - self._opened_at >= self.cooldown:
                return BreakerState.HALF_OPEN
            return BreakerState.OPEN

    def retry_after(self) -> float:
        """Seconds until a trial call is let through (0 when closed)."""
        with self._lock:
            if self._opened_at is None:
                return 0.0
            return max(0.0, self.cooldown - (self.clock() - self._opened_at))

    def guard(self, source: Source) -> Callable[[str, Callable[[], T]], T]:
        """A guard of gateway.guard running the operations of `source` behind this breaker."""
        return functools.partial(self.call, source)

    def call(self, source: Source, operation: str, action: Callable[[], T]) -> T:
        """Run `action` unless the breaker is open; an open breaker raises BackendUnavailable at once."""
        self._admit(source, operation)
        try:
            result = action()
        except BackendUnavailable:
            self._failed()
            raise
        except BaseException:
            # A refusal, a "not found" or a bug: the back-end answered, so it is up.
            self._succeeded()
            raise
        self._succeeded()
        return result

    def _admit(self, source: Source, operation: str) -> None:
        with self._lock:
            if self._opened_at is None:
                return
            waited = self.clock() - self._opened_at
            if waited >= self.cooldown and not self._trial:
                self._trial = True  # this caller is the one trial; the others keep failing fast
                return
            # A trial already under way: ask the caller back in a second.
            remaining = max(1.0, self.cooldown - waited)
        raise BackendUnavailable(source, operation, f"circuit open ({self.name})", retry_after=remaining)

    def _failed(self) -> None:
        with self._lock:
            self._consecutive += 1
            if self._trial or self._consecutive >= self.failures:
                self._opened_at = self.clock()
            self._trial = False

    def _succeeded(self) -> None:
        with self._lock:
            self._consecutive = 0
            self._opened_at = None
            self._trial = False
