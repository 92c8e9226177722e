"""A held alert whose article is moved later (its ``published_at`` re-dated past the digest
that would carry it) goes as an alert matched at its new time would: with the chat's first
digest after it, or at its quiet window's end, or at once when the chat would not hold it then
(tester tlife, finding 5: it went out alone at its new time, a digest of one off the chat's
schedule, s6). The real dispatcher and ingest on the fake Bot API, SQLite and PostgreSQL, the
dispatcher's clock moved by the test.

The digest schedules are given one state DB backend each, rotating
(``backend_cases.on_backends``): a schedule is computed in Python (``release_at``) and the held
alert's new due time is stored by the same statement whichever schedule gave it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from backend_cases import on_backends
from factories import VN, article
from sqlalchemy import select
from test_digest_dispatch import CHAT, Env, digest_env, local_hhmm, subscribe_chat

from feedsvc.db import Database
from feedsvc.db.schema import deliveries
from feedsvc.digest import ChatSettings, DigestSchedule, QuietWindow, release_at
from feedsvc.store.source_articles import upsert_source_articles


@pytest.fixture
async def env(db: Database) -> AsyncIterator[Env]:
    async with digest_env(db) as e:
        yield e


def _redate(env: Env, n: int, title: str, published_at: datetime) -> None:
    """Article ``n`` again, moved to ``published_at`` (a newer version: the source's edit)."""
    moved = article(n, title=title, summary=None, body=None, tags=(), section=None,
                    published_at=published_at, updated_at=datetime.now(UTC))  # fmt: skip
    with env.db.write() as conn:
        upsert_source_articles(conn, [moved], datetime.now(UTC))
    assert env.ingestor.tick().error is None


def _rows(env: Env) -> list[tuple[str, bool, datetime]]:
    with env.db.read() as conn:
        stmt = select(deliveries.c.state, deliveries.c.digest, deliveries.c.due_at)
        return [tuple(r) for r in conn.execute(stmt.order_by(deliveries.c.id)).tuples()]


async def _moved_past(env: Env, settings: ChatSettings, due: datetime, gap: timedelta) -> datetime:
    """A and C held; A moved to ``gap`` after ``due`` (when the held rows go); the digest at
    ``due`` carries C only. Returns A's new time."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    env.settings(CHAT, settings)
    env.publish("Công an vụ A", "Công an vụ C")
    await env.step()
    assert [s for s, _, _ in _rows(env)] == ["held", "held"]
    later = due + gap
    _redate(env, 1, "Công an vụ A", later)
    env.clock.at = due + timedelta(seconds=1)
    await env.step()
    [digest] = env.fake.messages(CHAT)
    assert "vụ C" in digest.visible and "vụ A" not in digest.visible
    return later


@pytest.mark.parametrize(
    ("db_url", "schedule"),
    on_backends(["daily", "hourly", "two times"], label=lambda s: s.replace(" ", "-")),
    indirect=["db_url"],
)
async def test_moved_later_waits_for_the_next_digest(env: Env, schedule: str) -> None:
    start = env.clock.at
    first = local_hhmm(start + timedelta(minutes=1))
    times = {
        "daily": DigestSchedule(times=(first,)),
        "hourly": DigestSchedule(hourly=True),
        "two times": DigestSchedule(times=(first, local_hhmm(start + timedelta(hours=3)))),
    }[schedule]
    settings = ChatSettings(digest=times)
    due = release_at(settings, start, VN)
    assert due is not None
    later = await _moved_past(env, settings, due, timedelta(seconds=50))
    next_digest = release_at(settings, later, VN)
    assert next_digest is not None and next_digest > later + timedelta(minutes=1)
    assert _rows(env)[0] == ("held", True, next_digest)
    env.publish("Công an vụ D")  # matched after A's time: the same digest
    env.clock.at = later + timedelta(seconds=20)  # A's new time has come: nothing goes yet
    await env.step()
    assert len(env.fake.messages(CHAT)) == 1
    env.clock.at = next_digest + timedelta(seconds=1)
    await env.step()
    messages = env.fake.messages(CHAT)
    assert len(messages) == 2
    assert "vụ A" in messages[1].visible and "vụ D" in messages[1].visible


async def test_moved_into_the_quiet_window_waits_for_its_end(env: Env) -> None:
    """A digest at the window's start; A moved into the window: held to its end (s7)."""
    start = env.clock.at
    window = QuietWindow(local_hhmm(start + timedelta(minutes=1)),
                         local_hhmm(start + timedelta(hours=2)))  # fmt: skip
    settings = ChatSettings(digest=DigestSchedule(times=(window.start,)), quiet=window)
    due = release_at(settings, start, VN)
    assert due is not None
    later = await _moved_past(env, settings, due, timedelta(minutes=10))
    end = release_at(settings, later, VN)
    assert end is not None and local_hhmm(end) == window.end
    assert _rows(env)[0] == ("held", True, end)


async def test_moved_past_a_quiet_window_goes_as_an_alert_at_its_time(env: Env) -> None:
    """A quiet-only chat: A moved to after the window's end is no digest's; it goes at its
    new time as the instant alert a match then would be, never a "digest" of one."""
    start = env.clock.at
    window = QuietWindow(local_hhmm(start - timedelta(minutes=30)),
                         local_hhmm(start + timedelta(minutes=1)))  # fmt: skip
    settings = ChatSettings(quiet=window)
    due = release_at(settings, start, VN)
    assert due is not None
    later = await _moved_past(env, settings, due, timedelta(minutes=5))
    assert _rows(env)[0] == ("pending", False, later)  # an outbox alert, due at its time
    env.clock.at = later + timedelta(seconds=5)
    await env.step()
    # no digest of one at its time: the outbox claimed it as an alert (its send-time check
    # goes by the DB's real clock, behind this test's moved one: scheduled, waiting for it)
    assert len(env.fake.messages(CHAT)) == 1
    with env.db.read() as conn:
        stmt = select(deliveries.c.state, deliveries.c.digest, deliveries.c.retry_kind)
        assert conn.execute(stmt.order_by(deliveries.c.id)).first() == (
            "pending",
            False,
            "scheduled",
        )
