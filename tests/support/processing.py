"""The workers' processing on fakes: a clock, a new-policy request, an application submitted to the store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from gateway.domain.applications import Application, Owner
from gateway.domain.model import (
    NewPolicyRequest,
    PolicyForm,
    Relation,
    ReplacementRequest,
)
from tests.support.fakes import FakeStore
from tests.support.persons import ANNA


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def submit(store: FakeStore, request: NewPolicyRequest | ReplacementRequest, app_id: str = "app_1") -> Application:
    application = Application.accept(app_id, Owner("user-1", "11223344595"), request, NOW)
    store.add(application)
    return application


def new_request(**changes: object) -> NewPolicyRequest:
    request = NewPolicyRequest(Relation.SELF, ANNA, "77", "77001", PolicyForm.ELECTRONIC)
    return replace(request, **changes)  # type: ignore[arg-type]


NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
