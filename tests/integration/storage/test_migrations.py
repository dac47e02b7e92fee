"""Migrations: an empty database upgrades to head and downgrades to nothing; head matches the tables in code."""

from __future__ import annotations

import json
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text, update

from gateway.domain.model import Reason, Source
from gateway.ports import IdempotencyKey, Reservation, ReservationState
from gateway.storage import SqlApplicationStore, current, downgrade, head, make_engine, upgrade
from gateway.storage.tables import applications, metadata, outbox
from tests.support.storage import accepted, at, replacement_request

TABLES = {"alembic_version", "applications", "application_history", "outbox", "idempotency_keys", "message_journal"}


def test_an_empty_database_upgrades_to_head(empty_database: str) -> None:
    assert current(empty_database) is None

    upgrade(empty_database)

    assert current(empty_database) == head() == "0009"
    assert _tables(empty_database) == TABLES


def test_upgrading_a_database_at_head_changes_nothing(empty_database: str) -> None:
    upgrade(empty_database)

    upgrade(empty_database)

    assert current(empty_database) == head()


def test_a_downgrade_to_base_removes_every_table(empty_database: str) -> None:
    upgrade(empty_database)

    downgrade(empty_database, "base")

    assert current(empty_database) is None
    assert _tables(empty_database) == {"alembic_version"}


def test_the_migrated_schema_matches_the_tables_in_code(empty_database: str) -> None:
    upgrade(empty_database)
    engine = make_engine(empty_database)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        engine.dispose()

    assert differences == []


def test_the_applications_parked_before_0005_are_stalled_after_it(empty_database: str) -> None:
    upgrade(empty_database)
    engine = make_engine(empty_database)
    try:
        store = SqlApplicationStore(engine)
        for name, enp in (("app_parked", "7754900882000015"), ("app_due", "7748410819000012")):
            store.add(accepted(name, request=replacement_request(enp)))
        with engine.begin() as connection:
            connection.execute(update(outbox).where(outbox.c.application_id == "app_parked").values(stalled_at=at(60)))
        engine.dispose()
        downgrade(empty_database, "0004")  # as a database of 0004 with an entry parked
        upgrade(empty_database)
        with engine.connect() as connection:
            rows = connection.execute(select(applications.c.id, applications.c.stalled)).all()
            stalled = {row.id: row.stalled for row in rows}
    finally:
        engine.dispose()

    assert stalled == {"app_parked": True, "app_due": False}


# A refusal as the gateway kept it before 0007: its status and its problem+json, errors among the rest.
OLD_REFUSAL = {
    "type": "https://epolicy.example/problems/validation",
    "title": "Конфликт с текущим состоянием",
    "status": 409,
    "detail": "Запрос не прошёл проверку: исправьте данные в отмеченных полях.",
    "instance": "/api/v1/policies/7754900882000015/replacements",
    "errors": [
        {
            "code": "DUPLICATE_APPLICATION",
            "field": None,
            "source": "gateway",
            "message": "Заявление уже подано.",
            "recommendation": "Дождитесь его.",
            "details": {"region": "77", "enp": "7754900882000015"},
        },
        {
            "code": "SNILS_CHECKSUM",
            "field": "person.snils",
            "source": "gateway",
            "message": "СНИЛС не сходится.",
            "recommendation": "Сверьте.",
            "details": {},
        },
    ],
}
OLD_REFUSAL_REASONS = (
    Reason(
        "DUPLICATE_APPLICATION",
        Source.GATEWAY,
        "Заявление уже подано.",
        "Дождитесь его.",
        None,
        (("enp", "7754900882000015"), ("region", "77")),
    ),
    Reason("SNILS_CHECKSUM", Source.GATEWAY, "СНИЛС не сходится.", "Сверьте.", "person.snils"),
)


def key(name: str) -> IdempotencyKey:
    return IdempotencyKey("user-1", name, f"fingerprint-{name}")


def _keep_old_form(url: str, rows: list[dict[str, Any]]) -> None:
    """Write idempotency keys as a gateway of 0006 kept them."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as connection:
            for row in rows:
                connection.execute(
                    text(
                        "INSERT INTO idempotency_keys (owner_sub, key, fingerprint, state, status_code, body, "
                        "application_id, created_at) VALUES ('user-1', :key, :fingerprint, :state, :status_code, "
                        ":body, :application_id, :created_at)"
                    ),
                    {
                        "fingerprint": f"fingerprint-{row['key']}",
                        "state": "done",
                        "status_code": None,
                        "body": None,
                        "application_id": None,
                        "created_at": at(0).replace(tzinfo=None),
                        **row,
                    },
                )
    finally:
        engine.dispose()


def _reserve_all(url: str, names: list[str]) -> dict[str, Reservation]:
    engine = make_engine(url, pool_size=1)
    try:
        store = SqlApplicationStore(engine)
        return {name: store.reserve(key(name), at(1)) for name in names}
    finally:
        engine.dispose()


def test_the_refusals_kept_before_0007_are_replayed_with_their_reasons_after_it(empty_database: str) -> None:
    upgrade(empty_database, "0006")
    _keep_old_form(
        empty_database,
        [
            {"key": "refused", "status_code": 409, "body": json.dumps(OLD_REFUSAL, ensure_ascii=False)},
            {"key": "accepted", "status_code": 202, "application_id": "app_1"},
            {"key": "running", "state": "in_progress"},
            # Nothing a gateway wrote, but an answer that cannot be read again must not stop the migration.
            {"key": "garbled", "status_code": 422, "body": "<html>not a problem</html>"},
            {"key": "no-errors", "status_code": 422, "body": '{"status": 422}'},
        ],
    )

    upgrade(empty_database)

    assert _reserve_all(empty_database, ["refused", "accepted", "running", "garbled", "no-errors"]) == {
        "refused": Reservation(ReservationState.REPLAY, reasons=OLD_REFUSAL_REASONS),
        "accepted": Reservation(ReservationState.REPLAY, application_id="app_1"),
        "running": Reservation(ReservationState.IN_PROGRESS),
        # Forgotten: a retry is checked again, and refused again or accepted, once.
        "garbled": Reservation(ReservationState.NEW),
        "no-errors": Reservation(ReservationState.NEW),
    }


def test_a_downgrade_from_0007_keeps_the_accepted_keys_and_forgets_the_refusals(empty_database: str) -> None:
    upgrade(empty_database)
    engine = make_engine(empty_database, pool_size=1)
    try:
        store = SqlApplicationStore(engine)
        store.add(accepted("app_1"), key("accepted"))
        store.reserve(key("refused"), at(0))
        store.finish(key("refused"), OLD_REFUSAL_REASONS)
        store.reserve(key("running"), at(0))
    finally:
        engine.dispose()

    downgrade(empty_database, "0006")

    engine = make_engine(empty_database, pool_size=1)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT key, state, status_code, body, application_id FROM idempotency_keys ORDER BY key")
            ).all()
    finally:
        engine.dispose()
    # A refusal's answer named the path it was sent to, which is not kept: a retry is checked again instead.
    assert [tuple(row) for row in rows] == [
        ("accepted", "done", 202, None, "app_1"),
        ("running", "in_progress", None, None, None),
    ]


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
