"""``/readyz`` (issue #12 §7, #18 §3): ready means "this process can serve" (state DB answers,
snapshots loaded), not "the CMS is up"; ingest health is ``/readyz?ingest=1`` (``on``, ``true``…;
a value neither yes nor no refused); the public answer
is only ready / not ready, details need the admin token; and it answers within its own deadline
when the DB hangs, with never more than one probe thread."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from backend_cases import module_on_sqlite
from migrated import premigrated
from sqlalchemy.pool import NullPool

from feedsvc import yes_no
from feedsvc.app import Roles, Service, create_app
from feedsvc.catalogue import CATALOGUE
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.store import cursors
from feedsvc.web import health

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

TOKEN = "readyz-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SERVING_YES = CATALOGUE["ready.serving_yes"][0]


def make_service(db_url: str, **source: Any) -> Service:
    settings = load_config(
        None,
        {
            "database": {"url": premigrated(db_url)},
            "topics": {"import_on_start": False},
            "source": {"poll_seconds": 1, **source},
        },
    )
    service = Service(settings, Roles(scheduler=True, bot=False))
    service.prepare()
    service.started_at = datetime.now(UTC)
    return service


@pytest.fixture
def service(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    service = make_service(db_url)
    yield service
    for callback in service.on_stop:
        callback()
    service.close()


@pytest.fixture
async def client(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as c:
        yield c


async def test_public_answer_is_only_ready_details_need_the_token(
    client: httpx.AsyncClient,
) -> None:
    public = await client.get("/readyz")
    assert public.status_code == 200 and public.json() == {"ready": True, "message": SERVING_YES}
    wrong = await client.get("/readyz", headers={"Authorization": "Bearer nope"})
    assert wrong.json() == {"ready": True, "message": SERVING_YES}
    english = await client.get("/readyz", headers={"Accept-Language": "en"})
    assert english.json() == {"ready": True, "message": CATALOGUE["ready.serving_yes"][1]}
    detailed = (await client.get("/readyz", headers=AUTH)).json()
    assert detailed["ready"] is True
    assert detailed["database"] == "ok" and detailed["snapshots"] == "loaded"


async def test_the_checks_say_whether_sending_waits_for_the_first_look(
    client: httpx.AsyncClient, service: Service
) -> None:
    """A start with alerts owed waits for its first look at the source (feedsvc.send_gate):
    the token's checks say so and why; it is no unreadiness (feeds serve meanwhile)."""
    service.send_gate.arm(2)
    waiting = (await client.get("/readyz", headers=AUTH)).json()
    assert waiting["ready"] is True
    assert waiting["sending"].startswith("waiting 0 s of at most 60 s: the first ingest pass")
    service.send_gate.open("the source was read to its head; reconciliation ran")
    started = (await client.get("/readyz", headers=AUTH)).json()
    assert started["sending"] == "started: the source was read to its head; reconciliation ran"
    assert "sending" not in (await client.get("/readyz")).json()  # not for the public


def fail_ingest(db: Database, source: str, failures: int, last_success_ago: float) -> None:
    """What an ingest in backoff leaves in ``source_cursors``: failures in a row, an error
    naming an internal host, the last success long ago (ticks skipped while backing off)."""
    now = datetime.now(UTC)
    with db.write() as conn:
        cursors.record_success(conn, source, None, None, now - timedelta(seconds=last_success_ago))
        for _ in range(failures):
            cursors.record_failure(
                conn,
                source,
                "OperationalError: connection to cms-db.internal:3306 refused",
                now - timedelta(seconds=last_success_ago),
            )


async def test_a_cms_outage_in_backoff_leaves_the_replica_ready(
    service: Service, client: httpx.AsyncClient
) -> None:
    fail_ingest(service.db, service.ingestor.source.name, failures=6, last_success_ago=600)
    await asyncio.sleep(health.PROBE_FRESH)
    serving = await client.get("/readyz")
    assert serving.status_code == 200 and serving.json() == {"ready": True, "message": SERVING_YES}
    ingest = await client.get("/readyz?ingest=1")
    assert ingest.status_code == 503
    assert ingest.json() == {"ready": False, "message": CATALOGUE["ready.ingest_no"][0]}
    assert "cms-db.internal" not in ingest.text
    detailed = (await client.get("/readyz?ingest=1", headers=AUTH)).json()
    assert detailed["failures_in_a_row"] == 6 and "cms-db.internal" in detailed["last_error"]


