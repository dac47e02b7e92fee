"""The Flask app factory."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from gateway import config as settings
from gateway.api import applications, health, policies, problems, reference
from gateway.auth import init_auth
from gateway.bootstrap import build_services


def create_app(test_config: dict[str, Any] | None = None, **services: Any) -> Flask:
    """Build the gateway; `test_config` overrides settings, keywords replace services (tests pass fakes)."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(settings.DEFAULTS)
    app.config.from_prefixed_env("EPOLICY")
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    built = build_services(app.config, app.instance_path, **services)
    app.extensions["epolicy"] = built
    init_auth(
        app,
        issuer=str(app.config["OAUTH_ISSUER"]),
        audience=str(app.config["OAUTH_AUDIENCE"]),
        jwks_url=settings.jwks_url(app.config),
    )
    problems.init_app(app, built.catalogue)
    for blueprint in (applications.bp, policies.bp, reference.bp, health.bp):
        app.register_blueprint(blueprint)
    return app
