"""Liveness and readiness, without a token."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from sqlalchemy import text

from gateway.api.applications import json_response
from gateway.api.common import services
from gateway.ports import BackendUnavailable

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process answers."""
    return json_response({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """The database and the fund are reachable; 503 naming what is not."""
    checks: dict[str, Any] = {}
    engine = services().engine
    if engine is not None:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as error:  # any failure means not ready; the kind is reported
            checks["database"] = f"unavailable: {type(error).__name__}"
    try:
        services().fund.list_insurers("rd_" + services().new_id()[4:], min(services().reference.regions))
        checks["fund"] = "ok"
    except BackendUnavailable as outage:
        checks["fund"] = f"unavailable: {outage.reason}"
    ready = all(value == "ok" for value in checks.values())
    return json_response({"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503)
