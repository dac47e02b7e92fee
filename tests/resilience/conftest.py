"""Figures of the resilience tests, shown at the end of every run (without `-s`)."""

from __future__ import annotations

import pytest

# Lines the tests add; printed in the terminal summary so that `make test` shows them.
REPORT: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("resilience figures")
        for line in REPORT:
            terminalreporter.write_line(line)
