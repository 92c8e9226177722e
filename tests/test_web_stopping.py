"""``web.stopping.StopAnswer``: a request uvicorn cancels when its grace period after SIGTERM
ends is answered 503 in the route's format, with one log line; before, uvicorn logged a
``CancelledError`` traceback and answered a plain-text 500 (a tester's: an admin's backfill
during a restart)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from backend_cases import module_on_sqlite
from factories import article

from feedsvc import operations as ops
from feedsvc.app import Roles, Service, create_app
from feedsvc.bounded_log import BURST, close_all
from feedsvc.config import load_config
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec
from feedsvc.web.stopping import StopAnswer

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
    module_on_sqlite,
]

TOKEN = "stopping-test-token-0123456789"


def scope(path: str, method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None) -> Any:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": headers or [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80),
    }  # fmt: skip


async def cancelled(app: Any, request: Any, started: Any, body: bytes = b"") -> list[Any]:
    """Run ``app`` on ``request`` as uvicorn does, cancel it once ``started()`` holds (as
    uvicorn does when its grace period ends), and return what it sent."""
    sent: list[Any] = []
    bodies = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Any:
        if bodies:
            return bodies.pop()
        await asyncio.Event().wait()  # the client says nothing more

    async def send(message: Any) -> None:
        sent.append(message)

    task = asyncio.create_task(app(request, receive, send))
    deadline = asyncio.get_running_loop().time() + 30  # patience, not a claim
    while not started():
        assert asyncio.get_running_loop().time() < deadline, "the request never started"
        await asyncio.sleep(0.01)
    task.cancel("Task cancelled, timeout graceful shutdown exceeded")
    await task  # no CancelledError: answered
    return sent


def answer(sent: list[Any]) -> tuple[int, dict[str, str], str]:
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], headers, body.decode()


@pytest.fixture
def stopping_service(tmp_path: Path) -> Any:
    config = tmp_path / "feedsvc.toml"
    config.write_text('[site]\nlanguage = "en"\n[admin]\nlanguage = "vi"\n', encoding="utf-8")
    return SimpleNamespace(settings=load_config(config), interrupted=True)


@pytest.mark.parametrize(
    ("path", "kind", "words"),
    [
        ("/api/topics/kt/backfill", "application/json", "could not finish this request"),
        ("/feeds/kt.rss", "text/plain", "The service is stopping"),
        ("/admin/topics/kt/backfill", "text/html", "Dịch vụ đang dừng"),  # admin.language
        ("/topics/kt", "text/html", "The service is stopping"),  # site.language
    ],
)
def test_a_request_cancelled_by_the_stop_is_answered_503_in_its_format(
    stopping_service: Any, caplog: pytest.LogCaptureFixture, path: str, kind: str, words: str
) -> None:
    entered = asyncio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        entered.set()
        await asyncio.Event().wait()

    app = StopAnswer(slow, stopping_service)
    with caplog.at_level(logging.WARNING, "feedsvc.web.stopping"):
        sent = asyncio.run(cancelled(app, scope(path), entered.is_set))
    status, headers, body = answer(sent)
    assert status == 503 and headers["content-type"].startswith(kind), (status, headers)
    assert headers["retry-after"] == "30" and headers["cache-control"] == "no-store"
    assert words in body, body
    if kind == "application/json":
        assert json.loads(body)["code"] == "service_stopping"
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [f"GET {path}: not answered before the service's stop; answered 503"]
    assert all(r.exc_info is None for r in caplog.records)  # no traceback


def test_many_requests_cut_short_are_a_few_lines_and_one_count(
    stopping_service: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A client may hold as many requests open as the connection cap allows: their stop was a
    WARNING each (2,000 lines at a stop); now the first few and one line counting the rest
    (:mod:`feedsvc.bounded_log`, told at once by the service's stop: ``close_all``)."""
    entered: list[int] = []

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        entered.append(1)
        await asyncio.Event().wait()

    app = StopAnswer(slow, stopping_service)

    async def forty() -> None:
        await asyncio.gather(
            *(cancelled(app, scope(f"/topics/t{i}"), lambda: len(entered) == 40) for i in range(40))
        )

    with caplog.at_level(logging.WARNING, "feedsvc.web.stopping"):
        asyncio.run(forty())
        close_all()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == BURST + 1, lines
    assert lines[0].endswith(": not answered before the service's stop; answered 503")
    assert lines[-1].startswith("30 more requests cut short by the service's stop in ")
    assert ", from 1 address; the first: GET /topics/t" in lines[-1]