#: what a monitor may write for "check ingest" and for "serving only" (:mod:`feedsvc.yes_no`)
INGEST_YES = ["1", "true", "yes", "on", "ON", "True", "YES", "%20on%20"]
INGEST_NO = ["0", "false", "no", "off", "", "Off", "FALSE"]
#: neither: refused (400) naming the spellings, never the serving answer
INGEST_UNKNOWN = ["2", "abc", "y", "n", "enable", "onn", "-1", "1.0", "%EF%BC%91"]


async def test_every_ingest_spelling_checks_ingest_and_any_other_is_refused(
    service: Service, client: httpx.AsyncClient
) -> None:
    """A tester's: ``?ingest=on``, ``True``, ``2``, ``abc`` answered the serving check, ready
    through an ingest outage; only ``1``/``true``/``yes`` checked ingest."""
    fail_ingest(service.db, service.ingestor.source.name, failures=6, last_success_ago=600)
    await asyncio.sleep(health.PROBE_FRESH)
    ingest_no = {"ready": False, "message": CATALOGUE["ready.ingest_no"][0]}
    for value in INGEST_YES:
        response = await client.get(f"/readyz?ingest={value}")
        assert (response.status_code, response.json()) == (503, ingest_no), value
    for value in INGEST_NO:
        response = await client.get(f"/readyz?ingest={value}")
        assert response.status_code == 200, value
        assert response.json() == {"ready": True, "message": SERVING_YES}, value
    for value in INGEST_UNKNOWN:
        for lang, index in (("vi", 0), ("en", 1)):
            response = await client.get(
                f"/readyz?ingest={value}", headers={"Accept-Language": lang, **AUTH}
            )
            assert response.status_code == 400, value
            body = response.json()
            assert body["ready"] is False and body["accepted"] == [*yes_no.YES, *yes_no.NO]
            shown = httpx.QueryParams(f"ingest={value}")["ingest"]
            assert body["message"] == CATALOGUE["ready.bad_ingest"][index].format(
                value=f"ingest={shown}", yes=yes_no.YES_WORDS, no=yes_no.NO_WORDS
            )
            assert all(word in body["message"] for word in ("1", "true", "on", "off")), value
            # one language a message: no English word inside the Vietnamese (a tester's)
            assert lang == "en" or not {"empty", "or", "check"} & set(
                re.findall(r"[a-z]+", body["message"])
            ), body["message"]
    huge = await client.get("/readyz?ingest=" + "x" * 20_000, headers=AUTH)
    assert huge.status_code == 400 and len(huge.content) < 1_000  # not echoed whole
    head = await client.head("/readyz?ingest=maybe")
    assert head.status_code == 400


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("ingest", 503),  # bare: a flag, the ingest check (it was the serving answer)
        ("ingest&x=1", 503),
        ("ingest&ingest=1", 503),
        ("ingest=on&ingest=YES&ingest", 503),  # all say yes: one answer
        ("ingest=&ingest=off", 200),  # all say no
        ("ingest=0&x&ingest=", 200),
        ("x=ingest", 200),
        ("ingesting", 200),  # another name
    ],
)
async def test_ingest_given_bare_or_twice_the_same_way_is_read(
    service: Service, client: httpx.AsyncClient, query: str, status: int
) -> None:
    """A tester's: ``?ingest`` (no ``=``) gave the serving answer, ready through an outage."""
    fail_ingest(service.db, service.ingestor.source.name, failures=6, last_success_ago=600)
    response = await client.get(f"/readyz?{query}")
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    ("query", "yes_value", "no_value"),
    [
        ("ingest=1&ingest=0", "ingest=1", "ingest=0"),  # the last won: 0, serving, green
        ("ingest=0&ingest=1", "ingest=1", "ingest=0"),  # the last won: 1
        ("ingest&ingest=", "ingest", "ingest="),
        ("ingest=off&ingest=on&ingest=true", "ingest=on", "ingest=off"),  # the first of each
        ("ingest=no&x=1&ingest", "ingest", "ingest=no"),
    ],
)
async def test_ingest_given_twice_with_answers_that_disagree_is_refused(
    service: Service, client: httpx.AsyncClient, query: str, yes_value: str, no_value: str
) -> None:
    """A tester's: ``?ingest=1&ingest=0`` answered whichever came last; a monitor's URL built
    by appending to one that had it is a mistake to name, not a guess to make."""
    fail_ingest(service.db, service.ingestor.source.name, failures=6, last_success_ago=600)
    for lang, index in (("vi", 0), ("en", 1)):
        response = await client.get(f"/readyz?{query}", headers={"Accept-Language": lang})
        assert response.status_code == 400
        body = response.json()
        assert body["ready"] is False and body["accepted"] == [*yes_no.YES, *yes_no.NO]
        assert body["message"] == CATALOGUE["ready.ingest_twice"][index].format(
            yes_value=yes_value, no_value=no_value, yes=yes_no.YES_WORDS, no=yes_no.NO_WORDS
        )


