"""Reference data for front-ends: insurers admitted in a region, and the reason catalogue."""

from __future__ import annotations

from typing import Any, Protocol

from flask import Response, request

from gateway.api import responses as out
from gateway.api.common import dependencies
from gateway.api.docs import REGION_CODE
from gateway.api.operation import Answer, Routes
from gateway.api.problems import ProblemError
from gateway.catalogue import Catalogue
from gateway.domain.reference import Reference
from gateway.ports import FundReads
from gateway.usecases.policies import ask_fund

routes = Routes("reference", __name__, url_prefix="/api/v1", tag="reference")
bp = routes.blueprint


class Needs(Protocol):
    """What the reference views use of the app's services."""

    @property
    def catalogue(self) -> Catalogue: ...
    @property
    def reference(self) -> Reference: ...
    @property
    def fund(self) -> FundReads: ...
    def read_message_id(self) -> str: ...


def _needs() -> Needs:
    found: Needs = dependencies()
    return found


@routes.get(
    "/insurers", "listInsurers", "Страховые организации, допущенные в регионе",
    Answer(200, out.InsurerListOut, "Страховые организации"), scopes=(), errors=(400, 401, 503),
    parameters=(REGION_CODE,), problems={400: ("bad-region",)},
)  # fmt: skip
def insurers() -> dict[str, Any]:
    """Insurers admitted in a region, as the fund lists them today."""
    needs = _needs()
    region = request.args.get("region_code", "")
    if region not in needs.reference.regions:
        raise ProblemError(400, "bad-region", "region_code должен быть кодом субъекта РФ из двух цифр.")
    found = ask_fund(needs.catalogue, region, lambda: needs.fund.list_insurers(needs.read_message_id(), region))
    return {"region_code": region, "items": found}


@routes.get(
    "/rejection-reasons", "listRejectionReasons", "Каталог причин отказа", Answer(200, out.CatalogueOut, "Каталог")
)
def rejection_reasons() -> Response:
    """The whole reason catalogue; public, so that front-ends can show reasons and recommendations."""
    items = {"version": 1, "items": _needs().catalogue.entries()}
    response = Response(out.render(out.CatalogueOut, items), mimetype="application/json")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response
