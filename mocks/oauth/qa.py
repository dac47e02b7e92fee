"""The body of the QA-only `POST /oauth/test/token`, checked with messages that say what to fix."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from mocks import snils as snils_rules
from mocks.oauth.tokens import AccessGrant

QA_CLIENT_ID = "qa-client"
MAX_EXPIRES_IN = 86400
_FIELDS = ("sub", "snils", "iin", "scope", "expires_in", "client_id", "aud")


class QARequestError(ValueError):
    """The body cannot make a token; the message is for the person who wrote it."""


def parse_test_token_request(
    body: object, known_scopes: Collection[str], audience: str, default_expires_in: int
) -> AccessGrant:
    """Turn the JSON body into an AccessGrant, or raise QARequestError."""
    if not isinstance(body, dict):
        raise QARequestError('The body must be a JSON object such as {"sub": "...", "scope": "epolicy.read"}.')
    unknown = sorted(set(body) - set(_FIELDS))
    if unknown:
        raise QARequestError(f"Unknown field(s): {', '.join(unknown)}. Allowed: {', '.join(_FIELDS)}.")
    return AccessGrant(
        subject=_required_text(body, "sub"),
        client_id=_optional_text(body, "client_id") or QA_CLIENT_ID,
        scope=_scope(body, known_scopes),
        expires_in=_expires_in(body, default_expires_in),
        audience=_audience(body, audience),
        snils=_snils(body),
        iin=_iin(body),
    )


def _required_text(body: dict[str, Any], field: str) -> str:
    value = _optional_text(body, field)
    if value is None:
        raise QARequestError(f"'{field}' is required: a non-empty string.")
    return value


def _optional_text(body: dict[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise QARequestError(f"'{field}' must be a non-empty string.")
    return value


def _scope(body: dict[str, Any], known_scopes: Collection[str]) -> str:
    scopes = list(dict.fromkeys(_required_text(body, "scope").split()))
    unknown = [scope for scope in scopes if scope not in known_scopes]
    if unknown:
        raise QARequestError(f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(known_scopes)}.")
    return " ".join(scopes)


def _expires_in(body: dict[str, Any], default: int) -> int:
    value = body.get("expires_in", default)
    # bool is an int in Python, but `true` is no lifetime.
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_EXPIRES_IN:
        raise QARequestError(f"'expires_in' must be a whole number of seconds from 1 to {MAX_EXPIRES_IN}.")
    return value


def _audience(body: dict[str, Any], default: str) -> str | tuple[str, ...]:
    value = body.get("aud", default)
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, list) and value and all(isinstance(item, str) and item.strip() for item in value):
        return tuple(value)
    raise QARequestError("'aud' must be a non-empty string or a non-empty list of strings.")


def _snils(body: dict[str, Any]) -> str | None:
    value = _optional_text(body, "snils")
    if value is None:
        return None
    digits = snils_rules.parse(value)
    if digits is None:
        raise QARequestError("'snils' must be a SNILS with valid check digits, as '112-233-445 95' or '11223344595'.")
    return digits


def _iin(body: dict[str, Any]) -> str | None:
    # The shape only: the gateway checks the ИИН's digits itself, and QA may want a token with a wrong one.
    value = _optional_text(body, "iin")
    if value is not None and not (len(value) == 12 and value.isascii() and value.isdigit()):
        raise QARequestError("'iin' must be 12 digits.")
    return value