async def test_an_unreadable_ingest_among_several_is_named(
    service: Service, client: httpx.AsyncClient
) -> None:
    response = await client.get(
        "/readyz?ingest=1&ingest=maybe&ingest=0", headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("ingest=maybe is not understood")


@pytest.mark.parametrize(
    ("failures", "ago", "ready"),
    [
        (0, 1, True),
        (2, 1, True),
        (3, 1, False),
        (0, 600, False),
        (1, 600, False),
    ],
)
async def test_ingest_readiness(
    service: Service, client: httpx.AsyncClient, failures: int, ago: float, ready: bool
) -> None:
    fail_ingest(service.db, service.ingestor.source.name, failures, ago)
    await asyncio.sleep(health.PROBE_FRESH)
    response = await client.get("/readyz?ingest=1")
    assert (response.status_code == 200) is ready
    assert (await client.get("/readyz")).status_code == 200  # serving is unaffected


async def test_not_ready_until_snapshots_are_loaded(db_url: str) -> None:
    overrides = {"database": {"url": premigrated(db_url)}, "topics": {"import_on_start": False}}
    settings = load_config(None, overrides)
    service = Service(settings, Roles(scheduler=False, bot=False))
    try:
        from feedsvc.db import upgrade

        upgrade(service.db)
        transport = httpx.ASGITransport(app=create_app(service))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert (await c.get("/readyz")).status_code == 503
            service.publisher.sync()
            assert (await c.get("/readyz")).status_code == 200
    finally:
        for callback in service.on_stop:
            callback()
        service.close()


# --- a database that never answers --------------------------------------------------------------


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A TCP port that accepts connections and then never says a word (a dead host behind a
    live load balancer, or a NAT that lost its state)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    server.close()


async def test_readyz_answers_in_time_when_the_db_hangs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, black_hole: int
) -> None:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    service = make_service(f"sqlite:///{tmp_path / 'state.db'}")
    url = f"postgresql+psycopg://x@127.0.0.1:{black_hole}/x"
    hung = Database(url, pool={"poolclass": NullPool})
    monkeypatch.setattr(health, "probe_database", lambda _service: hung)
    # other tests' services in this process may have left idle probe threads: count ours
    others = set(threading.enumerate())
    try:
        transport = httpx.ASGITransport(app=create_app(service))
        async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as c:
            started = time.monotonic()
            answers = await asyncio.gather(*(c.get("/readyz") for _ in range(20)))
            answers += [await c.get("/readyz", headers=AUTH) for _ in range(3)]
            elapsed = time.monotonic() - started
        assert {a.status_code for a in answers} == {503}
        assert answers[0].json() == {"ready": False, "message": CATALOGUE["ready.serving_no"][0]}
        assert "no answer" in answers[-1].json()["database"]
        assert elapsed < 4 * (health.PROBE_TIMEOUT + 1)  # each wave waits one deadline
        probes = [
            t
            for t in threading.enumerate()
            if t.name.startswith("readyz-probe") and t not in others
        ]
        assert len(probes) <= 1, probes
    finally:
        for callback in service.on_stop:
            callback()
        service.close()
