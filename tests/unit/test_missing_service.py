"""A missing service skips a test on a developer's machine and fails it in CI, where every service is there."""

from __future__ import annotations

import pytest

from tests.support.services import missing_service


def test_in_ci_a_missing_service_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="must run in CI: PostgreSQL"):
        missing_service("PostgreSQL is unreachable")


def test_elsewhere_a_missing_service_skips_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Redis is unreachable"):
        missing_service("Redis is unreachable")
