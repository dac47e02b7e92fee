"""`GET /api/v1/policies/{enp}/document`: the printable e-policy, a PDF extract with a QR code of the ЕНП.

The holder's names are printed in full, unlike the masked surname of the status: the extract is the holder's own
document, to be shown at a clinic, and only the holder and the person who applied for them (a parent, a
guardian) may get it: the scope is `epolicy.read` alone, with the same visibility check as the status. Service
clients (`epolicy.eligibility`) read any policy's status, so they are refused here.
"""

from __future__ import annotations

from flask import Blueprint, Response

from gateway.api.common import caller, services
from gateway.api.docs import ENP, Operation
from gateway.auth import require_scope
from gateway.documents import PolicyExtract, render_policy_extract
from gateway.usecases.policies import Reader, policy_status

bp = Blueprint("documents", __name__, url_prefix="/api/v1/policies")
PDF = "application/pdf"


@bp.get("/<enp>/document")
@require_scope("epolicy.read")
def document(enp: str) -> Response:
    """The policy extract as a PDF, for the holder or whoever applied for them."""
    found = services()
    policy = policy_status(enp, Reader(caller()), found.policies)
    insurer = found.reference.insurers.get(policy.insurer_code)
    extract = PolicyExtract(
        policy=policy,
        insurer_name=insurer.name if insurer else None,
        region_name=found.reference.regions.get(policy.region_code),
        issued_at=found.clock(),
        demo=found.settings.demo_mark,
    )
    response = Response(render_policy_extract(extract), 200, mimetype=PDF)
    response.headers["Content-Disposition"] = f'inline; filename="policy-{policy.enp}.pdf"'
    # Personal data: neither a shared cache nor the browser's disk cache keeps it.
    response.headers["Cache-Control"] = "no-store"
    return response


DOCS = [
    Operation("/api/v1/policies/{enp}/document", "get", "getPolicyDocument",
              "Выписка о полисе ОМС в PDF с QR-кодом ЕНП", "policies",
              (200, None, "application/pdf: выписка из единого регистра застрахованных лиц (ЕНП, статус, СМО, "
               "регион, форма, срок действия, ФИО и дата рождения застрахованного, дата выписки) и QR-код с ЕНП"),
              ("epolicy.read",), None, (401, 403, 404, 422, 503), [ENP], media_type="application/pdf",
              problems={422: ("enp-checksum",)}),
]  # fmt: skip
