"""A mock ESIA-style OAuth 2.0 / OpenID Connect authorization server, mounted at /oauth.

Config keys (all optional; from the environment as EPOLICY_MOCKS_<KEY>):
- OAUTH_ISSUER: the issuer URL; by default `<scheme://host:port>/oauth` of each request.
- OAUTH_AUDIENCE: the `aud` of access tokens, "epolicy-gateway" by default.
- OAUTH_KEY_FILE: a PEM file with the RSA private key; by default a 2048-bit key is generated at start.
- OAUTH_TOKEN_EXPIRES_IN: access token lifetime in seconds, 3600 by default.
"""

from __future__ import annotations

from flask import Flask

from mocks.oauth.codes import CodeStore
from mocks.oauth.directory import load_directory
from mocks.oauth.keys import load_signing_key
from mocks.oauth.protector import build_resource_protector
from mocks.oauth.server import build_authorization_server
from mocks.oauth.settings import CODE_LIFETIME, URL_PREFIX, OAuthSettings
from mocks.oauth.state import EXTENSION_KEY, OAuthState
from mocks.oauth.views import bp

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    """Build the server from `app.config` and the packaged data, and register its blueprint at /oauth."""
    settings = OAuthSettings.from_config(app.config)
    directory = load_directory()
    key = load_signing_key(settings.key_file)
    codes = CodeStore(lifetime=CODE_LIFETIME)
    app.extensions[EXTENSION_KEY] = OAuthState(
        settings=settings,
        directory=directory,
        key=key,
        codes=codes,
        server=build_authorization_server(settings, directory, key, codes),
        protector=build_resource_protector(key, settings),
    )
    app.register_blueprint(bp, url_prefix=URL_PREFIX)
