"""What a use case can answer instead of a result; the edge (gateway/api) decides how each is answered."""

from __future__ import annotations

from gateway.domain.model import Reason


class InputRejected(Exception):
    """The request breaks rules the gateway checks itself: every reason, from the catalogue.

    `replayed`: the refusal of an earlier request with the same Idempotency-Key, answered again as it was.
    """

    def __init__(self, reasons: tuple[Reason, ...], *, replayed: bool = False):
        super().__init__(", ".join(reason.code for reason in reasons))
        self.reasons = reasons
        self.replayed = replayed


class NotVisible(Exception):
    """Unknown, or not the caller's to see: both answer 404, so that nothing leaks."""


class Conflict(Exception):
    """The request conflicts with the resource's state (409)."""


class KeyReused(Exception):
    """An Idempotency-Key sent again with another request (422)."""


class KeyInProgress(Exception):
    """An Idempotency-Key whose first request is still being answered (409, retry in a second)."""


class ServiceUnavailable(Exception):
    """A back-end needed to answer now is down (503 with Retry-After)."""

    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after
