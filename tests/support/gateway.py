"""The gateway app with fakes behind it, and policies of people the tests insure in its fake fund."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import requests
from flask import Flask
from flask.testing import FlaskClient

from tests.support.fakes import FakeFund, FakeStore
from tests.support.persons import ANNA, active_policy
from tests.support.services import RunningMocks


@dataclass
class Gateway:
    app: Flask
    client: FlaskClient
    store: FakeStore
    fund: FakeFund
    mocks: RunningMocks

    def token(
        self,
        sub: str = "user-1",
        snils: str | None = "11223344595",
        scope: str = "epolicy.apply epolicy.read epolicy.replace",
    ) -> str:
        body: dict[str, Any] = {"sub": sub, "scope": scope}
        if snils:
            body["snils"] = snils
        answer = requests.post(f"{self.mocks.base_url}/oauth/test/token", json=body, timeout=10)
        token: str = answer.json()["access_token"]
        return token

    def auth(self, **token: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(**token)}"}


MINE = "7754900882000015"  # the holder's СНИЛС is the token's


THEIRS = "7748410819000012"  # someone else's


SNILS = "11223344595"


def insure(gateway: Gateway, enp: str, snils: str, region: str = "77") -> None:
    """Put a person with an active policy into the fake registry."""
    person = replace(ANNA, middle_name=None, snils=snils)
    policy = active_policy(enp, region, person=person)
    gateway.fund.persons[enp] = (person, policy)
