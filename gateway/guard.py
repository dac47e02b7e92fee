"""One wrapper for every back-end port: each operation its protocol declares runs through the same guards.

A guard takes the operation's name and the call, and runs it: the metrics count and time it, a circuit breaker
refuses it while the back-end is down. Both see the operations by the port's own names (`policy_card`), so a metric,
a breaker's refusal and the code name the same thing. The wrapper has the protocol's operations and nothing else;
`port` is the port it wraps (a test reaches its fake there).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar, cast

from gateway.ports import InsurerPort, Insurers

P = TypeVar("P")
T = TypeVar("T")

Guard = Callable[[str, Callable[[], Any]], Any]  # (operation, call) -> what the call returns


def operations_of(protocol: type) -> tuple[str, ...]:
    """The operations a port protocol declares, its bases' included, in a stable order."""
    names: dict[str, None] = {}
    for klass in reversed(protocol.__mro__):
        for name, value in vars(klass).items():
            if callable(value) and not name.startswith("_"):
                names[name] = None
    return tuple(names)


class Guarded(Generic[P]):
    """A port whose every operation of `protocol` runs through `guards`, the first outermost."""

    def __init__(self, port: P, protocol: type, guards: Sequence[Guard]):
        self.port = port
        for name in operations_of(protocol):
            setattr(self, name, _through(port, name, guards))


def guarded(port: P, protocol: type, *guards: Guard) -> P:
    """`port` with each operation of `protocol` run through `guards` (typed as the port, which it serves as)."""
    return cast(P, Guarded(port, protocol, guards))


def _through(port: Any, name: str, guards: Sequence[Guard]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        # The port's operation as it is at the call (a test may have replaced it on the fake).
        run: Callable[[], Any] = functools.partial(getattr(port, name), *args, **kwargs)
        for guard in reversed(guards):
            run = functools.partial(guard, name, run)
        return run()

    return call


class GuardedInsurers:
    """The insurer directory, handing out each insurer's port guarded."""

    def __init__(self, inner: Insurers, *guards: Guard) -> None:
        self.inner = inner
        self.guards = guards

    def get(self, code: str) -> InsurerPort | None:
        """The guarded port of the insurer with this code, or None."""
        port = self.inner.get(code)
        return None if port is None else guarded(port, InsurerPort, *self.guards)

    def codes(self) -> frozenset[str]:
        """Codes of every configured insurer."""
        return self.inner.codes()
