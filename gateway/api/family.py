"""`/api/v1/me/family`: the people a citizen applied for (and themselves), with each one's policy status."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response
from marshmallow import Schema, fields

from gateway.api import render
from gateway.api import responses as out
from gateway.api.applications import json_response
from gateway.api.common import caller, services
from gateway.api.docs import Operation
from gateway.auth import require_scope
from gateway.usecases.family import Member, family

bp = Blueprint("family", __name__, url_prefix="/api/v1/me")


@bp.get("/family")
@require_scope("epolicy.read")
def index() -> Response:
    """The citizen and the people they applied for, each with their latest application and policy status."""
    found = services()
    members = family(caller(), found.store, found.fund, found.read_message_id)
    return json_response({"items": [_member(member) for member in members]})


def _member(member: Member) -> dict[str, Any]:
    policy = member.policy
    insurer = None
    if policy is not None:
        info = services().reference.insurers.get(policy.insurer_code)
        insurer = {"code": policy.insurer_code, "name": info.name if info else None}
    latest = member.latest
    return {
        "relation": member.relation.value,
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
            "status": policy.status.value,
            "insurer": insurer,
            "region_code": policy.region_code,
            "valid_from": render.day(policy.valid_from),
            "valid_to": render.day(policy.valid_to),
            "restrictions": [
                {"code": r.code, "description": r.description, "since": render.day(r.since)}
                for r in policy.restrictions
            ],
        },
        "policy_status_available": member.policy_known,
        "latest_application": {
            "id": latest.id,
            "kind": latest.kind.value,
            "status": latest.status.value,
            "updated_at": render.timestamp(latest.updated_at),
        },
    }


class FamilyPersonOut(Schema):
    last_name = fields.String(required=True)
    first_name = fields.String(required=True)
    middle_name = fields.String(required=True, allow_none=True)
    birth_date = fields.Date(required=True)


class FamilyPolicyOut(Schema):
    status = fields.String(required=True)
    insurer = fields.Nested(out.InsurerRefOut, required=True)
    region_code = fields.String(required=True)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True, allow_none=True)
    restrictions = fields.List(fields.Nested(out.RestrictionOut), required=True)


class LatestApplicationOut(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    updated_at = fields.DateTime(required=True)


class FamilyMemberOut(Schema):
    relation = fields.String(required=True)
    person = fields.Nested(FamilyPersonOut, required=True)
    enp = fields.String(required=True, allow_none=True)
    policy = fields.Nested(FamilyPolicyOut, required=True, allow_none=True)
    policy_status_available = fields.Boolean(
        required=True, metadata={"description": "false, если фонд сейчас не ответил: статус полиса неизвестен"}
    )
    latest_application = fields.Nested(LatestApplicationOut, required=True)


class FamilyOut(Schema):
    items = fields.List(fields.Nested(FamilyMemberOut), required=True)


SCHEMAS: dict[str, type[Schema]] = {
    "FamilyPerson": FamilyPersonOut,
    "FamilyPolicy": FamilyPolicyOut,
    "LatestApplication": LatestApplicationOut,
    "FamilyMember": FamilyMemberOut,
    "Family": FamilyOut,
}

DOCS = [
    Operation("/api/v1/me/family", "get", "getFamily", "Моя семья: люди из заявлений и статусы их полисов", "family",
              (200, FamilyOut, "Люди и их полисы"), ("epolicy.read",), None, (401, 403)),
]  # fmt: skip
