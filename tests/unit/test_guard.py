"""One wrapper for every port: the protocol's operations through the guards, in order, by the port's own names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gateway.guard import Guarded, GuardedInsurers, guarded, operations_of
from gateway.ports import FundPort, FundReads, FundRegistry, InsurerPort
from tests.support.fakes import FakeFund, FakeInsurer, FakeInsurers


def test_the_operations_of_a_port_include_those_of_its_bases() -> None:
    assert set(operations_of(FundRegistry)) == {
        "find_person",
        "find_person_by_snils",
        "verify_person",
        "register_policy",
    }
    assert set(operations_of(FundPort)) == set(operations_of(FundRegistry)) | set(operations_of(FundReads))
    assert "policy_card" in operations_of(FundPort)


def test_every_call_runs_through_the_guards_first_outermost_named_as_the_port_names_it() -> None:
    seen: list[str] = []

    def guard(label: str) -> Callable[[str, Callable[[], Any]], Any]:
        def run(operation: str, call: Callable[[], Any]) -> Any:
            seen.append(f"{label}>{operation}")
            result = call()
            seen.append(f"{label}<{operation}")
            return result

        return run

    fund = FakeFund()
    reads = guarded(fund, FundReads, guard("breaker"), guard("metrics"))

    assert [insurer.code for insurer in reads.list_insurers("rd_1", "77")] == ["77001", "77002"]
    assert seen == ["breaker>list_insurers", "metrics>list_insurers", "metrics<list_insurers", "breaker<list_insurers"]
    assert fund.calls == ["list_insurers"]


def test_a_guarded_port_has_its_protocols_operations_and_the_port_nothing_else() -> None:
    fund = FakeFund()
    registry = guarded(fund, FundRegistry)
    assert isinstance(registry, Guarded)
    assert registry.port is fund
    assert not hasattr(registry, "insurance_status"), "not an operation of the workers' port"
    assert not hasattr(registry, "fail"), "a fake's helpers are reached through .port"


def test_a_guard_may_refuse_a_call_before_it_reaches_the_port() -> None:
    fund = FakeFund()

    def closed(operation: str, call: Callable[[], Any]) -> Any:
        raise RuntimeError(f"{operation}: circuit open")

    with pytest.raises(RuntimeError, match="list_insurers: circuit open"):
        guarded(fund, FundReads, closed).list_insurers("rd_1", "77")
    assert fund.calls == []


def test_the_insurer_directory_hands_out_guarded_ports() -> None:
    seen: list[str] = []
    insurer = FakeInsurer("77001")
    directory = GuardedInsurers(
        FakeInsurers({"77001": insurer}), lambda operation, call: (seen.append(operation), call())[1]
    )
    port = directory.get("77001")
    assert port is not None and isinstance(port, Guarded) and port.port is insurer
    assert directory.get("99999") is None
    assert directory.codes() == frozenset({"77001"})
    assert set(operations_of(InsurerPort)) == {"issue_policy", "replace_policy", "application_state"}
