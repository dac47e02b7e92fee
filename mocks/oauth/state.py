"""The per-app objects of the mock authorization server, kept in `app.extensions`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from mocks.oauth.codes import CodeStore
from mocks.oauth.directory import Directory
from mocks.oauth.keys import SigningKey
from mocks.oauth.server import MockAuthorizationServer
from mocks.oauth.settings import OAuthSettings

EXTENSION_KEY = "epolicy.oauth"


@dataclass(frozen=True)
class OAuthState:
    """Everything the views need; built once by `init_app`."""

    settings: OAuthSettings
    directory: Directory
    key: SigningKey
    codes: CodeStore
    server: MockAuthorizationServer
    protector: Any  # authlib's flask ResourceProtector (untyped)


def current_state() -> OAuthState:
    """Return the state of the app handling the current request."""
    state: OAuthState = current_app.extensions[EXTENSION_KEY]
    return state
