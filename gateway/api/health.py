"""Liveness and readiness, without a token.

/healthz is the process alone: no database, no back-end, so it answers whatever they do. /readyz answers the last
run of the checks of gateway/readiness.py, which run at most once an interval whoever calls.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from flask import Response

from gateway.api import responses as out
from gateway.api.common import dependencies
from gateway.api.operation import Answer, Routes
from gateway.api.problems import problem
from gateway.readiness import READY, ReadinessRunner

NOT_READY = "not-ready"

routes = Routes("health", __name__, tag="health")
bp = routes.blueprint


class Needs(Protocol):
    @property
    def readiness(self) -> ReadinessRunner | None: ...


@routes.get("/healthz", "healthz", "Процесс жив", Answer(200, out.HealthOut, "Жив"))
def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@routes.get(
    "/readyz", "readyz", "База данных и фонд доступны",
    Answer(200, out.HealthOut, "Готов: каждая проверка в checks — ok (у автоматов — closed)"), errors=(503,),
    problems={503: ("not-ready",)}, error_schema="NotReady",
)  # fmt: skip
def readyz() -> Response | dict[str, Any]:
    """The database and every back-end answered at the last check; 503 problem+json naming what did not."""
    needs: Needs = dependencies()
    runner = needs.readiness
    if runner is None:
        raise RuntimeError("the services have no readiness runner (gateway.bootstrap.build_services makes one)")
    result = runner.current()
    checks, checked_at = dict(result.checks), result.checked_at.isoformat(timespec="milliseconds")
    if result.ready:
        return {"status": "ok", "checks": checks, "checked_at": result.checked_at}
    failing = ", ".join(name for name, state in checks.items() if state not in READY)
    # The next run may come no sooner than one interval: asking again before it would read the same answer.
    retry_after = str(max(math.ceil(runner.interval), 1))
    detail = f"Шлюз не готов принимать запросы: недоступно — {failing}."
    return problem(503, NOT_READY, detail, {"Retry-After": retry_after}, checks=checks, checked_at=checked_at)
