"""The whole stack started as `make run` starts it (`epolicy stack`), on free loopback ports, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.stack import Stack, running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole stack, shared by the e2e tests."""
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running
