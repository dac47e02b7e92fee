"""Liveness and readiness, without a token."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from sqlalchemy import text

from gateway.api import responses as out
from gateway.api.applications import json_response
from gateway.api.common import services
from gateway.api.docs import Operation
from gateway.ports import BackendError, BackendUnavailable

PROBE_IIN = "000000000000"

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process answers."""
    return json_response({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """The database, the fund, every insurer and the Kazakh fund are reachable; 503 naming what is not."""
    checks: dict[str, Any] = {}
    engine = services().engine
    if engine is not None:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as error:  # any failure means not ready; the kind is reported
            checks["database"] = f"unavailable: {type(error).__name__}"
    probe = services().read_message_id()
    try:
        services().fund.list_insurers(probe, min(services().reference.regions))
        checks["fund"] = "ok"
    except BackendUnavailable as outage:
        checks["fund"] = f"unavailable: {outage.reason}"
    insurers = services().insurers
    for code in sorted(insurers.codes()):
        port = insurers.get(code)
        try:
            # A read of an application that does not exist: harmless, and it crosses the whole SOAP path.
            if port is not None:
                port.application_state(probe, probe)
            checks[f"insurer {code}"] = "ok"
        except BackendUnavailable as outage:
            checks[f"insurer {code}"] = f"unavailable: {outage.reason}"
    kz_fund = services().kz_fund
    if kz_fund is not None:
        try:
            # An ИИН no one has: any answer, "not found" or a refusal, shows the Kazakh fund is there.
            kz_fund.insurance_status(probe, PROBE_IIN)
        except BackendUnavailable as outage:
            checks["kz fund"] = f"unavailable: {outage.reason}"
        except BackendError:
            checks["kz fund"] = "ok"
        else:
            checks["kz fund"] = "ok"
    for name, breaker in sorted(services().breakers.items()):
        # closed, open or half-open: an open breaker already made its back-end's check fail fast above.
        checks[f"breaker {name}"] = breaker.state.value
    ready = all(value in ("ok", "closed") for value in checks.values())
    return json_response({"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503)


DOCS = [
    Operation("/healthz", "get", "healthz", "Процесс жив", "health", (200, out.HealthOut, "Жив")),
    Operation("/readyz", "get", "readyz", "База данных и фонд доступны", "health",
              (200, out.HealthOut, "Готов: каждая проверка в checks — ok (у автоматов — closed)"), None, None, (503,),
              problems={503: ("not-ready",)}, error_schema="NotReady"),
]  # fmt: skip
