"""`/api/v1/me/family`: the people a citizen applied for (and themselves), with each one's policy status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from marshmallow import Schema, fields, pre_dump

from gateway.api import responses as out
from gateway.api.common import caller, dependencies
from gateway.api.operation import Answer, Routes
from gateway.domain.reference import Reference
from gateway.ports import ApplicationStore, FundReads
from gateway.usecases.family import Member, family

routes = Routes("family", __name__, url_prefix="/api/v1/me", tag="family")
bp = routes.blueprint


class Needs(Protocol):
    """What the family view uses of the app's services."""

    @property
    def store(self) -> ApplicationStore: ...
    @property
    def fund(self) -> FundReads: ...
    @property
    def reference(self) -> Reference: ...
    def read_message_id(self) -> str: ...


@dataclass(frozen=True)
class ShownMember:
    """A member as the family view shows them: with their insurer's name."""

    member: Member
    insurer_name: str | None


class FamilyPersonOut(Schema):
    last_name = fields.String(required=True)
    first_name = fields.String(required=True)
    middle_name = fields.String(required=True, allow_none=True)
    birth_date = fields.Date(required=True)


class FamilyPolicyOut(Schema):
    status = out.Value(required=True)
    insurer = fields.Nested(out.InsurerRefOut, required=True)
    region_code = fields.String(required=True)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True, allow_none=True)
    restrictions = fields.List(fields.Nested(out.RestrictionOut), required=True)


class LatestApplicationOut(Schema):
    id = fields.String(required=True)
    kind = out.Value(required=True)
    status = out.Value(required=True)
    updated_at = out.Timestamp(required=True)


class FamilyMemberOut(Schema):
    relation = out.Value(required=True)
    person = fields.Nested(FamilyPersonOut, required=True)
    enp = fields.String(required=True, allow_none=True)
    policy = fields.Nested(FamilyPolicyOut, required=True, allow_none=True)
    policy_status_available = fields.Boolean(
        required=True, metadata={"description": "false, если фонд сейчас не ответил: статус полиса неизвестен"}
    )
    latest_application = fields.Nested(LatestApplicationOut, required=True)

    @pre_dump
    def _shown(self, shown: ShownMember, **kwargs: Any) -> Mapping[str, Any]:
        member, policy = shown.member, shown.member.policy
        return {
            "relation": member.relation,
            "person": {
                "last_name": member.last_name,
                "first_name": member.first_name,
                "middle_name": member.middle_name,
                "birth_date": member.birth_date,
            },
            "enp": member.enp,
            "policy": None
            if policy is None
            else {
                "status": policy.status,
                "insurer": {"code": policy.insurer_code, "name": shown.insurer_name},
                "region_code": policy.region_code,
                "valid_from": policy.valid_from,
                "valid_to": policy.valid_to,
                "restrictions": policy.restrictions,
            },
            "policy_status_available": member.policy_known,
            "latest_application": member.latest,
        }


class FamilyOut(Schema):
    items = fields.List(fields.Nested(FamilyMemberOut), required=True)


SCHEMAS: dict[str, type[Schema]] = {
    "FamilyPerson": FamilyPersonOut,
    "FamilyPolicy": FamilyPolicyOut,
    "LatestApplication": LatestApplicationOut,
    "FamilyMember": FamilyMemberOut,
    "Family": FamilyOut,
}


@routes.get(
    "/family", "getFamily", "Моя семья: люди из заявлений и статусы их полисов",
    Answer(200, FamilyOut, "Люди и их полисы"), scopes=("epolicy.read",), errors=(401, 403),
)  # fmt: skip
def index() -> dict[str, Any]:
    """The citizen and the people they applied for, each with their latest application and policy status."""
    needs: Needs = dependencies()
    members = family(caller(), needs.store, needs.fund, needs.read_message_id)
    insurers = needs.reference.insurers
    shown = []
    for member in members:
        insurer = insurers.get(member.policy.insurer_code) if member.policy is not None else None
        shown.append(ShownMember(member, insurer.name if insurer else None))
    return {"items": shown}
