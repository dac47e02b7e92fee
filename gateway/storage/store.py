"""`ApplicationStore` over SQLAlchemy Core: applications with their history, the outbox and idempotency keys."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, bindparam, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from gateway.domain.applications import Application, Owner, Progress, Step
from gateway.domain.model import ApplicationKind, ApplicationStatus, HistoryEntry, IssuedPolicy, Reason
from gateway.ports import (
    ApplicationInFlight,
    Claim,
    ConcurrentUpdate,
    IdempotencyKey,
    Idle,
    OutboxStats,
    Page,
    Reservation,
    ReservationState,
    Stalled,
    cursor_position,
    page_cursor,
)
from gateway.storage.codec import dump, load, load_reasons, load_request
from gateway.storage.database import writing
from gateway.storage.reads import Reads
from gateway.storage.tables import (
    LAST_ERROR_LENGTH,
    REPLACEMENT_IN_FLIGHT_INDEX,
    UNFINISHED_WHERE,
    application_history,
    applications,
    idempotency_keys,
    outbox,
)

MAX_PAGE_SIZE = 100
# An Idempotency-Key still in progress after this long belongs to a request that crashed: a retry takes it over.
STALE_RESERVATION = timedelta(seconds=60)

# The reads of every request, built once with bound parameters: SQLAlchemy then only looks up the compiled form
# (building a statement costs more than running it on an indexed column), and psycopg prepares them on the server.
_APPLICATION = select(applications).where(applications.c.id == bindparam("id"))
_HISTORIES = (
    select(application_history)
    .where(application_history.c.application_id.in_(bindparam("ids", expanding=True)))
    .order_by(application_history.c.application_id, application_history.c.seq)
)
# Representation is granted by an issued application alone: a pending or refused one names a person the fund may
# have found, but proves nothing of the caller's authority over them.
_GRANTED_ENPS = (
    select(applications.c.enp)
    .distinct()
    .where(
        applications.c.owner_sub == bindparam("owner_sub"),
        applications.c.status == ApplicationStatus.ISSUED.value,
        applications.c.enp.is_not(None),
    )
)
_POLICY_CHANGED_AT = select(func.max(applications.c.updated_at)).where(applications.c.enp == bindparam("enp"))
_OWNER_PAGE = (
    select(applications)
    .where(applications.c.owner_sub == bindparam("owner_sub"))
    .order_by(applications.c.created_at.desc(), applications.c.id.desc())
    .limit(bindparam("limit"))
)
_OWNER_PAGE_AFTER = _OWNER_PAGE.where(
    tuple_(applications.c.created_at, applications.c.id)
    < tuple_(
        bindparam("created_at", type_=applications.c.created_at.type), bindparam("id", type_=applications.c.id.type)
    )
)

# The writes of every step of the worker, built once in the same way.
# (Parameters of an UPDATE may not be named after a column it sets: hence "new_status" and "of_id".)
_STATE_COLUMNS = ("status", "step", "enp", "updated_at", "progress", "rejection", "policy", "stalled")
_UPDATE_STATE = (
    update(applications)
    .where(applications.c.id == bindparam("of_id"), applications.c.version == bindparam("read_version"))
    .values(version=applications.c.version + 1, **{name: bindparam(f"new_{name}") for name in _STATE_COLUMNS})
)
_HISTORY_LENGTH = (
    select(func.count()).select_from(application_history).where(application_history.c.application_id == bindparam("id"))
)
_DONE_WITH = delete(outbox).where(outbox.c.application_id == bindparam("id"))
_FAILURES_CLEARED = (
    update(outbox).where(outbox.c.application_id == bindparam("of_id")).values(attempts=0, last_error=None)
)

_IN_PROGRESS = "in_progress"
_DONE = "done"


class SqlApplicationStore:
    """Applications, their outbox and idempotency keys in one SQL database; safe to share between threads."""

    def __init__(self, engine: Engine, *, stale_reservation: timedelta = STALE_RESERVATION) -> None:
        self._engine = engine
        self._stale_reservation = stale_reservation
        self.reads = Reads(engine)
        self._granted_enps = self.reads.compile(_GRANTED_ENPS)
        self._policy_changed_at = self.reads.compile(_POLICY_CHANGED_AT)

    # --- idempotency keys ---------------------------------------------------------------------------------

    def purge_idempotency_keys(self, made_before: datetime) -> int:
        """Forget the keys made before `made_before`; returns how many were forgotten."""
        with writing(self._engine) as connection:
            purged = connection.execute(delete(idempotency_keys).where(idempotency_keys.c.created_at < made_before))
            return int(purged.rowcount)

    def reserve(self, key: IdempotencyKey, now: datetime) -> Reservation:
        """Reserve an Idempotency-Key (committed at once, so a concurrent request sees it in progress)."""
        # A few rounds, because a reservation seen as taken may be released before it can be read.
        for _ in range(3):
            try:
                with writing(self._engine) as connection:
                    connection.execute(
                        insert(idempotency_keys).values(
                            owner_sub=key.owner_sub,
                            key=key.key,
                            fingerprint=key.fingerprint,
                            state=_IN_PROGRESS,
                            created_at=now,
                        )
                    )
                return Reservation(ReservationState.NEW)
            except IntegrityError:
                pass
            with writing(self._engine) as connection:
                reservation = self._existing_reservation(connection, key, now)
            if reservation is not None:
                return reservation
        return Reservation(ReservationState.IN_PROGRESS)

    def _existing_reservation(self, connection: Connection, key: IdempotencyKey, now: datetime) -> Reservation | None:
        row = connection.execute(select(idempotency_keys).where(*_key_is(key))).one_or_none()
        if row is None:
            return None
        if row.fingerprint != key.fingerprint:
            return Reservation(ReservationState.MISMATCH)
        if row.state == _DONE:
            if row.application_id is not None:
                return Reservation(ReservationState.REPLAY, application_id=row.application_id)
            return Reservation(ReservationState.REPLAY, reasons=load_reasons(row.reasons or [], "reasons"))
        if now - row.created_at < self._stale_reservation:
            return Reservation(ReservationState.IN_PROGRESS)
        # Compare-and-set on created_at: of two retries taking over the same stale key, only one wins.
        taken = connection.execute(
            update(idempotency_keys)
            .where(
                *_key_is(key), idempotency_keys.c.state == _IN_PROGRESS, idempotency_keys.c.created_at == row.created_at
            )
            .values(created_at=now)
        )
        return Reservation(ReservationState.NEW if taken.rowcount == 1 else ReservationState.IN_PROGRESS)

    def finish(self, key: IdempotencyKey, reasons: tuple[Reason, ...]) -> None:
        """Remember the reasons a reserved key's request was refused with, to refuse a retry with them again."""
        with writing(self._engine) as connection:
            _remember(connection, key, {"application_id": None, "reasons": dump(reasons)}, at=datetime.now(UTC))

    def release(self, key: IdempotencyKey) -> None:
        """Forget a reservation whose request failed unexpectedly, so that a retry can go through."""
        with writing(self._engine) as connection:
            connection.execute(
                delete(idempotency_keys).where(
                    *_key_is(key),
                    idempotency_keys.c.fingerprint == key.fingerprint,
                    idempotency_keys.c.state == _IN_PROGRESS,
                )
            )

    # --- applications -------------------------------------------------------------------------------------

    def add(self, application: Application, key: IdempotencyKey | None = None) -> None:
        """Insert the application and its outbox entry, and finish its key with it, in one transaction; a
        replacement while another of its policy is in flight is ApplicationInFlight (the partial unique index
        ux_applications_replacement_in_flight says so, whichever process stored the other)."""
        try:
            self._add(application, key)
        except IntegrityError as error:
            if application.enp is None or not _is_in_flight_violation(error):
                raise
            raise ApplicationInFlight(application.enp) from None

    def _add(self, application: Application, key: IdempotencyKey | None) -> None:
        with writing(self._engine) as connection:
            connection.execute(
                insert(applications).values(
                    id=application.id,
                    owner_sub=application.owner.sub,
                    owner_snils=application.owner.snils,
                    kind=application.kind.value,
                    created_at=application.created_at,
                    request=dump(application.request),
                    version=application.version,
                    **_state(application),
                )
            )
            _append_history(connection, application.id, application.history, first_seq=0)
            # Due at once: "now" is the moment the application was accepted.
            connection.execute(
                insert(outbox).values(application_id=application.id, available_at=application.updated_at, attempts=0)
            )
            if key is not None:
                # The application only: a repeated request is answered with it as it is then (see submission).
                answer = {"application_id": application.id, "reasons": None}
                _remember(connection, key, answer, at=application.created_at)

    def get(self, application_id: str) -> Application | None:
        """One application, or None."""
        with self._engine.connect() as connection:
            # The row before its history: a history read later can only be newer, and then the version check
            # of a save() on this copy fails instead of losing entries.
            row = connection.execute(_APPLICATION, {"id": application_id}).one_or_none()
            if row is None:
                return None
            histories = _histories(connection, [application_id])
        return _application(row, histories.get(application_id, ()))

    def list_for_owner(self, owner_sub: str, limit: int, cursor: str | None) -> Page:
        """The owner's applications, newest first."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be within 1..{MAX_PAGE_SIZE}, not {limit}")
        # One more than a page tells whether there is a next page.
        parameters: dict[str, Any] = {"owner_sub": owner_sub, "limit": limit + 1}
        query = _OWNER_PAGE
        if cursor is not None:
            parameters["created_at"], parameters["id"] = cursor_position(cursor)
            query = _OWNER_PAGE_AFTER
        with self._engine.connect() as connection:
            rows = connection.execute(query, parameters).all()
            page = rows[:limit]
            histories = _histories(connection, [row.id for row in page])
        items = [_application(row, histories.get(row.id, ())) for row in page]
        next_cursor = page_cursor(items[-1]) if len(rows) > limit else None
        return Page(items, next_cursor)

    def granted_enps(self, owner_sub: str) -> frozenset[str]:
        """ЕНП on the owner's issued applications: the policies they reach as a representative."""
        # Every status read asks these two: see gateway.storage.reads.
        return frozenset(row[0] for row in self.reads.rows(self._granted_enps, owner_sub=owner_sub))

    def policy_changed_at(self, enp: str) -> datetime | None:
        """When an application concerning the ЕНП last changed (None: never)."""
        changed: datetime | None = self.reads.scalar(self._policy_changed_at, enp=enp)
        return changed

    def save(self, application: Application, next_attempt_at: datetime | None) -> None:
        """Store the application's new state; schedule its outbox entry, or delete it when none is due."""
        with writing(self._engine) as connection:
            _update(connection, application)
            if next_attempt_at is None:
                connection.execute(_DONE_WITH, {"id": application.id})
            else:
                _schedule(connection, application.id, next_attempt_at)

    def advance(self, application: Application, *, failures_cleared: bool = False) -> Application:
        """Store a step the application made, keeping its outbox entry leased: its worker goes on with it."""
        with writing(self._engine) as connection:
            _update(connection, application)
            if failures_cleared:
                connection.execute(_FAILURES_CLEARED, {"of_id": application.id})
        return replace(application, version=application.version + 1)

    def retry_later(self, application: Application, at: datetime, error: str) -> None:
        """Store the application (with its retry noted) and make its outbox entry due again at `at`."""
        with writing(self._engine) as connection:
            _update(connection, application)
            _schedule(connection, application.id, at, failed_with=error)

    def stall(self, application: Application, at: datetime, error: str) -> None:
        """Store the application (its stop noted) and park its outbox entry: no longer due until resumed."""
        with writing(self._engine) as connection:
            _update(connection, application)
            _schedule(connection, application.id, at, failed_with=error)
            connection.execute(update(outbox).where(outbox.c.application_id == application.id).values(stalled_at=at))

    def stalled(self) -> list[Stalled]:
        """The parked outbox entries, oldest first."""
        query = (
            select(outbox.c.application_id, outbox.c.attempts, outbox.c.stalled_at, outbox.c.last_error)
            .where(outbox.c.stalled_at.is_not(None))
            .order_by(outbox.c.stalled_at, outbox.c.application_id)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [Stalled(row.application_id, row.attempts, row.stalled_at, row.last_error) for row in rows]

    def resume(self, application: Application, now: datetime) -> None:
        """Store the application (its resumption noted) and make its outbox entry due at `now`, attempts reset."""
        with writing(self._engine) as connection:
            _update(connection, application)
            _schedule(connection, application.id, now)

    # --- the outbox ---------------------------------------------------------------------------------------

    def claim(self, worker_id: str, now: datetime, lease_seconds: float, limit: int) -> list[Claim]:
        """Take due outbox entries no other worker holds (FOR UPDATE SKIP LOCKED where the database has it)."""
        due = (
            select(outbox.c.application_id, outbox.c.attempts)
            .where(
                outbox.c.available_at <= now,
                outbox.c.stalled_at.is_(None),
                or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now),
            )
            .order_by(outbox.c.available_at, outbox.c.application_id)
            .limit(limit)
            # PostgreSQL: rows another worker is claiming are passed over, not waited for. SQLite renders no
            # FOR UPDATE; there `writing` holds the database's write lock from the SELECT to the COMMIT instead.
            .with_for_update(skip_locked=True)
        )
        with writing(self._engine) as connection:
            rows = connection.execute(due).all()
            if rows:
                connection.execute(
                    update(outbox)
                    .where(outbox.c.application_id.in_([row.application_id for row in rows]))
                    .values(claimed_by=worker_id, lease_until=now + timedelta(seconds=lease_seconds))
                )
        return [Claim(row.application_id, row.attempts) for row in rows]

    def outbox_stats(self, now: datetime) -> OutboxStats:
        """Counts of the outbox's entries as of `now`, and the age of its oldest live one (a cheap read)."""
        live, parked = outbox.c.stalled_at.is_(None), outbox.c.stalled_at.is_not(None)
        query = select(
            func.count().filter(live, outbox.c.available_at <= now).label("due"),
            func.count().filter(live, outbox.c.available_at > now).label("scheduled"),
            func.count().filter(parked).label("stalled"),
            func.min(applications.c.created_at).filter(live).label("oldest"),
        ).select_from(outbox.join(applications, applications.c.id == outbox.c.application_id))
        with self._engine.connect() as connection:
            row = connection.execute(query).one()
        return OutboxStats(row.due, row.scheduled, row.stalled, row.oldest)

    def without_progress(self, since: datetime) -> list[Idle]:
        """Unfinished applications unchanged since before `since`, longest unchanged first.

        Read from the applications, not the outbox, so that one whose outbox entry went missing is found too.
        """
        query = (
            select(applications.c.id, applications.c.status, applications.c.updated_at, applications.c.stalled)
            .where(UNFINISHED_WHERE, applications.c.updated_at < since)
            .order_by(applications.c.updated_at, applications.c.id)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [Idle(row.id, ApplicationStatus(row.status), row.updated_at, row.stalled) for row in rows]


# --- statements shared by the methods -------------------------------------------------------------------------


def _is_in_flight_violation(error: IntegrityError) -> bool:
    """Whether the insert broke the one-replacement-in-flight index (and not, say, a primary key)."""
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)  # PostgreSQL names the index
    return constraint == REPLACEMENT_IN_FLIGHT_INDEX or "applications.enp" in str(error.orig)  # SQLite its column


