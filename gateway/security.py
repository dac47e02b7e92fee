"""Security headers on every response: no sniffing, no framing, no referrer, no caching of personal data."""

from __future__ import annotations

from flask import Flask, Response, request

JSON_TYPES = frozenset({"application/json", "application/problem+json"})
HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    """Add the security headers to every answer of `app`."""

    @app.after_request
    def secure(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        # JSON needs no script, style or image; a PDF keeps what the browser's viewer needs, but no framing.
        policy = "default-src 'none'; frame-ancestors 'none'" if response.mimetype in JSON_TYPES else None
        headers.setdefault("Content-Security-Policy", policy or "frame-ancestors 'none'")
        # Answers carry personal data unless a view says otherwise (the public catalogues set public caching).
        if "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        # HSTS means something only over TLS; over plain HTTP browsers ignore it and proxies may cache it wrongly.
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
