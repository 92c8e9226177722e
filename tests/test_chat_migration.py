"""``feedsvc.store.chat_migration``: a group that became a supergroup keeps its queue, its
subscriptions and its delivery options, whether or not the bot already knew the supergroup.

A tester's report (confidence high): a group set ``/silent on`` and quiet all day (or
``/pause``), someone typed ``/settings`` in the new supergroup before the migration's service
message arrived, and the merge kept the supergroup's default row: the next alert went out at
once, with sound. Both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factories import VN
from fakebot import FakeBotAPI
from sqlalchemy import select, update
from test_dispatch import Env, make_env, subscribe_chat
from test_dispatch import fake as fake  # the fixture

from feedsvc.db import Database
from feedsvc.db.schema import chats, subscriptions
from feedsvc.digest.edge import DigestEdge
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.store.chat_migration import OPTIONS, follow_migration
from feedsvc.store.subscriptions import ensure_chat

GROUP, SUPER = -5001, -1005001
DEFAULTS = {"paused": False, "silent": False, "link_preview": False, "digest": None,
            "quiet": None}  # fmt: skip


def options(db: Database, chat_id: int) -> dict[str, Any] | None:
    with db.read() as conn:
        row = conn.execute(
            select(*(chats.c[name] for name in OPTIONS)).where(chats.c.chat_id == chat_id)
        ).first()
    if row is None:
        return None
    flags = ("paused", "silent", "link_preview")  # SQLite reads its booleans back as 0/1
    return {k: bool(v) if k in flags else v for k, v in row._asdict().items()}


def set_options(db: Database, chat_id: int, **values: Any) -> None:
    if not values:
        return
    with db.write() as conn:
        conn.execute(update(chats).where(chats.c.chat_id == chat_id).values(**values))


def migrate(db: Database) -> None:
    with db.write() as conn:
        follow_migration(conn, GROUP, SUPER, datetime.now(UTC))


@pytest.fixture
async def env(db: Database, fake: FakeBotAPI) -> AsyncIterator[Env]:
    async with make_env(db, fake, 60.0) as e:
        subscribe_chat(db, GROUP, "group", "an-ninh")
        yield e


def know_the_supergroup(db: Database, **own: Any) -> None:
    """The supergroup talked to the bot first (``/settings``): a row of its own."""
    with db.write() as conn:
        ensure_chat(conn, SUPER, "supergroup", "Tòa soạn", datetime.now(UTC))
    if own:
        set_options(db, SUPER, **own)


@pytest.mark.parametrize(
    ("group", "own", "expected"),
    [
        ({"paused": True}, {}, {"paused": True}),
        ({"silent": True, "quiet": "00:00-23:59"}, {}, {"silent": True, "quiet": "00:00-23:59"}),
        ({"digest": "08:00", "link_preview": True}, {}, {"digest": "08:00", "link_preview": True}),
        # the supergroup's own schedule wins; what it left at the defaults comes from the group
        ({"digest": "08:00", "quiet": "22:00-06:00"}, {"digest": "18:00"},
         {"digest": "18:00", "quiet": "22:00-06:00"}),
        # a pause or silence on either side holds
        ({}, {"paused": True, "silent": True}, {"paused": True, "silent": True}),
    ],
    ids=["paused", "silent-quiet", "digest-previews", "own-digest-wins", "own-pause-kept"],
)  # fmt: skip
async def test_a_known_supergroup_takes_the_groups_options(
    env: Env, group: dict[str, Any], own: dict[str, Any], expected: dict[str, Any]
) -> None:
    set_options(env.db, GROUP, **group)
    know_the_supergroup(env.db, **own)
    migrate(env.db)
    assert options(env.db, GROUP) is None  # the group's row is gone
    assert options(env.db, SUPER) == {**DEFAULTS, **expected}
    with env.db.read() as conn:
        moved = conn.execute(select(subscriptions.c.chat_id)).scalars().all()
    assert moved == [SUPER]


async def test_an_unknown_supergroup_is_the_group_renamed(env: Env) -> None:
    set_options(env.db, GROUP, paused=True, silent=True, digest="08:00", quiet="22:00-06:00")
    migrate(env.db)
    assert options(env.db, SUPER) == {**DEFAULTS, "paused": True, "silent": True,
                                      "digest": "08:00", "quiet": "22:00-06:00"}  # fmt: skip


async def test_the_next_alert_to_a_quiet_group_is_held_after_the_merge(env: Env) -> None:
    """The tester's repro, past the merge: the group is quiet now, the supergroup known; the
    next article's alert to the supergroup is held for the quiet hours' end, not sent."""
    now = datetime.now(UTC) + timedelta(hours=7)  # the site's wall clock (Asia/Ho_Chi_Minh)
    start, end = now - timedelta(hours=1), now + timedelta(hours=2)
    set_options(env.db, GROUP, silent=True, quiet=f"{start:%H:%M}-{end:%H:%M}")
    know_the_supergroup(env.db)
    env.fake.add_chat(SUPER, "supergroup", "Tòa soạn")
    migrate(env.db)
    env.publish(env.fresh(title="Công an Kiến Thụy tuần tra"))
    d = Dispatcher(env.db, env.sender, VN, DispatchSettings(poll_seconds=0.05),
                   digests=DigestEdge(VN, public_url="https://tin.example"))  # fmt: skip
    await d.step()
    await d.drain()
    assert [(chat, state) for chat, state, _ in env.states()] == [(SUPER, "held")]
    assert env.fake.messages(SUPER) == []
