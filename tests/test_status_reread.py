"""The source read again after a mapping change is no "first sync" on any status surface.

A changed ``[source.columns]`` (or source zone) sends the cursor back to the start
(:mod:`feedsvc.ingest.remap`): a first sync as far as alerts go, with the old cursor kept as
the alert boundary. ``feedsvc status`` (text and ``--json``), ``/api/status``, ``/metrics``
and the admin page said ``first_sync`` / "first sync under way, 3 months behind" meanwhile:
an operator whose feeds were full read that the data was gone. Here a real ingestor reads a
CMS table (a SQLite file, or a table in the test's PostgreSQL schema) to the end, is restarted
with another mapping or zone and stopped after the re-read's first batch, and every surface
is read; a genuine first sync, and one interrupted by a mapping change, still say first sync,
and once the re-read catches up the usual words return.

Each change is read on PostgreSQL; on SQLite only the zone's (the change whose stored times
move): the state is worked out in Python from the same bookkeeping rows whatever the change,
so SQLite's reads of them need one case.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cms_table import COLUMNS, Cms, cms_table
from starlette.testclient import TestClient
from test_admin import TOKEN, login
from test_status_first_sync import _cli as status_cli
from test_status_first_sync import _metrics_answered, _sqlalchemy_only, read_up_to_shown

from feedsvc.app import Service
from feedsvc.catalogue import Translator
from feedsvc.config import SourceColumns, load_config
from feedsvc.db import Database, upgrade
from feedsvc.ingest import Ingestor, progress
from feedsvc.ingest_state import IngestState, ingest_state
from feedsvc.roles import Roles
from feedsvc.server import create_app
from feedsvc.source import external_source
from feedsvc.status import StatusReads, facts_from, flatten
from feedsvc.store.cursors import get_cursor
from feedsvc.store.records import Cursor
from feedsvc.topic_index import TopicIndex

HOUR, DAY = 3600.0, 86400.0
ARCHIVE = 250  # rows 90 days old: three batches of 100
RECENT = 3  # rows written 70 minutes ago: where the cursor stands once caught up
FEATURED = COLUMNS.model_copy(update={"visible": "status IN ('published', 'featured')"})
VN = ZoneInfo("Asia/Ho_Chi_Minh")
REREAD_EN = "re-reading the source after a change to its column mapping or time zone"
REREAD_VI = "đang đọc lại nguồn sau khi đổi ánh xạ cột hoặc múi giờ"


@pytest.fixture
def state(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def cms(state: Database, tmp_path: Path) -> Iterator[Cms]:
    """The CMS's archive: :data:`ARCHIVE` rows modified 90 days ago, :data:`RECENT` 70
    minutes ago (real time: the status surfaces read the state DB's clock); every fourth
    'featured'."""
    with cms_table(state, tmp_path) as table:
        now = datetime.now(UTC).replace(microsecond=0)
        table.clock.now = now - timedelta(days=90)
        for n in range(1, ARCHIVE + RECENT + 1):
            if n == ARCHIVE + 1:
                table.clock.now = now - timedelta(minutes=70)
            table.clock.advance(seconds=1)
            # every fourth a 'featured' post: not visible until FEATURED (a change to read)
            status = "featured" if n % 4 == 0 else "published"
            table.put(n, status, table.clock() - timedelta(minutes=5))
        yield table


def ingestor(db: Database, cms: Cms, columns: SourceColumns = COLUMNS, tz: tzinfo = UTC) -> Any:
    """The service's ingest (started again) reading ``cms`` with ``columns`` in zone ``tz``."""
    source = external_source(cms.url, "posts", columns, tz)
    return Ingestor(db=db, source=source, index=TopicIndex(), tz=tz, poll_seconds=1,
                    overlap_seconds=60, batch_size=100)  # fmt: skip


def one_batch(db: Database, cms: Cms, columns: SourceColumns = COLUMNS, tz: tzinfo = UTC) -> None:
    """A tick stopped after its first batch committed: a sync under way, as status sees it."""
    ing = ingestor(db, cms, columns, tz)
    ing.after_commit.append(lambda _c: ing.request_stop())
    result = ing.tick()
    assert result.error is None and result.read == 100, result


def to_the_end(db: Database, cms: Cms, columns: SourceColumns = COLUMNS, tz: tzinfo = UTC) -> None:
    result = ingestor(db, cms, columns, tz).tick()
    assert result.error is None, result.error
    with db.read() as conn:
        done = get_cursor(conn, cms.source().name)
    assert not done.first_sync and done.alert_ts is None


def _cli(db_url: str, cms: Cms, cwd: Path, *args: str) -> str:
    """``feedsvc status ARGS`` reading ``cms`` (in this process: ``test_status_first_sync``)."""
    return status_cli(db_url, cwd, *args, FEEDSVC_SOURCE__URL=cms.url,
                      FEEDSVC_SOURCE__TABLE="posts")  # fmt: skip


def _served(
    db_url: str, cms: Cms, monkeypatch: pytest.MonkeyPatch, language: str
) -> Iterator[TestClient]:
    """The real app (HTTP only, a web replica) on ``db_url`` reading ``cms``, the admin in
    ``language``, logged in."""
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", TOKEN)
    settings = load_config(None, {
        "database": {"url": db_url}, "topics": {"import_on_start": False},
        "admin": {"language": language}, "source": {"url": cms.url, "table": "posts"},
    })  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False))
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        login(client)
        yield client
    service.close()


