"""Operations' helpers: read a Prometheus exposition, wait until a started server is healthy."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.gateway import Gateway

MakeGateway = Callable[..., Gateway]


def value(exposition: str, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series is not there yet (as Prometheus reads an absent counter)."""
    return samples(exposition).get((name, frozenset(labels.items())), 0.0)


def wait_until_healthy(base: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 90) -> None:
    """Wait for `base`/healthz to answer 200; kill `process` and fail with the tail of its log if it does not."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            # The port is open before the processes have booted: a long read timeout waits for them.
            if requests.get(f"{base}/healthz", timeout=30).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"{base} did not start:\n{log.read_text(errors='replace')[-5000:]}")
        time.sleep(0.1)


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text exposition, by name and labels."""
    found = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found
