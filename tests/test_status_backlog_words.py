"""During a first sync (a catch-up, a re-read) the status words lead with what is left and
when it is done, and say where reading stands as a time, in the admin (both languages) and
beside ``feedsvc status``' lag line.

A tester's: rows imported at one moment (the built-in table's cursor is the import's time) and
a first sync working through them; the admin's status page, refreshed every few seconds, said
"còn chậm 11 giây", 15, 19, 23 while the rows left fell: true as the age of the read position,
read as getting worse. The lag figure stays (``ingest_lag_seconds``, ``/metrics``: the JSON is
§9's), only the words change: "first sync under way: 3,000 source rows left, done in about 12
seconds; source read up to 2026-12-06 10:34 +07:00"."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from factories import builtin_ingestor
from sqlalchemy import insert, update
from starlette.testclient import TestClient
from test_admin import TOKEN, login
from test_status_first_sync import _cli as status_cli

from feedsvc.app import Service
from feedsvc.catalogue import Translator
from feedsvc.cli.service import local_time  # also feedsvc.local_times (the one format)
from feedsvc.config import load_config
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import source_articles
from feedsvc.db.schema_ingest import source_cursors
from feedsvc.roles import Roles
from feedsvc.server import create_app
from feedsvc.status import StatusReads, facts_from
from feedsvc.store.records import Cursor

IMPORTED = datetime(2026, 12, 6, 3, 34, 12, tzinfo=UTC)  # 10:34 in Hải Phòng
ZONE = "Asia/Ho_Chi_Minh"
#: seconds after the import → rows left (250 a second), as the tester's refreshes read them
REFRESHES = {11: 4000, 15: 3000, 19: 2000, 23: 1000}


def _state(cursor: Cursor, now: datetime) -> Any:
    """The ingest fact's state (``ingest_state.IngestState``) of a status read with ``cursor``."""
    reads = StatusReads(cursor, 0, 0, 0, 0, 6000, [])
    facts = facts_from(reads, source="builtin", now=now, poll_seconds=30.0,
                       database="sqlite://", started_at=None)  # fmt: skip
    return next(f.value for f in facts if f.key == "ingest")


def _syncing(left: int | None, now: datetime, **fields: Any) -> Cursor:
    """A first sync of rows all changed at :data:`IMPORTED`, its last batch a second ago."""
    base: dict[str, Any] = {
        "ts": IMPORTED, "id": "2000", "first_sync": True, "backlog": left, "rate": 250.0,
        "last_tick_at": now - timedelta(seconds=1), "last_success_at": now - timedelta(seconds=1),
    }  # fmt: skip
    return Cursor(**(base | fields))


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_tester_s_refreshes_say_what_is_left(language: str) -> None:
    t = Translator(language, ZONE)
    lead = {"en": "first sync under way: ", "vi": "đang đồng bộ lần đầu: "}[language]
    position = {"en": "source read up to 2026-12-06 10:34 +07:00",
                "vi": "đã đọc nguồn đến 06/12/2026 10:34 +07:00"}[language]  # fmt: skip
    for after, left in REFRESHES.items():
        now = IMPORTED + timedelta(seconds=after)
        state = _state(_syncing(left, now), now)
        said = t.ingest(state)
        assert state.lag_seconds == after  # the figure stays the read position's age
        assert said.startswith(lead), said
        assert said.endswith(position), said
        assert t.number(left) in said and t.duration(left / 250) in said, said
        for lag in (t.duration(after), "behind", "chậm"):  # no growing lag in the words
            assert lag not in said, said


NOW = IMPORTED + timedelta(seconds=20)
BOUNDARY = NOW - timedelta(hours=1)


@pytest.mark.parametrize(
    ("cursor", "en"),
    [
        # a catch-up after an outage: rows left, when done, where reading stands
        (
            _syncing(1200, NOW, first_sync=False),
            "catching up: 1,200 source rows left, done in about 5 seconds; source read up to "
            "2026-12-06 10:34 +07:00",
        ),
        # a re-read after a mapping change: the position is where the old cursor stood
        (
            _syncing(500, NOW, ts=NOW - timedelta(days=90), alert_ts=BOUNDARY, alert_id="x"),
            "re-reading the source after a change to its column mapping or time zone (stored "
            "articles stay): 500 source rows left, done in about 2 seconds; source read up to "
            "2026-12-06 09:34 +07:00",
        ),
        # before the count: where reading stands only
        (_syncing(None, NOW), "first sync under way; source read up to 2026-12-06 10:34 +07:00"),
        # no batch lately (the backlog is "as of" then): no ETA to give
        (
            _syncing(
                800,
                NOW,
                last_success_at=NOW - timedelta(seconds=40),
                last_tick_at=NOW - timedelta(seconds=40),
            ),
            "first sync under way; source read up to 2026-12-06 10:34 +07:00",
        ),
        # no rate measured yet
        (
            _syncing(800, NOW, rate=None),
            "first sync under way; source read up to 2026-12-06 10:34 +07:00",
        ),
    ],
)
def test_every_backlog_state_says_what_is_left(cursor: Cursor, en: str) -> None:
    said = Translator("en", ZONE).ingest(_state(cursor, NOW))
    assert said == en
    vi = Translator("vi", ZONE).ingest(_state(cursor, NOW))
    assert "chậm" not in vi and "đã đọc nguồn đến 06/12/2026 " in vi, vi


