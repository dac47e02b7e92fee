"""The demo citizens' portal at /portal: static pages whose script calls the REST API from the browser.

The page logs the citizen in with the authorization code flow and PKCE as the public client `epolicy-portal`
(the code is redeemed by the browser itself), then applies, follows applications and requests replacements
through `/api/v1`. The gateway only serves the files and tells the page where the authorization server is.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, request

from gateway.api.common import dependencies
from gateway.config import Settings
from gateway.domain.reference import Reference

SCOPE = "openid fullname birthdate snils epolicy.apply epolicy.read epolicy.replace"

bp = Blueprint("portal", __name__, url_prefix="/portal", static_folder="static/portal", static_url_path="/static")


@bp.get("/")
@bp.get("/callback")
def page() -> Response:
    """The single page of the portal; /callback is where the authorization server sends the citizen back."""
    response = bp.send_static_file("index.html")
    response.headers["Content-Security-Policy"] = content_security_policy(issuer())
    return response


class Needs(Protocol):
    """What the portal's pages use of the app's services."""

    @property
    def reference(self) -> Reference: ...
    @property
    def settings(self) -> Settings: ...


def _needs() -> Needs:
    found: Needs = dependencies()
    return found


@bp.get("/config.json")
def config() -> Response:
    """Where the page finds the authorization server and the API, and the regions for the form."""
    regions = _needs().reference.regions
    return jsonify(
        {
            "issuer": issuer(),
            "client_id": _needs().settings.portal_client_id,
            "scope": SCOPE,
            "api_base": f"{request.script_root}/api/v1",
            "regions": [{"code": code, "name": name} for code, name in sorted(regions.items())],
        }
    )


def issuer() -> str:
    """The issuer of the tokens the API accepts: the page logs in there."""
    return _needs().settings.oauth_issuer.rstrip("/")


def content_security_policy(issuer_url: str) -> str:
    """Scripts, styles and data only from the gateway; the page may also call the authorization server."""
    parts = urlsplit(issuer_url)
    authorization_server = f"{parts.scheme}://{parts.netloc}"
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src 'self' {authorization_server}",
            "form-action 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )
