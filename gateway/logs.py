"""Logs: plain text on the local stack, one JSON object a line in production; the ids of the work on every line.

Every record gets the request id (new for each request, answered as `X-Request-ID`), the correlation id
(gateway.correlation) and the application id when one is known (ContextFilter), and loses whatever looks like a
СНИЛС, a passport or an ЕНП (PersonalDataFilter): the safety net under the masking of the SOAP message log.
Each request leaves one line on "epolicy.request": method, route (never the path, which may hold an ЕНП), status
and duration.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, Response, g, request

from gateway.correlation import correlation_id, new_id
from gateway.ids import APPLICATION_ID_PATTERN, PREFIX

LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
application_id: ContextVar[str | None] = ContextVar("application_id", default=None)

request_log = logging.getLogger("epolicy.request")

_APPLICATION_ID = re.compile(APPLICATION_ID_PATTERN)
_APPLICATION_LOCATION = re.compile(rf"/api/v1/applications/({APPLICATION_ID_PATTERN})")
# A СНИЛС as written on the card (112-233-445 95), a passport's series and number (45 10 123456, 4510 123456), an
# ЕНП in groups of four, and any solid run of 10 to 16 digits: a СНИЛС or a passport without spaces, an ИНН, an
# ЕНП, an ИИН, a phone number. Digits inside a word (ids, hex) are left alone.
_PERSONAL_NUMBER = re.compile(
    r"(?<!\w)(?:\d{3}-\d{3}-\d{3}[ -]\d{2}|\d{2} ?\d{2} \d{6}|\d{4}(?: \d{4}){3}|\d{10,16})(?!\w)"
)
_CONTEXT_FIELDS = ("request_id", "correlation_id", "application_id")
# Attributes every LogRecord has; anything else on a record came from `extra=` and goes into the JSON line.
_RECORD_FIELDS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    *_CONTEXT_FIELDS,
}
_QUIET_ENDPOINTS = frozenset({"health.healthz", "health.readyz"})  # probes every few seconds: DEBUG when fine


def mask_personal_numbers(text: str) -> str:
    """Hide every digit of a СНИЛС-, passport-, ЕНП- or ИНН-like number but the last two."""
    return _PERSONAL_NUMBER.sub(_mask, text)


def _mask(found: re.Match[str]) -> str:
    value = found.group(0)
    digits = [index for index, char in enumerate(value) if char.isdigit()]
    hidden = set(digits[:-2])
    return "".join("*" if index in hidden else char for index, char in enumerate(value))


def current_ids() -> dict[str, str | None]:
    """The request, correlation and application ids of the work in hand (None where there is none)."""
    request_value, correlation = request_id.get(), correlation_id.get()
    application = application_id.get()
    if application is None and request_value is None and correlation and correlation.startswith(PREFIX):
        # Outside a request, a worker works under the id of the application it carries (gateway.worker).
        application = correlation if _APPLICATION_ID.fullmatch(correlation) else None
    return {"request_id": request_value, "correlation_id": correlation, "application_id": application}


class ContextFilter(logging.Filter):
    """Put the ids of the work in hand on every record (as attributes, for any formatter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in current_ids().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class PersonalDataFilter(logging.Filter):
    """Mask СНИЛС-, passport- and ЕНП-like numbers in a record's message, traceback and stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logging itself reports it, with the raw arguments masked below
            message = str(record.msg)
            record.args = None
        masked = mask_personal_numbers(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal_numbers(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal_numbers(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: timestamp (UTC), level, logger, message, the ids, and any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        ids = current_ids()
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **{name: getattr(record, name, ids[name]) for name in _CONTEXT_FIELDS},
        }
        for name, value in record.__dict__.items():
            if name not in _RECORD_FIELDS and not name.startswith("_"):
                entry[name] = mask_personal_numbers(value) if isinstance(value, str) else value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def make_handler(log_format: str = "text", stream: IO[str] | None = None) -> logging.Handler:
    """A stream handler (stderr by default) in `log_format`, with the ids and the personal data mask."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(ContextFilter())
    handler.addFilter(PersonalDataFilter())
    handler.set_name("epolicy")
    return handler


def configure_logging(level: str = "INFO", log_format: str = "text") -> None:
    """Log to stderr in `log_format` at `level`, in place of any handler an earlier call installed."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == "epolicy":
            root.removeHandler(handler)
    root.addHandler(make_handler(log_format))
    root.setLevel(level.upper())
    # Alembic narrates every plugin it loads; its warnings are enough.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def init_app(app: Flask) -> None:
    """Give each request of `app` a request id (`X-Request-ID`) and log one line when it is answered."""

    @app.before_request
    def begin() -> None:
        g.log_started = time.perf_counter()
        g.request_id_token = request_id.set(new_id())
        # A view that reads or changes one application: its id (checked, since it comes from the path).
        value = (request.view_args or {}).get("application_id")
        known = value if isinstance(value, str) and _APPLICATION_ID.fullmatch(value) else None
        g.application_id_token = application_id.set(known)

    @app.after_request
    def answer(response: Response) -> Response:
        value = request_id.get()
        if value is not None:
            response.headers["X-Request-ID"] = value
        if application_id.get() is None:
            # A new application (or a replacement) is known by the Location of the answer.
            created = _APPLICATION_LOCATION.fullmatch(_location(response))
            if created is not None and "application_id_token" in g:
                application_id.set(created.group(1))
        _log_request(response)
        return response

    @app.teardown_request
    def end(error: BaseException | None) -> None:
        for name, variable in (("application_id_token", application_id), ("request_id_token", request_id)):
            token = g.pop(name, None)
            if token is not None:
                variable.reset(token)


def _location(response: Response) -> str:
    # One pass over the answer's headers: `headers.get` raises and catches a KeyError when there is none, as there
    # is none on every answer but a 201 or 202.
    for name, value in response.headers.items():
        if name.lower() == "location":
            return str(value)
    return ""


def _log_request(response: Response) -> None:
    started = g.get("log_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    rule = request.url_rule
    route = rule.rule if rule is not None else "(no route)"
    status = response.status_code
    level = logging.WARNING if status >= 500 else logging.INFO
    if request.endpoint in _QUIET_ENDPOINTS and status < 400:
        level = logging.DEBUG
    if request_log.isEnabledFor(level):
        fields = {"method": request.method, "endpoint": route, "status": status, "duration_ms": duration_ms}
        request_log.log(level, "%s %s %s %s ms", request.method, route, status, duration_ms, extra=fields)
