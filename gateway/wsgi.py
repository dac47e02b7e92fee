"""The WSGI entry point for servers that import an application object (`gunicorn gateway.wsgi:app`).

This is the production profile (deploy/gunicorn.conf.py): settings come from `EPOLICY_*` environment variables,
logs are JSON lines unless `EPOLICY_LOG_FORMAT=text`, and the outbox is drained by `epolicy worker` processes,
never inside a web server's workers, so this app starts no worker threads.
"""

from __future__ import annotations

import os

from werkzeug.middleware.proxy_fix import ProxyFix

from gateway.app import create_app
from gateway.logs import configure_logging

configure_logging(os.environ.get("EPOLICY_LOG_LEVEL", "INFO"), os.environ.get("EPOLICY_LOG_FORMAT", "json"))

app = create_app()

_hops = app.extensions["epolicy"].settings.trusted_proxy_hops
if _hops > 0:
    # Outermost, so that the rate limits and the /metrics allow-list see the client's address, not the balancer's.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=_hops, x_proto=_hops)  # type: ignore[method-assign]
