"""The WSGI entry point for servers that import an application object (`gunicorn gateway.wsgi:app`).

This is the production profile (deploy/gunicorn.conf.py): settings come from `EPOLICY_*` environment variables,
logs are JSON lines unless `EPOLICY_LOG_FORMAT=text`, and the outbox is drained by `epolicy worker` processes,
never inside a web server's workers, so this app starts no worker threads.
"""

from __future__ import annotations

import logging
import os

from werkzeug.middleware.proxy_fix import ProxyFix

from gateway.app import create_app
from gateway.config import SettingsError, unknown_variables
from gateway.logs import configure_logging

configure_logging(os.environ.get("EPOLICY_LOG_LEVEL", "INFO"), os.environ.get("EPOLICY_LOG_FORMAT", "json"))
# As the commands do before they start (gateway/cli.py): a mistyped variable would otherwise be ignored in silence.
for _warning in unknown_variables():
    logging.getLogger("gateway.wsgi").warning("%s", _warning)

try:
    app = create_app()
except SettingsError as _error:
    # A production start that cannot sign, or any setting that is wrong: said once, a line each, and no app.
    for _problem in _error.problems:
        logging.getLogger("gateway.wsgi").critical("%s", _problem)
    raise SystemExit(3) from None

_hops = app.extensions["epolicy"].settings.trusted_proxy_hops
if _hops > 0:
    # Outermost, so that the rate limits and the /metrics allow-list see the client's address, not the balancer's.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=_hops, x_proto=_hops)  # type: ignore[method-assign]
