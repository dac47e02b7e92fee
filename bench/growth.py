"""Benchmark 4: do the database reads of the API and the worker stay flat as stored applications grow?

On PostgreSQL, two scratch schemas migrated to head are filled by COPY with rows shaped like real ones (JSON
columns dumped from domain values): a small and a big number of applications over two years from many owners,
most finished, the newest share still in progress with an outbox row (due, or waiting for a retry), and a few
parked (stalled) outbox rows of any age. Then, alternating between the two, it times through the store:

- the database part of a policy status check by a citizen: `granted_enps` (GET /api/v1/policies/{enp});
- a citizen's own applications, first page of 20 with their history: `list_for_owner` (GET /api/v1/applications);
- a worker's outbox claim of a batch of 10: `claim` (its lease is released again outside the timing).

The citizens timed are the same in both sizes: 200 owners with 3 finished applications each, at random places.

Run: `.venv/bin/python -m bench.growth [--quick] [--explain]` (quick: 10 000 vs 100 000 applications; full:
10 000 vs 1 000 000). `--explain` prints the plans of the queries at the big size.
PostgreSQL: EPOLICY_BENCH_POSTGRESQL_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test.
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import random
import statistics
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, event, text, update
from stdnum import luhn

from bench.pipeline import POSTGRESQL_URL, Unavailable, postgresql_schema
from gateway.catalogue import Catalogue
from gateway.domain.applications import Progress
from gateway.domain.model import (
    Document,
    DocumentType,
    IssuedPolicy,
    NewPolicyRequest,
    Person,
    PersonChanges,
    PolicyForm,
    RegistryApplicationType,
    RegistryReason,
    Relation,
    ReplacementReason,
    ReplacementRequest,
    Sex,
    Source,
)
from gateway.storage import SqlApplicationStore, make_engine
from gateway.storage.codec import dump
from gateway.storage.tables import application_history, applications, outbox
from tests.support.people import snils_check

TARGET = 1.3
PAGE = 20  # PAGE_SIZE_DEFAULT of the API
BATCH = 10  # WORKER_BATCH
WORKER = "bench-worker"
PROBE_OWNERS = 200
PROBE_APPLICATIONS = 3
APPLICATIONS_PER_OWNER = 2.0  # on average, for the owners not timed
IN_PROGRESS_SHARE = 0.01  # the newest applications, still with an outbox row
STALLED_SHARE = 0.0005  # parked outbox rows, of applications of any age, not resumed yet
SPAN = timedelta(days=730)
WARM_UP = 20  # rounds run before the kept ones
BLOCK = 2_000  # applications per write to COPY
REPLACEMENT_SHARE = 0.12
PROBE_BASE = 900_000_000  # owner numbers of the timed citizens, out of the range of the others
PERSON_BASE = 1_000_000  # persons' СНИЛС apart from their owners'
NULL = "\\N"  # COPY text format
# History entries of a finished application by its status (the rows themselves: FINISHED_HISTORY).
FINISHED_STEPS = {"issued": 4, "rejected": 3, "cancelled": 2}
CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789ABCDEFGHJKMNPQRSTVWXYZ")
BIRTH_DATES = [date(1950 + n % 60, 1 + n % 12, 1 + n % 28).isoformat() for n in range(720)]

# Values that the templates of the JSON columns mark with a placeholder, longest first.
PLACEHOLDERS = {
    "MIDDLENAME": "middle",
    "FIRSTNAME": "first",
    "LASTNAME": "last",
    "1111-11-11": "born",
    "SNILSSNILS1": "snils",
    "DOCNUMBER": "number",
    "DOCSERIES": "series",
    "ENPENPENPENPENP1": "enp",
    "INSURER": "insurer",
    "1333-03-03": "valid_from",
    "INSAPPID": "insurer_application_id",
}
LAST_NAMES = ("Иванова", "Смирнов", "Кузнецова", "Попов", "Васильева", "Соколов", "Морозова", "Новиков")
FIRST_NAMES = ("Анна", "Иван", "Мария", "Пётр", "Елена", "Сергей", "Ольга", "Алексей")
MIDDLE_NAMES = ("Сергеевна", "Иванович", "Петровна", "Алексеевич")
INSURERS = ("77001", "77002", "50001")
RETRY_NOTE = "фонд ОМС временно недоступен (VerifyPerson); повтор № 1 через 1 с"
EMPTY_PROGRESS = json.dumps(dump(Progress()))
STALLED_NOTE = "обработка приостановлена: фонд ОМС недоступен (VerifyPerson) после 20 попыток"


def copy_text(value: str) -> str:
    """A value as COPY's text format reads it."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


