"""Figures the resilience tests report, shown at the end of every run (see tests/resilience/conftest.py)."""

from __future__ import annotations

# Lines the tests add; printed in the terminal summary so that `make test` shows them.
REPORT: list[str] = []
