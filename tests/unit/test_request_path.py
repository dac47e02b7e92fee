"""The fast paths of the request path answer exactly as the references they stand for."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from flask import Flask, Response

from gateway.api.common import fast_conditional, reference_conditional

BODY = {"enp": "7754900882000015", "status": "active", "holder": {"last_name": "И*****"}}


def _answer(extra: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(BODY, ensure_ascii=False), 200, mimetype="application/json")
    response.headers.update(extra or {})
    return response


def _tag() -> str:
    probe = Flask("probe")
    with probe.test_request_context("/"):
        return str(reference_conditional(_answer()).headers["ETag"])


def _conditional_cases() -> list[tuple[str, dict[str, str], dict[str, str]]]:
    tag = _tag()
    return [
        ("GET", {}, {}),
        ("HEAD", {}, {}),
        ("POST", {}, {}),
        ("GET", {"If-None-Match": tag}, {}),
        ("HEAD", {"If-None-Match": tag}, {}),
        ("GET", {"If-None-Match": '"other"'}, {}),
        ("GET", {"If-None-Match": f"W/{tag}"}, {}),
        ("GET", {"If-None-Match": f'"other", {tag}'}, {}),
        ("GET", {"If-None-Match": "*"}, {}),
        ("GET", {"If-None-Match": f" {tag} "}, {}),
        ("GET", {"If-None-Match": tag, "If-Match": tag}, {}),
        ("GET", {"If-Match": '"other"'}, {}),
        ("GET", {"If-Modified-Since": "Sun, 06 Dec 2026 10:00:00 GMT"}, {}),
        ("GET", {"Range": "bytes=0-3"}, {}),
        ("GET", {"If-None-Match": tag}, {"Date": "Sun, 06 Dec 2026 10:00:00 GMT"}),
        ("GET", {}, {"ETag": '"set-by-the-view"'}),
        ("GET", {"If-None-Match": '"set-by-the-view"'}, {"ETag": '"set-by-the-view"'}),
    ]


@pytest.mark.parametrize(("method", "sent", "answered"), _conditional_cases())
def test_fast_conditional_answers_as_werkzeugs_make_conditional(
    monkeypatch: pytest.MonkeyPatch, method: str, sent: dict[str, str], answered: dict[str, str]
) -> None:
    monkeypatch.setattr(time, "time", lambda: 1796635800.25)  # one second for both, whenever the test runs
    app = Flask("conditional")
    with app.test_request_context("/api/v1/policies/7754900882000015", method=method, headers=sent):
        fast = fast_conditional(_answer(answered))
        reference = reference_conditional(_answer(answered))

    assert fast.status_code == reference.status_code
    assert list(fast.headers.items()) == list(reference.headers.items())
    assert fast.get_data() == reference.get_data()


@pytest.mark.parametrize("sent", [{}, {"If-None-Match": "tag"}])
def test_a_plain_read_and_its_exact_revalidation_take_the_fast_path(
    monkeypatch: pytest.MonkeyPatch, sent: dict[str, str]
) -> None:
    from gateway.api import common

    monkeypatch.setattr(common, "reference_conditional", lambda response: pytest.fail("the reference was taken"))
    headers = {"If-None-Match": _tag()} if sent else {}
    with Flask("conditional").test_request_context("/", headers=headers):
        assert fast_conditional(_answer()).status_code == (304 if sent else 200)


def _recording_app(calls: list[str], stop_at: str | None = None) -> Flask:
    app = Flask("hooks")

    @app.get("/")
    def view() -> str:
        calls.append("view")
        return "ok"

    for name in ("a", "b", "c"):

        def before(name: str = name) -> str | None:
            calls.append(f"before {name}")
            return f"answered by {name}" if name == stop_at else None

        def after(response: Response, name: str = name) -> Response:
            calls.append(f"after {name}")
            response.headers.add("X-Order", name)
            return response

        def teardown(error: BaseException | None, name: str = name) -> None:
            calls.append(f"teardown {name}")

        app.before_request(before)
        app.after_request(after)
        app.teardown_request(teardown)
    return app


def _later(calls: list[str]) -> Callable[[Response], Response]:
    def later(response: Response) -> Response:
        calls.append("after later")
        return response

    return later


@pytest.mark.parametrize("stop_at", [None, "b"])
def test_folded_hooks_run_as_flask_runs_them_one_by_one(stop_at: str | None) -> None:
    from gateway.app import fold_hooks

    answers = []
    for fold in (False, True):
        calls: list[str] = []
        app = _recording_app(calls, stop_at)
        if fold:
            fold_hooks(app)
            assert [len(hooks[None]) for hooks in (app.before_request_funcs, app.after_request_funcs)] == [1, 1]
        app.after_request(_later(calls))  # registered after the fold: it runs first, as it would unfolded
        answer = app.test_client().get("/")
        answers.append((calls, answer.get_data(as_text=True), answer.headers.getlist("X-Order")))
    assert answers[0] == answers[1]


def test_the_fast_request_and_correlation_id_is_uuid4s_hex_of_the_same_random_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os
    import uuid

    from gateway.correlation import new_id

    for random in (bytes(16), b"\xff" * 16, bytes(range(16)), os.urandom(16)):
        monkeypatch.setattr(os, "urandom", lambda size, random=random: random)
        assert new_id() == uuid.uuid4().hex


def test_the_request_series_are_the_children_labels_gives() -> None:
    from gateway.metrics import Metrics

    metrics = Metrics(multiprocess=False)
    answered, timed = metrics.request_series("GET", "/api/v1/policies/<enp>", 200)
    assert answered is metrics.requests.labels("GET", "/api/v1/policies/<enp>", "200")
    assert timed is metrics.request_seconds.labels("GET", "/api/v1/policies/<enp>")
    assert metrics.request_series("GET", "/api/v1/policies/<enp>", 200) == (answered, timed)
    assert metrics.request_series("GET", "/api/v1/policies/<enp>", 304)[0] is not answered
