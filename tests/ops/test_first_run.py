"""A first start from an instance folder that does not exist yet, as `make run` makes it on a fresh clone: every
command that opens the database works, and the stack says once where everything is and, on Ctrl-C, what it stopped.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from gateway.cli import main
from gateway.logs import JsonFormatter
from mocks.commands import JsonLines
from tests.support.stack import EPOLICY, free_port

# RFC 3339 to the millisecond with the zone, as the gateway's JSON lines write it: 2026-12-07T08:05:11.956+00:00
RFC_3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(?:Z|[+-]\d\d:\d\d)")


def clean_environment(**settings: str) -> dict[str, str]:
    """The process's environment without the machine's `EPOLICY_*` variables (but the tests'), and `settings`."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith("EPOLICY_")}
    kept.update({name: value for name, value in os.environ.items() if name.startswith("EPOLICY_TEST_")})
    return {**kept, **settings}


@pytest.fixture
def restored_process() -> Iterator[None]:
    """The signal and log handlers the commands install, put back after the test."""
    signals = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for number, handler in signals.items():
        signal.signal(number, handler)
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["db", "upgrade"], "database is at the latest revision\n"),
        (["stalled"], "0 stalled\n"),
        (["retry", "--all-stalled"], ""),
    ],
)
def test_the_commands_that_open_the_database_work_from_an_instance_folder_not_made_yet(
    arguments: list[str], said: str, tmp_path: Path, restored_process: None
) -> None:
    instance = tmp_path / "not" / "made" / "yet"
    result = CliRunner().invoke(main, arguments, env=clean_environment(EPOLICY_INSTANCE_PATH=str(instance)))
    assert result.exit_code == 0, result.output
    assert said in result.output
    assert "Error" not in result.output
    assert (instance / "epolicy.sqlite3").is_file()


def test_the_mocks_json_lines_carry_the_gateways_timestamp() -> None:
    record = logging.LogRecord("mocks", logging.INFO, __file__, 1, "mock fund on %s", ("http://x",), None)
    record.created = 1_796_000_000.123456  # a moment in 2026
    ours = json.loads(JsonLines().format(record))
    gateways = json.loads(JsonFormatter().format(record))
    assert ours["timestamp"] == gateways["timestamp"]
    assert RFC_3339.fullmatch(ours["timestamp"]), ours["timestamp"]
    assert datetime.fromisoformat(ours["timestamp"]).timestamp() == pytest.approx(record.created, abs=0.001)
    # The same fields as every line of the gateway's, for a collector that reads both.
    assert ours == {**gateways, "timestamp": ours["timestamp"]}
    assert (ours["level"], ours["logger"], ours["message"]) == ("INFO", "mocks", "mock fund on http://x")


def wait_for(path: Path, text: str, process: subprocess.Popen[bytes], seconds: float = 60) -> str:
    """The file's text once it holds `text`; the process must stay up meanwhile."""
    deadline = time.monotonic() + seconds
    while True:
        found = path.read_text(errors="replace")
        if text in found:
            return found
        assert process.poll() is None, f"ended with {process.returncode}:\n{found}"
        assert time.monotonic() < deadline, f"{text!r} never came:\n{found}"
        time.sleep(0.1)


def interrupted(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError("it did not stop on Ctrl-C") from None


@pytest.mark.network
def test_the_python_m_mocks_json_lines_are_the_gateways(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "mocks.log"
    environment = clean_environment(EPOLICY_LOG_FORMAT="json")
    with log.open("wb") as output:
        command = [sys.executable, "-m", "mocks", "--port", str(port)]
        process = subprocess.Popen(command, env=environment, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for(log, "/mock/faults", process)
    finally:
        assert interrupted(process) == 0
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) >= 4
    for line in lines:
        assert RFC_3339.fullmatch(line["timestamp"]), line
        assert line["logger"].split(".")[0] == "mocks"


@pytest.mark.network
def test_the_stack_starts_on_a_first_run_says_where_everything_is_and_what_ctrl_c_stopped(tmp_path: Path) -> None:
    instance = tmp_path / "fresh" / "instance"
    port, mocks_port = free_port(), free_port()
    gateway, mocks = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{mocks_port}"
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    environment = clean_environment(EPOLICY_INSTANCE_PATH=str(instance), EPOLICY_LOG_FORMAT="json")
    command = [str(EPOLICY), "stack", "--port", str(port), "--mocks-port", str(mocks_port)]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(command, env=environment, stdout=stdout, stderr=stderr)
    try:
        said = wait_for(out, "Ctrl-C stops it.", process)
        # Every address it names answers.
        assert requests.get(f"{gateway}/readyz", timeout=10).status_code == 200
        for page in (f"{gateway}/portal/", f"{gateway}/docs", f"{mocks}/oauth/jwks"):
            assert requests.get(page, timeout=10).status_code == 200, page
    finally:
        stopped = interrupted(process)
    assert stopped == 0, err.read_text()
    summary = [line.split() for line in said.splitlines() if line.startswith("  ")]
    assert [words[:2] for words in summary] == [
        ["portal", f"{gateway}/portal/"],
        ["API", "docs"],
        ["API", f"{gateway}/api/v1/"],
        ["mocks", mocks],
        ["mock", "OAuth"],
    ]
    assert f"{gateway}/docs" in said and f"{mocks}/oauth" in said
    assert "log in as ivanova, password ivanova-test" in said
    assert said.count("The stack is up") == 1
    assert out.read_text().splitlines()[-1] == (
        f"Stopped the gateway and its workers ({gateway}) and the mocks ({mocks})."
    )
    assert (instance / "epolicy.sqlite3").is_file()
    # The logs: JSON lines alone on stderr, each timestamp RFC 3339 with its zone.
    logged = [json.loads(line) for line in err.read_text().splitlines()]
    assert {line["logger"] for line in logged} >= {"epolicy", "gateway.worker"}
    for line in logged:
        assert RFC_3339.fullmatch(line["timestamp"]), line


@pytest.mark.network
def test_the_stack_with_bad_settings_ends_with_a_line_for_each_and_nothing_else(tmp_path: Path) -> None:
    environment = clean_environment(
        EPOLICY_INSTANCE_PATH=str(tmp_path),
        EPOLICY_WORKER_THREADS="two",
        EPOLICY_RATELIMIT_PER_SUBJECT="lots",
    )
    command = [str(EPOLICY), "stack", "--port", str(free_port()), "--mocks-port", str(free_port())]
    ended = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=60)
    assert ended.returncode == 1
    assert ended.stdout == ""
    assert ended.stderr.splitlines() == [
        "Error: EPOLICY_WORKER_THREADS='two': a whole number is expected",
        "Error: EPOLICY_RATELIMIT_PER_SUBJECT='lots' is no rate limit: write it as '60/minute' or '10/second;600/hour'",
    ]
