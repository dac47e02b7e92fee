"""Applications in the store (SQL and fake): added, read back, saved with optimistic concurrency, listed per owner."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import StatementError

from gateway.domain.applications import Application, Progress, Status, Step
from gateway.domain.model import IssuedPolicy, Reason, Source
from gateway.ports import ApplicationStore, ConcurrentUpdate, InvalidCursor
from tests.support.storage import accepted, at, replacement_request

ENP = "7754900882000015"


def test_an_added_application_reads_back_equal_at_version_zero(store: ApplicationStore) -> None:
    application = accepted("app_1")

    store.add(application)

    assert store.get("app_1") == application
    assert store.get("app_1") is not application


def test_a_replacement_application_reads_back_with_its_request(store: ApplicationStore) -> None:
    application = accepted("app_r", request=replacement_request(ENP))

    store.add(application)

    assert store.get("app_r") == application


def test_an_unknown_application_is_none(store: ApplicationStore) -> None:
    assert store.get("app_missing") is None


def test_timestamps_come_back_timezone_aware_in_utc(store: ApplicationStore) -> None:
    moscow = timezone(timedelta(hours=3))
    store.add(accepted("app_1", when=datetime(2025, 3, 3, 12, 0, 0, 250_000, tzinfo=moscow)))

    stored = store.get("app_1")

    assert stored is not None
    assert stored.created_at == datetime(2025, 3, 3, 9, 0, 0, 250_000, tzinfo=UTC)
    assert stored.created_at.tzinfo is UTC
    assert stored.history[0].at.tzinfo is UTC


def test_a_naive_timestamp_is_refused(store: ApplicationStore) -> None:
    # SQLAlchemy wraps the ValueError of the column type; the fake raises the same ValueError itself.
    with pytest.raises((StatementError, ValueError), match="naive"):
        store.add(accepted("app_1", when=datetime(2025, 3, 3, 9, 0)))


def test_saving_appends_new_history_and_bumps_the_version(store: ApplicationStore) -> None:
    store.add(accepted("app_1"))
    verifying = _stored(store, "app_1").move(Status.VERIFYING, Step.VERIFY, at(1))

    store.save(verifying, at(1))
    retried = _stored(store, "app_1").note_retry(at(2), "фонд ОМС временно недоступен")
    store.save(retried, at(3))

    stored = _stored(store, "app_1")
    assert stored.version == 2
    assert [(entry.status, entry.note) for entry in stored.history] == [
        (Status.ACCEPTED, None),
        (Status.VERIFYING, None),
        (Status.VERIFYING, "фонд ОМС временно недоступен"),
    ]
    assert stored == replace(retried, version=2)


def test_what_the_steps_learned_is_saved(store: ApplicationStore) -> None:
    store.add(accepted("app_1"))
    application = _stored(store, "app_1").move(Status.VERIFYING, Step.ISSUE, at(1))
    learned = application.with_progress(enp=ENP, insurer_code="77001", region_code="77")

    store.save(learned, at(1))

    stored = _stored(store, "app_1")
    assert stored.progress == Progress(enp=ENP, insurer_code="77001", region_code="77")
    assert stored.enp == ENP


def test_an_issued_application_keeps_its_policy(store: ApplicationStore) -> None:
    store.add(accepted("app_1"))
    issuing = (
        _stored(store, "app_1").move(Status.VERIFYING, Step.ISSUE, at(1)).move(Status.ISSUING, Step.REGISTER, at(2))
    )
    issued = issuing.issue(IssuedPolicy(ENP, "77001", date(2025, 3, 4)), at(3))

    store.save(issued, None)

    assert _stored(store, "app_1") == replace(issued, version=1)


def test_a_rejected_application_keeps_its_reasons(store: ApplicationStore) -> None:
    store.add(accepted("app_1"))
    reasons = (Reason("PERSON_DECEASED", Source.FUND, "Отказ фонда.", "Обратитесь в фонд.", None, (("code", "D1"),)),)
    rejected = _stored(store, "app_1").reject(reasons, at(1))

    store.save(rejected, None)

    assert _stored(store, "app_1").rejection == reasons


def test_saving_a_copy_read_before_another_save_is_a_concurrent_update(store: ApplicationStore) -> None:
    store.add(accepted("app_1"))
    first = _stored(store, "app_1")
    second = _stored(store, "app_1")
    store.save(first.cancel(at(1)), None)

    with pytest.raises(ConcurrentUpdate):
        store.save(second.move(Status.VERIFYING, Step.VERIFY, at(2)), at(2))

    stored = _stored(store, "app_1")
    assert stored.status is Status.CANCELLED
    assert len(stored.history) == 2


def test_saving_an_application_never_added_is_a_concurrent_update(store: ApplicationStore) -> None:
    with pytest.raises(ConcurrentUpdate):
        store.save(accepted("app_ghost"), None)


def test_the_list_pages_through_an_owners_applications_newest_first(store: ApplicationStore) -> None:
    for number in range(25):
        # Pairs share a creation time, so the id must break the tie.
        store.add(accepted(f"app_{number:02d}", when=at(number // 2)))
    store.add(accepted("app_someone_else", owner_sub="user-2", when=at(100)))

    pages = [store.list_for_owner("user-1", 10, None)]
    while pages[-1].next_cursor is not None:
        pages.append(store.list_for_owner("user-1", 10, pages[-1].next_cursor))

    assert [len(page.items) for page in pages] == [10, 10, 5]
    listed = [item for page in pages for item in page.items]
    assert [item.id for item in listed] == [f"app_{number:02d}" for number in reversed(range(25))]
    assert all(item.owner.sub == "user-1" for item in listed)
    assert listed[0] == _stored(store, "app_24")


def test_a_page_holding_exactly_the_rest_has_no_next_cursor(store: ApplicationStore) -> None:
    for number in range(3):
        store.add(accepted(f"app_{number}", when=at(number)))

    page = store.list_for_owner("user-1", 3, None)

    assert len(page.items) == 3
    assert page.next_cursor is None


def test_an_owner_without_applications_gets_an_empty_page(store: ApplicationStore) -> None:
    store.add(accepted("app_1"))

    assert store.list_for_owner("user-2", 10, None).items == []


@pytest.mark.parametrize("limit", [0, 101])
def test_a_limit_outside_one_to_a_hundred_is_refused(store: ApplicationStore, limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        store.list_for_owner("user-1", limit, None)


@pytest.mark.parametrize("cursor", ["not a cursor", "bm90LWEtZGF0ZXxpZA", "MjAyNS0wMy0wM1QwOTowMDowMHxhcHA"])
def test_a_cursor_the_store_did_not_hand_out_is_refused(store: ApplicationStore, cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        store.list_for_owner("user-1", 10, cursor)


def test_granted_enps_are_those_of_the_owners_issued_applications_alone(store: ApplicationStore) -> None:
    def issued(application_id: str, enp: str, owner_sub: str = "user-1") -> None:
        store.add(accepted(application_id, owner_sub=owner_sub))
        issuing = _stored(store, application_id).move(Status.VERIFYING, Step.ISSUE, at(1))
        issuing = issuing.with_progress(enp=enp).move(Status.ISSUING, Step.REGISTER, at(2))
        store.save(issuing.issue(IssuedPolicy(enp, "77001", date(2025, 3, 4)), at(3)), None)

    issued("app_issued", ENP)
    issued("app_issued_again", ENP)
    issued("app_other", "5099000000000011", owner_sub="user-2")
    store.add(accepted("app_new"))  # no ЕНП yet
    store.add(accepted("app_r1", request=replacement_request("7700000000000030")))  # pending: grants nothing
    found = _stored(store, "app_new").move(Status.VERIFYING, Step.ISSUE, at(1)).with_progress(enp="7700000000000022")
    store.save(found, at(1))  # the fund found a person: still nothing granted
    store.add(accepted("app_refused"))
    refused = (
        _stored(store, "app_refused").move(Status.VERIFYING, Step.ISSUE, at(1)).with_progress(enp="7700000000000048")
    )
    store.save(
        refused.reject(
            (Reason("REGION_NOT_SERVED", Source.INSURER, "не обслуживаем", "обратитесь в другую", "region_code"),),
            at(2),
        ),
        None,
    )

    assert store.granted_enps("user-1") == frozenset({ENP})
    assert store.granted_enps("user-2") == frozenset({"5099000000000011"})
    assert store.granted_enps("user-3") == frozenset()


def test_policy_changed_at_is_the_latest_change_of_an_application_concerning_the_enp(
    store: ApplicationStore,
) -> None:
    assert store.policy_changed_at(ENP) is None
    store.add(accepted("app_r1", request=replacement_request(ENP)))
    store.add(accepted("app_other", request=replacement_request("5099000000000011")))
    first = store.policy_changed_at(ENP)

    found = _stored(store, "app_r1").move(Status.VERIFYING, Step.ISSUE, at(5))
    store.save(found, at(5))

    assert first is not None
    assert store.policy_changed_at(ENP) == at(5) != first


def _stored(store: ApplicationStore, application_id: str) -> Application:
    application = store.get(application_id)
    assert application is not None
    return application
