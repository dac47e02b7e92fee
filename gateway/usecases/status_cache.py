"""A short-lived memory of what the fund said of a policy, dropped as soon as the gateway changes that policy.

A clinic checks the same ЕНП at the desk and again at the doctor's; a portal polls a status page. Each check
would otherwise cost two calls to the fund. An answer is kept for a few seconds, and is used only while

- it is younger than the time to live, which bounds how stale a change made elsewhere (at an insurer's office,
  by another channel of the fund) can be seen here, and
- the gateway's own record of that ЕНП has not changed since it was fetched: the stamp is the latest update of the
  applications concerning the ЕНП, read from the database that every gateway and worker process shares. A
  replacement carried by a worker on another machine changes the stamp, so every process fetches afresh.

An attachment made through this process drops its entry at once; other processes see it within the time to live.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")

DEFAULT_SIZE = 10_000


@dataclass(frozen=True)
class _Entry(Generic[V]):
    value: V
    stamp: Hashable
    fetched_at: float


class StatusCache(Generic[V]):
    """Answers by ЕНП, each valid for `ttl` seconds and only while the ЕНП's stamp is the one it was fetched under."""

    def __init__(self, ttl: float, size: int = DEFAULT_SIZE, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._entries: OrderedDict[str, _Entry[V]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def get(self, enp: str, stamp: Hashable) -> V | None:
        """The answer kept for `enp`, if it is fresh and was fetched under the same `stamp`."""
        with self._lock:
            entry = self._entries.get(enp)
            if entry is None or entry.stamp != stamp or self.clock() - entry.fetched_at >= self.ttl:
                if entry is not None:
                    del self._entries[enp]
                self.misses += 1
                return None
            self._entries.move_to_end(enp)
            self.hits += 1
            return entry.value

    def put(self, enp: str, stamp: Hashable, value: V, fetched_at: float) -> None:
        """Keep `value`, fetched at `fetched_at` (the clock read before asking the fund) under `stamp`."""
        if not self.enabled:
            return
        with self._lock:
            self._entries[enp] = _Entry(value, stamp, fetched_at)
            self._entries.move_to_end(enp)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def forget(self, enp: str) -> None:
        """Drop what is kept for `enp` (this process changed it)."""
        with self._lock:
            self._entries.pop(enp, None)

    def now(self) -> float:
        return self.clock()
