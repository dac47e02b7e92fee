"""The status cache: fresh answers under the same stamp only, bounded in size."""

from __future__ import annotations

from gateway.usecases.status_cache import StatusCache


def cache(ttl: float = 10, size: int = 100) -> tuple[StatusCache[str], list[float]]:
    now = [0.0]
    return StatusCache(ttl, size, clock=lambda: now[0]), now


def test_an_answer_is_kept_for_its_time_to_live_counted_from_before_the_fetch() -> None:
    kept, now = cache(ttl=10)
    kept.put("enp", "stamp-1", "active", fetched_at=0.0)
    now[0] = 9.9
    assert kept.get("enp", "stamp-1") == "active"
    now[0] = 10.0
    assert kept.get("enp", "stamp-1") is None


def test_another_stamp_means_the_answer_is_stale() -> None:
    kept, _ = cache()
    kept.put("enp", "stamp-1", "active", fetched_at=0.0)
    assert kept.get("enp", "stamp-2") is None
    assert kept.get("enp", "stamp-1") is None, "a stale answer is dropped, not kept for the old stamp"


def test_forget_drops_one_enp_only() -> None:
    kept, _ = cache()
    kept.put("a", None, "active", fetched_at=0.0)
    kept.put("b", None, "suspended", fetched_at=0.0)
    kept.forget("a")
    assert (kept.get("a", None), kept.get("b", None)) == (None, "suspended")


def test_the_least_recently_read_goes_first_when_full() -> None:
    kept, _ = cache(size=2)
    kept.put("a", None, "1", fetched_at=0.0)
    kept.put("b", None, "2", fetched_at=0.0)
    assert kept.get("a", None) == "1"
    kept.put("c", None, "3", fetched_at=0.0)
    assert [enp for enp in "abc" if kept.get(enp, None)] == ["a", "c"]


def test_a_time_to_live_of_zero_keeps_nothing() -> None:
    kept, _ = cache(ttl=0)
    kept.put("enp", None, "active", fetched_at=0.0)
    assert not kept.enabled
    assert kept.get("enp", None) is None


def test_hits_and_misses_are_counted() -> None:
    kept, _ = cache()
    kept.get("enp", None)
    kept.put("enp", None, "active", fetched_at=0.0)
    kept.get("enp", None)
    assert (kept.hits, kept.misses) == (1, 1)
