"""No claim sends an alert its chat holds (a digest schedule, quiet hours), whatever commits
between the dispatcher's hold and its claim (tester tlife, finding 1: on PostgreSQL, under READ
COMMITTED, an alert ingest committed between ``DigestEdge.hold`` and ``deliveries.claim`` went
out at once to a chat in quiet hours). The real dispatcher on the fake Bot API over HTTP, on
SQLite and PostgreSQL; the interleaving is put between the two statements by a
:class:`DigestEdge` whose ``hold`` runs a step right after the real one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

import pytest
from factories import VN
from sqlalchemy import Connection, select, update
from test_digest_dispatch import CHAT, Env, digest_env, local_hhmm, subscribe_chat

from feedsvc.db import Database
from feedsvc.db.schema import chats, deliveries
from feedsvc.digest import ChatSettings, DigestSchedule, QuietWindow, release_at
from feedsvc.digest.edge import DigestEdge
from feedsvc.store import deliveries as q

Step = Callable[[Connection], None]


class Interleaved(DigestEdge):
    """The dispatcher's digest edge, with ``between`` run once right after its hold, inside
    the claim transaction (``conn``): what commits, or is written, before the claim."""

    between: Step | None = None

    def hold(self, conn: Connection, now: datetime, channel: str = "telegram") -> int:
        held = super().hold(conn, now, channel)
        step, self.between = self.between, None
        if step is not None:
            step(conn)
        return held


@pytest.fixture
async def env(db: Database) -> AsyncIterator[Env]:
    async with digest_env(db) as e:
        e.dispatcher.digests = Interleaved(VN)
        yield e


def _edge(env: Env) -> Interleaved:
    edge = env.dispatcher.digests
    assert isinstance(edge, Interleaved)
    return edge


def _settings(kind: str, at: datetime) -> ChatSettings:
    """Chat options that hold an alert matched at ``at``."""
    window = QuietWindow(local_hhmm(at - timedelta(hours=1)), local_hhmm(at + timedelta(hours=2)))
    digest = DigestSchedule(times=(local_hhmm(at + timedelta(hours=1)),))
    return {
        "quiet": ChatSettings(quiet=window),
        "digest": ChatSettings(digest=digest),
        "hourly": ChatSettings(digest=DigestSchedule(hourly=True), silent=True),
        "digest in quiet": ChatSettings(digest=digest, quiet=window),
    }[kind]


def _rows(env: Env) -> list[tuple[str, bool, datetime]]:
    with env.db.read() as conn:
        stmt = select(deliveries.c.state, deliveries.c.digest, deliveries.c.due_at).where(
            deliveries.c.chat_id == CHAT
        )
        return [tuple(r) for r in conn.execute(stmt.order_by(deliveries.c.id)).tuples()]


KINDS = ["quiet", "digest", "hourly", "digest in quiet"]


@pytest.mark.parametrize("kind", KINDS)
async def test_an_alert_queued_in_the_claim_transaction_is_held(env: Env, kind: str) -> None:
    """Any backend: an alert that becomes pending between the hold and the claim (written here
    in the claim's own transaction, as PostgreSQL's claim sees another's commit) is held for
    the chat's release time, never claimed as an instant alert."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    settings = _settings(kind, env.clock.at)
    env.settings(CHAT, settings)
    env.publish("Công an vụ 1")
    with env.db.write() as conn:  # its alert was withdrawn before it went: the source shows
        conn.execute(update(deliveries).values(state="withdrawn"))  # it again (enqueue revives)
        article_id = conn.execute(select(deliveries.c.article_id)).scalar_one()
    now = env.clock.at

    def revive(conn: Connection) -> None:
        row = {"chat_id": CHAT, "article_id": article_id, "topics": ["An ninh"],
               "due_at": now, "created_at": now}  # fmt: skip
        assert q.enqueue(conn, [row]) == 1

    _edge(env).between = revive
    await env.step()
    assert env.fake.messages(CHAT) == []
    assert _rows(env) == [("held", True, release_at(settings, now, VN))]


@pytest.mark.postgres
@pytest.mark.parametrize("kind", KINDS)
async def test_an_alert_ingest_commits_between_hold_and_claim_is_held(
    pg_db: Database, kind: str
) -> None:
    """PostgreSQL, the tester's race (s11): ingest commits a matching article on another
    connection after the dispatcher's hold and before its claim, in the same claim
    transaction. The chat gets nothing; the alert waits for its release time."""
    async with digest_env(pg_db) as env:
        edge = env.dispatcher.digests = Interleaved(VN)
        subscribe_chat(env.db, CHAT, "private", "an-ninh")
        settings = _settings(kind, env.clock.at)
        env.settings(CHAT, settings)
        edge.between = lambda _conn: env.publish("Công an vụ 1", "An ninh vụ 2")
        await env.step()
        assert env.fake.messages(CHAT) == []
        due = release_at(settings, env.clock.at, VN)
        assert due is not None
        # the chat's head row was leased and held back; the next is left to the next hold
        assert _rows(env)[0] == ("held", True, due)
        await env.step()
        assert env.fake.messages(CHAT) == []
        assert _rows(env) == [("held", True, due)] * 2
        env.clock.at = due + timedelta(seconds=1)
        await env.step()
        [digest] = env.fake.messages(CHAT)  # both in the chat's one digest
        assert "Công an vụ 1" in digest.visible and "An ninh vụ 2" in digest.visible


@pytest.mark.postgres
async def test_a_resend_committed_between_hold_and_claim_is_held(pg_db: Database) -> None:
    """PostgreSQL: an admin's re-send of a dead letter (pending again) committed between the
    hold and the claim waits for the chat's digest too."""
    async with digest_env(pg_db) as env:
        edge = env.dispatcher.digests = Interleaved(VN)
        subscribe_chat(env.db, CHAT, "private", "an-ninh")
        env.publish("Công an vụ 1")
        with env.db.write() as conn:
            conn.execute(update(deliveries).values(state="failed", error="x"))
            [id_] = conn.execute(select(deliveries.c.id)).scalars()
        settings = _settings("digest", env.clock.at)
        env.settings(CHAT, settings)

        def resend(_conn: Connection) -> None:
            with env.db.write() as other:
                assert q.resend(other, id_, env.clock.at)

        edge.between = resend
        await env.step()
        assert env.fake.messages(CHAT) == []
        assert _rows(env) == [("held", True, release_at(settings, env.clock.at, VN))]


async def test_outside_its_quiet_window_an_alert_still_goes_at_once(env: Env) -> None:
    """The check holds only what the chat holds: a quiet window that does not contain now lets
    an alert queued between the hold and the claim go as usual."""
    subscribe_chat(env.db, CHAT, "private", "an-ninh")
    at = env.clock.at
    window = QuietWindow(local_hhmm(at + timedelta(hours=1)), local_hhmm(at + timedelta(hours=2)))
    env.settings(CHAT, ChatSettings(quiet=window))
    env.publish("Công an vụ 1")
    await env.step()
    assert len(env.fake.messages(CHAT)) == 1
    assert [(s, d) for s, d, _ in _rows(env)] == [("sent", False)]


OTHER = 5003  # an instant chat beside CHAT


@pytest.mark.parametrize("channel", ["telegram", "zalo"])
@pytest.mark.parametrize("with_rule", [True, False])
async def test_the_claim_holds_what_it_leased_for_a_chat_that_holds(
    env: Env, channel: str, with_rule: bool
) -> None:
    """The outbox claim itself, for every channel's recipients (Zalo and Apprise share the
    dispatcher): a leased row whose chat holds is held at the rule's time and not returned,
    no pacing slot booked for its chat; without the rule no such chat's row is claimed at all
    (left pending); an instant chat's row is claimed either way."""
    for chat_id in (CHAT, OTHER):
        subscribe_chat(env.db, chat_id, "private", "an-ninh")
    with env.db.write() as conn:
        conn.execute(update(chats).values(channel=channel))
        conn.execute(update(chats).where(chats.c.chat_id == CHAT).values(digest="08:00"))
    env.publish("Công an vụ 1")
    now = env.clock.at
    due = now + timedelta(hours=3)

    def rule(settings: ChatSettings) -> datetime | None:
        return due if settings.holds else None

    with env.db.write() as conn:
        lease = timedelta(minutes=1)
        claimed = q.claim(
            conn, "me", now, 5, lease, channel=channel, hold=rule if with_rule else None
        )
    assert [c.chat_id for c in claimed] == [OTHER]
    with env.db.read() as conn:
        rows = conn.execute(
            select(deliveries.c.chat_id, deliveries.c.state, deliveries.c.digest,
                   deliveries.c.due_at, deliveries.c.lease_owner, chats.c.next_send_at)
            .join(chats, chats.c.chat_id == deliveries.c.chat_id)
            .order_by(deliveries.c.chat_id)
        ).tuples().all()  # fmt: skip
    held = (CHAT, "held", True, due, None, None)
    assert rows[0] == held if with_rule else rows[0][:3] == (CHAT, "pending", False)
    assert rows[1][:3] == (OTHER, "sending", False) and rows[1][5] is not None
