"""`/api/v1/kz`: the Kazakh profile (ОСМС) — insurance status by ИИН, and the packages of medical care.

Who may read a status: a service client (scope `epolicy.eligibility`, such as a clinic) any ИИН; a citizen
(scope `epolicy.read`) only their own, the ИИН in the `iin` claim their identity provider puts in the token. Any
other ИИН answers 404, as a policy the caller may not see does, so that nothing leaks; a malformed ИИН answers 422
first, since the number alone tells nothing about anyone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from marshmallow import Schema, fields, pre_dump, validate

from gateway.api import responses as out
from gateway.api.common import dependencies
from gateway.api.operation import Answer, Reply, Routes
from gateway.auth import current_token
from gateway.domain.identifiers import normalize_identifier
from gateway.domain.model import Sex
from gateway.kz.domain import PackageCode, Packages, package_for
from gateway.kz.usecase import KzContext, KzReader, KzStatus, insurance_status

routes = Routes("kz", __name__, url_prefix="/api/v1/kz", tag="kz")
bp = routes.blueprint
IIN_CLAIM = "iin"


class Needs(Protocol):
    """What the Kazakh profile's views use of the app's services."""

    @property
    def kz(self) -> KzContext: ...
    @property
    def kz_packages(self) -> Packages | None: ...


def packages() -> Packages:
    """The packages of medical care of the current app (read once, at start, by the composition root)."""
    needs: Needs = dependencies()
    if needs.kz_packages is None:
        raise RuntimeError("the services have no Kazakh packages (gateway.bootstrap.build_services reads them)")
    return needs.kz_packages


@dataclass(frozen=True)
class ShownPackage:
    """A package as it applies to a person, read with the packages it is made of."""

    code: PackageCode
    reference: Packages


@dataclass(frozen=True)
class ShownStatus:
    """An ИИН's status with the reference its package is named from."""

    found: KzStatus
    reference: Packages


class KzHolderOut(Schema):
    birth_date = fields.Date(required=True, metadata={"description": "Дата рождения по ИИН"})
    sex = out.Value(required=True, validate=validate.OneOf([sex.value for sex in Sex]))


class KzApplicablePackageOut(Schema):
    code = out.Value(required=True, validate=validate.OneOf([code.value for code in PackageCode]))
    name = fields.String(required=True, metadata={"description": "«ГОБМП» или «ГОБМП + ОСМС»"})
    insured = fields.Boolean(required=True, metadata={"description": "Пакет для застрахованных в ОСМС"})
    parts = fields.List(fields.String(), required=True, metadata={"description": "Коды пакетов из /api/v1/kz/packages"})

    @pre_dump
    def _shown(self, shown: ShownPackage, **kwargs: Any) -> Mapping[str, Any]:
        code, reference = shown.code, shown.reference
        return {
            "code": code,
            "name": reference.name_of(code),
            "insured": code is package_for(True),
            "parts": [part.code for part in reference.parts(code)],
        }


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

    @pre_dump
    def _shown(self, shown: ShownStatus, **kwargs: Any) -> Mapping[str, Any]:
        status, period = shown.found.status, shown.found.status.period
        return {
            "iin": status.iin,
            "on_date": status.on,
            "insured": status.insured,
            "insured_from": None if period is None else period.start,
            "insured_to": None if period is None else period.end,
            "package": ShownPackage(status.package, shown.reference),
            "holder": shown.found.holder,
        }


class KzPackageOut(Schema):
    code = fields.String(required=True)
    short_name = fields.String(required=True)
    name = fields.String(required=True)
    for_whom = fields.String(required=True)
    services = fields.List(fields.String(), required=True)


class KzPackagesOut(Schema):
    items = fields.List(fields.Nested(KzPackageOut), required=True)
    applicable = fields.List(fields.Nested(KzApplicablePackageOut), required=True)

    @pre_dump
    def _shown(self, reference: Packages, **kwargs: Any) -> Mapping[str, Any]:
        return {
            "items": list(reference.by_code.values()),
            "applicable": [ShownPackage(code, reference) for code in PackageCode],
        }


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


@routes.get(
    "/insurance-status/<iin>", "getKzInsuranceStatus",
    "Казахстан: статус застрахованности в ОСМС по ИИН и применимый пакет",
    Answer(200, KzInsuranceStatusOut, "Статус застрахованности"), scopes=("epolicy.read", "epolicy.eligibility"),
    errors=(401, 403, 404, 422, 503), parameters=(IIN,), problems={422: ("iin-checksum",)},
)  # fmt: skip
def status(iin: str) -> ShownStatus:
    """Whether the holder of an ИИН is insured in ОСМС today, and which package applies to them."""
    needs: Needs = dependencies()
    token = current_token()
    claimed = token.claims.get(IIN_CLAIM)
    own = normalize_identifier(claimed) if isinstance(claimed, str) else None
    reader = KzReader("epolicy.eligibility" in token.scopes, own)
    # The ИИН is normalised here, once, as a СНИЛС is in a body: the fund gets exactly the digits checked.
    found = insurance_status(normalize_identifier(iin), reader, needs.kz)
    return ShownStatus(found, packages())


@routes.get(
    "/packages", "listKzPackages", "Казахстан: пакеты ГОБМП и ОСМС и их услуги",
    Answer(200, KzPackagesOut, "Пакеты медицинской помощи"),
)  # fmt: skip
def package_list() -> Reply:
    """The packages of medical care and their services; public reference data."""
    return Reply(packages(), headers={"Cache-Control": "public, max-age=3600"})
