"""The message journal on each database: every note kept, in order, by the work it belongs to; old ones purged."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select

from gateway.ports import JournalEntry
from gateway.storage.journal import SqlJournal
from gateway.storage.tables import message_journal

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def note(message_id: str, direction: str = "sent", at: datetime = NOW, **fields: str) -> JournalEntry:
    return JournalEntry(
        at=at,
        direction=direction,
        address="http://fund.test/ws",
        operation="VerifyPerson",
        message_id=message_id,
        outcome=fields.pop("outcome", "signed"),
        wsa_message_id="urn:uuid:1",
        signature="c2lnbmF0dXJl",
        signer="O=Фонд,CN=fund",
        fingerprint="ab" * 32,
        **fields,
    )


def test_every_note_of_a_piece_of_work_is_kept_in_the_order_it_was_noted(engine: Engine) -> None:
    journal = SqlJournal(engine, timedelta(days=90), clock=lambda: NOW)
    sent = note("app_1")
    answer = note("app_1", "received", outcome="verified", relates_to="urn:uuid:1")
    refused = note("app_1", "received", outcome="refused", reason="SIGNATURE_INVALID: digest mismatch")
    for entry in (sent, answer, note("app_2"), refused):
        journal.record(entry)

    assert journal.entries("app_1") == [sent, answer, refused]
    assert journal.entries("app_2") == [note("app_2")]
    journal.close()


def test_notes_from_many_threads_are_all_written(engine: Engine) -> None:
    journal = SqlJournal(engine, timedelta(days=90), clock=lambda: NOW)

    def record(thread: int) -> None:
        for index in range(50):
            journal.record(note(f"app_{thread}_{index}"))

    threads = [threading.Thread(target=record, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    journal.close()

    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(message_journal)).scalar_one() == 400


def test_close_writes_what_is_left_without_waiting_for_the_thread(engine: Engine) -> None:
    journal = SqlJournal(engine, timedelta(days=90), clock=lambda: NOW)
    journal.record(note("app_1"))
    journal.close()
    assert SqlJournal(engine, timedelta(days=90)).entries("app_1") == [note("app_1")]


def test_notes_older_than_the_retention_are_purged(engine: Engine) -> None:
    journal = SqlJournal(engine, timedelta(days=90), clock=lambda: NOW)
    old, recent = note("app_old", at=NOW - timedelta(days=91)), note("app_new", at=NOW - timedelta(days=89))
    journal.record(old)
    journal.record(recent)
    journal.flush()
    journal.record(note("app_trigger"))  # the writer purges after a write, at most once an hour
    journal.flush()
    journal.close()

    assert journal.entries("app_old") == []
    assert journal.entries("app_new") == [recent]
