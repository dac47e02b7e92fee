"""The production profile: gunicorn with deploy/gunicorn.conf.py serves the gateway, JSON logs, summed metrics."""

from __future__ import annotations

import json
import os
import re
import runpy
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from gunicorn.config import Config  # type: ignore[import-untyped]

from gateway.storage import upgrade
from tests.support.ops import value, wait_until_healthy
from tests.support.stack import EPOLICY, free_port

# The tests talk to gunicorn and a worker process.
pytestmark = pytest.mark.network

ROOT = Path(__file__).parents[2]
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
GUNICORN = Path(sys.executable).with_name("gunicorn")
SETTINGS = (
    "EPOLICY_HOST",
    "EPOLICY_PORT",
    "EPOLICY_WEB_WORKERS",
    "EPOLICY_WEB_THREADS",
    "EPOLICY_WEB_TIMEOUT",
    "EPOLICY_WEB_GRACEFUL_TIMEOUT",
    "EPOLICY_WEB_KEEPALIVE",
    "EPOLICY_WEB_MAX_REQUESTS",
    "EPOLICY_FORWARDED_ALLOW_IPS",
    "EPOLICY_LOG_LEVEL",
    "EPOLICY_LOG_FORMAT",
)


def gunicorn_config(monkeypatch: pytest.MonkeyPatch, **env: str) -> Config:
    """The settings gunicorn takes from the config file under `env` (checked by gunicorn's own validators)."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    for name, setting in env.items():
        monkeypatch.setenv(name, setting)
    config = Config()
    for name, setting in runpy.run_path(str(CONFIG)).items():
        if name in config.settings:
            config.set(name, setting)
    return config


def test_the_config_file_reads_its_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    config = gunicorn_config(
        monkeypatch,
        EPOLICY_HOST="0.0.0.0",  # noqa: S104 - what a container behind a load balancer sets
        EPOLICY_PORT="9000",
        EPOLICY_WEB_WORKERS="3",
        EPOLICY_WEB_THREADS="12",
        EPOLICY_WEB_TIMEOUT="45",
        EPOLICY_WEB_GRACEFUL_TIMEOUT="20",
        EPOLICY_WEB_KEEPALIVE="75",
        EPOLICY_WEB_MAX_REQUESTS="10000",
        EPOLICY_FORWARDED_ALLOW_IPS="10.0.0.5,10.0.0.6",
        EPOLICY_LOG_LEVEL="WARNING",
        EPOLICY_LOG_FORMAT="text",
    )

    assert config.bind == ["0.0.0.0:9000"]
    assert (config.workers, config.threads, config.worker_class_str) == (3, 12, "gthread")
    assert (config.timeout, config.graceful_timeout, config.keepalive) == (45, 20, 75)
    assert (config.max_requests, config.max_requests_jitter) == (10000, 1000)
    assert config.forwarded_allow_ips == ["10.0.0.5", "10.0.0.6"]
    assert config.loglevel == "warning"
    assert config.logconfig_dict["handlers"]["gunicorn"]["formatter"] == "text"


def test_the_config_file_has_defaults_for_one_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    config = gunicorn_config(monkeypatch)

    assert config.bind == ["127.0.0.1:8080"]
    assert config.settings["wsgi_app"].get() == "gateway.wsgi:app"
    assert (config.workers, config.threads, config.worker_class_str) == (len(os.sched_getaffinity(0)), 8, "gthread")
    assert (config.timeout, config.max_requests) == (60, 0)
    assert config.preload_app is False
    assert config.worker_tmp_dir == ("/dev/shm" if Path("/dev/shm").is_dir() else None)  # noqa: S108
    assert config.accesslog is None, "the gateway logs each request itself, without the path"
    assert config.logconfig_dict["loggers"]["gunicorn.access"]["handlers"] == []
    assert config.logconfig_dict["handlers"]["gunicorn"]["formatter"] == "json"
    assert config.forwarded_allow_ips == ["127.0.0.1", "::1"]


def test_an_ipv6_host_is_bound_in_brackets(monkeypatch: pytest.MonkeyPatch) -> None:
    assert gunicorn_config(monkeypatch, EPOLICY_HOST="::1", EPOLICY_PORT="8443").bind == ["[::1]:8443"]


def test_gunicorn_serves_health_and_the_metrics_of_all_its_processes_and_logs_json(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/epolicy.sqlite3"
    upgrade(database)
    port = free_port()
    env = dict(
        os.environ,
        EPOLICY_HOST="127.0.0.1",
        EPOLICY_PORT=str(port),
        EPOLICY_DATABASE_URL=database,
        EPOLICY_WEB_WORKERS="2",
        EPOLICY_WEB_THREADS="2",
        EPOLICY_LOG_LEVEL="INFO",
    )
    for name in ("PROMETHEUS_MULTIPROC_DIR", "EPOLICY_METRICS_DIR", "EPOLICY_LOG_FORMAT"):
        env.pop(name, None)
    log = tmp_path / "gunicorn.log"
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        process = subprocess.Popen([str(GUNICORN), "-c", str(CONFIG)], cwd=ROOT, env=env, stdout=output, stderr=output)
    try:
        wait_until_healthy(base, process, log)
        for _ in range(6):
            assert requests.get(f"{base}/api/v1/rejection-reasons", timeout=10).status_code == 200
        answer = requests.get(f"{base}/metrics", timeout=5)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=40)
    assert process.returncode == 0

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    catalogue = {"method": "GET", "endpoint": "/api/v1/rejection-reasons", "status": "200"}
    # Whichever process answered each request and the scrape: the scrape adds up the counts of every process.
    assert value(answer.text, "epolicy_http_requests_total", **catalogue) == 6
    assert value(answer.text, "epolicy_outbox_depth", state="due") == 0
    assert "epolicy_outbox_oldest_pending_age_seconds 0.0" in answer.text
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert {line["logger"] for line in lines} >= {"gunicorn.error", "epolicy.request"}
    assert sum(1 for line in lines if line["logger"] == "gunicorn.error" and "Booting worker" in line["message"]) == 2
    requested = [line for line in lines if line["logger"] == "epolicy.request"]
    assert [line["endpoint"] for line in requested] == ["/api/v1/rejection-reasons"] * 6, "probes log at DEBUG"
    assert len({line["request_id"] for line in requested}) == 6
    [metrics_dir] = [
        re.sub(r"^metrics of every process in ", "", line["message"])
        for line in lines
        if line["message"].startswith("metrics of every process in ")
    ]
    assert not Path(metrics_dir).exists(), "the directory of the processes' counters is removed at exit"


def test_a_worker_process_serves_its_metrics_on_a_port_and_logs_json(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/epolicy.sqlite3"
    upgrade(database)
    port = free_port()
    env = dict(os.environ, EPOLICY_DATABASE_URL=database, EPOLICY_WORKER_POLL_SECONDS="0.05")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [str(EPOLICY), "worker", "--threads", "1", "--log-format", "json", "--metrics-port", str(port)]
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(log.read_text(errors="replace")) from None
                time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0

    assert answer.status_code == 200
    assert value(answer.text, "epolicy_outbox_depth", state="due") == 0
    assert "# TYPE epolicy_backend_calls_total counter" in answer.text
    messages = [json.loads(line)["message"] for line in log.read_text().splitlines()]
    assert f"worker metrics on http://127.0.0.1:{port}/metrics" in messages
    assert any(message.endswith(" stopped") for message in messages)
