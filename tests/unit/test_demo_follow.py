"""The demo's account of an application's steps, whatever number of polls it took to see them."""

from __future__ import annotations

from typing import Any

import responses

from mocks.demo import Walkthrough

GATEWAY = "http://gateway.test"


def history(*statuses: str) -> dict[str, Any]:
    return {"id": "app_1", "status": statuses[-1], "history": [{"status": status} for status in statuses]}


def test_a_step_seen_over_several_polls_is_told_once() -> None:
    lines: list[str] = []
    walk = Walkthrough(GATEWAY, "http://mocks.test", lines.append, timeout=5, poll=0)
    with responses.RequestsMock() as wire:
        for body in (history("accepted", "verifying"), history("accepted", "verifying", "issuing", "issued")):
            wire.get(f"{GATEWAY}/api/v1/applications/app_1", json=body)
        walk.follow({"id": "app_1"})
    assert " ".join(" ".join(lines).split()).count("принято") == 1
