"""Fault injection for QA: make a back-end operation fail in a chosen way, for N calls or until reset."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from typing import Any

FAULT_KINDS = (
    "http_500",
    "technical_fault",
    "malformed_xml",
    "timeout",
    "drop",
    "slow",
    # The operation is carried out and its answer spoiled for the signing profile (contracts/signing/README.md):
    "bad_signature",  # the body changed after signing: a digest fails
    "unsigned",  # no wsse:Security header
    "untrusted_signer",  # signed by a key no one trusts
    "stale_timestamp",  # signed with a wsu:Created an hour ago
)
DEFAULT_TIMEOUT_MS = 30_000
MAX_DELAY_MS = 600_000


class FaultRequestError(ValueError):
    """A fault-injection request that cannot be taken; the message says why."""


@dataclass
class FaultRule:
    """One injected fault. `remaining` None means until reset."""

    id: int
    target: str
    operation: str
    fault: str
    remaining: int | None
    delay_ms: int

    def to_json(self) -> dict[str, Any]:
        """The rule as `GET /mock/faults` shows it."""
        data = asdict(self)
        data["count"] = data.pop("remaining")
        return data


class FaultInjector:
    """The active fault rules, consulted on every SOAP call (thread-safe)."""

    def __init__(self, operations: Mapping[str, Collection[str]]):
        # target ("fund", "insurers/77001") -> the operations its WSDL has
        self._operations = operations
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, body: Any) -> FaultRule:
        """Add a rule from a JSON body as API.md describes it; raises FaultRequestError with the reason."""
        if not isinstance(body, dict):
            raise FaultRequestError("Тело запроса должно быть объектом JSON.")
        unknown = set(body) - {"target", "operation", "fault", "count", "delay_ms"}
        if unknown:
            raise FaultRequestError(f"Неизвестные поля: {', '.join(sorted(unknown))}.")
        target = body.get("target")
        if not isinstance(target, str) or target not in self._operations:
            raise FaultRequestError(f"target должен быть одним из: {', '.join(sorted(self._operations))}.")
        operation = body.get("operation", "*")
        if not isinstance(operation, str) or (operation != "*" and operation not in self._operations[target]):
            known = ", ".join(sorted(self._operations[target]))
            raise FaultRequestError(f"operation должен быть «*» или операцией WSDL цели {target}: {known}.")
        fault = body.get("fault")
        if fault not in FAULT_KINDS:
            raise FaultRequestError(f"fault должен быть одним из: {', '.join(FAULT_KINDS)}.")
        count = body.get("count")
        if count is not None and (not _is_int(count) or count < 1):
            raise FaultRequestError("count должен быть положительным целым числом или null (до сброса).")
        delay_ms = body.get("delay_ms")
        if delay_ms is None:
            delay_ms = DEFAULT_TIMEOUT_MS if fault == "timeout" else 0
        if not _is_int(delay_ms) or not 0 <= delay_ms <= MAX_DELAY_MS:
            raise FaultRequestError(f"delay_ms должен быть целым числом от 0 до {MAX_DELAY_MS}.")
        with self._lock:
            rule = FaultRule(next(self._ids), target, operation, fault, count, delay_ms)
            self._rules.append(rule)
            return rule

    def take(self, target: str, operation: str | None) -> FaultRule | None:
        """The rule that applies to this call, if any, counting the call against it."""
        with self._lock:
            for rule in self._rules:
                if rule.target != target or rule.operation not in ("*", operation):
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining == 0:
                        self._rules.remove(rule)
                return rule
        return None

    def active(self) -> list[FaultRule]:
        """The rules in force, oldest first."""
        with self._lock:
            return list(self._rules)

    def remove(self, rule_id: int) -> bool:
        """Remove one rule; False when there is none with that id."""
        with self._lock:
            for rule in self._rules:
                if rule.id == rule_id:
                    self._rules.remove(rule)
                    return True
        return False

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
