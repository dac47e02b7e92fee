"""The app factory starts no worker, whatever WORKER_THREADS says: `epolicy serve` starts them beside the app."""

from __future__ import annotations

import threading

from gateway.app import create_app
from tests.support.fakes import FakeFund, FakeInsurers, FakeStore


def test_an_app_made_with_worker_threads_runs_none_of_them() -> None:
    before = set(threading.enumerate())

    app = create_app(
        {"TESTING": True, "WORKER_THREADS": 3}, store=FakeStore(), fund=FakeFund(), insurers=FakeInsurers({})
    )

    assert app.extensions["epolicy"].settings.worker_threads == 3, "the setting is read, for `epolicy serve`"
    started = [thread.name for thread in set(threading.enumerate()) - before]
    assert not [name for name in started if "worker" in name or name.count(":") == 2], started