@pytest.mark.parametrize(
    ("fields", "en"),
    [
        # no batch for three polls: the lag is the news, as before
        (
            {"last_success_at": NOW - timedelta(minutes=5)},
            "nothing read lately (service stopped or stuck?), 5 minutes behind",
        ),
        (
            {"failures": 3, "last_error": "boom"},
            "failing: 20 seconds behind, failed attempts in a row: 3",
        ),
        ({"backlog": 0, "first_sync": False}, "up to date"),
        ({"last_success_at": None, "last_tick_at": None}, "no successful ingest yet"),
    ],
)
def test_the_other_states_keep_their_words(fields: dict[str, Any], en: str) -> None:
    state = _state(_syncing(800, NOW, **fields), NOW)
    assert Translator("en", ZONE).ingest(state) == en


def _imported_at_once(url: str, moment: datetime) -> None:
    """600 rows imported at ``moment`` (one ``changed_at``), a first sync stopped after its
    first batch of 100, as if its next batch were a second away: a rate measured."""
    db = Database(url)
    upgrade(db)
    with db.write() as conn:
        conn.execute(insert(source_articles), [
            {"source_key": f"BATCH-{i:04d}", "url": f"https://baohaiphong.vn/tin/{i}.html",
             "title": f"Tin nhập cùng lúc số {i}", "body": "", "tags": [],
             "published_at": moment - timedelta(minutes=i), "changed_at": moment}
            for i in range(600)
        ])  # fmt: skip
    ing = builtin_ingestor(db, batch_size=100)
    ing.after_commit.append(lambda _c: ing.request_stop())
    assert ing.tick().new == 100
    _fresh(db)
    db.dispose()


def _fresh(db: Database) -> None:
    """The last batch a moment ago, at 50 rows a second: the progress is current."""
    with db.write() as conn:
        now = db.now()
        conn.execute(update(source_cursors).values(rate=50.0, last_success_at=now,
                                                   last_tick_at=now))  # fmt: skip


def _cli(url: str, cwd: Path) -> str:
    """``feedsvc status``'s stdout, in this process (``test_status_first_sync._cli``)."""
    return status_cli(url, cwd, FEEDSVC_SITE__TIMEZONE=ZONE)


@pytest.fixture
def admin(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    settings = load_config(None, {
        "database": {"url": db_url}, "topics": {"import_on_start": False},
        "admin": {"language": "en"}, "site": {"timezone": ZONE},
    })  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        login(client)
        yield client
    service.close()


@pytest.mark.parametrize(
    "db_url",
    [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_a_first_sync_of_one_import_in_the_admin_and_the_cli(
    db_url: str, tmp_path: Path, admin: TestClient
) -> None:
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    _imported_at_once(db_url, moment)
    en = Translator("en", ZONE)
    words = (
        "first sync under way: 500 source rows left, done in about 10 seconds; source read up "
        f"to {en.time(moment)}"
    )
    db = Database(db_url)
    try:
        _fresh(db)
        page = admin.get("/admin/status").text
        assert words in page, page
        assert "behind" not in page
        _fresh(db)
        lines = [ln for ln in _cli(db_url, tmp_path).splitlines()
                 if ln.startswith("ingest_lag_seconds")]  # fmt: skip
    finally:
        db.dispose()
    [line] = lines
    figure, _, said = line.split(maxsplit=1)[1].partition(" ")
    assert 100 < float(figure) < 600, line  # the figure as before: the position's age
    # the same words, the time to the second as every CLI time (the admin's minute until T4)
    cli = words.replace(en.time(moment), local_time(moment, ZoneInfo(ZONE)))
    assert said == f"({cli})", line
    assert re.search(r" \d\d:\d\d:\d\d \+07:00\)$", said), said
