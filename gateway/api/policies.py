"""`/api/v1/policies`: a policy's status, and replacing a policy."""

from __future__ import annotations

from flask import Blueprint, Response

from gateway.api import render
from gateway.api import responses as out
from gateway.api.applications import json_response, parse, submit
from gateway.api.common import caller, conditional, services
from gateway.api.docs import ENP, IDEMPOTENCY_KEY, LOCATION, REPLACEMENT_EXAMPLES, Operation
from gateway.api.schemas import ReplacementSchema, replacement_request
from gateway.auth import current_token, require_scope
from gateway.usecases.policies import Reader, check_enp, ensure_visible, policy_card

bp = Blueprint("policies", __name__, url_prefix="/api/v1/policies")


@bp.get("/<enp>")
@require_scope("epolicy.read", "epolicy.eligibility")
def status(enp: str) -> Response:
    """The status of a policy: the caller's own and their applicants', or any for a service client."""
    token = current_token()
    reader = Reader(caller(), may_read_any="epolicy.eligibility" in token.scopes)
    card = policy_card(enp, reader, services().policies)
    insurer = services().reference.insurers.get(card.policy.insurer_code)
    return conditional(json_response(render.policy(card.policy, insurer.name if insurer else None, card.attachment)))


@bp.post("/<enp>/replacements")
@require_scope("epolicy.replace")
def replace(enp: str) -> Response:
    """Replace or re-issue a policy the caller may see."""
    context = services().policies
    check_enp(enp, context.catalogue)
    ensure_visible(enp, Reader(caller()), context)
    return submit(
        lambda body: replacement_request(enp, parse(ReplacementSchema(), body)),
        f"POST /api/v1/policies/{enp}/replacements",
    )


DOCS = [
    Operation("/api/v1/policies/{enp}", "get", "getPolicy", "Статус полиса по ЕНП", "policies",
              (200, out.PolicyOut, "Статус полиса"), ("epolicy.read", "epolicy.eligibility"), None,
              (401, 403, 404, 422, 503), [ENP], problems={422: ("enp-checksum",)}, conditional=True),
    Operation("/api/v1/policies/{enp}/replacements", "post", "replacePolicy", "Заменить или переоформить полис",
              "policies", (202, out.ApplicationOut, "Заявление на замену принято"), ("epolicy.replace",),
              ReplacementSchema, (400, 401, 403, 404, 409, 415, 422, 503), [ENP, IDEMPOTENCY_KEY], LOCATION,
              examples=REPLACEMENT_EXAMPLES,
              problems={400: ("malformed-json", "not-an-object", "idempotency-key"), 409: ("idempotency-in-progress",),
                        422: ("insurer-not-admitted", "enp-checksum", "idempotency-key-reused")}),
]  # fmt: skip
