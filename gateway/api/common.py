"""What every API view needs: its dependencies, the caller, the answer's ETag."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Response, current_app, request

from gateway.auth import current_token
from gateway.domain.applications import Owner
from gateway.domain.identifiers import normalize_identifier

# Where create_app keeps the object that holds the app's dependencies (gateway/bootstrap.py builds it).
DEPENDENCIES = "epolicy"


def dependencies() -> Any:
    """The current app's dependencies. Each feature module reads them through one accessor of its own, typed with
    a Protocol that names only what that module uses; the composition root (gateway/bootstrap.py) provides them."""
    return current_app.extensions[DEPENDENCIES]


def caller() -> Owner:
    """The owner of the current token: its subject and, for a citizen, their СНИЛС."""
    token = current_token()
    # An identity provider may write the СНИЛС as printed ("112-233-445 95"); the registry's records have digits.
    snils = normalize_identifier(token.snils) if token.snils else None
    return Owner(sub=token.sub, snils=snils or None)


def fingerprint(body: dict[str, Any], scope: str) -> str:
    """SHA-256 of the canonical JSON of a body (sorted keys, no spaces), bound to the endpoint it was sent to."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{scope}\n{canonical}".encode()).hexdigest()


def conditional(response: Response) -> Response:
    """A strong ETag over the body, and 304 Not Modified when the request's If-None-Match names it.

    A portal polling a status, or a clinic's system re-reading a policy, gets an empty answer while nothing changed.
    """
    response.add_etag()
    response.make_conditional(request)  # turns `response` itself into the 304 when the tag matches
    return response


# TRANSITION: removed once every module is declared with gateway.api.operation.
services = dependencies


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), status, mimetype="application/json")
    response.headers.update(headers or {})
    return response
