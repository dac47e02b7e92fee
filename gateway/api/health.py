"""Liveness and readiness, without a token.

/healthz is the process alone: no database, no back-end, so it answers whatever they do. /readyz answers the last
run of the checks of gateway/readiness.py, which run at most once an interval whoever calls.
"""

from __future__ import annotations

import math

from flask import Blueprint, Response

from gateway.api import responses as out
from gateway.api.applications import json_response
from gateway.api.common import services
from gateway.api.docs import Operation
from gateway.api.problems import problem
from gateway.readiness import READY

NOT_READY = "not-ready"

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process answers."""
    return json_response({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """The database and every back-end answered at the last check; 503 problem+json naming what did not."""
    runner = services().readiness
    if runner is None:
        raise RuntimeError("the services have no readiness runner (gateway.bootstrap.build_services makes one)")
    result = runner.current()
    checks, checked_at = dict(result.checks), result.checked_at.isoformat(timespec="milliseconds")
    if result.ready:
        return json_response({"status": "ok", "checks": checks, "checked_at": checked_at})
    failing = ", ".join(name for name, state in checks.items() if state not in READY)
    # The next run may come no sooner than one interval: asking again before it would read the same answer.
    retry_after = str(max(math.ceil(runner.interval), 1))
    detail = f"Шлюз не готов принимать запросы: недоступно — {failing}."
    return problem(503, NOT_READY, detail, {"Retry-After": retry_after}, checks=checks, checked_at=checked_at)


DOCS = [
    Operation("/healthz", "get", "healthz", "Процесс жив", "health", (200, out.HealthOut, "Жив")),
    Operation("/readyz", "get", "readyz", "База данных и фонд доступны", "health",
              (200, out.HealthOut, "Готов: каждая проверка в checks — ok (у автоматов — closed)"), None, None, (503,),
              problems={503: ("not-ready",)}, error_schema="NotReady"),
]  # fmt: skip
