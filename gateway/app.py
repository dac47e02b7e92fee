"""The Flask app factory."""

from __future__ import annotations

import inspect
from collections.abc import Callable
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
    fold_hooks(app)
    return app


def fold_hooks(app: Flask) -> None:
    """The app-wide before, after and teardown hooks registered so far as one of each kind, run in Flask's order.

    Flask pays a lookup and a coroutine check for each hook on every request; the request log, metrics, the
    correlation id, the security headers and the rate limiter are a dozen. A hook that returns an answer ends the
    before hooks, as in Flask; hooks registered later (tests add some) run around the folded ones as they would.
    Async hooks are left as they are.
    """
    before: list[Any] = app.before_request_funcs.get(None, [])
    after: list[Any] = app.after_request_funcs.get(None, [])
    teardown: list[Any] = app.teardown_request_funcs.get(None, [])
    if any(inspect.iscoroutinefunction(function) for function in (*before, *after, *teardown)):
        return
    if len(before) > 1:
        app.before_request_funcs[None] = [_before(tuple(before))]
    if len(after) > 1:
        app.after_request_funcs[None] = [_after(tuple(after))]
    if len(teardown) > 1:
        app.teardown_request_funcs[None] = [_teardown(tuple(teardown))]


def _before(functions: tuple[Callable[[], Any], ...]) -> Callable[[], Any]:
    def before() -> Any:
        for function in functions:
            answer = function()
            if answer is not None:
                return answer
        return None

    return before


def _after(functions: tuple[Callable[[Any], Any], ...]) -> Callable[[Any], Any]:
    last_first = functions[::-1]

    def after(response: Any) -> Any:
        for function in last_first:
            response = function(response)
        return response

    return after


def _teardown(functions: tuple[Callable[[BaseException | None], Any], ...]) -> Callable[[BaseException | None], None]:
    last_first = functions[::-1]

    def teardown(error: BaseException | None) -> None:
        for function in last_first:
            function(error)

    return teardown


def _correlate(app: Flask) -> None:
    """Give every request a correlation id (the client's X-Correlation-ID when it is a safe one)."""

    @app.before_request
    def begin() -> None:
        value = accept_or_new(request.environ.get("HTTP_X_CORRELATION_ID"))
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
