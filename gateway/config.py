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
    # Requests.
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "PAGE_SIZE_DEFAULT": 20,
    "PAGE_SIZE_MAX": 100,
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
