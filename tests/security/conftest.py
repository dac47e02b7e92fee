"""Fixtures of the security tests: the API gateway with fakes, and the whole stack in a subprocess."""

from __future__ import annotations

from tests.api.conftest import gateway
from tests.e2e.conftest import running_stack

__all__ = ["gateway", "running_stack"]
