"""Figures of the resilience tests, shown at the end of every run (without `-s`)."""

from __future__ import annotations

import pytest

from tests.support.report import REPORT


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("resilience figures")
        for line in REPORT:
            terminalreporter.write_line(line)
