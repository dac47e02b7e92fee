"""What every API view needs: its dependencies, the caller, the answer's ETag."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from flask import Response, current_app, request
from werkzeug.http import http_date

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
    return fast_conditional(response)


def reference_conditional(response: Response) -> Response:
    """What `conditional` does, as werkzeug does it: `add_etag` and `make_conditional`."""
    response.add_etag()
    response.make_conditional(request)  # turns `response` itself into the 304 when the tag matches
    return response


# Request headers under which werkzeug's `make_conditional` has more to weigh than an ETag and an exact If-None-Match.
_CONDITIONS = ("HTTP_IF_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_RANGE", "HTTP_RANGE", "HTTP_IF_UNMODIFIED_SINCE")


def fast_conditional(response: Response) -> Response:
    """The fast path of `reference_conditional` for a GET of a whole body without an ETag yet.

    The same headers in the same order (ETag, then Date unless there is one, Content-Length as the body set it)
    and the same status: 304 when If-None-Match is exactly the tag, else the answer as it is. Anything else (another
    method, a tag already set, If-Match, dates, ranges, a list of tags or a weak one) goes to the reference;
    tests/unit/test_request_path.py holds the two equal.
    """
    environ = request.environ
    headers = response.headers
    if environ["REQUEST_METHOD"] not in ("GET", "HEAD") or response.is_streamed:
        return reference_conditional(response)
    if any(map(environ.__contains__, _CONDITIONS)):
        return reference_conditional(response)
    present = {name.lower() for name, _ in headers.items()}
    if "etag" in present or "content-length" not in present:
        return reference_conditional(response)
    tag = f'"{hashlib.sha1(response.get_data(), usedforsecurity=False).hexdigest()}"'
    wanted = environ.get("HTTP_IF_NONE_MATCH")
    if wanted is not None and wanted != tag:
        return reference_conditional(response)
    headers.add("ETag", tag)
    if "date" not in present:
        headers.add("Date", http_date_now())
    if wanted is not None:
        response.status_code = 304
    return response


_date: tuple[int, str] = (0, "")


def http_date_now() -> str:
    """werkzeug's `http_date()` of now, formatted once a second."""
    global _date
    second = int(time.time())
    if _date[0] != second:
        _date = (second, http_date(second))
    return _date[1]
