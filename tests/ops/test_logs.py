"""JSON logs: one object a line, with the request, correlation and application ids, and no personal data."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.domain.model import Source
from gateway.logs import configure_logging, make_handler, mask_personal_numbers
from gateway.worker import Worker
from tests.support.bodies import BODY
from tests.support.fakes import unavailable
from tests.support.gateway import Gateway

# The tests take tokens from the mock OAuth server over HTTP.
pytestmark = pytest.mark.network

# The applicant's personal data as BODY sends it, and as the digits alone.
PERSONAL = ("11223344595", "112-233-445 95", "500100732259", "4510", "123456", "Иванова", "Анна", "1990-05-17")


class Captured:
    """What the root logger wrote through a JSON handler, line by line."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines()]

    def of(self, logger: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["logger"] == logger]


@pytest.fixture
def captured() -> Iterator[Captured]:
    stream = io.StringIO()
    handler = make_handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield Captured(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_every_request_leaves_one_line_with_its_ids_and_the_new_applications_id(
    gateway: Gateway, captured: Captured
) -> None:
    headers = {**gateway.auth(), "X-Correlation-ID": "portal-42"}
    answer = gateway.client.post("/api/v1/applications", json=BODY, headers=headers)
    assert answer.status_code == 202
    application_id = answer.get_json()["id"]

    [line] = captured.of("epolicy.request")
    assert line["request_id"] == answer.headers["X-Request-ID"]
    assert len(line["request_id"]) == 32
    assert line["correlation_id"] == "portal-42"
    assert line["application_id"] == application_id
    assert (line["method"], line["endpoint"], line["status"], line["level"]) == (
        "POST",
        "/api/v1/applications",
        202,
        "INFO",
    )
    assert line["duration_ms"] >= 0
    assert line["timestamp"].endswith("+00:00")
    assert line["message"].startswith("POST /api/v1/applications 202 ")
    for value in PERSONAL:
        assert value not in captured.text


def test_each_request_gets_a_new_request_id(gateway: Gateway, captured: Captured) -> None:
    first, second = gateway.client.get("/healthz"), gateway.client.get("/healthz")

    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert [line["request_id"] for line in captured.of("epolicy.request")] == [
        first.headers["X-Request-ID"],
        second.headers["X-Request-ID"],
    ]
    assert {line["level"] for line in captured.of("epolicy.request")} == {"DEBUG"}, "probes are quiet"


def test_a_view_of_one_application_logs_its_id_and_a_policy_view_no_enp(gateway: Gateway, captured: Captured) -> None:
    created = gateway.client.post("/api/v1/applications", json=BODY, headers=gateway.auth()).get_json()["id"]
    gateway.client.get(f"/api/v1/applications/{created}", headers=gateway.auth())
    gateway.client.get("/api/v1/applications/app_not-an-id-11223344595", headers=gateway.auth())
    gateway.client.get("/api/v1/policies/7754900882000015", headers=gateway.auth())

    read, unknown, policy = captured.of("epolicy.request")[1:]
    assert (read["endpoint"], read["application_id"]) == ("/api/v1/applications/<application_id>", created)
    assert unknown["application_id"] is None, "only a well-formed id from the path is taken"
    assert policy["endpoint"] == "/api/v1/policies/<enp>"
    assert "7754900882000015" not in captured.text
    assert "11223344595" not in captured.text


def test_a_worker_step_logs_the_application_it_carries(gateway: Gateway, captured: Captured) -> None:
    application_id = gateway.client.post("/api/v1/applications", json=BODY, headers=gateway.auth()).get_json()["id"]
    gateway.fund.fail("verify_person", unavailable(Source.FUND, "VerifyPerson"))
    worker = Worker(gateway.app.extensions["epolicy"].worker_context, "w1")
    worker.run_once()  # accepted → verifying
    worker.run_once()  # the fund is down: a warning, retried later

    [retry] = captured.of("gateway.usecases.processing")
    assert retry["level"] == "WARNING"
    assert retry["application_id"] == application_id
    assert retry["correlation_id"] == application_id
    assert retry["request_id"] is None
    for value in PERSONAL:
        assert value not in captured.text


def test_personal_numbers_in_any_message_are_masked(captured: Captured) -> None:
    log = logging.getLogger("epolicy.test")
    log.warning("СНИЛС %s и %s, паспорт %s", "112-233-445 95", "11223344595", "4510 123456")
    log.warning("ЕНП 7754900882000015, ИНН 500100732259, телефон +79161234567")
    try:
        raise ValueError("no person with СНИЛС 11223344595")
    except ValueError:
        log.exception("lookup failed")

    text = captured.text
    for value in ("112-233-445 95", "11223344595", "4510 123456", "7754900882000015", "500100732259", "9161234567"):
        assert value not in text
    first, second, failure = captured.lines()
    assert first["message"] == "СНИЛС ***-***-*** 95 и *********95, паспорт **** ****56"
    assert second["message"] == "ЕНП **************15, ИНН **********59, телефон +*********67"
    assert "*********95" in failure["exception"] and "ValueError" in failure["exception"]


def test_ids_ports_and_dates_are_not_taken_for_personal_numbers() -> None:
    kept = (
        "app_01JC4ZK8Y6V6S3WX9F2Q1R7T0M claimed by host:4242:0",
        "gateway on http://127.0.0.1:8080 (2 worker threads)",
        "stalled at 2026-03-02 09:00:00, correlation 1234567890abcdef1234567890abcdef",
    )
    for message in kept:
        assert mask_personal_numbers(message) == message


def test_the_text_format_keeps_its_shape_and_masks_too() -> None:
    stream = io.StringIO()
    handler = make_handler("text", stream)
    log = logging.getLogger("epolicy.text-test")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("СНИЛС %s", "11223344595")
    finally:
        log.removeHandler(handler)
        log.propagate = True
    assert stream.getvalue().endswith(" WARNING epolicy.text-test: СНИЛС *********95\n")


def test_configure_logging_installs_one_handler_in_the_chosen_format(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    level, before = root.level, list(root.handlers)
    try:
        configure_logging("INFO", "text")
        configure_logging("DEBUG", "json")  # a second call replaces the first handler, never adds one
        ours = [handler for handler in root.handlers if handler not in before]
        logging.getLogger("epolicy.test").debug("ЕНП %s", "7754900882000015")
    finally:
        for handler in root.handlers:
            if handler not in before:
                root.removeHandler(handler)
        root.setLevel(level)
    assert len(ours) == 1
    [line] = [json.loads(text) for text in capsys.readouterr().err.splitlines()]
    assert (line["level"], line["logger"], line["message"]) == ("DEBUG", "epolicy.test", "ЕНП **************15")


@pytest.mark.parametrize("command", ["serve", "worker", "stack"])
def test_the_commands_that_log_take_a_log_format(command: str) -> None:
    assert "--log-format [text|json]" in CliRunner().invoke(main, [command, "--help"]).output
    refused = CliRunner().invoke(main, [command, "--log-format", "yaml"])
    assert refused.exit_code == 2
    assert "Invalid value for '--log-format'" in refused.output
