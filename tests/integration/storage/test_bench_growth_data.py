"""The growth benchmark's generated database is the one the migrations make: a new column cannot leave it behind.

`bench/growth.py` writes its rows with COPY, column by column; a migration that adds a column must be followed there,
or the benchmark stops at its first row. Here a small database is filled the same way and read through the store.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bench import growth
from gateway.domain.applications import ApplicationStatus
from gateway.storage import SqlApplicationStore, make_engine, upgrade
from gateway.storage.tables import application_history, applications, outbox
from tests.support.databases import fresh_schema

# PostgreSQL on loopback, as the benchmark uses it (COPY is PostgreSQL's).
pytestmark = pytest.mark.network

SIZE = 2_000  # room for the probe owners' 600 applications and the newest 1 % in progress


def test_the_generated_rows_load_and_read_back_through_the_store(postgresql_server: str) -> None:
    now = datetime.now(UTC)
    with fresh_schema(postgresql_server) as url:
        upgrade(url)
        engine = make_engine(url, pool_size=2)
        try:
            growth.fill(engine, SIZE, now)
            store = SqlApplicationStore(engine)
            with engine.connect() as connection:
                count = connection.execute(select(func.count()).select_from(applications)).scalar_one()
                parked = connection.execute(
                    select(func.count()).select_from(applications).where(applications.c.stalled)
                ).scalar_one()
                waiting = connection.execute(select(func.count()).select_from(outbox)).scalar_one()
                history = connection.execute(select(func.count()).select_from(application_history)).scalar_one()
            assert count == SIZE
            assert waiting >= SIZE // 100 and history > SIZE
            stalled = store.stalled()
            assert len(stalled) == parked >= 1, "a parked outbox row and its application's column agree"
            application = store.get(stalled[0].application_id)
            assert application is not None and application.stalled
            page = store.list_for_owner(growth.probe_owner(0), 10, None)
            assert page.items and {item.status for item in page.items} <= set(ApplicationStatus)
            assert store.outbox_stats(now).stalled == parked
        finally:
            engine.dispose()
