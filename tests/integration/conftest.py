"""Fixtures of the adapter tests: a fund adapter on the shared mocks, and mocks of a module's own for faults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters import FundAdapter
from tests.support.services import RunningMocks, clear_faults, own_mocks
from tests.support.signing import signing_for


@pytest.fixture(scope="module")
def fund(mocks_server: RunningMocks) -> Iterator[FundAdapter]:
    """The fund adapter on the session's mocks."""
    adapter = FundAdapter(mocks_server.fund_url, timeout=5, signing=signing_for(mocks_server.fund_url))
    yield adapter
    adapter.close()


@pytest.fixture(scope="module")
def faulty_mocks() -> Iterator[RunningMocks]:
    """Mocks of the module's own, so injected faults never reach other modules."""
    with own_mocks() as mocks:
        yield mocks


@pytest.fixture
def faulty(faulty_mocks: RunningMocks) -> Iterator[RunningMocks]:
    """The module's own mocks, cleared of injected faults after the test."""
    yield faulty_mocks
    clear_faults(faulty_mocks)