class Template:
    """A JSON text with named holes, filled by `render` (the values need no JSON escaping)."""

    def __init__(self, value: object) -> None:
        raw = json.dumps(dump(value), ensure_ascii=False).replace("{", "{{").replace("}", "}}")
        for marker, name in PLACEHOLDERS.items():
            raw = raw.replace(marker, "{" + name + "}")
        self.text = copy_text(raw)

    def render(self, values: dict[str, str]) -> str:
        return self.text.format_map(values)


def _templates() -> dict[str, Template | str]:
    """The JSON columns of the kinds of rows, from the domain values the gateway stores."""
    document = Document(DocumentType.PASSPORT_RF, "DOCNUMBER", date(2015, 3, 1), "DOCSERIES", "ГУ МВД России")
    person = Person("LASTNAME", "FIRSTNAME", date(1111, 11, 11), Sex.FEMALE, "RUS", document, "MIDDLENAME",
                    "г. Москва", "SNILSSNILS1")  # fmt: skip
    new = NewPolicyRequest(Relation.SELF, person, "77", "INSURER", PolicyForm.ELECTRONIC)
    replacement = ReplacementRequest(
        "ENPENPENPENPENP1", ReplacementReason.PERSONAL_DATA_CHANGE, PolicyForm.ELECTRONIC, PersonChanges("LASTNAME")
    )
    done = Progress(
        enp="ENPENPENPENPENP1",
        registry_type=RegistryApplicationType.INSURER_CHOICE.value,
        registry_reason=RegistryReason.FIRST_CHOICE.value,
        insurer_code="INSURER",
        region_code="77",
        insurer_application_id="INSAPPID",
        person=person,
    )
    policy = IssuedPolicy("ENPENPENPENPENP1", "INSURER", date(1333, 3, 3))
    catalogue = Catalogue.load()
    refusal = catalogue.backend_reason(Source.FUND, "ALREADY_INSURED_SAME_INSURER", "Уже застрахован", "insurer_code")
    return {
        "new": Template(new),
        "replacement": Template(replacement),
        "progress": Template(done),
        "policy": Template(policy),
        "empty_progress": EMPTY_PROGRESS,
        "rejection": copy_text(json.dumps(dump((refusal,)), ensure_ascii=False)),
    }


@dataclass
class Unfinished:
    """COPY text lines of the history and outbox rows of the unfinished applications generated so far."""

    history: list[str] = field(default_factory=list)
    outbox: list[str] = field(default_factory=list)


def generate(size: int, now: datetime, rng: random.Random, unfinished: Unfinished) -> Iterator[str]:
    """COPY text of `size` applications, oldest first, in blocks; the probe owners' at random finished places."""
    templates = _templates()
    in_progress_from = size - max(1, int(size * IN_PROGRESS_SHARE))
    slots = rng.sample(range(in_progress_from), PROBE_OWNERS * PROBE_APPLICATIONS)
    probes = {slot: PROBE_BASE + index % PROBE_OWNERS for index, slot in enumerate(slots)}
    stalled = set(rng.sample(range(in_progress_from), max(1, int(size * STALLED_SHARE)))) - probes.keys()
    owners = max(1, int(size / APPLICATIONS_PER_OWNER))
    step = SPAN / size
    start = now - SPAN - timedelta(hours=1)
    block: list[str] = []
    for index in range(size):
        created = start + step * index + timedelta(milliseconds=rng.randrange(1000))
        application_id = _application_id(int(created.timestamp() * 1000), rng)
        probe = probes.get(index)
        owner = rng.randrange(owners) if probe is None else probe
        values = _values(index, created)
        if index in stalled:
            request = _render(templates["new"], values)
            block.append(_stalled(application_id, owner, created, request, unfinished))
        elif index >= in_progress_from and probe is None:
            request = _render(templates["new"], values)
            block.append(_in_progress(application_id, owner, created, now, request, rng, unfinished))
        else:
            block.append(_finished(application_id, owner, created, values, rng, templates, probe is not None))
        if len(block) >= BLOCK:
            yield "".join(block)
            block.clear()
    yield "".join(block)


