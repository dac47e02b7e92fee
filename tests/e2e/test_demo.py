"""`epolicy demo` on the running stack: a policy issued, replaced, and a refusal with reason and recommendation."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from gateway.catalogue import Catalogue
from gateway.cli import main
from mocks.demo import run_demo
from tests.support.stack import Stack, free_port

# The tests talk to the demo and the stack in subprocesses.
pytestmark = pytest.mark.network


def test_the_demo_issues_replaces_and_shows_a_refusal_with_its_recommendation(stack: Stack) -> None:
    lines: list[str] = []
    outcome = run_demo(stack.gateway, stack.mocks, lines.append, timeout=30, poll=0.1)
    transcript = "\n".join(lines)
    flat = " ".join(transcript.split())
    assert outcome.enp in transcript
    assert "принято → проверка в фонде → оформление в СМО → полис выдан" in transcript
    assert "Статус: действует" in flat
    assert f"{outcome.replacement_id} (замена)" in transcript
    assert f"ЕНП: {outcome.enp} (тот же)" in flat
    assert "принято → проверка в фонде → отказ" in transcript
    assert outcome.refusal_code == "ALREADY_INSURED_SAME_INSURER"
    entry = Catalogue.load().entry(outcome.refusal_code)
    assert f"Причина: {entry.code} — сообщает фонд (ТФОМС)" in flat
    assert f"Сообщение: {entry.message}" in flat
    assert f"Рекомендация: {' '.join(entry.recommendation.split())}" in flat
    assert transcript.endswith("отказ пришёл с причиной и рекомендацией.")
    # The СНИЛС and the passport number are shown masked, as the example to follow.
    assert re.search(r"СНИЛС:\s+\*\*\*-\*\*\*-\*\*\* \d\d", transcript)
    # Application ids and the made-up user's id (demo-<8 hex>) may hold runs of digits; they are no personal data.
    personal = re.sub(r"app_\w+|demo-[0-9a-f]{8}", "", transcript)
    assert not re.search(r"\d{3}-\d{3}-\d{3}|(?<!\d)\d{11}(?!\d)|(?<!\d)\d{6}(?!\d)", personal)


def test_the_demo_command_prints_the_walk_through_and_exits_0(stack: Stack) -> None:
    arguments = ["demo", "--gateway-url", stack.gateway, "--mocks-url", stack.mocks, "--timeout", "30"]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    assert "полис выдан" in result.output
    assert "Рекомендация:" in result.output


def test_the_demo_command_says_the_stack_is_not_running_and_exits_1() -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(main, ["demo", "--gateway-url", nowhere, "--mocks-url", nowhere])
    assert result.exit_code == 1
    assert f"Шлюз не отвечает ({nowhere}/healthz)" in result.stderr
    assert "make run" in result.stderr
