"""HTTP endpoints of the mock authorization server, mounted at /oauth."""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Response, json, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from mocks.oauth.claims import citizen_claims
from mocks.oauth.cors import allow_loopback_origins
from mocks.oauth.discovery import discovery_document
from mocks.oauth.models import Citizen
from mocks.oauth.qa import QARequestError, parse_test_token_request
from mocks.oauth.settings import issuer_url
from mocks.oauth.state import OAuthState, current_state
from mocks.oauth.tokens import issue_access_token

bp = Blueprint("oauth", __name__)
bp.after_request(allow_loopback_origins)  # a browser page on a loopback origin redeems its code itself

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
WRONG_CREDENTIALS = "Неверный логин или пароль. Проверьте раскладку клавиатуры и попробуйте ещё раз."


@bp.errorhandler(OAuth2Error)
def oauth_error(error: OAuth2Error) -> Response:
    """Answer an OAuth error as RFC 6749 §5.2 JSON (or RFC 6750 for bearer tokens)."""
    status, body, headers = error()
    return Response(json.dumps(body), status=status, headers=headers)


@bp.get("/.well-known/openid-configuration")
def openid_configuration() -> ResponseReturnValue:
    """Serve the discovery document."""
    state = current_state()
    return jsonify(discovery_document(issuer_url(state.settings), state.directory.scopes))


@bp.get("/jwks")
def jwks() -> ResponseReturnValue:
    """Serve the public signing key."""
    return jsonify(current_state().key.public_jwks())


@bp.route("/authorize", methods=["GET", "POST"])
def authorize() -> ResponseReturnValue:
    """Show the login page (GET); log a test user in and redirect back with a code (POST)."""
    state = current_state()
    try:
        grant = state.server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        if error.redirect_uri:
            # The client and its redirect URI are known good: tell the client (RFC 6749 §4.1.2.1).
            redirect: Response = state.server.handle_error_response(None, error)
            return redirect
        # Never redirect to an unchecked URI: the person at the browser gets the error.
        return _login_page(state, None, error=f"{error.error}: {error.get_error_description()}"), 400
    if request.method == "GET":
        return _login_page(state, grant)
    citizen = None
    if request.form.get("action") != "deny":
        citizen = state.directory.authenticate(request.form.get("login", ""), request.form.get("password", ""))
        if citizen is None:
            return _login_page(state, grant, error=WRONG_CREDENTIALS, login=request.form.get("login", ""))
    # With no citizen (the user refused) authlib redirects with access_denied.
    response: Response = state.server.create_authorization_response(grant_user=citizen, grant=grant)
    return response


@bp.post("/token")
def token() -> ResponseReturnValue:
    """Issue tokens for the authorization_code and client_credentials grants."""
    response: Response = current_state().server.create_token_response()
    return response


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo() -> ResponseReturnValue:
    """Return the claims of the token's subject that its scope opens (needs scope openid)."""
    state = current_state()
    token: dict[str, Any] = state.protector.acquire_token(["openid"])
    scope = str(token.get("scope", ""))
    citizen = state.directory.citizen_by_sub(str(token["sub"]))
    if citizen is not None:
        return jsonify(citizen_claims(citizen, scope))
    # A QA token may name anyone: answer with what the token itself says.
    claims = {"sub": token["sub"]}
    if "snils" in scope.split() and "snils" in token:
        claims["snils"] = token["snils"]
    return jsonify(claims)


@bp.post("/test/token")
def test_token() -> ResponseReturnValue:
    """QA only: sign an access token for any subject, SNILS and scope, with no login."""
    state = current_state()
    try:
        grant = parse_test_token_request(
            request.get_json(silent=True),
            known_scopes=list(state.directory.scopes),
            audience=state.settings.audience,
            default_expires_in=state.settings.token_lifetime,
        )
    except QARequestError as error:
        return jsonify(error="invalid_request", error_description=str(error)), 400
    access_token = issue_access_token(state.key, issuer_url(state.settings), grant)
    body = {"access_token": access_token, "token_type": "Bearer", "expires_in": grant.expires_in}
    return jsonify(body), 200, _NO_STORE


def _login_page(state: OAuthState, grant: Any, *, error: str | None = None, login: str = "") -> str:
    citizens: tuple[Citizen, ...] = state.directory.citizens
    scopes = grant.request.scope.split() if grant is not None else []
    return render_template(
        "login.html",
        client=grant.request.client if grant is not None else None,
        scopes=[(scope, state.directory.scopes.get(scope, scope)) for scope in scopes],
        citizens=citizens,
        error=error,
        login=login,
        action=request.full_path,
    )
