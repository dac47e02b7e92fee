"""Scopes, clients and test users of the mock authorization server, from `mocks/data/oauth.yaml`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

from mocks import snils as snils_rules
from mocks.oauth.models import Citizen, Client

GRANT_TYPES = frozenset({"authorization_code", "client_credentials"})
AUTH_METHODS = frozenset({"client_secret_basic", "client_secret_post", "none"})


class DirectoryError(ValueError):
    """The data file is not what the server needs; the message names the entry."""


@dataclass(frozen=True)
class Directory:
    """Everything the server knows about scopes, clients and users; read-only after loading."""

    scopes: Mapping[str, str]  # scope -> description for people, in Russian
    clients: Mapping[str, Client]
    citizens: tuple[Citizen, ...]

    def client(self, client_id: str) -> Client | None:
        """Return the client with this id, if any."""
        return self.clients.get(client_id)

    def citizen_by_sub(self, sub: str) -> Citizen | None:
        """Return the citizen with this subject id, if any."""
        return next((citizen for citizen in self.citizens if citizen.sub == sub), None)

    def authenticate(self, login: str, password: str) -> Citizen | None:
        """Return the citizen whose login and password these are, or None."""
        for citizen in self.citizens:
            if citizen.login == login.strip() and citizen.check_password(password):
                return citizen
        return None


def load_directory(text: str | None = None) -> Directory:
    """Parse the data file (the packaged `oauth.yaml` unless `text` is given) and check it."""
    if text is None:
        text = resources.files("mocks").joinpath("data", "oauth.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise DirectoryError("oauth.yaml: expected a mapping with 'scopes', 'clients' and 'users'")
    scopes = _scopes(data.get("scopes"))
    clients = [_client(entry, scopes) for entry in _entries(data, "clients")]
    citizens = [_citizen(entry) for entry in _entries(data, "users")]
    _require_unique("client_id", [client.client_id for client in clients])
    _require_unique("login", [citizen.login for citizen in citizens])
    _require_unique("sub", [citizen.sub for citizen in citizens])
    return Directory(
        scopes=MappingProxyType(scopes),
        clients=MappingProxyType({client.client_id: client for client in clients}),
        citizens=tuple(citizens),
    )


def _scopes(raw: object) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        raise DirectoryError("oauth.yaml: 'scopes' must map each scope to its description")
    return {str(scope): str(description) for scope, description in raw.items()}


def _entries(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    raw = data.get(key)
    if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
        raise DirectoryError(f"oauth.yaml: '{key}' must be a list of mappings")
    return raw


def _client(entry: dict[str, Any], known_scopes: Mapping[str, str]) -> Client:
    client_id = _text(entry, "client_id", "clients")
    where = f"client {client_id!r}"
    scopes = tuple(_text(entry, "scope", where).split())
    auth_methods = frozenset(_text_list(entry, "token_endpoint_auth_methods", where))
    grant_types = frozenset(_text_list(entry, "grant_types", where))
    secret = entry.get("client_secret")
    _require_known(where, "scope", scopes, known_scopes.keys())
    _require_known(where, "auth method", auth_methods, AUTH_METHODS)
    _require_known(where, "grant type", grant_types, GRANT_TYPES)
    if ("none" in auth_methods) == isinstance(secret, str):
        raise DirectoryError(f"oauth.yaml: {where} needs a client_secret unless its auth method is 'none'")
    return Client(
        client_id=client_id,
        name=_text(entry, "name", where),
        client_secret=secret if isinstance(secret, str) else None,
        auth_methods=auth_methods,
        grant_types=grant_types,
        redirect_uris=tuple(_text_list(entry, "redirect_uris", where, required=False)),
        scopes=scopes,
    )


def _citizen(entry: dict[str, Any]) -> Citizen:
    login = _text(entry, "login", "users")
    where = f"user {login!r}"
    snils = snils_rules.parse(_text(entry, "snils", where))
    if snils is None:
        raise DirectoryError(f"oauth.yaml: {where} has a SNILS that is malformed or fails its check digits")
    birth_date = _text(entry, "birth_date", where)
    try:
        date.fromisoformat(birth_date)
    except ValueError:
        raise DirectoryError(f"oauth.yaml: {where} needs birth_date as a quoted YYYY-MM-DD") from None
    middle_name = entry.get("middle_name")
    return Citizen(
        login=login,
        password=_text(entry, "password", where),
        sub=_text(entry, "sub", where),
        last_name=_text(entry, "last_name", where),
        first_name=_text(entry, "first_name", where),
        middle_name=str(middle_name) if middle_name else None,
        birth_date=birth_date,
        snils=snils,
    )


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DirectoryError(f"oauth.yaml: {where} needs '{key}' as a non-empty string")
    return value


def _text_list(entry: dict[str, Any], key: str, where: str, *, required: bool = True) -> list[str]:
    value = entry.get(key, None if required else [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DirectoryError(f"oauth.yaml: {where} needs '{key}' as a list of strings")
    return value


def _require_known(where: str, what: str, values: Iterable[str], known: Iterable[str]) -> None:
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise DirectoryError(f"oauth.yaml: {where} has unknown {what}(s): {', '.join(unknown)}")


def _require_unique(what: str, values: list[str]) -> None:
    duplicates = sorted({value for value in values if values.count(value) > 1})
    if duplicates:
        raise DirectoryError(f"oauth.yaml: duplicate {what}: {', '.join(duplicates)}")
