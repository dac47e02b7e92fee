"""`python -m bench` knows its benchmarks, each importable with a `main`, and refuses an unknown name."""

from __future__ import annotations

import importlib

import pytest

from bench.__main__ import BENCHMARKS, main


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_every_benchmark_imports_and_has_a_main(name: str) -> None:
    module = importlib.import_module(BENCHMARKS[name][0])
    assert callable(module.main)
    assert module.__doc__, "each benchmark says what it measures"


def test_an_unknown_benchmark_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["cpu", "speed"])
    assert stopped.value.code == 2
    assert "unknown benchmark speed" in capsys.readouterr().err


def test_bench_3s_applicants_pass_the_gateways_submission_rules() -> None:
    # The pipeline benchmark feeds the submission use case itself: a rule it breaks would only show in `make bench`.
    from bench.pipeline import submit
    from gateway.bootstrap import build_services
    from gateway.config import Settings
    from tests.support.fakes import FakeFund, FakeInsurers, FakeKzFund, FakeStore

    store = FakeStore()
    services = build_services(Settings(), store=store, fund=FakeFund(), insurers=FakeInsurers({}), kz_fund=FakeKzFund())
    submit(services, 3, 0)
    assert sum(len(store.list_for_owner(f"bench-{index}", 10, None).items) for index in range(3)) == 3