def _application_id(millis: int, rng: random.Random) -> str:
    """An id as gateway.ids makes them (`app_` + a ULID), from a reproducible random source and faster."""
    value = (millis << 80) | rng.getrandbits(80)
    # 26 Crockford base32 digits are 130 bits: the ULID's 128 after two zero bits, at the top of 160.
    return "app_" + base64.b32encode((value << 30).to_bytes(20, "big")).decode()[:26].translate(CROCKFORD)


def probe_owner(number: int) -> str:
    """The owner sub of the timed citizen `number` (0 ≤ number < PROBE_OWNERS)."""
    return _owner_sub(PROBE_BASE + number)


def _owner_sub(number: int) -> str:
    return f"esia-{number:010d}"


@functools.lru_cache(maxsize=1 << 20)
def _owner_snils(number: int) -> str:
    return _snils(number)


def _snils(number: int) -> str:
    first9 = f"{100_000_000 + number % 800_000_000:09d}"
    return first9 + snils_check(first9)


def _enp(number: int) -> str:
    body = f"77{number:013d}"
    return body + luhn.calc_check_digit(body)


def _line(*values: object) -> str:
    return "\t".join(NULL if value is None else str(value) for value in values) + "\n"


def _values(index: int, created: datetime) -> dict[str, str]:
    """What differs between the JSON columns of two applications."""
    insurer = INSURERS[index % len(INSURERS)]
    return {
        "last": LAST_NAMES[index % len(LAST_NAMES)],
        "first": FIRST_NAMES[index % len(FIRST_NAMES)],
        "middle": MIDDLE_NAMES[index % len(MIDDLE_NAMES)],
        "born": BIRTH_DATES[index % len(BIRTH_DATES)],
        "snils": _snils(PERSON_BASE + index),
        "number": f"{index % 1_000_000:06d}",
        "series": f"{4500 + index % 400:04d}",
        "enp": _enp(index),
        "insurer": insurer,
        "valid_from": created.date().isoformat(),
        "insurer_application_id": f"{insurer}-{index:09d}",
    }


def _finished(
    application_id: str,
    owner: int,
    created: datetime,
    values: dict[str, str],
    rng: random.Random,
    templates: dict[str, Template | str],
    probe: bool,
) -> str:
    """A finished application: issued mostly, else rejected or cancelled (its history comes from the database)."""
    replacement = not probe and rng.random() < REPLACEMENT_SHARE
    roll = 0.0 if probe else rng.random()
    status = "issued" if roll < 0.9 else "rejected" if roll < 0.97 else "cancelled"
    progress, policy, rejection, enp = templates["empty_progress"], None, None, None
    if status == "issued":
        progress = _render(templates["progress"], values)
        policy = _render(templates["policy"], values)
        enp = values["enp"]
    elif status == "rejected":
        rejection = templates["rejection"]
    if replacement:
        enp = values["enp"]
    request = _render(templates["replacement" if replacement else "new"], values)
    updated = created + timedelta(seconds=2 * (FINISHED_STEPS[status] - 1))
    kind = "replacement" if replacement else "new"
    return _line(
        application_id, _owner_sub(owner), _owner_snils(owner), kind, status, "done", enp, FINISHED_STEPS[status] - 1,
        created.isoformat(), updated.isoformat(), request, progress, rejection, policy, "f",
    )  # fmt: skip


