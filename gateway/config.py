"""Settings of the gateway: typed, with defaults for the local stack, read once from `EPOLICY_*` variables.

Every field below is set by the environment variable of its name in capitals with the prefix:
`EPOLICY_DATABASE_URL=postgresql+psycopg://...` sets `database_url`, `EPOLICY_WORKER_THREADS=0` sets
`worker_threads`, and so on. Values are read as the field's type: numbers, `true`/`false`, a JSON object for
`insurer_urls`; an empty value sets an optional field to None. A value that is not of its field's type (or not of
its notation: a rate limit, a database URL) stops the gateway at start with the variable's name, every such value at
once, rather than at the first request that needs it. A variable with the prefix that is no setting is ignored, and
`unknown_variables` names it with the setting likeliest meant, for the commands to warn about.
"""

from __future__ import annotations

import difflib
import json
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Union

from flask.sansio.scaffold import find_package

PREFIX = "EPOLICY"
IMPORT_NAME = "gateway.app"  # the Flask app's import name: its default instance folder is the one Flask would pick


# `EPOLICY_*` variables that are no setting of the gateway but are read elsewhere, by name: the listening address
# and the logs of the commands (gateway/cli.py, mocks/commands.py), gunicorn's (deploy/gunicorn.conf.py) and the
# tests' chromium. And whole families of them: the tests', the soak's, the benchmarks', the mocks' own config.
READ_ELSEWHERE = frozenset(
    {
        "HOST",
        "PORT",
        "MOCKS_PORT",
        "LOG_LEVEL",
        "LOG_FORMAT",
        "WORKER_METRICS_PORT",
        "WORKER_METRICS_HOST",
        "WEB_WORKERS",
        "WEB_THREADS",
        "WEB_TIMEOUT",
        "WEB_GRACEFUL_TIMEOUT",
        "WEB_KEEPALIVE",
        "WEB_MAX_REQUESTS",
        "FORWARDED_ALLOW_IPS",
        "METRICS_DIR",
        "METRICS_DIR_CREATED",
        "INSTALL_CHROMIUM",
        "CHROMIUM",
        "PORTAL_SCREENSHOTS",
    }
)
READ_ELSEWHERE_FAMILIES = ("TEST_", "SOAK_", "BENCH_", "MOCKS_")


class SettingsError(ValueError):
    """Settings whose values are not of their types: every one found, a line each (`problems`)."""

    def __init__(self, *problems: str) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def default_instance_path() -> str:
    """Flask's own choice of instance folder for the gateway's app: `instance/` beside the source, or in var/."""
    prefix, package_path = find_package(IMPORT_NAME)
    if prefix is None:
        return os.path.join(package_path, "instance")
    return os.path.join(prefix, "var", f"{IMPORT_NAME}-instance")


def _rate_limit(value: str) -> str | None:
    """Why `value` is no rate limit in flask-limiter's notation (None: it is one, or empty: none)."""
    from limits import parse_many

    try:
        if value.strip():
            parse_many(value)
    except ValueError:
        return "is no rate limit: write it as '60/minute' or '10/second;600/hour'"
    return None


