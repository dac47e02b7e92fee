"""JSON representations of the API (API.md): applications, policies, reasons, insurers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from gateway.domain.applications import Application
from gateway.domain.clinics import Attachment
from gateway.domain.model import Insurer, Policy, Reason


def timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with a Z."""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def reason(item: Reason) -> dict[str, Any]:
    """One Reason, the same shape for input errors and back-end rejections."""
    return {
        "code": item.code,
        "field": item.field,
        "source": item.source.value,
        "message": item.message,
        "recommendation": item.recommendation,
        "details": dict(item.details),
    }


def application(item: Application) -> dict[str, Any]:
    """An application as `GET /api/v1/applications/{id}` answers it."""
    policy = item.policy
    return {
        "id": item.id,
        "kind": item.kind.value,
        "status": item.status.value,
        "created_at": timestamp(item.created_at),
        "updated_at": timestamp(item.updated_at),
        "history": [
            {"status": entry.status.value, "at": timestamp(entry.at), **({"note": entry.note} if entry.note else {})}
            for entry in item.history
        ],
        "stalled": item.stalled and not item.status.is_final,
        "rejection": {"reasons": [reason(r) for r in item.rejection]} if item.rejection else None,
        "policy": None
        if policy is None
        else {
            "enp": policy.enp,
            "insurer_code": policy.insurer_code,
            "valid_from": day(policy.valid_from),
            "valid_to": day(policy.valid_to),
        },
    }


def mask_name(name: str) -> str:
    """First letter and a star for every other one: enough to recognise, not to identify."""
    return name[:1] + "*" * max(len(name) - 1, 0)


def policy(item: Policy, insurer_name: str | None, attachment: Attachment | None = None) -> dict[str, Any]:
    """A policy's status as `GET /api/v1/policies/{enp}` answers it; the holder's surname masked."""
    return {
        "enp": item.enp,
        "status": item.status.value,
        "valid_from": day(item.valid_from),
        "valid_to": day(item.valid_to),
        "insurer": {"code": item.insurer_code, "name": insurer_name},
        "region_code": item.region_code,
        "policy_form": item.policy_form,
        "holder": {
            "last_name": mask_name(item.holder.last_name),
            "first_name": item.holder.first_name,
            "birth_date": day(item.holder.birth_date),
        },
        "restrictions": [
            {"code": r.code, "description": r.description, "since": day(r.since)} for r in item.restrictions
        ],
        "attachment": None if attachment is None else attached_clinic(attachment),
    }


def attached_clinic(item: Attachment) -> dict[str, Any]:
    """The clinic a policy's holder is attached to, and since when."""
    return {
        "clinic": {"code": item.clinic_code, "name": item.clinic_name},
        "since": day(item.since),
        "reason": item.reason.value,
    }


def insurer(item: Insurer) -> dict[str, Any]:
    return {
        "code": item.code,
        "name": item.name,
        "region_code": item.region_code,
        "policy_forms": list(item.policy_forms),
        "phone": item.phone,
        "website": item.website,
    }
