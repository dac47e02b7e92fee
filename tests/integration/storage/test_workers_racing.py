"""Workers racing for the outbox: every application is processed exactly once, on both databases and the fake."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from gateway.domain.applications import Application, Status, Step
from gateway.ports import ApplicationStore
from tests.support.storage import accepted, at

APPLICATIONS = 200
BATCH = 7
WORKERS = 3


def test_racing_workers_process_every_application_exactly_once(store: ApplicationStore) -> None:
    for number in range(APPLICATIONS):
        store.add(accepted(f"app_{number:03d}", when=at(number / 1000)))
    now = at(10)
    start = threading.Barrier(WORKERS)
    claimed: list[str] = []
    processed: list[str] = []
    lock = threading.Lock()

    def work(worker_id: str) -> None:
        start.wait()
        while claims := store.claim(worker_id, now, 60, BATCH):
            with lock:
                claimed.extend(claim.application_id for claim in claims)
            for claim in claims:
                application = store.get(claim.application_id)
                assert application is not None
                store.save(application.move(Status.VERIFYING, Step.DONE, now), None)
                with lock:
                    processed.append(claim.application_id)

    with ThreadPoolExecutor(WORKERS) as pool:
        for finished in [pool.submit(work, f"worker-{n}") for n in range(WORKERS)]:
            finished.result()  # re-raises what failed in a worker thread

    assert len(claimed) == APPLICATIONS
    assert set(Counter(claimed).values()) == {1}
    assert Counter(processed) == Counter(claimed)
    assert store.claim("late", at(3600), 60, APPLICATIONS) == []
    versions = {application.version for application in _all(store)}
    assert versions == {1}


def _all(store: ApplicationStore) -> list[Application]:
    page = store.list_for_owner("user-1", 100, None)
    items = list(page.items)
    while page.next_cursor is not None:
        page = store.list_for_owner("user-1", 100, page.next_cursor)
        items.extend(page.items)
    assert len(items) == APPLICATIONS
    return items
