"""`epolicy stalled` and `epolicy retry` against a SQLite file, as an operator runs them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.domain.applications import Application, Owner, Status, Step
from gateway.storage import SqlApplicationStore, make_engine, upgrade
from gateway.usecases.processing import RESUMED_NOTE, STALLED_NOTE
from tests.support.storage import at, new_policy_request


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SqlApplicationStore:
    url = f"sqlite:///{tmp_path / 'operator.sqlite3'}"
    upgrade(url)
    monkeypatch.setenv("EPOLICY_DATABASE_URL", url)
    store = SqlApplicationStore(make_engine(url, pool_size=1))
    for number in (1, 2):
        application = Application.accept(f"app_{number}", Owner("user-1", None), new_policy_request(), at(number))
        store.add(application)
        verifying = application.move(Status.VERIFYING, Step.VERIFY, at(10))
        store.save(verifying, at(10))
        stored = store.get(application.id)
        assert stored is not None
        store.stall(stored.note_retry(at(20 + number), f"{STALLED_NOTE}: тест"), at(20 + number), "fund:VerifyPerson")
    return store


def test_the_operator_lists_the_stalled_applications(database: SqlApplicationStore) -> None:
    result = CliRunner().invoke(main, ["stalled"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["app_1", "app_2"]
    assert lines[0].split("\t")[1:] == ["1", at(21).isoformat(), "fund:VerifyPerson"]


def test_the_operator_resumes_one_application_by_id(database: SqlApplicationStore) -> None:
    result = CliRunner().invoke(main, ["retry", "app_2"])
    assert result.exit_code == 0, result.output
    assert "app_2: resumed" in result.stdout
    assert [entry.application_id for entry in database.stalled()] == ["app_1"]
    resumed = database.get("app_2")
    assert resumed is not None
    assert resumed.history[-1].note == RESUMED_NOTE
    claims = database.claim("w", datetime.now(UTC) + timedelta(minutes=1), 30, 10)
    assert [claim.application_id for claim in claims] == ["app_2"]


def test_the_operator_resumes_every_stalled_application(database: SqlApplicationStore) -> None:
    result = CliRunner().invoke(main, ["retry", "--all-stalled"])
    assert result.exit_code == 0, result.output
    assert database.stalled() == []


def test_an_unknown_id_is_reported_and_fails_the_command(database: SqlApplicationStore) -> None:
    result = CliRunner().invoke(main, ["retry", "app_nope"])
    assert result.exit_code == 1
    assert "app_nope: not found" in result.stderr


def test_retry_without_ids_or_flag_is_a_usage_error(database: SqlApplicationStore) -> None:
    assert CliRunner().invoke(main, ["retry"]).exit_code == 2
