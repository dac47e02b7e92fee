"""`/api/v1/policies`: a policy's status, and replacing a policy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from flask import Response

from gateway.api import responses as out
from gateway.api.applications import SUBMISSION_PROBLEMS, loaded_or_refused, submit
from gateway.api.common import caller, dependencies
from gateway.api.docs import ENP, IDEMPOTENCY_KEY, LOCATION, REPLACEMENT_EXAMPLES
from gateway.api.operation import Answer, Routes
from gateway.api.schemas import ReplacementSchema, replacement_request
from gateway.auth import current_token
from gateway.domain.reference import Reference
from gateway.usecases.errors import InputRejected
from gateway.usecases.policies import PolicyContext, Reader, check_enp, ensure_visible, policy_card

routes = Routes("policies", __name__, url_prefix="/api/v1/policies", tag="policies")
bp = routes.blueprint


class Needs(Protocol):
    """What the policies' views use of the app's services."""

    @property
    def policies(self) -> PolicyContext: ...
    @property
    def reference(self) -> Reference: ...


def _needs() -> Needs:
    found: Needs = dependencies()
    return found


@routes.get(
    "/<enp>", "getPolicy", "Статус полиса по ЕНП", Answer(200, out.PolicyOut, "Статус полиса"),
    scopes=("epolicy.read", "epolicy.eligibility"), errors=(401, 403, 404, 422, 503), parameters=(ENP,),
    problems={422: ("enp-checksum",)}, conditional=True,
)  # fmt: skip
def status(enp: str) -> out.ShownPolicy:
    """The status of a policy: the caller's own and their applicants', or any for a service client."""
    needs = _needs()
    reader = Reader(caller(), may_read_any="epolicy.eligibility" in current_token().scopes)
    card = policy_card(enp, reader, needs.policies)
    insurer = needs.reference.insurers.get(card.policy.insurer_code)
    return out.ShownPolicy(card.policy, insurer.name if insurer else None, card.attachment)


@routes.post(
    "/<enp>/replacements", "replacePolicy", "Заменить или переоформить полис",
    Answer(202, out.ApplicationOut, "Заявление на замену принято"), scopes=("epolicy.replace",),
    body=ReplacementSchema, load=loaded_or_refused, errors=(400, 401, 403, 404, 409, 415, 422, 503),
    parameters=(ENP, IDEMPOTENCY_KEY), headers=LOCATION, examples=REPLACEMENT_EXAMPLES,
    problems={**SUBMISSION_PROBLEMS, 422: ("insurer-not-admitted", "enp-checksum", "idempotency-key-reused")},
)  # fmt: skip
def replace(enp: str, body: Mapping[str, Any] | InputRejected) -> Response:
    """Replace or re-issue a policy the caller may see."""
    context = _needs().policies
    check_enp(enp, context.catalogue)
    ensure_visible(enp, Reader(caller()), context)
    request_data = body if isinstance(body, InputRejected) else replacement_request(enp, body)
    return submit(request_data, f"POST /api/v1/policies/{enp}/replacements")