def test_a_cancellation_while_not_stopping_is_not_taken(stopping_service: Any) -> None:
    stopping_service.interrupted = False
    entered = asyncio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        entered.set()
        await asyncio.Event().wait()

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(cancelled(StopAnswer(slow, stopping_service), scope("/api/x"), entered.is_set))


def test_an_answer_under_way_is_not_answered_twice(
    stopping_service: Any, caplog: pytest.LogCaptureFixture
) -> None:
    begun = asyncio.Event()

    async def streaming(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        begun.set()
        await asyncio.Event().wait()

    app = StopAnswer(streaming, stopping_service)
    with caplog.at_level(logging.WARNING, "feedsvc.web.stopping"):
        sent = asyncio.run(cancelled(app, scope("/feeds/kt.rss"), begun.is_set))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert [r.getMessage() for r in caplog.records] == [
        "GET /feeds/kt.rss: cut short by the service's stop mid-answer"
    ]


@pytest.fixture
def served(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, Service]]:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    config = tmp_path / "feedsvc.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[topics]\nimport_on_start = false\n', encoding="utf-8"
    )
    service = Service(load_config(config), Roles(scheduler=False, bot=False))
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        with service.db.write() as conn:
            upsert_source_articles(conn, [article(1, title="Kiến Thụy")], service.db.now())
        service.ingest_tick()
        ops.save_topic(service.db, TopicSpec("kt", "Kiến Thụy", '"Kiến Thụy"'), "t")
        yield client, service


def test_the_app_answers_a_backfill_the_stop_cut_short(
    served: tuple[TestClient, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole app (``create_app``): an API backfill in its worker thread when the stop's
    grace period ends. The thread goes on to its own stop point; the client has its 503."""
    client, service = served
    entered, release = threading.Event(), threading.Event()

    def long_backfill(*_args: Any, **_kwargs: Any) -> None:
        entered.set()
        release.wait(30)  # held until the test releases it (30 s at most)
        raise ops.OperationError("unavailable", "stopped", code="backfill_stopped")

    monkeypatch.setattr(ops, "backfill_topic", long_backfill)
    app = create_app(service)
    headers = [
        (b"host", b"127.0.0.1"), (b"authorization", f"Bearer {TOKEN}".encode()),
        (b"content-type", b"application/json"), (b"accept-language", b"en"),
    ]  # fmt: skip
    request = scope("/api/topics/kt/backfill", "POST", headers)

    async def stop_during_it() -> list[Any]:
        def stopped_once_entered() -> bool:
            if entered.is_set():
                monkeypatch.setattr(service, "interrupted", True)  # Service.interrupt's flag
            return entered.is_set()

        return await cancelled(app, request, stopped_once_entered, b'{"days": 0}')

    try:
        sent = client.portal.call(stop_during_it)
    finally:
        release.set()
    status, _headers, body = answer(sent)
    assert status == 503 and json.loads(body)["code"] == "service_stopping", body
    assert json.loads(body)["message"].startswith("The service is stopping"), body


def test_a_feed_poll_the_stop_cut_short_is_no_traceback(
    served: tuple[TestClient, Service],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The whole app: a plain poll of a cached feed is answered by the fast path, outside the
    routes' :class:`StopAnswer`. Its client not reading (pipelined polls, a stalled reader),
    its answer waits to be sent when the stop's grace period ends: the ``CancelledError``
    reached uvicorn, "Exception in ASGI application" with a traceback. It is the stop's
    one WARNING line now, as for the routes."""
    client, service = served
    service.publisher.sync()
    app = create_app(service)
    waiting = asyncio.Event()

    async def poll() -> list[Any]:
        sent: list[Any] = []

        async def receive() -> Any:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Any) -> None:  # a client that does not read
            sent.append(message)
            waiting.set()
            await asyncio.Event().wait()

        task = asyncio.create_task(app(scope("/feeds/kt.rss"), receive, send))
        await asyncio.wait_for(waiting.wait(), 30)
        monkeypatch.setattr(service, "interrupted", True)  # Service.interrupt's flag
        task.cancel("Task cancelled, timeout graceful shutdown exceeded")
        await task  # no CancelledError: the stop's
        return sent

    with caplog.at_level(logging.WARNING, "feedsvc.web.stopping"):
        sent = client.portal.call(poll)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200  # the fast path
    assert [r.getMessage() for r in caplog.records] == [
        "GET /feeds/kt.rss: cut short by the service's stop mid-answer"
    ]