def _key_is(key: IdempotencyKey) -> tuple[Any, ...]:
    return idempotency_keys.c.owner_sub == key.owner_sub, idempotency_keys.c.key == key.key


def _remember(connection: Connection, key: IdempotencyKey, came_to: dict[str, Any], at: datetime) -> None:
    """Mark a reserved key done with what its request came to; a key never reserved is recorded done right away."""
    answer = {"state": _DONE, **came_to}
    done = connection.execute(
        update(idempotency_keys).where(*_key_is(key), idempotency_keys.c.fingerprint == key.fingerprint).values(answer)
    )
    if done.rowcount == 0:
        connection.execute(
            insert(idempotency_keys).values(
                owner_sub=key.owner_sub, key=key.key, fingerprint=key.fingerprint, created_at=at, **answer
            )
        )


def _state(application: Application) -> dict[str, Any]:
    """The columns that change as an application goes through its steps."""
    return {
        "status": application.status.value,
        "step": application.step.value,
        "enp": application.enp,
        "updated_at": application.updated_at,
        "progress": dump(application.progress),
        "rejection": dump(application.rejection) if application.rejection else None,
        "policy": dump(application.policy),
        "stalled": application.stalled,
    }


def _update(connection: Connection, application: Application) -> None:
    """Write the new state if nobody else did since `application` was read, and append its new history."""
    state = {f"new_{name}": value for name, value in _state(application).items()}
    changed = connection.execute(_UPDATE_STATE, {"of_id": application.id, "read_version": application.version, **state})
    if changed.rowcount != 1:
        raise ConcurrentUpdate(application.id, application.version)
    stored = connection.execute(_HISTORY_LENGTH, {"id": application.id}).scalar_one()
    _append_history(connection, application.id, application.history[stored:], first_seq=stored)


