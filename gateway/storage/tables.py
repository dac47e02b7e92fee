"""The gateway's tables, portable between SQLite and PostgreSQL (migrations/ creates them)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    and_,
    false,
    text,
)

# outbox.last_error is cut to this many characters.
LAST_ERROR_LENGTH = 500

# Stable constraint names, so that a later migration can drop or alter them by name on both databases.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database; SQLite keeps no offset, so it stores UTC and adds it back."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime would be ambiguous in the database: {value!r}")
        utc = value.astimezone(UTC)
        # SQLite compares the stored text: one offset-less UTC form keeps ordering right.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


applications = Table(
    "applications",
    metadata,
    Column("id", Text, primary_key=True),
    Column("owner_sub", Text, nullable=False),
    Column("owner_snils", String(11)),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("step", String(16), nullable=False),
    Column("enp", String(16), index=True),  # the ЕНП the application concerns: who may read which policy
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("request", JSON, nullable=False),
    Column("progress", JSON, nullable=False),
    Column("rejection", JSON(none_as_null=True)),
    Column("policy", JSON(none_as_null=True)),
    # Parked after too many failed attempts, until an operator resumes it (the outbox entry is parked with it).
    Column("stalled", Boolean, nullable=False, server_default=false()),
)
# The list of one owner's applications, newest first, walked by (created_at, id) cursors.
Index(
    "ix_applications_owner_list",
    applications.c.owner_sub,
    applications.c.created_at.desc(),
    applications.c.id.desc(),
)

# One replacement in flight per policy: two sent at once (a double click, two tabs, two gateway processes) would
# otherwise both be issued, two registrations with the fund for one loss. A replacement is in flight until it is
# issued, rejected or cancelled; the database holds the rule, so it holds across processes and machines.
REPLACEMENT_IN_FLIGHT = ("accepted", "verifying", "issuing")
REPLACEMENT_IN_FLIGHT_INDEX = "ux_applications_replacement_in_flight"
_in_flight = and_(applications.c.kind == "replacement", applications.c.status.in_(REPLACEMENT_IN_FLIGHT))
Index(
    REPLACEMENT_IN_FLIGHT_INDEX,
    applications.c.enp,
    unique=True,
    postgresql_where=_in_flight,
    sqlite_where=_in_flight,
)

# The unfinished applications that made no progress since a time (`without_progress`: `epolicy idle` and the gauge
# every scrape of /metrics reads): partial, so that it holds only the few in flight, not the millions finished.
# The query states the index's condition in the same literal words: SQLite uses a partial index only for a query
# whose WHERE repeats its condition term for term, which bound parameters do not.
UNFINISHED = ("accepted", "verifying", "issuing")
UNFINISHED_INDEX = "ix_applications_unfinished_since"
UNFINISHED_WHERE = text("status IN ('accepted', 'verifying', 'issuing')")
Index(
    UNFINISHED_INDEX,
    applications.c.updated_at,
    applications.c.id,
    postgresql_where=UNFINISHED_WHERE,
    sqlite_where=UNFINISHED_WHERE,
)

application_history = Table(
    "application_history",
    metadata,
    Column("application_id", Text, ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("note", Text),
)

# One row per application that a worker still has to carry on; deleted when nothing is left to do.
outbox = Table(
    "outbox",
    metadata,
    Column("application_id", Text, ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True),
    Column("available_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("claimed_by", Text),
    Column("lease_until", UtcDateTime),
    Column("last_error", String(LAST_ERROR_LENGTH)),  # technical cause only, never personal data
    Column("stalled_at", UtcDateTime),  # set: parked after too many attempts, not due until an operator resumes
)
# The workers' claim: due entries oldest first, in the claim's own order. Parked entries keep their old due time
# and would sit at the head of a plain index, read and passed over by every claim; this one leaves them out.
Index(
    "ix_outbox_due",
    outbox.c.available_at,
    outbox.c.application_id,
    postgresql_where=outbox.c.stalled_at.is_(None),
    sqlite_where=outbox.c.stalled_at.is_(None),
)

# Every SOAP message the gateway sent and received, as its signature vouches for it (gateway.storage.journal):
# by the payload's MessageId, an application's id or a read's, the messages of one piece of work in order.
message_journal = Table(
    "message_journal",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False, index=True),  # indexed: entries older than JOURNAL_DAYS are purged
    Column("message_id", String(64), index=True),
    Column("direction", String(8), nullable=False),  # sent | received
    Column("operation", String(64), nullable=False),
    Column("address", Text, nullable=False),
    Column("outcome", String(16), nullable=False),  # signed | verified | refused | unsigned
    Column("wsa_message_id", String(64)),
    Column("relates_to", String(64)),
    Column("signer", Text),
    Column("fingerprint", String(64)),
    Column("signature", Text),
    Column("reason", String(LAST_ERROR_LENGTH)),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("owner_sub", Text, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(128), nullable=False),
    Column("state", String(16), nullable=False),  # in_progress | done
    # What a done key's request came to, one of two: the application it accepted (no foreign key: the key may
    # outlive it), or the reasons it was refused with (Reason's fields, as the rejections of applications).
    Column("application_id", Text),
    Column("reasons", JSON(none_as_null=True)),
    # Indexed: keys older than IDEMPOTENCY_KEY_HOURS are purged by the workers.
    Column("created_at", UtcDateTime, nullable=False, index=True),
)
