"""Reads that cost the fund nothing when nothing changed: the status cache, and ETag / If-None-Match."""

from __future__ import annotations

import secrets
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from gateway.domain.model import PolicyStatus
from mocks.oauth.state import EXTENSION_KEY
from tests.support.bodies import BODY
from tests.support.gateway import MINE, SNILS, THEIRS, Gateway, insure

# The tests take tokens from the mock OAuth server over HTTP.
pytestmark = pytest.mark.network


@pytest.fixture
def insured(gateway: Gateway) -> Gateway:
    insure(gateway, MINE, SNILS)
    insure(gateway, THEIRS, "01024236877")
    return gateway


def fund_reads(gateway: Gateway) -> int:
    return sum(call in ("insurance_status", "policy_card") for call in gateway.fund.calls)


def clinic(gateway: Gateway) -> dict[str, str]:
    return gateway.auth(sub="clinic-demo", snils=None, scope="epolicy.eligibility")


def test_a_repeated_status_read_is_answered_without_asking_the_fund_again(insured: Gateway) -> None:
    headers = clinic(insured)
    first = insured.client.get(f"/api/v1/policies/{THEIRS}", headers=headers)
    reads = fund_reads(insured)
    second = insured.client.get(f"/api/v1/policies/{THEIRS}", headers=headers)

    assert insured.fund.calls.count("policy_card") == reads == 1, "one call for the status and the attachment"
    assert fund_reads(insured) == reads
    assert second.get_json() == first.get_json()


def test_an_application_concerning_the_enp_makes_the_next_read_ask_the_fund(insured: Gateway) -> None:
    headers = insured.auth()
    insured.client.get(f"/api/v1/policies/{MINE}", headers=headers)
    person, policy = insured.fund.persons[MINE]
    assert policy is not None
    insured.fund.persons[MINE] = (person, replace(policy, status=PolicyStatus.SUSPENDED))
    assert insured.client.get(f"/api/v1/policies/{MINE}", headers=headers).get_json()["status"] == "active"

    # A replacement of this ЕНП is recorded: the gateway's record of it changed, so the fund is asked again.
    answer = insured.client.post(
        f"/api/v1/policies/{MINE}/replacements",
        json={"reason": "lost", "policy_form": "electronic"},
        headers=insured.auth(),
    )
    assert answer.status_code == 202, answer.get_json()

    assert insured.client.get(f"/api/v1/policies/{MINE}", headers=headers).get_json()["status"] == "suspended"


def test_a_kept_status_expires_after_its_time_to_live(insured: Gateway) -> None:
    cache = insured.app.extensions["epolicy"].status_cache
    now = [1000.0]
    cache.clock = lambda: now[0]
    headers = clinic(insured)
    insured.client.get(f"/api/v1/policies/{THEIRS}", headers=headers)
    reads = fund_reads(insured)

    now[0] += cache.ttl - 0.5
    insured.client.get(f"/api/v1/policies/{THEIRS}", headers=headers)
    assert fund_reads(insured) == reads
    now[0] += 1
    insured.client.get(f"/api/v1/policies/{THEIRS}", headers=headers)
    assert fund_reads(insured) == reads + 1


def test_the_cache_can_be_turned_off(insured: Gateway) -> None:
    insured.app.extensions["epolicy"].status_cache.ttl = 0
    headers = clinic(insured)
    for _ in range(3):
        insured.client.get(f"/api/v1/policies/{THEIRS}", headers=headers)
    assert fund_reads(insured) == 3


def test_a_kept_status_is_still_only_for_those_who_may_see_it(insured: Gateway) -> None:
    assert insured.client.get(f"/api/v1/policies/{THEIRS}", headers=clinic(insured)).status_code == 200
    assert insured.client.get(f"/api/v1/policies/{THEIRS}", headers=insured.auth()).status_code == 404


def test_a_status_read_with_the_etag_it_was_given_is_a_304_without_a_body(insured: Gateway) -> None:
    headers = clinic(insured)
    first = insured.client.get(f"/api/v1/policies/{THEIRS}", headers=headers)
    etag = first.headers["ETag"]

    same = insured.client.get(f"/api/v1/policies/{THEIRS}", headers={**headers, "If-None-Match": etag})
    other = insured.client.get(f"/api/v1/policies/{THEIRS}", headers={**headers, "If-None-Match": '"stale"'})

    assert (same.status_code, same.get_data(), same.headers["ETag"]) == (304, b"", etag)
    assert same.headers["Cache-Control"] == "no-store", "personal data stays out of shared caches"
    assert (other.status_code, other.get_json()) == (200, first.get_json())


def test_an_application_read_is_a_304_until_the_application_changes(gateway: Gateway) -> None:
    headers = gateway.auth()
    created = gateway.client.post("/api/v1/applications", json=BODY, headers=headers).get_json()
    first = gateway.client.get(f"/api/v1/applications/{created['id']}", headers=headers)
    etag = first.headers["ETag"]
    conditional = {**headers, "If-None-Match": etag}
    assert gateway.client.get(f"/api/v1/applications/{created['id']}", headers=conditional).status_code == 304

    stored = gateway.store.applications[created["id"]]
    later = datetime.now(UTC) + timedelta(seconds=1)
    gateway.store.applications[created["id"]] = stored.cancel(later)

    changed = gateway.client.get(f"/api/v1/applications/{created['id']}", headers=conditional)
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_the_list_of_applications_carries_an_etag_too(gateway: Gateway) -> None:
    headers = gateway.auth()
    first = gateway.client.get("/api/v1/applications", headers=headers)
    same = gateway.client.get("/api/v1/applications", headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert same.status_code == 304
    gateway.client.post("/api/v1/applications", json=BODY, headers=headers)
    after = gateway.client.get("/api/v1/applications", headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200
    assert len(after.get_json()["items"]) == 1


def test_a_snils_claim_written_as_printed_still_names_the_holder(insured: Gateway) -> None:
    # An identity provider may write the СНИЛС as on the card; the gateway normalises it like a СНИЛС in a body.
    now = int(time.time())
    claims = {
        "iss": f"{insured.mocks.base_url}/oauth",
        "aud": "epolicy-gateway",
        "sub": "esia-user",
        "client_id": "epolicy-portal",
        "iat": now,
        "exp": now + 600,
        "jti": secrets.token_urlsafe(8),
        "scope": "epolicy.read",
        "snils": "112-233-445 95",
    }
    key = insured.mocks.server.app.extensions[EXTENSION_KEY].key
    headers = {"Authorization": f"Bearer {key.sign({'typ': 'at+jwt'}, claims)}"}

    assert insured.client.get(f"/api/v1/policies/{MINE}", headers=headers).status_code == 200
    assert insured.client.get(f"/api/v1/policies/{THEIRS}", headers=headers).status_code == 404
