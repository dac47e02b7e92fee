"""`/docs`: the REST API's interactive documentation, with the reason catalogue, served by the gateway itself.

Swagger UI 5 (which reads the OpenAPI 3.1 document as it is) comes from the static files of the installed
`swagger-ui-py` package and is served from `/docs/assets/`, so the page works offline and loads nothing from another
origin. The page's Content-Security-Policy allows scripts and styles from this origin only: the Swagger UI set-up
is a static file (`gateway/static/docs/docs.js`), never inline.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import json
from pathlib import Path
from typing import Any, Protocol

from flask import Blueprint, Response, abort, render_template, send_from_directory

from gateway.api.common import dependencies
from gateway.catalogue import Catalogue
from gateway.config import Settings
from gateway.openapi import document, dump_yaml

bp = Blueprint("docs_ui", __name__, url_prefix="/docs", template_folder="templates")

OWN_FOLDER = Path(__file__).resolve().parent.parent / "static" / "docs"
OWN_ASSETS = frozenset({"docs.js", "docs.css"})
# What the page uses from the Swagger UI distribution; nothing else of the package is served (not its own page,
# its initializer with the petstore address, the editor or the source maps).
SWAGGER_ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-16x16.png", "favicon-32x32.png"})
# The API itself is served by this same origin (the document's first server is "/"), so connect-src 'self'.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
DOCUMENT_POLICY = "default-src 'none'; frame-ancestors 'none'"
PUBLIC_CACHE = 3600
SOURCES = {"gateway": "шлюз", "fund": "фонд (ТФОМС)", "insurer": "страховая организация"}
THIS_GATEWAY = {"url": "/", "description": "Этот шлюз (тот, что показывает документацию)"}


@functools.cache
def swagger_ui_folder() -> Path:
    """The folder of the Swagger UI distribution in the installed `swagger-ui-py` package."""
    # Found without importing the package: its __init__ sets up web-framework handlers that the page does not use.
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


class Needs(Protocol):
    """What the documentation pages use of the app's services."""

    @property
    def catalogue(self) -> Catalogue: ...
    @property
    def settings(self) -> Settings: ...


def _needs() -> Needs:
    found: Needs = dependencies()
    return found


@bp.get("")
def page() -> Response:
    """The documentation page: Swagger UI over the OpenAPI document, then the reason catalogue."""
    found = _needs()
    html = render_template(
        "docs/index.html", reasons=found.catalogue.entries(), sources=SOURCES, issuer=_issuer(found.settings)
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return _public(response)


@bp.get("/openapi.json")
def document_json() -> Response:
    """The OpenAPI 3.1 document as JSON (what the page's Swagger UI reads)."""
    response = Response(_served_json(_issuer(_needs().settings)), mimetype="application/json")
    response.headers["Content-Security-Policy"] = DOCUMENT_POLICY
    return _public(response)


@bp.get("/openapi.yaml")
def document_yaml() -> Response:
    """The OpenAPI document as YAML."""
    response = Response(_served_yaml(_issuer(_needs().settings)), content_type="application/yaml; charset=utf-8")
    response.headers["Content-Security-Policy"] = DOCUMENT_POLICY
    return _public(response)


@bp.get("/assets/<path:filename>")
def asset(filename: str) -> Response:
    """A file of the page: its own script and style, or one of Swagger UI's."""
    if filename in SWAGGER_ASSETS:
        response = send_from_directory(swagger_ui_folder(), filename)
    elif filename in OWN_ASSETS:
        response = send_from_directory(OWN_FOLDER, filename)
    else:
        abort(404)
    return _public(response)


def served_document(issuer: str) -> dict[str, Any]:
    """The OpenAPI document with this gateway as its first server, so that "Try it out" calls the same origin,
    and the OAuth flows of the authorization server this gateway trusts (`issuer`)."""
    served = copy.deepcopy(document(issuer))
    served["servers"] = [THIS_GATEWAY, *served.get("servers", [])]
    return served


def _issuer(settings: Settings) -> str:
    return settings.oauth_issuer.rstrip("/")


@functools.lru_cache(maxsize=8)  # one per issuer: in practice one per process
def _served_json(issuer: str) -> str:
    return json.dumps(served_document(issuer), ensure_ascii=False, indent=1)


@functools.lru_cache(maxsize=8)
def _served_yaml(issuer: str) -> str:
    return dump_yaml(served_document(issuer))


def _public(response: Response) -> Response:
    # Nothing here is personal: the same for every caller, like the public catalogue of the API.
    response.cache_control.no_cache = None  # send_from_directory's default
    response.cache_control.public = True
    response.cache_control.max_age = PUBLIC_CACHE
    return response
