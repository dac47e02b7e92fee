"""The reason catalogue (contracts/rejections.yaml): turns a code into the words a citizen reads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

import contracts
from gateway.domain.model import Reason, Source, Violation

DEFAULT_PATH = contracts.path("rejections.yaml")
UNKNOWN_BACKEND_CODE = "BACKEND_REJECTED"


class Severity(StrEnum):
    """How much a reason weighs (FHIR's issue severity): an error refuses the request, a warning only tells."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Entry:
    """One reason of the catalogue."""

    code: str
    sources: tuple[Source, ...]  # the systems that may say it
    title: str
    message: str
    recommendation: str
    http_status: int
    fhir_issue_type: str
    severity: Severity
    field: str | None = None
    legal_basis: str | None = None
    reserved: str | None = None  # why only a real registry says it; None: something in this project does

    def to_json(self) -> dict[str, Any]:
        """The entry as `GET /api/v1/rejection-reasons` lists it."""
        return {
            "code": self.code,
            "sources": [source.value for source in self.sources],
            "title": self.title,
            "message": self.message,
            "recommendation": self.recommendation,
            "http_status": self.http_status,
            "fhir_issue_type": self.fhir_issue_type,
            "severity": self.severity.value,
            "field": self.field,
            "legal_basis": self.legal_basis,
            "reserved": self.reserved,
        }


class Catalogue:
    """All reasons by code."""

    def __init__(self, entries: Iterable[Entry]):
        self._entries = {entry.code: entry for entry in entries}

    @classmethod
    def load(cls, path: Path = DEFAULT_PATH) -> Catalogue:
        """Read the catalogue file."""
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(_entry(raw) for raw in data["reasons"])

    def __contains__(self, code: object) -> bool:
        return code in self._entries

    def entries(self) -> list[Entry]:
        """Every reason, in the file's order."""
        return list(self._entries.values())

    def produced_codes(self) -> list[str]:
        """The codes something in this project says: all but those reserved for a real registry."""
        return [code for code, entry in self._entries.items() if entry.reserved is None]

    def entry(self, code: str) -> Entry:
        """The entry of a known code."""
        return self._entries[code]

    def reason(self, violation: Violation, source: Source = Source.GATEWAY) -> Reason:
        """The Reason for a broken rule of the gateway's own."""
        entry = self._entries[violation.code]
        return Reason(
            code=entry.code,
            source=source,
            message=entry.message,
            recommendation=entry.recommendation,
            field=violation.field,
            details=violation.details,
        )

    def backend_reason(
        self, source: Source, code: str, text: str, field: str | None, extra: Mapping[str, str] | None = None
    ) -> Reason:
        """The Reason for a back-end's refusal; a code the catalogue lacks keeps the back-end's own code and text."""
        details = dict(extra or {})
        if code in self._entries:
            entry = self._entries[code]
        else:
            entry = self._entries[UNKNOWN_BACKEND_CODE]
            details.update({"backend_code": code, "backend_message": text})
        return Reason(
            code=entry.code,
            source=source,
            message=entry.message,
            recommendation=entry.recommendation,
            field=field,
            details=tuple(sorted(details.items())),
        )

    def status_of(self, reasons: Iterable[Reason]) -> int:
        """The HTTP status for input errors: the catalogue's, 422 when they differ."""
        statuses = {self._entries[reason.code].http_status for reason in reasons}
        return statuses.pop() if len(statuses) == 1 else 422


def _entry(raw: Mapping[str, Any]) -> Entry:
    return Entry(
        code=raw["code"],
        sources=tuple(Source(source) for source in raw["sources"]),
        title=raw["title"],
        message=raw["message"],
        recommendation=raw["recommendation"],
        http_status=int(raw["http_status"]),
        fhir_issue_type=raw["fhir_issue_type"],
        severity=Severity(raw["severity"]),
        field=raw.get("field"),
        legal_basis=raw.get("legal_basis"),
        reserved=raw.get("reserved"),
    )
