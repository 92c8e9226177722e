"""A first sync (or a catch-up) under way is not "up to date, 0 s behind" (sync-status §1).

During a first sync of a months-old archive ``feedsvc status``, ``/api/status`` and the admin
page showed ``ingest_state ok`` and ``ingest_lag_seconds 0.0`` (the lag was the seconds since
the last batch) while the backlog and ETA lines said the opposite; ``/metrics`` likewise. Here a
real first sync is stopped between two batches (a state DB as a partial sync leaves it, its
last batch just committed) on SQLite and PostgreSQL, and all four views are read.

Both states are read on PostgreSQL; on SQLite only the first sync: the state and lag are
worked out in Python (``ingest_state.ingest_state``) from the same rows whichever it is, so SQLite's
reads of them need one case.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from factories import builtin_ingestor
from in_process import feedsvc
from sqlalchemy import insert, update
from starlette.testclient import TestClient
from test_admin import TOKEN, login
from test_ingest_first_sync import archive

from feedsvc.app import Service
from feedsvc.config import load_config
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import source_articles
from feedsvc.db.schema_ingest import source_cursors
from feedsvc.ingest_state import ingest_state
from feedsvc.roles import Roles
from feedsvc.server import create_app
from feedsvc.status import StatusReads, facts_from, flatten
from feedsvc.store.records import Cursor

DAY = 86400.0
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def partial_sync(url: str, *, outage: bool = False) -> None:
    """600 archive rows 90 days old, a first sync stopped after its first batch of 100. With
    ``outage``: that sync finished, then 600 rows of 10 days ago (an outage's backlog), the
    catch-up stopped likewise."""
    db = Database(url)
    upgrade(db)
    archive(db, 600)
    if outage:
        assert builtin_ingestor(db, batch_size=1000).tick().new == 600
        old = datetime.now(UTC) - timedelta(days=10)
        with db.write() as conn:
            conn.execute(insert(source_articles), [
                {"source_key": f"LATE-{i}", "url": f"https://baohaiphong.vn/moi/{i}.html",
                 "title": f"Tin sau sự cố số {i}", "body": "", "tags": [],
                 "published_at": old + timedelta(seconds=i),
                 "changed_at": old + timedelta(seconds=i)}
                for i in range(600)
            ])  # fmt: skip
    ing = builtin_ingestor(db, batch_size=100)
    ing.after_commit.append(lambda _c: ing.request_stop())
    assert ing.tick().new == 100
    db.dispose()


def _cli(url: str, cwd: Path, *args: str, **env: str) -> str:
    """``feedsvc status ARGS`` on ``url``: its stdout. In this process: the read path it takes
    is the URL's (``cli.common.lite_read``), not the process's, so a process start per read
    (~0.8 s of CPU, four or five a case) showed nothing more."""
    done = feedsvc(["status", *args], cwd, FEEDSVC_CONFIG="/dev/null",
                   FEEDSVC_DATABASE__URL=url, **env)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _sqlalchemy_only(url: str) -> str | None:
    """The same DB through a URL the lite path does not take (SQLAlchemy's store reads); None
    on SQLite, where every file URL config check accepts is read by the lite path (a key
    given twice, the last such URL, is a config error now): ``/api/status`` below reads it
    through SQLAlchemy."""
    if url.startswith("sqlite"):
        return None
    base, _, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    hostport, _, database = rest.split("@", 1)[1].partition("/")
    return f"{scheme}://postgres@/{database}?host={hostport}&{query}"


def _metrics_answered(client: TestClient, deadline: float = 30.0) -> str:
    """``/metrics`` once its state DB probe answered: ``state="unknown"`` is what it reports when
    the probe takes over ``PROBE_TIMEOUT`` (2 s), as a new PostgreSQL connection did at CI load
    ~5; the probe goes on and a later scrape reads it. Polled until then, within ``deadline``."""
    end = time.monotonic() + deadline
    while True:
        text = client.get("/metrics").text
        if 'feedsvc_ingest_state{state="unknown"} 0.0' in text or time.monotonic() > end:
            return text
        time.sleep(0.2)


def serve_app(
    db_url: str, monkeypatch: pytest.MonkeyPatch, **source: Any
) -> Iterator[tuple[Service, TestClient]]:
    """The real app (HTTP only, like a web replica) on ``db_url``, the admin in English with
    :data:`test_admin.TOKEN`; ``source``: a ``[source]`` section (none: the built-in table)."""
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    settings = load_config(
        None,
        {
            "database": {"url": db_url},
            "topics": {"import_on_start": False},
            "admin": {"language": "en"},
            **({"source": source} if source else {}),
        },
    )
    service = Service(settings, Roles(scheduler=False, bot=False))
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        yield service, client
    service.close()


@pytest.fixture
def served(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    for _service, client in serve_app(db_url, monkeypatch):
        yield client


#: (outage, state code, days behind, the admin page's words: the state, then what is left and
#: where reading stands, :func:`read_up_to_shown`; "3 months behind" before,
#: ``test_status_backlog_words``)
BEHIND = [(False, "first_sync", 90, "first sync under way"),
          (True, "catching_up", 10, "catching up")]  # fmt: skip


def read_up_to_shown(page: str) -> datetime:
    """The moment the English admin's ingest words say the source is read up to (to the
    minute, ``Translator.time``'s pattern)."""
    found = re.search(r"source read up to (\d{4}-\d\d-\d\d \d\d:\d\d [+-]\d\d:\d\d)", page)
    assert found is not None, page
    return datetime.strptime(found.group(1), "%Y-%m-%d %H:%M %z")


@pytest.mark.parametrize(
    ("db_url", "outage", "code", "days", "words"),
    [pytest.param("sqlite", *BEHIND[0], id="sqlite-first_sync"),
     *(pytest.param("postgres", *behind, id=f"postgres-{behind[1]}", marks=pytest.mark.postgres)
       for behind in BEHIND)],
    indirect=["db_url"],
)  # fmt: skip
def test_every_view_says_how_far_behind(
    db_url: str, tmp_path: Path, served: TestClient, outage: bool, code: str, days: int,
    words: str,
) -> None:  # fmt: skip
    partial_sync(db_url, outage=outage)

    def behind(facts: dict[str, Any]) -> None:
        assert facts["ingest_state"] == code, facts
        assert facts["ingest_backlog"] == 500
        lag = facts["ingest_lag_seconds"]
        assert (days - 1) * DAY < lag < (days + 1) * DAY, lag

    behind(json.loads(_cli(db_url, tmp_path, "--json")))  # the driver itself
    if (full := _sqlalchemy_only(db_url)) is not None:
        behind(json.loads(_cli(full, tmp_path, "--json")))  # SQLAlchemy
    text = _cli(db_url, tmp_path)
    assert f" {code}\n" in text and "ingest_lag_seconds" in text
    behind(served.get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"}).json())
    metrics = _metrics_answered(served)
    assert f'feedsvc_ingest_state{{state="{code}"}} 1.0' in metrics
    assert 'feedsvc_ingest_state{state="ok"} 0.0' in metrics
    lag = next(
        float(line.split()[1])
        for line in metrics.splitlines()
        if line.startswith("feedsvc_ingest_lag_seconds ")
    )
    assert (days - 1) * DAY < lag < (days + 1) * DAY
    login(served)
    page = served.get("/admin/status").text
    assert words in page and "up to date" not in page and "behind" not in page
    age = datetime.now(UTC) - read_up_to_shown(page)
    assert timedelta(days=days - 1) < age < timedelta(days=days + 1), age


def _cursor(**fields: Any) -> Cursor:
    tick = NOW - timedelta(seconds=1)
    base: dict[str, Any] = {"last_tick_at": tick, "last_success_at": tick}
    return Cursor(NOW - timedelta(days=90), "1", **(base | fields))


@pytest.mark.parametrize(
    ("cursor", "code", "lag"),
    [
        (_cursor(first_sync=True, backlog=500), "first_sync", 90 * DAY),
        (_cursor(first_sync=True, backlog=None), "first_sync", 90 * DAY),  # before the count
        (_cursor(backlog=20), "catching_up", 90 * DAY),
        (_cursor(backlog=0), "ok", 1.0),  # caught up: an old newest row is no lag
        (_cursor(), "ok", 1.0),
        (_cursor(backlog=20, failures=2, last_error="boom"), "failing", 90 * DAY),
    ],
)
def test_state_and_lag(cursor: Cursor, code: str, lag: float) -> None:
    state = ingest_state(cursor, NOW, 30.0)
    assert (state.code, state.lag_seconds) == (code, lag)
    reads = StatusReads(cursor, 0, 0, 0, 0, None, [])
    shown = flatten(
        facts_from(reads, source="builtin", now=NOW, poll_seconds=30.0, database="sqlite://",
                   started_at=None)
    )  # fmt: skip
    assert (shown["ingest_state"], shown["ingest_lag_seconds"]) == (code, lag)


def test_stopped_mid_sync_is_not_running(db_url: str, served: TestClient) -> None:
    """A first sync stopped 10 minutes ago (no tick since): the admin said "running, 3 months
    behind"; it says nothing was read lately, and the state stays ``lagging``."""
    partial_sync(db_url)
    db = Database(db_url)
    ago = datetime.now(UTC) - timedelta(minutes=10)
    with db.write() as conn:
        conn.execute(update(source_cursors).values(last_success_at=ago, last_tick_at=ago))
    db.dispose()
    facts = served.get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert facts["ingest_state"] == "lagging", facts
    assert 89 * DAY < facts["ingest_lag_seconds"] < 91 * DAY
    login(served)
    page = served.get("/admin/status").text
    assert "nothing read lately (service stopped or stuck?), 3 months behind" in page
    assert "running, " not in page


#: ISO 8601 in UTC as ``/api/status`` writes a time (pydantic's JSON mode).
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z")


def test_status_json_writes_times_as_the_api_does(
    db_url: str, tmp_path: Path, served: TestClient
) -> None:
    """``feedsvc status --json`` wrote ``str(datetime)`` ("2026-12-01 10:02:08.923653+00:00")
    where ``/api/status`` writes ISO 8601 ("2026-12-01T10:02:08.923653Z", newcomer F9): the
    same facts, the same values, the same text, on either read path of the CLI."""
    partial_sync(db_url)
    api = served.get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    views = [json.loads(_cli(db_url, tmp_path, "--json"))]
    if (full := _sqlalchemy_only(db_url)) is not None:
        views.append(json.loads(_cli(full, tmp_path, "--json")))
    times = [key for key in ("last_ingest_tick", "last_ingest_success", "ingest_backlog_as_of")
             if api.get(key) is not None]  # fmt: skip
    assert "last_ingest_tick" in times, api
    for view in views:
        for key in times:
            assert ISO_UTC.fullmatch(view[key]), (key, view[key])
            assert view[key] == api[key], key
