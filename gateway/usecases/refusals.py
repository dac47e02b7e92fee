"""A back-end's refusal as a reason of the catalogue: one translation for the worker and for the API's reads."""

from __future__ import annotations

from gateway.catalogue import Catalogue
from gateway.domain.model import Reason
from gateway.ports import BackendRefusal


def reason_of(refusal: BackendRefusal, catalogue: Catalogue) -> Reason:
    """The catalogue's reason for a refusal, on the field it concerns (the back-end's, else the catalogue's own)."""
    # The adapters map only the fields of the application's request; the catalogue knows the usual one.
    field = refusal.field or (catalogue.entry(refusal.code).field if refusal.code in catalogue else None)
    extra = {"allowed_from": refusal.allowed_from.isoformat()} if refusal.allowed_from else None
    return catalogue.backend_reason(refusal.source, refusal.code, refusal.message, field, extra)
