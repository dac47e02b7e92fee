"""redocly lint (the version package.json pins, with redocly.yaml) finds nothing wrong in the generated document.

Its rules go beyond the OpenAPI schema: every operation names its security (`security: []` for the public ones),
the info has a license, every example matches its schema, every operation but the probes documents a 4xx answer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.openapi import document, dump_yaml, render_yaml
from gateway.ui.docs import served_document
from tests.support.services import missing_service

ROOT = Path(__file__).parents[2]
REDOCLY = ROOT / "node_modules" / ".bin" / "redocly"
CONFIG = ROOT / "redocly.yaml"
# No usage report sent and no check for a newer version: the lint works offline, the same on every run.
QUIET = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}


@pytest.fixture(scope="module")
def redocly() -> Path:
    if shutil.which("node") is None:
        missing_service("node is not installed: redocly lint needs Node.js and npm (make node_modules/.installed)")
    if not REDOCLY.exists():
        missing_service("redocly is not installed: run `make node_modules/.installed` (npm ci from package-lock.json)")
    return REDOCLY


def lint(redocly: Path, text: str, folder: Path) -> list[dict[str, Any]]:
    """The problems (errors and warnings) redocly finds in an OpenAPI document given as YAML."""
    path = folder / "openapi.yaml"
    path.write_text(text, encoding="utf-8")
    command = [str(redocly), "lint", str(path), "--config", str(CONFIG), "--format", "json"]
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, cwd=ROOT, env={**os.environ, **QUIET}
    )
    try:
        report: dict[str, Any] = json.loads(run.stdout)
    except ValueError:
        pytest.fail(f"redocly lint did not report in JSON (exit {run.returncode}):\n{run.stdout}\n{run.stderr}")
    problems: list[dict[str, Any]] = report["problems"]
    return problems


def described(problems: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{p['severity']} {p['ruleId']} at {p['location'][0]['pointer']}: {p['message']}" for p in problems
    )


def test_the_generated_document_passes_redocly_lint_with_no_error_and_no_warning(redocly: Path, tmp_path: Path) -> None:
    problems = lint(redocly, render_yaml(), tmp_path)
    assert problems == [], described(problems)


def test_the_document_served_at_docs_passes_too(redocly: Path, tmp_path: Path) -> None:
    problems = lint(redocly, dump_yaml(served_document("http://auth.test.invalid:47123/esia")), tmp_path)
    assert problems == [], described(problems)


def test_the_lint_reports_what_it_is_here_for(redocly: Path, tmp_path: Path) -> None:
    broken = document()
    catalogue = broken["paths"]["/api/v1/rejection-reasons"]["get"]
    del catalogue["security"]  # a public operation that does not say so
    for status in [status for status in catalogue["responses"] if status.startswith("4")]:
        del catalogue["responses"][status]  # and documents no 4xx answer
    del broken["info"]["license"]
    broken["components"]["examples"]["not-found"]["value"]["status"] = "404"  # an example off its schema
    problems = lint(redocly, yaml.safe_dump(broken, allow_unicode=True), tmp_path)
    found = {(problem["ruleId"], problem["location"][0]["pointer"]) for problem in problems}
    assert ("security-defined", "#/paths/~1api~1v1~1rejection-reasons/get") in found, described(problems)
    assert ("rule/operation-4xx-response", "#/paths/~1api~1v1~1rejection-reasons/get/responses") in found
    assert ("info-license", "#/info") in found
    assert any(rule == "no-invalid-media-type-examples" and "not-found" in at for rule, at in found), found
    # The probes have no 4xx answer, and the rule that replaces the built-in one leaves them alone.
    assert not [at for rule, at in found if rule == "rule/operation-4xx-response" and "z/get" in at]
