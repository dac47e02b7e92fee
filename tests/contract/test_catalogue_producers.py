"""Every code of the catalogue is said by something in this project, or is marked reserved for a real registry."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from gateway.catalogue import Catalogue

ROOT = Path(__file__).resolve().parents[2]
# Where a code can be said: the gateway's rules and views, the adapters, the mocks (fund, insurers, Kazakh fund).
PRODUCERS = ("gateway", "adapters", "mocks")
CATALOGUE = Catalogue.load()


def _python_files() -> Iterator[Path]:
    for folder in PRODUCERS:
        yield from sorted((ROOT / folder).rglob("*.py"))


@cache
def string_constants() -> frozenset[str]:
    """Every string literal of the producing packages' code (docstrings and comments say nothing)."""
    found: set[str] = set()
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        documented = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        found.update(
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in documented
        )
    return frozenset(found)


@pytest.mark.parametrize("code", CATALOGUE.produced_codes())
def test_every_code_not_reserved_has_a_producer(code: str) -> None:
    assert code in string_constants(), f"nothing in {', '.join(PRODUCERS)} says {code}: produce it or mark it reserved"


def test_reserved_codes_are_the_ones_only_a_real_registry_says() -> None:
    reserved = {entry.code for entry in CATALOGUE.entries() if entry.reserved is not None}
    assert reserved == {"ENP_FACET_MISMATCH", "ADDRESS_INCOMPLETE", "NAME_NOT_IN_DICTIONARY"}
    assert all("gateway" not in CATALOGUE.entry(code).sources for code in reserved)


def test_the_scan_sees_codes_said_in_code_and_not_in_docstrings() -> None:
    # SNILS_CHECKSUM is raised by the gateway and the mock fund; nothing says NAME_NOT_IN_DICTIONARY.
    assert "SNILS_CHECKSUM" in string_constants()
    assert "NAME_NOT_IN_DICTIONARY" not in string_constants()
