"""`/api/v1/kz`: the Kazakh profile (ОСМС) — insurance status by ИИН, and the packages of medical care.

Who may read a status: a service client (scope `epolicy.eligibility`, such as a clinic) any ИИН; a citizen
(scope `epolicy.read`) only their own, the ИИН in the `iin` claim their identity provider puts in the token. Any
other ИИН answers 404, as a policy the caller may not see does, so that nothing leaks; a malformed ИИН answers 422
first, since the number alone tells nothing about anyone.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from marshmallow import Schema, fields, validate

from gateway.api.common import json_response, services
from gateway.api.docs import Operation
from gateway.auth import current_token, require_scope
from gateway.domain.identifiers import normalize_identifier
from gateway.domain.model import Sex
from gateway.kz.domain import (
    Package,
    PackageCode,
    Packages,
    package_for,
)
from gateway.kz.usecase import KzReader, KzStatus, insurance_status

bp = Blueprint("kz", __name__, url_prefix="/api/v1/kz")
IIN_CLAIM = "iin"


def packages() -> Packages:
    """The packages of medical care of the current app, read once when its services were built."""
    found = services().kz_packages
    if found is None:  # Services built by hand without the Kazakh profile; build_services always sets them
        raise RuntimeError("the Kazakh profile has no packages loaded")
    return found


@bp.get("/insurance-status/<iin>")
@require_scope("epolicy.read", "epolicy.eligibility")
def status(iin: str) -> Response:
    """Whether the holder of an ИИН is insured in ОСМС today, and which package applies to them."""
    token = current_token()
    claimed = token.claims.get(IIN_CLAIM)
    own = normalize_identifier(claimed) if isinstance(claimed, str) else None
    reader = KzReader("epolicy.eligibility" in token.scopes, own)
    # The ИИН is normalised here, once, as a СНИЛС is in a body: the fund gets exactly the digits checked.
    found = insurance_status(normalize_identifier(iin), reader, services().kz)
    return json_response(render_status(found, packages()))


@bp.get("/packages")
def package_list() -> Response:
    """The packages of medical care and their services; public reference data."""
    response = json_response(render_packages(packages()))
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


# --- representations -----------------------------------------------------------------------------------------


def render_status(found: KzStatus, reference: Packages) -> dict[str, Any]:
    """The status of an ИИН as `GET /api/v1/kz/insurance-status/{iin}` answers it."""
    status, period = found.status, found.status.period
    return {
        "iin": status.iin,
        "on_date": status.on.isoformat(),
        "insured": status.insured,
        "insured_from": None if period is None else period.start.isoformat(),
        "insured_to": None if period is None or period.end is None else period.end.isoformat(),
        "package": applicable(status.package, reference),
        "holder": {"birth_date": found.holder.birth_date.isoformat(), "sex": found.holder.sex.value},
    }


def applicable(code: PackageCode, reference: Packages) -> dict[str, Any]:
    """An applicable package: its code, its name and the packages it is made of."""
    return {
        "code": code.value,
        "name": reference.name_of(code),
        "insured": code is package_for(True),
        "parts": [part.code for part in reference.parts(code)],
    }


def package(item: Package) -> dict[str, Any]:
    """One package of medical care with its services."""
    return {
        "code": item.code,
        "short_name": item.short_name,
        "name": item.name,
        "for_whom": item.for_whom,
        "services": list(item.services),
    }


def render_packages(reference: Packages) -> dict[str, Any]:
    """The reference as `GET /api/v1/kz/packages` answers it."""
    return {
        "items": [package(item) for item in reference.by_code.values()],
        "applicable": [applicable(code, reference) for code in PackageCode],
    }


# --- documentation -------------------------------------------------------------------------------------------


class KzHolderOut(Schema):
    birth_date = fields.Date(required=True, metadata={"description": "Дата рождения по ИИН"})
    sex = fields.String(required=True, validate=validate.OneOf([sex.value for sex in Sex]))


class KzApplicablePackageOut(Schema):
    code = fields.String(required=True, validate=validate.OneOf([code.value for code in PackageCode]))
    name = fields.String(required=True, metadata={"description": "«ГОБМП» или «ГОБМП + ОСМС»"})
    insured = fields.Boolean(required=True, metadata={"description": "Пакет для застрахованных в ОСМС"})
    parts = fields.List(fields.String(), required=True, metadata={"description": "Коды пакетов из /api/v1/kz/packages"})


class KzInsuranceStatusOut(Schema):
    iin = fields.String(required=True)
    on_date = fields.Date(required=True, metadata={"description": "День, на который дан ответ"})
    insured = fields.Boolean(required=True, metadata={"description": "Застрахован ли в системе ОСМС"})
    insured_from = fields.Date(required=True, allow_none=True)
    insured_to = fields.Date(
        required=True, allow_none=True, metadata={"description": "Последний день, покрытый взносами, если известен"}
    )
    package = fields.Nested(KzApplicablePackageOut, required=True)
    holder = fields.Nested(KzHolderOut, required=True)


class KzPackageOut(Schema):
    code = fields.String(required=True)
    short_name = fields.String(required=True)
    name = fields.String(required=True)
    for_whom = fields.String(required=True)
    services = fields.List(fields.String(), required=True)


class KzPackagesOut(Schema):
    items = fields.List(fields.Nested(KzPackageOut), required=True)
    applicable = fields.List(fields.Nested(KzApplicablePackageOut), required=True)


SCHEMAS: dict[str, type[Schema]] = {
    "KzHolder": KzHolderOut,
    "KzApplicablePackage": KzApplicablePackageOut,
    "KzInsuranceStatus": KzInsuranceStatusOut,
    "KzPackage": KzPackageOut,
    "KzPackages": KzPackagesOut,
}

IIN = {
    "name": "iin",
    "in": "path",
    "required": True,
    "description": "ИИН, 12 цифр. Гражданин видит только свой ИИН (claim `iin` токена); клиент с областью "
    "epolicy.eligibility — любой.",
    "schema": {"type": "string"},
    "example": "791028302728",
}

DOCS = [
    Operation("/api/v1/kz/insurance-status/{iin}", "get", "getKzInsuranceStatus",
              "Казахстан: статус застрахованности в ОСМС по ИИН и применимый пакет", "kz",
              (200, KzInsuranceStatusOut, "Статус застрахованности"), ("epolicy.read", "epolicy.eligibility"), None,
              (401, 403, 404, 422, 503), [IIN], problems={422: ("iin-checksum",)}),
    Operation("/api/v1/kz/packages", "get", "listKzPackages", "Казахстан: пакеты ГОБМП и ОСМС и их услуги", "kz",
              (200, KzPackagesOut, "Пакеты медицинской помощи")),
]  # fmt: skip
