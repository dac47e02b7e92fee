"""Reference data for front-ends: insurers admitted in a region, and the reason catalogue."""

from __future__ import annotations

from flask import Blueprint, Response, request

from gateway.api import render
from gateway.api import responses as out
from gateway.api.applications import json_response
from gateway.api.common import services
from gateway.api.docs import REGION_CODE, Operation
from gateway.api.problems import ProblemError
from gateway.auth import require_scope
from gateway.usecases.policies import ask_fund

bp = Blueprint("reference", __name__, url_prefix="/api/v1")


@bp.get("/insurers")
@require_scope()
def insurers() -> Response:
    """Insurers admitted in a region, as the fund lists them today."""
    region = request.args.get("region_code", "")
    if region not in services().reference.regions:
        raise ProblemError(400, "bad-region", "region_code должен быть кодом субъекта РФ из двух цифр.")
    found = ask_fund(
        services().catalogue, region, lambda: services().fund.list_insurers(services().read_message_id(), region)
    )
    return json_response({"region_code": region, "items": [render.insurer(item) for item in found]})


@bp.get("/rejection-reasons")
def rejection_reasons() -> Response:
    """The whole reason catalogue; public, so that front-ends can show reasons and recommendations."""
    entries = services().catalogue.entries()
    response = json_response({"version": 1, "items": [entry.to_json() for entry in entries]})
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


DOCS = [
    Operation("/api/v1/insurers", "get", "listInsurers", "Страховые организации, допущенные в регионе",
              "reference", (200, out.InsurerListOut, "Страховые организации"), (), None, (400, 401, 503),
              [REGION_CODE], problems={400: ("bad-region",)}),
    Operation("/api/v1/rejection-reasons", "get", "listRejectionReasons", "Каталог причин отказа", "reference",
              (200, out.CatalogueOut, "Каталог")),
]  # fmt: skip