def surfaces(
    db_url: str, cms: Cms, cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[dict[str, Any]], str, str, dict[str, str]]:
    """Every status surface now: the JSON ones (``feedsvc status --json`` on the driver's
    path and SQLAlchemy's, ``/api/status``), the CLI's text, ``/metrics``, the admin page in
    each language."""
    views = [json.loads(_cli(db_url, cms, cwd, "--json"))]
    if (full := _sqlalchemy_only(db_url)) is not None:
        views.append(json.loads(_cli(full, cms, cwd, "--json")))
    text = _cli(db_url, cms, cwd)
    pages: dict[str, str] = {}
    metrics = ""
    for language in ("en", "vi"):
        for client in _served(db_url, cms, monkeypatch, language):
            if language == "en":
                auth = {"Authorization": f"Bearer {TOKEN}"}
                views.append(client.get("/api/status", headers=auth).json())
                metrics = _metrics_answered(client)
            pages[language] = client.get("/admin/status").text
    return views, text, metrics, pages


def says(
    code: str,
    found: tuple[list[dict[str, Any]], str, str, dict[str, str]],
    words: dict[str, str],
) -> None:
    views, text, metrics, pages = found
    for view in views:
        assert view["ingest_state"] == code, view
    assert "ingest_state" in text and f" {code}\n" in text, text
    assert f'feedsvc_ingest_state{{state="{code}"}} 1.0' in metrics
    for language, page in pages.items():
        assert words[language] in page, (language, page)


FIRST = {"en": "first sync under way", "vi": "đang đồng bộ lần đầu"}
CHANGES: dict[str, tuple[SourceColumns, tzinfo]] = {
    "columns": (FEATURED, UTC),  # `visible` widened
    "zone": (COLUMNS, VN),  # source.timezone set: every naive time moves
}


@pytest.mark.parametrize(
    ("db_url", "change"),
    [
        pytest.param("sqlite", "zone", id="sqlite-zone"),
        *(
            pytest.param("postgres", change, id=f"postgres-{change}", marks=pytest.mark.postgres)
            for change in sorted(CHANGES)
        ),
    ],
    indirect=["db_url"],
)
def test_a_re_read_is_no_first_sync_anywhere(
    db_url: str, state: Database, cms: Cms, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    change: str,
) -> None:  # fmt: skip
    # the rate is wall time: a first batch slower than MIN_RATE_SECONDS (a loaded CI machine)
    # measured one, the re-read's faster batch none; the bookkeeping is the subject, not speed
    monkeypatch.setattr(progress, "MIN_RATE_SECONDS", 1e9)
    one_batch(state, cms)  # a genuine first sync: still said so
    first = status_json(db_url, cms, tmp_path)  # every surface's: test_status_first_sync.py
    assert first["ingest_state"] == "first_sync"
    assert first["ingest_backlog"] == ARCHIVE + RECENT - 100
    to_the_end(state, cms)
    ok = status_json(db_url, cms, tmp_path)
    assert ok["ingest_state"] == "ok"

    stored = ok["articles_stored"]
    assert stored >= ARCHIVE * 3 // 4
    columns, tz = CHANGES[change]
    one_batch(state, cms, columns, tz)  # the change's re-read, one batch in
    reread = surfaces(db_url, cms, tmp_path, monkeypatch)
    says("rereading", reread, {"en": REREAD_EN, "vi": REREAD_VI})
    views, _text, metrics, pages = reread
    assert 'feedsvc_ingest_state{state="first_sync"} 0.0' in metrics
    for page in pages.values():
        assert "first sync" not in page and "lần đầu" not in page
    for view in views:
        # the figures a first sync shows, from the same bookkeeping
        for key in ("ingest_backlog", "ingest_rate_per_second", "ingest_eta_seconds"):
            assert view[key] == first[key], key
        assert view["articles_stored"] >= stored  # the feeds are full
        # behind by what waits after where the old cursor stood (70 minutes ago), not by the
        # re-read's own position in the archive (3 months)
        assert HOUR < view["ingest_lag_seconds"] < 2 * HOUR, view
    # the words say where reading stands as a time: where the old cursor stood, not the
    # re-read's own position in the archive
    assert "behind" not in pages["en"]
    age = datetime.now(UTC) - read_up_to_shown(pages["en"])
    assert timedelta(hours=1) < age < timedelta(hours=2), age

    to_the_end(state, cms, columns, tz)  # caught up: the usual words again, everywhere
    says(
        "ok",
        surfaces(db_url, cms, tmp_path, monkeypatch),
        {"en": "up to date", "vi": "đang cập nhật đều"},
    )