def _render(template: Template | str, values: dict[str, str]) -> str:
    assert isinstance(template, Template)
    return template.render(values)


def _in_progress(
    application_id: str,
    owner: int,
    created: datetime,
    now: datetime,
    request: str,
    rng: random.Random,
    unfinished: Unfinished,
) -> str:
    """Accepted or verifying, with an outbox row due now or waiting for a retry."""
    waiting = rng.random() < 0.15
    entries: list[tuple[str, datetime, str | None]] = [("accepted", created, None)]
    if waiting or rng.random() < 0.5:
        entries.append(("verifying", created + timedelta(seconds=1), None))
    attempts, last_error, available = 0, None, created + timedelta(seconds=1)
    if waiting:
        entries.append(("verifying", created + timedelta(seconds=2), RETRY_NOTE))
        attempts, last_error = 1 + rng.randrange(5), "fund:VerifyPerson"
        available = now + timedelta(seconds=rng.randrange(1, 300))
    return _unfinished(application_id, owner, request, entries, (available, attempts, last_error, None), unfinished)


def _stalled(application_id: str, owner: int, created: datetime, request: str, unfinished: Unfinished) -> str:
    """Parked after too many failed attempts, left for an operator (the outbox row keeps its old due time)."""
    parked = created + timedelta(hours=2)
    entries: list[tuple[str, datetime, str | None]] = [
        ("accepted", created, None),
        ("verifying", created + timedelta(seconds=1), None),
        ("verifying", parked, STALLED_NOTE),
    ]
    return _unfinished(application_id, owner, request, entries, (parked, 19, "fund:VerifyPerson", parked), unfinished)


def _unfinished(
    application_id: str,
    owner: int,
    request: str,
    entries: list[tuple[str, datetime, str | None]],
    due: tuple[datetime, int, str | None, datetime | None],
    unfinished: Unfinished,
) -> str:
    for seq, (status, at, note) in enumerate(entries):
        unfinished.history.append(_line(application_id, seq, status, at.isoformat(), note))
    available, attempts, last_error, stalled_at = due
    parked = None if stalled_at is None else stalled_at.isoformat()
    unfinished.outbox.append(_line(application_id, available.isoformat(), attempts, None, None, last_error, parked))
    created, updated = entries[0][1], entries[-1][1]
    status = entries[-1][0]
    return _line(
        application_id, _owner_sub(owner), _owner_snils(owner), "new", status, "verify", None, len(entries) - 1,
        created.isoformat(), updated.isoformat(), request, EMPTY_PROGRESS, None, None, "f" if parked is None else "t",
    )  # fmt: skip


# The history of every finished application, made by the database from its status and creation time.
FINISHED_HISTORY = """
INSERT INTO application_history (application_id, seq, status, at)
SELECT a.id, s.seq,
    (CASE a.status
        WHEN 'issued' THEN ARRAY['accepted', 'verifying', 'issuing', 'issued']
        WHEN 'rejected' THEN ARRAY['accepted', 'verifying', 'rejected']
        ELSE ARRAY['accepted', 'cancelled'] END)[s.seq + 1],
    a.created_at + s.seq * interval '2 seconds'
FROM applications AS a
CROSS JOIN LATERAL generate_series(0, CASE a.status WHEN 'issued' THEN 3 WHEN 'rejected' THEN 2 ELSE 1 END) AS s(seq)
WHERE a.step = 'done'
"""


def fill(engine: Engine, size: int, now: datetime) -> None:
    """COPY `size` generated applications with the rows of the unfinished ones, add the history of the finished
    ones, and VACUUM ANALYZE: the state of a database that has been running for a while."""
    unfinished = Unfinished()
    with engine.begin() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            # The rows are consistent by construction: no foreign key trigger per row (superuser only).
            if cursor.execute("SELECT current_setting('is_superuser')").fetchone() == ("on",):
                cursor.execute("SET LOCAL session_replication_role = replica")
            # One COPY for all applications: the server stores a block while the next one is generated.
            _copy(cursor, applications, generate(size, now, random.Random(size), unfinished))
            _copy(cursor, application_history, unfinished.history)
            _copy(cursor, outbox, unfinished.outbox)
        connection.execute(text(FINISHED_HISTORY))
    with engine.connect() as connection:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in (applications, application_history, outbox):
            autocommit.execute(text(f"VACUUM ANALYZE {table.name}"))


