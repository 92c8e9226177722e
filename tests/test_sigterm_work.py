"""SIGTERM whatever the work in progress (issue #17 §2): the start-up's render of every topic, the
render at the end of an ingest tick, a batch too big to finish. The process ends within 5 s,
renders stop between topics, and exit 0 only when nothing was abandoned.

Found at 5,000 topics: the start-up render ran 24-34 s with nothing logged and a SIGTERM then
only got the exit guard's forced exit; after a first sync's SIGTERM the tick's final render
rebuilt the index page (a read per topic) and the exit guard ended the process with exit 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from migrated import copy_template
from processes import run_then_sigterm
from sqlalchemy import func, insert, select
from test_ingest_first_sync import archive

from feedsvc.app import Roles, Service
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.db.schema import articles, topics
from feedsvc.publish import FeedPublisher
from feedsvc.store.topics import TopicSpec


def add_topics(db: Database, count: int) -> None:
    """``count`` topics, every one matching the archive's titles ("Kiến Thụy"), in a state DB
    that has none: the rows ``save_topic`` creates (origin ``cli``), in one INSERT; one
    ``save_topic`` a topic was 3.9 s of CPU at 1,500 topics, set-up and not the subject."""
    now = datetime.now(UTC)
    spec = TopicSpec("t", "t", '"Kiến Thụy"')  # its defaults: description, enabled
    rows = [
        {"slug": f"t{i:05d}", "title": f"Chủ đề {i}", "query": spec.query, "origin": "cli",
         "description": spec.description, "enabled": spec.enabled,
         "created_at": now, "updated_at": now}
        for i in range(count)
    ]  # fmt: skip
    with db.write() as conn:
        assert not conn.execute(select(func.count()).select_from(topics)).scalar_one()
        if rows:
            conn.execute(insert(topics), rows)


def service_env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    return env | {
        "FEEDSVC_CONFIG": "/dev/null",
        "FEEDSVC_DATABASE__URL": url,
        "FEEDSVC_TOPICS__IMPORT_ON_START": "false",
        "FEEDSVC_SOURCE__POLL_SECONDS": "1",
        "FEEDSVC_SOURCE__MATCH_WORKERS": "0",
        **extra,
    }


def sigterm_when(
    tmp_path: Path, env: dict[str, str], logged: str, wait: float = 120
) -> tuple[int, float, str]:
    """Run the service (HTTP on), SIGTERM once ``logged`` is in its log: (exit code, seconds
    from SIGTERM to exit, the log)."""
    return run_then_sigterm(tmp_path, env, ["--no-bot"], lambda log: logged in log(), wait, logged)


@pytest.mark.slow
def test_sigterm_during_the_start_up_render(tmp_path: Path) -> None:
    """1,500 topics: their first render takes seconds (8 ms a topic on a quiet machine), is
    logged, and a SIGTERM during it stops it between topics: exit 0 within 5 s, not started."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    assert copy_template(url)  # migrated (a new DB's migration is not the subject)
    db = Database(url)
    add_topics(db, 1500)
    db.dispose()
    code, took, log = sigterm_when(
        tmp_path, service_env(url), "rendering the feeds and pages of 1500 topics"
    )
    assert "rendering stopped after" in log, log[-3000:]  # it was under way
    assert (code, "feedsvc started" in log, "Traceback" in log) == (0, False, False), log[-3000:]
    assert took <= 5.0, f"took {took:.1f} s\n{log[-3000:]}"


def test_the_render_at_the_end_of_a_tick_stops_between_topics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first sync marks its topics; the tick that caught up renders them as it returns. A
    SIGTERM then (here: at the third topic) ends that render after its current topic, with no
    index rebuild (a read per topic) and no due check: the tick returns at once."""
    settings = load_config(None, {
        "database": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
        "topics": {"import_on_start": False},
        "source": {"batch_size": 100, "match_workers": 0},
    })  # fmt: skip
    service = Service(settings, Roles(scheduler=False, bot=False, http=False))
    service.prepare()
    add_topics(service.db, 40)
    archive(service.db, 300)
    with service.db.read() as conn:
        service.index.refresh(conn)
    service.publisher.refresh()  # the topics are known and rendered once, as at start
    rendered: list[str] = []
    real_render = FeedPublisher._render_feeds

    def render(publisher: FeedPublisher, topic: Any, items: Any, *dating: Any) -> dict[str, bytes]:
        rendered.append(topic.slug)
        if len(rendered) == 3:
            service.interrupt()  # what SIGTERM does
        return real_render(publisher, topic, items, *dating)

    rebuilt: list[int] = []
    monkeypatch.setattr(FeedPublisher, "_render_feeds", render)
    monkeypatch.setattr(FeedPublisher, "_rebuild_pages", lambda *_a: rebuilt.append(1))
    result = service.ingest_tick()
    assert result.new == 300  # the sync finished, then its render began
    assert len(rendered) == 3 and not rebuilt
    service.close()


async def test_a_stop_that_abandons_the_batch_under_way_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A batch still being matched or written when the stop's time is up is abandoned: the log
    says it is uncommitted, and the stop is not an orderly one (the CLI exits 1, not 0)."""
    settings = load_config(None, {"database": {"url": f"sqlite:///{tmp_path / 'state.db'}"}})
    service = Service(settings, Roles(scheduler=False, bot=False, http=False))
    await asyncio.to_thread(service.prepare)
    release = threading.Event()
    started = threading.Event()

    def batch() -> None:  # a tick inside a batch that does not end before the deadline
        service.ingestor.batch_open = True
        started.set()
        release.wait(30)

    async def ingest() -> None:
        await asyncio.to_thread(batch)

    service.exit_guard.deadline = time.monotonic() + 3.0  # as if SIGTERM came (no guard thread)
    service.jobs.every("ingest", 60, ingest)
    service.jobs.start()
    await asyncio.to_thread(started.wait, 10)
    caplog.set_level(logging.INFO, logger="feedsvc")
    try:
        await service.stop()
    finally:
        release.set()
    assert service.exit_guard.stopped is False
    lines = [r.getMessage() for r in caplog.records]
    assert any("abandoned uncommitted" in line for line in lines), lines
    assert "feedsvc stopped, work abandoned" in lines


@pytest.mark.slow
def test_sigterm_during_a_batch_too_big_to_finish(tmp_path: Path) -> None:
    """``source.batch_size`` 100,000 and a SIGTERM while that one batch is written: either it
    commits within the 5 s (exit 0, all stored) or it is abandoned (exit 1, nothing stored, the
    log says so). Never exit 0 with the batch lost, which the exit guard used to give."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    assert copy_template(url)  # migrated (a new DB's migration is not the subject)
    db = Database(url)
    rows = 100_000
    add_topics(db, 20)
    archive(db, rows, body="<p>" + "Nội dung bài viết lưu trữ ở Kiến Thụy. " * 10 + "</p>")
    env = service_env(url, FEEDSVC_SOURCE__BATCH_SIZE=str(rows))
    code, took, log = sigterm_when(tmp_path, env, "rows behind the cursor, catching up", 300)
    with db.read() as conn:
        held = int(conn.execute(select(func.count()).select_from(articles)).scalar_one())
    db.dispose()
    assert took <= 5.0, f"took {took:.1f} s\n{log[-3000:]}"
    if code == 0:
        assert held == rows and "abandoned" not in log, log[-3000:]
    else:
        assert (code, held) == (1, 0), log[-3000:]
        assert "did not finish in time: abandoned uncommitted" in log, log[-3000:]
