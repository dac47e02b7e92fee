"""Alembic environment: runs the migrations on the connection `gateway.storage.migrate` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from gateway.storage.database import make_engine
from gateway.storage.tables import metadata


def _run(connection: Connection) -> None:
    # compare_type: `alembic revision --autogenerate` also notices changed column types.
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    """Migrate online on the given connection (or on `sqlalchemy.url`), or write SQL offline."""
    config = context.config
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no database: pass a connection in config.attributes or set sqlalchemy.url")
    engine = make_engine(url)
    try:
        with engine.connect() as own_connection:
            _run(own_connection)
            own_connection.commit()
    finally:
        engine.dispose()


main()