def _database_url(value: str) -> str | None:
    """Why `value` is no database URL SQLAlchemy can use (None: it is one)."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        make_url(value).get_dialect()
    except ArgumentError:
        return "is no database URL: write it as postgresql+psycopg://user@host/db or sqlite:////path/epolicy.sqlite3"
    except NoSuchModuleError:
        return "names a database SQLAlchemy does not know: use postgresql+psycopg:// or sqlite://"
    return None


def _file(value: str) -> str | None:
    """Why `value` names no file to read (None: it names one)."""
    if os.path.isfile(value):
        return None
    return "names no file: give a YAML file's path, or leave it empty for the one the gateway ships"


def _algorithm(value: str) -> str | None:
    """Why `value` is no signature algorithm of the profile (None: it is one)."""
    if value in ("ecdsa-sha256", "rsa-sha256"):
        return None
    return "is no signature algorithm: write ecdsa-sha256 or rsa-sha256 (contracts/signing/README.md)"


_FILE = {"check": _file}  # the reference data's fields: a file that is there at start, not at the first request
_LIMIT = {"check": _rate_limit}  # the rate limits' fields: flask-limiter's notation, checked at start


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything an operator may set; `Settings.from_env()` reads them, `Settings()` holds the defaults."""

    # Storage. None: a SQLite file in the instance folder.
    database_url: str | None = field(default=None, metadata={"check": _database_url})
    database_pool_size: int = 10
    # Where the embedded database lives (None: the folder Flask would choose, `instance/` beside the source).
    instance_path: str | None = None
    # OAuth 2.0 authorization server whose RFC 9068 access tokens the API accepts.
    oauth_issuer: str = "http://127.0.0.1:8090/oauth"
    oauth_audience: str = "epolicy-gateway"
    oauth_jwks_url: str | None = None  # None: <issuer>/jwks
    portal_client_id: str = "epolicy-portal"  # the client id the demo portal logs in with
    # Printable documents say «ДЕМО» and that they are no document: `epolicy stack`, on test data, sets it.
    demo_mark: bool = False
    # Back-ends. An insurer's address is insurer_urls[code], else the template with its code.
    fund_url: str = "http://127.0.0.1:8090/fund"
    kz_fund_url: str = "http://127.0.0.1:8090/kz/fund"  # the Kazakh social health insurance fund (ОСМС)
    insurer_url_template: str = "http://127.0.0.1:8090/insurers/{code}"
    insurer_urls: Mapping[str, str] = field(default_factory=dict)
    backend_timeout: float = 10.0
    # Signing (contracts/signing/README.md): every request signed with this key and certificate (a PEM file, or the
    # PEM text itself), every answer checked against the certificates trusted for its back-end (PEM files separated
    # by commas, or PEM text of one certificate or more; two at once while a back-end rotates its key). Without a
    # key the gateway does not start, unless signing is switched off: messages then go and come unsigned.
    signing_enabled: bool = True
    signing_key: str | None = None
    signing_certificate: str | None = None
    signing_algorithm: str = field(default="ecdsa-sha256", metadata={"check": _algorithm})
    signing_window_seconds: float = 300.0  # how old a received message's timestamp may be (and 60 s of skew)
    fund_trusted_certificates: str | None = None
    kz_fund_trusted_certificates: str | None = None
    insurer_trusted_certificates: Mapping[str, str] = field(default_factory=dict)  # by insurer code
    insurer_trusted_certificates_template: str | None = None  # else this, with the code: "/keys/insurer-{code}.pem"
    journal_days: float = 90.0  # days the message journal keeps who signed each message sent and received
    # Reference data: insurers admitted per region and the regions (files under gateway/data by default).
    insurers_file: str | None = field(default=None, metadata=_FILE)
    regions_file: str | None = field(default=None, metadata=_FILE)
    # Packages of medical care of the Kazakh profile (ГОБМП, ОСМС).
    kz_packages_file: str | None = field(default=None, metadata=_FILE)
    # Worker threads started inside the web process (0: run `epolicy worker` separately).
    worker_threads: int = 2
    worker_poll_seconds: float = 0.5
    worker_lease_seconds: float = 60.0
    worker_batch: int = 10
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 300.0
    retry_max_attempts: int = 20  # failures in a row after which an application is parked for an operator
    # Minutes an unfinished application may go unchanged before /metrics and `epolicy idle` show it as without
    # progress; well above the longest retry delay, since a retry notes itself in the application's history.
    idle_after_minutes: float = 30.0
    # Hours an Idempotency-Key is remembered (a retry after that is a new request); the workers purge older ones.
    idempotency_key_hours: float = 24.0
    # Circuit breakers of the API's synchronous reads: open after this many outages in a row, try again after.
    breaker_failures: int = 5
    breaker_cooldown_seconds: float = 30.0
    # /readyz (gateway/readiness.py): its checks run at most once in this many seconds (0: on every call, still one
    # run at a time), each given this many seconds before it counts as unavailable.
    readiness_interval_seconds: float = 5.0
    readiness_check_seconds: float = 2.0
    # Seconds a policy's status read from the fund is kept (0: off); a change through the gateway drops it at once.
    status_cache_seconds: float = 15.0
    # Prometheus metrics at /metrics (gateway/metrics.py): false serves none; metrics_allow limits who may read them
    # to addresses in these networks ("10.0.0.0/8,127.0.0.1"; None: anyone who reaches the port).
    metrics_enabled: bool = True
    metrics_allow: str | None = None
    # Proxies in front of the app whose X-Forwarded-For/-Proto to trust (gateway/wsgi.py; 0: none). Behind a load
    # balancer set it to 1, or the rate limits and metrics_allow see the balancer's address for every client.
    trusted_proxy_hops: int = 0
    # Requests.
    max_content_length: int = 64 * 1024
    # Deepest nesting of arrays and objects a JSON body may have (gateway/api/bodies.py); the API's bodies use 3.
    json_max_depth: int = 32
    page_size_default: int = 20
    page_size_max: int = 100
    # Rate limits (flask-limiter notation, gateway/ratelimit.py), by who calls. A citizen's token (`sub` is the
    # person) per subject, however many citizens share the portal's client id; optionally every citizen of one portal
    # client together (None: no such ceiling). A service client's token (client credentials: `sub` equals
    # `client_id`) per client id. A request without a valid token per address.
    # Counters in Redis when ratelimit_storage_url is set (redis://host:6379/0), else in memory of each process.
    # None: on, but off in an app made for tests (Flask's TESTING) unless a test turns them on.
    ratelimit_enabled: bool | None = None
    ratelimit_per_subject: str | None = field(default="60/minute", metadata=_LIMIT)
    ratelimit_per_portal: str | None = field(default=None, metadata=_LIMIT)
    ratelimit_per_client: str | None = field(default="600/minute", metadata=_LIMIT)
    ratelimit_per_address: str | None = field(default="60/minute", metadata=_LIMIT)
    ratelimit_storage_url: str | None = None
    ratelimit_key_prefix: str = "epolicy"

    @classmethod
    def names(cls) -> frozenset[str]:
        """The settings' names in capitals, as the environment and a test's config spell them."""
        return frozenset(item.name.upper() for item in fields(cls))

    @classmethod
    def from_env(cls, prefix: str = PREFIX, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """The defaults, then `<prefix>_<NAME>` variables of `environ` (the process's), then `overrides` by field."""
        environ = os.environ if environ is None else environ
        hints = typing.get_type_hints(cls)
        found: dict[str, Any] = {}
        problems: list[str] = []
        for item in fields(cls):
            variable = f"{prefix}_{item.name.upper()}"
            if variable in environ:
                try:
                    found[item.name] = _parse(variable, environ[variable], hints[item.name], item.metadata)
                except SettingsError as error:
                    problems.extend(error.problems)
        # Every bad value at once: an operator fixes them in one go rather than one start each.
        if problems:
            raise SettingsError(*problems)
        return cls(**found).with_values(overrides)

    def with_values(self, values: Mapping[str, Any]) -> Settings:
        """These settings with some replaced: by field name or in capitals (`{"WORKER_THREADS": 0}`), typed or text."""
        hints = typing.get_type_hints(type(self))
        checks = {item.name: item.metadata for item in fields(self)}
        changed: dict[str, Any] = {}
        problems: list[str] = []
        for key, value in values.items():
            name = key.lower()
            if name not in hints:
                problems.append(f"{key} is no setting of the gateway (gateway/config.py names them)")
                continue
            try:
                changed[name] = _parse(key, value, hints[name], checks[name]) if isinstance(value, str) else value
            except SettingsError as error:
                problems.extend(error.problems)
        if problems:
            raise SettingsError(*problems)
        return replace(self, **changed) if changed else self

    @property
    def instance_folder(self) -> str:
        """The instance folder as an absolute path: the app and the commands name one file whatever their cwd."""
        return os.path.abspath(self.instance_path or default_instance_path())

    @property
    def database(self) -> str:
        """The configured database, or the embedded default: a SQLite file in the instance folder."""
        return self.database_url or f"sqlite:///{self.instance_folder}/epolicy.sqlite3"

    @property
    def jwks_url(self) -> str:
        """Where the authorization server publishes its keys."""
        return self.oauth_jwks_url or self.oauth_issuer.rstrip("/") + "/jwks"

    def signing_problems(self) -> list[str]:
        """What keeps signing from working, a line each: a start refuses with these rather than send unsigned."""
        if not self.signing_enabled:
            return []
        off = "or EPOLICY_SIGNING_ENABLED=false to send and take messages unsigned"
        problems = []
        if not self.signing_key:
            problems.append(f"EPOLICY_SIGNING_KEY is not set: give the gateway's signing key (a PEM file), {off}")
        if not self.signing_certificate:
            problems.append(f"EPOLICY_SIGNING_CERTIFICATE is not set: give the key's certificate (a PEM file), {off}")
        if not self.fund_trusted_certificates:
            problems.append(f"EPOLICY_FUND_TRUSTED_CERTIFICATES is not set: give the fund's certificates, {off}")
        if not self.kz_fund_trusted_certificates:
            problems.append(
                f"EPOLICY_KZ_FUND_TRUSTED_CERTIFICATES is not set: give the Kazakh fund's certificates, {off}"
            )
        return problems

    def insurer_trust(self, code: str) -> str | None:
        """The certificates trusted to answer for an insurer: its own setting, else the template with its code."""
        given = self.insurer_trusted_certificates.get(code)
        if given is None and self.insurer_trusted_certificates_template:
            given = self.insurer_trusted_certificates_template.format(code=code)
        return given

    def insurer_addresses(self, codes: list[str]) -> dict[str, str]:
        """The SOAP address of every known insurer."""
        return {code: self.insurer_urls.get(code, self.insurer_url_template.format(code=code)) for code in codes}


def unknown_variables(environ: Mapping[str, str] | None = None, prefix: str = PREFIX) -> list[str]:
    """A warning for each `<prefix>_*` variable that is no setting nor read elsewhere, with the likeliest meant."""
    environ = os.environ if environ is None else environ
    known = Settings.names() | READ_ELSEWHERE
    warnings = []
    for variable in sorted(environ):
        name = variable.removeprefix(f"{prefix}_")
        if name == variable or name in known or (name + "_").startswith(READ_ELSEWHERE_FAMILIES):
            continue
        closest = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f"did you mean {prefix}_{closest[0]}?" if closest else "README.md, Configuration, lists the settings"
        warnings.append(f"{variable} is no setting of the gateway and is ignored: {hint}")
    return warnings


def _parse(name: str, text: str, kind: Any, metadata: Mapping[str, Any] | None = None) -> Any:
    """`text` read as `kind`, one of the field types above, and checked by the field's `check`; a clear error
    naming the setting otherwise."""
    value = _typed(name, text, kind)
    check = (metadata or {}).get("check")
    problem = check(value) if check is not None and value is not None else None
    if problem:
        raise SettingsError(f"{name}={text!r} {problem}")
    return value


def _typed(name: str, text: str, kind: Any) -> Any:
    """`text` read as `kind`, one of the field types above; a clear error naming the setting otherwise."""
    options = typing.get_args(kind) if typing.get_origin(kind) in (Union, types.UnionType) else (kind,)
    optional = type(None) in options
    (base,) = [option for option in options if option is not type(None)]
    if optional and not text.strip():
        return None
    if base is str:
        return text
    if base is bool:
        lowered = text.strip().lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise SettingsError(f"{name}={text!r}: write true or false")
    if base is int:
        try:
            return int(text)
        except ValueError:
            raise SettingsError(f"{name}={text!r}: a whole number is expected") from None
    if base is float:
        try:
            return float(text)
        except ValueError:
            raise SettingsError(f"{name}={text!r}: a number is expected") from None
    # Mapping[str, str]: a JSON object of texts.
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
        raise SettingsError(f'{name}={text!r}: a JSON object of texts is expected, such as {{"R77001": "http://..."}}')
    return value
