"""Settings of the gateway: defaults for the local stack, overridden by `EPOLICY_*` environment variables.

`EPOLICY_DATABASE_URL=postgresql+psycopg://...` sets `DATABASE_URL`, and so on for every key below; values that
parse as JSON (numbers, objects) are taken as such, as Flask's `from_prefixed_env` does.
"""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {
    # Storage. None: a SQLite file in the instance folder.
    "DATABASE_URL": None,
    "DATABASE_POOL_SIZE": 10,
    # OAuth 2.0 authorization server whose RFC 9068 access tokens the API accepts.
    "OAUTH_ISSUER": "http://127.0.0.1:8090/oauth",
    "OAUTH_AUDIENCE": "epolicy-gateway",
    "OAUTH_JWKS_URL": None,  # None: <issuer>/jwks
    # Back-ends. An insurer's address is INSURER_URLS[code], else the template with its code.
    "FUND_URL": "http://127.0.0.1:8090/fund",
    "KZ_FUND_URL": "http://127.0.0.1:8090/kz/fund",  # the Kazakh social health insurance fund (ОСМС)
    "INSURER_URL_TEMPLATE": "http://127.0.0.1:8090/insurers/{code}",
    "INSURER_URLS": {},
    "BACKEND_TIMEOUT": 10.0,
    # Reference data: insurers admitted per region and the regions (files under gateway/data by default).
    "INSURERS_FILE": None,
    "REGIONS_FILE": None,
    "KZ_PACKAGES_FILE": None,  # packages of medical care of the Kazakh profile (ГОБМП, ОСМС)
    # Worker threads started inside the web process (0: run `epolicy worker` separately).
    "WORKER_THREADS": 2,
    "WORKER_POLL_SECONDS": 0.5,
    "WORKER_LEASE_SECONDS": 60.0,
    "WORKER_BATCH": 10,
    "RETRY_BASE_SECONDS": 1.0,
    "RETRY_MAX_SECONDS": 300.0,
    "RETRY_MAX_ATTEMPTS": 20,
    # Hours an Idempotency-Key is remembered (a retry after that is a new request); the workers purge older ones.
    "IDEMPOTENCY_KEY_HOURS": 24.0,  # failures in a row after which an application is parked for an operator
    # Circuit breakers of the API's synchronous reads: open after this many outages in a row, try again after.
    "BREAKER_FAILURES": 5,
    "BREAKER_COOLDOWN_SECONDS": 30.0,
    # Seconds a policy's status read from the fund is kept (0: off); a change through the gateway drops it at once.
    "STATUS_CACHE_SECONDS": 15.0,
    # Prometheus metrics at /metrics (gateway/metrics.py): false serves none; METRICS_ALLOW limits who may read them
    # to addresses in these networks ("10.0.0.0/8,127.0.0.1"; None: anyone who reaches the port).
    "METRICS_ENABLED": True,
    "METRICS_ALLOW": None,
    # Proxies in front of the app whose X-Forwarded-For/-Proto to trust (gateway/wsgi.py; 0: none). Behind a load
    # balancer set it to 1, or the rate limits and METRICS_ALLOW see the balancer's address for every client.
    "TRUSTED_PROXY_HOPS": 0,
    # Requests.
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "PAGE_SIZE_DEFAULT": 20,
    "PAGE_SIZE_MAX": 100,
    # Rate limits (flask-limiter notation, gateway/ratelimit.py), by who calls. A citizen's token (`sub` is the
    # person) per subject, however many citizens share the portal's client id; optionally every citizen of one portal
    # client together (None: no such ceiling). A service client's token (client credentials: `sub` equals
    # `client_id`) per client id. A request without a valid token per address.
    # Counters in Redis when RATELIMIT_STORAGE_URL is set (redis://host:6379/0), else in memory of each process.
    # EPOLICY_RATELIMIT_ENABLED=false turns them off (they are off in unit tests unless a test turns them on).
    "RATELIMIT_PER_SUBJECT": "60/minute",
    "RATELIMIT_PER_PORTAL": None,
    "RATELIMIT_PER_CLIENT": "600/minute",
    "RATELIMIT_PER_ADDRESS": "60/minute",
    "RATELIMIT_STORAGE_URL": None,
    "RATELIMIT_KEY_PREFIX": "epolicy",
}


def database_url(config: dict[str, Any], instance_path: str) -> str:
    """The configured database, or the embedded default: a SQLite file in the instance folder."""
    url = config.get("DATABASE_URL")
    return str(url) if url else f"sqlite:///{instance_path}/epolicy.sqlite3"


def jwks_url(config: dict[str, Any]) -> str:
    """Where the authorization server publishes its keys."""
    configured = config.get("OAUTH_JWKS_URL")
    return str(configured) if configured else str(config["OAUTH_ISSUER"]).rstrip("/") + "/jwks"


def insurer_addresses(config: dict[str, Any], codes: list[str]) -> dict[str, str]:
    """The SOAP address of every known insurer."""
    template = str(config["INSURER_URL_TEMPLATE"])
    overrides: dict[str, str] = dict(config.get("INSURER_URLS") or {})
    return {code: overrides.get(code, template.format(code=code)) for code in codes}
