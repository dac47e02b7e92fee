"""`python -m bench` knows its five benchmarks, each importable with a `main`, and refuses an unknown name."""

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