def _append_history(
    connection: Connection, application_id: str, entries: Sequence[HistoryEntry], first_seq: int
) -> None:
    if entries:
        connection.execute(
            insert(application_history),
            [
                {
                    "application_id": application_id,
                    "seq": seq,
                    "status": entry.status.value,
                    "at": entry.at,
                    "note": entry.note,
                }
                for seq, entry in enumerate(entries, start=first_seq)
            ],
        )


def _schedule(connection: Connection, application_id: str, at: datetime, failed_with: str | None = None) -> None:
    """Make the outbox entry due at `at` and free its lease.

    `attempts` counts the failures of the current step in a row (the worker's backoff grows with it): one more
    for a failure, none again once a step succeeded.
    """
    values: dict[str, Any] = {"available_at": at, "claimed_by": None, "lease_until": None, "stalled_at": None}
    if failed_with is None:
        values.update(attempts=0, last_error=None)
    else:
        values.update(attempts=outbox.c.attempts + 1, last_error=failed_with[:LAST_ERROR_LENGTH])
    scheduled = connection.execute(update(outbox).where(outbox.c.application_id == application_id).values(values))
    if scheduled.rowcount == 0:  # done before, and now due again
        connection.execute(
            insert(outbox).values(
                application_id=application_id,
                available_at=at,
                attempts=0 if failed_with is None else 1,
                last_error=None if failed_with is None else failed_with[:LAST_ERROR_LENGTH],
            )
        )


def _histories(connection: Connection, application_ids: Iterable[str]) -> dict[str, tuple[HistoryEntry, ...]]:
    ids = list(application_ids)
    if not ids:
        return {}
    rows = connection.execute(_HISTORIES, {"ids": ids})
    histories: dict[str, list[HistoryEntry]] = {}
    for row in rows:
        histories.setdefault(row.application_id, []).append(
            HistoryEntry(ApplicationStatus(row.status), row.at, row.note)
        )
    return {application_id: tuple(entries) for application_id, entries in histories.items()}


def _application(row: Row[Any], history: tuple[HistoryEntry, ...]) -> Application:
    kind = ApplicationKind(row.kind)
    return Application(
        id=row.id,
        kind=kind,
        owner=Owner(row.owner_sub, row.owner_snils),
        request=load_request(kind, row.request),
        status=ApplicationStatus(row.status),
        step=Step(row.step),
        created_at=row.created_at,
        updated_at=row.updated_at,
        history=history,
        progress=load(Progress, row.progress),
        rejection=() if row.rejection is None else load_reasons(row.rejection),
        policy=None if row.policy is None else load(IssuedPolicy, row.policy),
        version=row.version,
        stalled=row.stalled,
    )
