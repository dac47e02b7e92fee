"""One replacement in flight per policy: the store refuses a second while the first is not final, across threads."""

from __future__ import annotations

import threading

import pytest

from gateway.domain.applications import Status, Step
from gateway.domain.model import IssuedPolicy
from gateway.ports import ApplicationInFlight, ApplicationStore
from gateway.storage import SqlApplicationStore
from tests.support.storage import accepted, at, replacement_request

ENP = "7754900882000015"
OTHER_ENP = "7748410819000012"


def test_a_second_replacement_of_a_policy_in_flight_is_refused_and_not_stored(store: ApplicationStore) -> None:
    store.add(accepted("app_first", request=replacement_request(ENP)))

    with pytest.raises(ApplicationInFlight) as refused:
        store.add(accepted("app_second", owner_sub="user-2", request=replacement_request(ENP)))

    assert refused.value.enp == ENP
    assert store.get("app_second") is None
    assert [item.id for item in store.list_for_owner("user-2", 10, None).items] == []


def test_replacements_of_other_policies_and_new_applications_go_through(store: ApplicationStore) -> None:
    store.add(accepted("app_first", request=replacement_request(ENP)))
    store.add(accepted("app_other", request=replacement_request(OTHER_ENP)))
    store.add(accepted("app_new_1"))
    store.add(accepted("app_new_2"))
    assert {item.id for item in store.list_for_owner("user-1", 10, None).items} == {
        "app_first",
        "app_other",
        "app_new_1",
        "app_new_2",
    }


@pytest.mark.parametrize("ending", ["issued", "rejected", "cancelled"])
def test_once_the_replacement_in_flight_ends_the_policy_can_be_replaced_again(
    store: ApplicationStore, ending: str
) -> None:
    store.add(accepted("app_first", request=replacement_request(ENP)))
    first = store.get("app_first")
    assert first is not None
    if ending == "cancelled":
        store.save(first.cancel(at(1)), None)
    else:
        issuing = first.move(Status.VERIFYING, Step.ISSUE, at(1)).move(Status.ISSUING, Step.REGISTER, at(2))
        store.save(issuing, at(2))
        issuing = store.get("app_first")
        assert issuing is not None
        done = issuing.issue(IssuedPolicy(ENP, "77001", at(3).date()), at(3)) if ending == "issued" else None
        store.save(done or issuing.reject((), at(3)), None)

    store.add(accepted("app_again", request=replacement_request(ENP)))

    assert store.get("app_again") is not None


def test_of_replacements_stored_at_once_from_many_threads_exactly_one_is_kept(sql_store: SqlApplicationStore) -> None:
    # Each thread has its own connection from the pool: on PostgreSQL, as many gateway processes would.
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(number: int) -> None:
        application = accepted(f"app_{number}", owner_sub=f"user-{number}", request=replacement_request(ENP))
        barrier.wait()
        try:
            sql_store.add(application)
            outcome = "stored"
        except ApplicationInFlight:
            outcome = "in flight"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=submit, args=(number,)) for number in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["in flight"] * (threads_count - 1) + ["stored"]
    stored = [number for number in range(threads_count) if sql_store.get(f"app_{number}") is not None]
    assert len(stored) == 1
