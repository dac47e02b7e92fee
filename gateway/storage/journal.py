"""The message journal in the database: every SOAP message sent and received, and who signed it.

The adapters note each message as it goes or comes (adapters/signing.py). Notes are written by a thread of the
journal's own, in batches, so that a back-end call waits for no insert and the embedded database sees one short
transaction for many messages rather than one for each. `close` writes what is left; `flush` waits for it.
Entries older than the retention are purged by the same thread, at most once an hour.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, fields
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from gateway.ports import JournalEntry
from gateway.storage.tables import message_journal

log = logging.getLogger("epolicy.journal")

BATCH = 500  # notes at most in one insert
INTERVAL = 0.2  # seconds a note waits at most before it is written
PURGE_EVERY = timedelta(hours=1)


class SqlJournal:
    """MessageJournal on the gateway's database, written behind the callers' backs in batches."""

    def __init__(self, engine: Engine, retention: timedelta, clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._engine = engine
        self._retention = retention
        self._clock = clock
        self._pending: list[JournalEntry] = []
        self._lock = threading.Condition()
        self._writing = 0  # notes taken from pending and not yet written
        self._thread: threading.Thread | None = None
        self._closed = False
        self._next_purge = clock()

    def record(self, entry: JournalEntry) -> None:
        """Note a message; it is written within INTERVAL seconds."""
        with self._lock:
            self._pending.append(entry)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="journal", daemon=True)
                self._thread.start()
            self._lock.notify_all()

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every note taken so far is written (or `timeout` seconds have passed)."""
        with self._lock:
            self._lock.notify_all()
            self._lock.wait_for(lambda: not self._pending and not self._writing, timeout)

    def close(self) -> None:
        """Write what is left and stop the thread."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=10)
        self._write(self._take())

    def entries(self, message_id: str) -> list[JournalEntry]:
        """Every message of one piece of work (an application's id, or a read's), in the order they were noted."""
        self.flush()
        columns = [getattr(message_journal.c, item.name) for item in fields(JournalEntry)]
        query = select(*columns).where(message_journal.c.message_id == message_id).order_by(message_journal.c.id)
        with self._engine.connect() as connection:
            return [JournalEntry(**row._mapping) for row in connection.execute(query)]

    def _run(self) -> None:
        while True:
            with self._lock:
                self._lock.wait_for(lambda: self._pending or self._closed, INTERVAL * 5)
                if self._closed and not self._pending:
                    return
            # A little time for more notes to come: one transaction for a burst.
            threading.Event().wait(INTERVAL)
            self._write(self._take())
            self._purge_if_due()

    def _take(self) -> list[JournalEntry]:
        with self._lock:
            taken, self._pending = self._pending, []
            self._writing += len(taken)
            return taken

    def _write(self, entries: list[JournalEntry]) -> None:
        try:
            for start in range(0, len(entries), BATCH):
                rows = [asdict(entry) for entry in entries[start : start + BATCH]]
                with self._engine.begin() as connection:
                    connection.execute(insert(message_journal), rows)
        except SQLAlchemyError as error:
            # The journal is a record beside the work, not the work: a database that is down loses notes, not calls.
            log.error("message journal: %d notes not written: %s", len(entries), type(error).__name__)
        finally:
            with self._lock:
                self._writing -= len(entries)
                self._lock.notify_all()

    def _purge_if_due(self) -> None:
        now = self._clock()
        if now < self._next_purge:
            return
        self._next_purge = now + PURGE_EVERY
        try:
            with self._engine.begin() as connection:
                connection.execute(delete(message_journal).where(message_journal.c.at < now - self._retention))
        except SQLAlchemyError as error:
            log.error("message journal: old notes not purged: %s", type(error).__name__)