def _copy(cursor: Any, table: Table, blocks: Iterable[str]) -> None:
    columns = ", ".join(column.name for column in table.columns)
    with cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
        for block in blocks:
            copy.write(block)


# --- timing ---------------------------------------------------------------------------------------------------


@dataclass
class Subject:
    """One filled schema, the store over it, and the SELECTs its last call sent."""

    size: int
    engine: Engine
    store: SqlApplicationStore
    seconds_to_fill: float
    megabytes: float
    sent: list[tuple[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        event.listen(self.engine, "before_cursor_execute", self._record)
        # The hot reads run on the pool's DBAPI connection, past SQLAlchemy's events (gateway.storage.reads).
        self.store.reads.observer = lambda statement, parameters: self.sent.append((statement, parameters))

    def _record(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            self.sent.append((statement, parameters))


@dataclass
class Samples:
    """Seconds per call through the store, and of its SELECTs inside PostgreSQL (planning and execution)."""

    store: list[float] = field(default_factory=list)
    database: list[float] = field(default_factory=list)


STATUS_LOOKUP = "status lookup (granted_enps)"
STORE_OVERHEAD = 3.0  # a read through the store within 3× of the database's own time for it


def operations(store: SqlApplicationStore) -> dict[str, Callable[[str], object]]:
    """The timed operations, each given a probe owner."""
    return {
        STATUS_LOOKUP: store.granted_enps,
        "own applications (list)": lambda owner: store.list_for_owner(owner, PAGE, None),
        "outbox claim": lambda owner: store.claim(WORKER, datetime.now(UTC), 60.0, BATCH),
    }


def release(engine: Engine) -> None:
    """Free the rows the timed claim took, so that every claim finds the same outbox."""
    with engine.begin() as connection:
        connection.execute(
            update(outbox).where(outbox.c.claimed_by == WORKER).values(claimed_by=None, lease_until=None)
        )


def database_seconds(subject: Subject) -> float:
    """What the SELECTs of the last call cost inside PostgreSQL, by EXPLAIN ANALYZE (rolled back: no lock kept)."""
    total = 0.0
    with subject.engine.connect() as connection:
        for statement, parameters in subject.sent:
            plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar_one()
            total += (plan[0]["Planning Time"] + plan[0]["Execution Time"]) / 1000
        connection.rollback()
    return total


def measure(subjects: list[Subject], repetitions: int) -> dict[tuple[str, int], Samples]:
    """Every operation on every subject, alternating between them, so that both see the same machine."""
    samples: dict[tuple[str, int], Samples] = {}
    owners = [probe_owner(number) for number in range(PROBE_OWNERS)]
    for round_number in range(-WARM_UP, repetitions):
        owner = owners[round_number % PROBE_OWNERS]
        for subject in subjects:
            for name, call in operations(subject.store).items():
                subject.sent.clear()
                started = time.perf_counter()
                call(owner)
                elapsed = time.perf_counter() - started
                release(subject.engine)
                inside = database_seconds(subject)
                if round_number >= 0:
                    kept = samples.setdefault((name, subject.size), Samples())
                    kept.store.append(elapsed)
                    kept.database.append(inside)
    return samples


def explain(subject: Subject) -> None:
    """Print the plans of the SELECTs each operation sends, as the store sends them."""
    for name, call in operations(subject.store).items():
        subject.sent.clear()
        call(probe_owner(0))
        release(subject.engine)
        print(f"\n  {name}, {subject.size:,} applications:".replace(",", " "))
        with subject.engine.connect() as connection:
            for statement, parameters in list(subject.sent):
                plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters)
                print("    " + "\n    ".join(plan.scalars()))
            connection.rollback()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 000 vs 100 000 applications, fewer repetitions")
    parser.add_argument("--explain", action="store_true", help="print the query plans at the big size")
    args = parser.parse_args(argv)
    sizes = (10_000, 100_000) if args.quick else (10_000, 1_000_000)
    repetitions = 300 if args.quick else 1000

    scope = "quick: 10 000 vs 100 000 applications, the full run compares with 1 000 000" if args.quick else "full"
    print(f"\nGrowth of the database reads with stored applications, PostgreSQL ({scope})\n")
    now = datetime.now(UTC)
    try:
        with ExitStack() as stack:
            subjects = []
            for size in sizes:
                url = stack.enter_context(postgresql_schema(POSTGRESQL_URL, prefix="epolicy_growth"))
                engine = make_engine(url, pool_size=2)
                stack.callback(engine.dispose)
                started = time.perf_counter()
                fill(engine, size, now)
                seconds = time.perf_counter() - started
                subject = Subject(size, engine, SqlApplicationStore(engine), seconds, _megabytes(engine))
                print(f"  {_count(size):>9} applications: filled in {subject.seconds_to_fill:.1f} s, "
                      f"{subject.megabytes:.0f} MiB with indexes", flush=True)  # fmt: skip
                subjects.append(subject)
            report(subjects, measure(subjects, repetitions), repetitions)
            if args.explain:
                explain(subjects[-1])
    except Unavailable as error:
        print(f"  PostgreSQL unavailable: {error}")
    return 0


def _megabytes(engine: Engine) -> float:
    """The size of the schema's tables with their indexes."""
    query = text(
        "SELECT sum(pg_total_relation_size(relid)) FROM pg_stat_user_tables WHERE schemaname = current_schema()"
    )
    with engine.connect() as connection:
        return float(connection.execute(query).scalar_one()) / 2**20


def _count(number: int) -> str:
    return f"{number:,}".replace(",", " ")


def report(subjects: list[Subject], samples: dict[tuple[str, int], Samples], repetitions: int) -> None:
    """The medians and the ratios big / small, through the store and inside PostgreSQL."""
    small, big = _count(subjects[0].size), _count(subjects[-1].size)
    print(f"\n  median of {repetitions} calls each, the sizes alternating; ratio = {big} / {small}, "
          f"target ≤ {TARGET}\n")  # fmt: skip
    print(f"  {'':<28} {'through the store':^32}   {'inside PostgreSQL (EXPLAIN ANALYZE)':^36}")
    print(f"  {'operation':<28} {small:>10} {big:>11} {'ratio':>7}   {small:>10} {big:>11} {'ratio':>7}")
    worst = 0.0
    for name in operations(subjects[0].store):
        low, high = samples[(name, subjects[0].size)], samples[(name, subjects[-1].size)]
        row = f"  {name:<28}"
        for kind in ("store", "database"):
            before = statistics.median(getattr(low, kind))
            after = statistics.median(getattr(high, kind))
            row += f" {before * 1e3:>7.3f} ms {after * 1e3:>8.3f} ms {after / before:>6.2f}×  "
            if kind == "store":
                worst = max(worst, after / before)
        print(row)
    verdict = "met" if worst <= TARGET else "missed"
    print(f"\n  worst ratio through the store: {worst:.2f}× (target ≤ {TARGET}: {verdict})")
    # What the store adds to the database's own time on the read every status check makes.
    lookup = samples[(STATUS_LOOKUP, subjects[-1].size)]
    overhead = statistics.median(lookup.store) / statistics.median(lookup.database)
    verdict = "met" if overhead <= STORE_OVERHEAD else "missed"
    print(f"  {STATUS_LOOKUP} at {big}, through the store / inside PostgreSQL: {overhead:.2f}× "
          f"(target ≤ {STORE_OVERHEAD}: {verdict})")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