def status_json(db_url: str, cms: Cms, cwd: Path) -> dict[str, Any]:
    """``feedsvc status --json`` (the driver's read): one surface, for the states before the
    re-read, which the re-read's figures are compared with (every surface costs a process
    start or a service: reading all of them at each of four steps took ~7 s of CPU a case)."""
    return json.loads(_cli(db_url, cms, cwd, "--json"))  # type: ignore[no-any-return]


def test_a_change_during_a_first_sync_leaves_it_a_first_sync(
    db_url: str, state: Database, cms: Cms, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing was read to the end before the change: no feeds to keep, it is still the
    first sync (no alert boundary)."""
    one_batch(state, cms)
    one_batch(state, cms, FEATURED)
    says("first_sync", surfaces(db_url, cms, tmp_path, monkeypatch), FIRST)


def test_a_second_change_during_the_re_read_is_still_a_re_read(
    db_url: str, state: Database, cms: Cms, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    to_the_end(state, cms)
    one_batch(state, cms, FEATURED)
    one_batch(state, cms, FEATURED, VN)
    says(
        "rereading",
        surfaces(db_url, cms, tmp_path, monkeypatch),
        {"en": REREAD_EN, "vi": REREAD_VI},
    )


NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
BOUNDARY = NOW - timedelta(hours=1)  # where the cursor stood when the mapping changed


def _cursor(**fields: Any) -> Cursor:
    tick = NOW - timedelta(seconds=1)
    base: dict[str, Any] = {"last_tick_at": tick, "last_success_at": tick, "first_sync": True,
                            "alert_ts": BOUNDARY, "alert_id": "x"}  # fmt: skip
    base |= {"ts": NOW - timedelta(days=90), "id": "1"}
    return Cursor(**(base | fields))


@pytest.mark.parametrize(
    ("cursor", "code", "lag"),
    [
        (_cursor(backlog=500), "rereading", HOUR),
        (_cursor(ts=None, id=None), "rereading", HOUR),  # the change applied, nothing read yet
        # past the boundary: behind by the cursor again
        (_cursor(ts=NOW - timedelta(minutes=10), backlog=5), "rereading", 600.0),
        (_cursor(alert_ts=None, alert_id=None, backlog=500), "first_sync", 90 * DAY),
        (_cursor(first_sync=False, alert_ts=None, alert_id=None, backlog=0), "ok", 1.0),
        # failing or stopped during a re-read: behind by the boundary, not by the archive
        (_cursor(failures=2, last_error="boom"), "failing", HOUR),
        (_cursor(last_success_at=NOW - timedelta(minutes=10)), "lagging", HOUR),
    ],
)
def test_state_and_lag_of_a_re_read(cursor: Cursor, code: str, lag: float) -> None:
    state = ingest_state(cursor, NOW, 30.0)
    assert (state.code, state.lag_seconds) == (code, lag)
    reads = StatusReads(cursor, 0, 0, 0, 0, None, [])
    shown = flatten(
        facts_from(reads, source="external:posts", now=NOW, poll_seconds=30.0,
                   database="sqlite://", started_at=None)
    )  # fmt: skip
    assert (shown["ingest_state"], shown["ingest_lag_seconds"]) == (code, lag)


@pytest.mark.parametrize(("language", "words"), [("en", REREAD_EN), ("vi", REREAD_VI)])
def test_the_words_of_a_re_read(language: str, words: str) -> None:
    t = Translator(language)
    said = t.ingest(ingest_state(_cursor(backlog=500, rate=100.0), NOW, 30.0))
    assert said.startswith(words) and said.endswith(t.time(BOUNDARY)), said
    assert t.number(500) in said and t.duration(5) in said, said
    before = t.ingest(IngestState("rereading", HOUR))  # no position known: behind by the lag
    assert before.startswith(words) and t.duration(HOUR) in before, before
