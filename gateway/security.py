"""Security headers on every response: no sniffing, no framing, no referrer, no caching of personal data."""

from __future__ import annotations

from flask import Flask, Response, request

JSON_TYPES = frozenset({"application/json", "application/problem+json", "application/fhir+json"})
HSTS = "max-age=31536000; includeSubDomains"
JSON_POLICY = "default-src 'none'; frame-ancestors 'none'"
OTHER_POLICY = "frame-ancestors 'none'"


def init_app(app: Flask) -> None:
    """Add the security headers to every answer of `app`."""

    @app.after_request
    def secure(response: Response) -> Response:
        return add_security_headers(response, request.is_secure)


def add_security_headers(response: Response, over_tls: bool) -> Response:
    """Add each security header the answer does not carry yet, in one pass over its headers."""
    headers = response.headers
    # One look at the headers there are: each `in`/`setdefault` on werkzeug's Headers scans them and raises a
    # KeyError for a name that is missing, which is most of them.
    present: dict[str, str] = {}
    for name, value in headers.items():
        present.setdefault(name.lower(), value)
    if "x-content-type-options" not in present:
        headers.add("X-Content-Type-Options", "nosniff")
    if "x-frame-options" not in present:
        headers.add("X-Frame-Options", "DENY")
    if "referrer-policy" not in present:
        headers.add("Referrer-Policy", "no-referrer")
    if "content-security-policy" not in present:
        # JSON needs no script, style or image; a PDF keeps what the browser's viewer needs, but no framing.
        mimetype = present.get("content-type", "").split(";")[0].strip()
        headers.add("Content-Security-Policy", JSON_POLICY if mimetype in JSON_TYPES else OTHER_POLICY)
    # Answers carry personal data unless a view says otherwise (the public catalogues set public caching).
    if "cache-control" not in present:
        headers.add("Cache-Control", "no-store")
    # HSTS means something only over TLS; over plain HTTP browsers ignore it and proxies may cache it wrongly.
    if over_tls and "strict-transport-security" not in present:
        headers.add("Strict-Transport-Security", HSTS)
    return response
