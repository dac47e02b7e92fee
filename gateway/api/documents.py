"""`GET /api/v1/policies/{enp}/document`: the printable e-policy, a PDF extract with a QR code of the ЕНП.

The holder's names are printed in full, unlike the masked surname of the status: the extract is the holder's own
document, to be shown at a clinic, and only the holder and the person who applied for them (a parent, a
guardian) may get it: the scope is `epolicy.read` alone, with the same visibility check as the status. Service
clients (`epolicy.eligibility`) read any policy's status, so they are refused here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from flask import Response

from gateway.api.common import caller, dependencies
from gateway.api.docs import ENP
from gateway.api.operation import Answer, Routes
from gateway.documents import PolicyExtract, render_policy_extract
from gateway.domain.reference import Reference
from gateway.usecases.policies import PolicyContext, Reader, policy_status

routes = Routes("documents", __name__, url_prefix="/api/v1/policies", tag="policies")
bp = routes.blueprint
PDF = "application/pdf"


class Needs(Protocol):
    """What the document view uses of the app's services."""

    @property
    def policies(self) -> PolicyContext: ...
    @property
    def reference(self) -> Reference: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...
    @property
    def demo_mark(self) -> bool: ...


@routes.get(
    "/<enp>/document", "getPolicyDocument", "Выписка о полисе ОМС в PDF с QR-кодом ЕНП",
    Answer(200, None, "application/pdf: выписка из единого регистра застрахованных лиц (ЕНП, статус, СМО, "
           "регион, форма, срок действия, ФИО и дата рождения застрахованного, дата выписки) и QR-код с ЕНП"),
    scopes=("epolicy.read",), errors=(401, 403, 404, 422, 503), parameters=(ENP,), media_type=PDF,
    problems={422: ("enp-checksum",)},
)  # fmt: skip
def document(enp: str) -> Response:
    """The policy extract as a PDF, for the holder or whoever applied for them."""
    found: Needs = dependencies()
    policy = policy_status(enp, Reader(caller()), found.policies)
    insurer = found.reference.insurers.get(policy.insurer_code)
    extract = PolicyExtract(
        policy=policy,
        insurer_name=insurer.name if insurer else None,
        region_name=found.reference.regions.get(policy.region_code),
        issued_at=found.clock(),
        demo=found.demo_mark,
    )
    response = Response(render_policy_extract(extract), 200, mimetype=PDF)
    response.headers["Content-Disposition"] = f'inline; filename="policy-{policy.enp}.pdf"'
    # Personal data: neither a shared cache nor the browser's disk cache keeps it.
    response.headers["Cache-Control"] = "no-store"
    return response
