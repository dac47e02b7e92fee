"""Schema migrations with Alembic, driven from code: no alembic.ini is needed at run time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from gateway.storage.database import make_engine, writing

MIGRATIONS = Path(__file__).with_name("migrations")

# Any constant: PostgreSQL processes that start at once take turns migrating instead of racing on CREATE TABLE.
_POSTGRESQL_LOCK = 0x6570_6F6C  # "epol"


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision`."""
    with _migrating(url) as config:
        command.upgrade(config, revision)


def downgrade(url: str, revision: str) -> None:
    """Take the database at `url` back to `revision` ("base" drops every table)."""
    with _migrating(url) as config:
        command.downgrade(config, revision)


def current(url: str) -> str | None:
    """The revision the database at `url` is at, or None when it was never migrated."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head() -> str | None:
    """The newest revision this code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def alembic_config() -> Config:
    """Alembic's configuration, pointing at the migrations of this package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@contextmanager
def _migrating(url: str) -> Iterator[Config]:
    """A configuration holding one connection, in one transaction that takes the database's write lock."""
    engine = make_engine(url, pool_size=1)
    try:
        with writing(engine) as connection:
            _lock_out_other_migrations(connection)
            config = alembic_config()
            config.attributes["connection"] = connection
            yield config
    finally:
        engine.dispose()


def _lock_out_other_migrations(connection: Connection) -> None:
    # SQLite needs nothing more: `writing` began with BEGIN IMMEDIATE.
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRESQL_LOCK})
