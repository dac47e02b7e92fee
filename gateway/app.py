"""The Flask app factory."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, request

from gateway import logs, metrics, portal, ratelimit, security
from gateway.api import api_modules, problems
from gateway.auth import init_auth
from gateway.bootstrap import build_services
from gateway.config import Settings
from gateway.correlation import accept_or_new, correlation_id, set_correlation_id
from gateway.ui import docs as api_docs


def create_app(
    test_config: dict[str, Any] | None = None, *, settings: Settings | None = None, **services: Any
) -> Flask:
    """Build the gateway from `settings` (default: the environment's, `Settings.from_env()`).

    `test_config` overrides settings by name in capitals (`{"BACKEND_TIMEOUT": 2}`); its other keys are Flask's own
    (`TESTING`). Keywords replace services: tests pass fakes. The app starts no worker: `epolicy serve` starts
    WORKER_THREADS of them beside it (gateway/cli.py), `epolicy worker` drains the outbox in processes of its own.
    """
    given = dict(test_config or {})
    names = Settings.names()
    settings = (settings or Settings.from_env()).with_values({k: v for k, v in given.items() if k in names})
    app = Flask(__name__, instance_path=settings.instance_folder)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_content_length
    app.config.update({key: value for key, value in given.items() if key not in names})
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    built = build_services(settings, **services)
    app.extensions["epolicy"] = built
    # First, so that their timers start before (and their answers are read after) every other hook.
    logs.init_app(app)
    # Read through `built` at each scrape, since tests replace its clock and store after the app is made.
    sources = metrics.Sources(
        clock=lambda: built.clock(),
        outbox_stats=lambda now: built.store.outbox_stats(now),
        breakers=lambda: built.breakers,
        status_cache=lambda: built.status_cache,
        idle=lambda since: built.store.without_progress(since),
    )
    metrics.init_app(app, built.metrics, sources, settings)
    init_auth(app, issuer=settings.oauth_issuer, audience=settings.oauth_audience, jwks=built.jwks)
    problems.init_app(app, built.catalogue)
    _correlate(app)
    security.init_app(app)
    for module in api_modules():
        app.register_blueprint(module.bp)
    if built.rate_limits is not None:
        ratelimit.init_app(app, built.rate_limits, settings)  # after the blueprints: it limits each of them
    app.register_blueprint(portal.bp)  # the demo portal's static pages: after the limiter, not limited
    app.register_blueprint(api_docs.bp)  # /docs: the API's documentation, public and static like the portal
    return app


def _correlate(app: Flask) -> None:
    """Give every request a correlation id (the client's X-Correlation-ID when it is a safe one)."""

    @app.before_request
    def begin() -> None:
        value = accept_or_new(request.headers.get("X-Correlation-ID"))
        g.correlation_token = set_correlation_id(value)

    @app.after_request
    def answer(response: Response) -> Response:
        value = correlation_id.get()
        if value:
            response.headers["X-Correlation-ID"] = value
        return response

    @app.teardown_request
    def end(error: BaseException | None) -> None:
        token = g.pop("correlation_token", None)
        if token is not None:
            correlation_id.reset(token)
