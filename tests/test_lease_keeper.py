"""A sender's leases are kept alive while it works (:mod:`feedsvc.lease_keeper`): a send slower
than its lease is not taken back and sent again by another replica; a row whose outcome could
not be recorded is left to its lease's end, and taken back as before."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from factories import VN
from fakebot import FakeBotAPI, Fault
from sqlalchemy import select
from test_dispatch import PRIVATE, PRIVATE2, Env, make_env, subscribe_chat
from test_dispatch import fake as fake  # the fixture

from feedsvc.db import Database
from feedsvc.db.schema import deliveries
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.lease_keeper import LeaseKeeper
from feedsvc.store import deliveries as q

LEASE = timedelta(seconds=1)
SETTINGS = DispatchSettings(backoff_base=0.05, poll_seconds=0.05, lease=LEASE)


@pytest.fixture
async def env(db: Database, fake: FakeBotAPI) -> AsyncIterator[Env]:
    async with make_env(db, fake, 60.0) as e:  # a held answer never times out
        yield e


def row(db: Database) -> tuple[str, str | None, datetime | None]:
    with db.read() as conn:
        got = conn.execute(
            select(deliveries.c.state, deliveries.c.lease_owner, deliveries.c.lease_until)
        ).one()
    return got.state, got.lease_owner, got.lease_until


async def until(predicate: object, timeout: float = 30) -> None:
    """Poll ``predicate`` (a callable) until true, failing after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "not within the deadline"
        await asyncio.sleep(0.02)


async def past(db: Database, moment: datetime) -> None:
    """Until the database's clock is past ``moment`` (a lease's end, as replicas judge it)."""
    await until(lambda: db.now() > moment)


async def test_a_send_slower_than_its_lease_is_neither_taken_back_nor_sent_twice(
    env: Env,
) -> None:
    subscribe_chat(env.db, PRIVATE, "private", "an-ninh")
    gate = threading.Event()
    env.fake.script(PRIVATE, Fault.held(gate))  # the send is under way until the gate opens
    env.publish(env.fresh())
    # a replica beside it on PostgreSQL (SQLite has one dispatcher per file: a second one's
    # start takes back every lease, by design); on both, the expiry check every claim makes
    names = ["a", "b"] if env.db.dialect == "postgresql" else ["a"]
    dispatchers = [Dispatcher(env.db, env.sender, VN, SETTINGS, owner=n) for n in names]
    tasks = [asyncio.create_task(d.run()) for d in dispatchers]
    try:
        await until(lambda: env.fake.in_flight == 1)
        state, owner, claimed_until = row(env.db)
        assert state == "sending" and claimed_until is not None
        await past(env.db, claimed_until + 2 * LEASE)  # three leases after the claim
        state, owner_now, lease_until = row(env.db)
        assert (state, owner_now) == ("sending", owner), "another replica took it back"
        assert lease_until is not None and _utc(lease_until) > env.db.now()
        with env.db.write() as conn:
            assert q.recover_expired(conn, env.db.now()) == 0
        gate.set()
        await until(lambda: row(env.db)[0] == "sent")
    finally:
        gate.set()
        for d in dispatchers:
            d.stop()
        await asyncio.gather(*tasks)
    assert [m.chat_id for m in env.fake.all_messages] == [PRIVATE]
    assert row(env.db)[1:] == (None, None)
    assert all(d.leases.held == set() for d in dispatchers)  # dropped when the task ended


async def test_a_row_left_unrecorded_is_taken_back_when_its_lease_ends(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe_chat(env.db, PRIVATE, "private", "an-ninh")
    env.publish(env.fresh())
    a = Dispatcher(env.db, env.sender, VN, SETTINGS, owner="a")

    def cannot_record(outcomes: object) -> None:
        raise RuntimeError("the record cannot be written")

    monkeypatch.setattr(a, "_record_many", cannot_record)
    a._recorder = type(a._recorder)(cannot_record)
    task = asyncio.create_task(a.run())
    try:
        await until(lambda: len(env.fake.all_messages) == 1)
        await until(lambda: not a._tasks)  # its task ended without a record
        _, owner, lease_until = row(env.db)
        assert owner == "a" and lease_until is not None
        # the lease ends (never renewed), the row is taken back and sent again
        await until(lambda: len(env.fake.all_messages) == 2)
        assert env.db.now() > lease_until
    finally:
        a.stop()
        await task


def test_a_process_never_takes_back_its_own_rows_in_flight(db: Database) -> None:
    """Under load the keeper's renewal can lag behind the clock: the follow-up worker took its
    own retraction back at its next claim and deleted the message a second time while the
    first call was still out (CI, load 13 on 2 cores). What the caller keeps is never taken
    back; the same expired row is, for anyone else."""
    from test_dispatch_fair import add_articles, queue

    from feedsvc.store import followups

    now = datetime.now(UTC)
    queue(db, [7500, 7501], add_articles(db, range(1, 2)), now)
    with db.write() as conn:
        claimed = q.claim(conn, "me", now, 2, timedelta(seconds=1))
        assert len(claimed) == 2
    ids = sorted(c.id for c in claimed)
    later = now + timedelta(seconds=5)
    with db.write() as conn:
        assert q.recover_expired(conn, later, keep={ids[0]}) == 1  # the other one only
        assert followups.recover_expired(conn, later, keep={ids[0]}) == 0
    with db.read() as conn:
        states = dict(conn.execute(select(deliveries.c.id, deliveries.c.state)).tuples().all())
    assert states == {ids[0]: "sending", ids[1]: "pending"}
    with db.write() as conn:
        assert q.recover_expired(conn, later) == 1  # not kept: taken back


async def test_the_keeper_renews_only_what_its_owner_holds(env: Env) -> None:
    for chat in (PRIVATE, PRIVATE2):
        subscribe_chat(env.db, chat, "private", "an-ninh")
    env.publish(env.fresh())
    now = env.db.now()
    with env.db.write() as conn:
        mine, theirs = q.claim(conn, "a", now, 2, LEASE)
        [other] = q.claim(conn, "b", now, 1, LEASE) or [None]
    assert other is None  # both rows are claimed, one chat each
    with env.db.write() as conn:  # the second row is another replica's now
        conn.execute(
            deliveries.update().where(deliveries.c.id == theirs.id).values(lease_owner="b")
        )
    clock = [now + timedelta(minutes=5)]
    keeper = LeaseKeeper(env.db, deliveries, "a", LEASE, leased="sending", clock=lambda: clock[0])
    keeper.hold([mine.id, theirs.id])
    keeper.hold([mine.id])
    keeper.drop([mine.id])  # a second holder of the same row ended: still held once
    assert keeper.renew() == 1
    with env.db.read() as conn:
        found = conn.execute(select(deliveries.c.id, deliveries.c.lease_until))
        ends = {id_: end for id_, end in found}
    assert _utc(ends[mine.id]) == clock[0] + LEASE
    assert _utc(ends[theirs.id]) == now + LEASE  # not its lease to renew
    keeper.drop([mine.id, theirs.id])
    assert keeper.held == set()


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_a_renewal_comes_every_quarter_of_a_lease() -> None:
    keeper = LeaseKeeper(
        None,  # type: ignore[arg-type]
        deliveries, "a", timedelta(seconds=60), leased="sending", clock=lambda: datetime.now(UTC),
    )  # fmt: skip
    assert keeper.every == 15


async def test_a_digest_held_at_the_channel_keeps_its_rows(db: Database) -> None:
    """A digest's rows are leased together and sent part by part: they are renewed as long as
    the digest is being sent (the clock is the test's, moved past three leases)."""
    from test_digest_dispatch import CHAT, digest_env, local_hhmm
    from test_digest_dispatch import subscribe_chat as follow

    from feedsvc.digest import ChatSettings, DigestSchedule
    from feedsvc.notify import TelegramSender

    async with digest_env(db) as env:
        follow(env.db, CHAT, "private", "an-ninh")
        due_wall = local_hhmm(env.clock.at + timedelta(minutes=1))
        env.settings(CHAT, ChatSettings(digest=DigestSchedule(times=(due_wall,))))
        env.publish("Công an Kiến Thụy bắt trộm", "An ninh khu phố")
        await env.step()
        assert env.states() == ["held"] * 2
        sender = TelegramSender(env.fake.token, base_url=env.fake.base_url, read_timeout=60)
        await sender.start()  # a held answer never times out
        d = Dispatcher(
            env.db, sender, VN, SETTINGS, digests=env.dispatcher.digests, clock=env.clock
        )
        gate = threading.Event()
        env.fake.script(CHAT, Fault.held(gate))
        env.clock.at += timedelta(minutes=1, seconds=1)  # past the digest's time
        task = asyncio.create_task(d.run())
        try:
            await until(lambda: env.fake.in_flight == 1)
            assert env.states() == ["sending"] * 2

            def renewed() -> bool:  # a lease from the clock's time now
                with env.db.read() as conn:
                    ends = conn.execute(select(deliveries.c.lease_until)).scalars().all()
                return all(end is not None and _utc(end) == env.clock.at + LEASE for end in ends)

            # the clock moves half a lease at a time (a real one never jumps past a renewal)
            for _ in range(6):
                env.clock.at += LEASE / 2
                await until(renewed)
            with env.db.write() as conn:
                assert q.recover_expired(conn, env.clock.at) == 0
            gate.set()
            await until(lambda: env.states() == ["sent"] * 2)
        finally:
            gate.set()
            d.stop()
            await task
            await sender.close()
        assert len(env.fake.messages(CHAT)) == 1
        assert d.leases.held == set()  # the digest's rows dropped when it was recorded


async def test_a_retraction_slower_than_its_lease_is_done_once(db: Database) -> None:
    """The follow-up worker's calls (a withdrawn alert's delete) keep their leases too."""
    from test_retraction import PRIVATE as READER
    from test_retraction import fresh, retraction_env
    from test_retraction import subscribe_chat as follow

    from feedsvc.db.schema import alert_followups
    from feedsvc.store import followups

    with FakeBotAPI() as server:
        async with retraction_env(db, server) as env:
            follow(env.db, READER, "private", "an-ninh")
            env.publish(fresh(1))
            await env.dispatch()
            mid = env.sent()[READER]
            gate = threading.Event()
            server.script(READER, Fault.held(gate).on("deletemessage"))
            env.retire("TEST-00001")
            worker = env.worker(lease=LEASE)
            task = asyncio.create_task(worker.run())
            try:
                await until(lambda: server.in_flight == 1)
                with env.db.read() as conn:
                    [claimed_until] = conn.execute(select(alert_followups.c.lease_until)).scalars()
                await past(env.db, _utc(claimed_until) + 2 * LEASE)

                def renewed() -> bool:  # the keeper caught up (a loaded loop may lag a beat)
                    with env.db.read() as conn:
                        [until_now] = conn.execute(select(alert_followups.c.lease_until)).scalars()
                    return until_now is not None and _utc(until_now) > env.db.now()

                await until(renewed)
                with env.db.write() as conn:
                    assert followups.recover_expired(conn, env.db.now()) == 0
                gate.set()
                await until(lambda: env.rows(alert_followups.c.state) == [("done",)])
            finally:
                gate.set()
                worker.stop()
                await task
            assert [o for _, _, o in env.outcomes()] == ["deleted"]
            deletes = [c for c in server.calls if c.method == "deletemessage"]
            assert len(deletes) == 1 and env.fake.live(READER, mid).deleted
            assert worker.leases.held == set()


async def test_a_row_held_too_long_is_let_go(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    """A task that hangs (past every timeout of its channel) keeps its row ten leases at most."""
    from feedsvc.lease_keeper import MAX_HOLD_LEASES

    subscribe_chat(env.db, PRIVATE, "private", "an-ninh")
    env.publish(env.fresh())
    with env.db.write() as conn:
        [claimed] = q.claim(conn, "a", env.db.now(), 1, LEASE)
    ticks = [1000.0]
    keeper = LeaseKeeper(
        env.db, deliveries, "a", LEASE, leased="sending", clock=env.db.now, ticks=lambda: ticks[0]
    )
    keeper.hold([claimed.id])
    ticks[0] += (MAX_HOLD_LEASES - 1) * LEASE.total_seconds()
    assert keeper.renew() == 1
    ticks[0] += 2 * LEASE.total_seconds()
    assert keeper.renew() == 0 and keeper.held == set()
    assert f"deliveries row {claimed.id}: still being worked on" in caplog.text
    keeper.drop([claimed.id])  # its task, ending at last, drops nothing more
    assert keeper.held == set()


async def test_the_leases_clock_is_read_off_the_event_loop(env: Env) -> None:
    """PostgreSQL's clock is a query (``Database.now``): read on the event loop, a dead state
    DB stalled every sender for its 6 s timeout, and a stop took 8 s (CI)."""
    subscribe_chat(env.db, PRIVATE, "private", "an-ninh")
    env.publish(env.fresh())
    with env.db.write() as conn:
        [claimed] = q.claim(conn, "a", env.db.now(), 1, LEASE)
    loop_thread = threading.current_thread()
    readers: list[threading.Thread] = []

    def clock() -> datetime:
        readers.append(threading.current_thread())
        return env.db.now()

    keeper = LeaseKeeper(env.db, deliveries, "a", LEASE, leased="sending", clock=clock)
    async with keeper.running():
        keeper.hold([claimed.id])
        keeper.hold([claimed.id])
        keeper.drop([claimed.id])
        await until(lambda: bool(readers))  # a renewal came
        keeper.drop([claimed.id])
    assert readers and loop_thread not in readers


async def test_a_stop_never_waits_for_a_renewal_under_way(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A renewal waiting for a locked database (SQLite's busy timeout: seconds) must not hold
    up the service's stop, which cancels the dispatcher after its grace period."""
    d = Dispatcher(env.db, env.sender, VN, SETTINGS, owner="a")
    entered, release = threading.Event(), threading.Event()

    def stuck(ids: list[int]) -> int:
        entered.set()
        release.wait(60)
        return 0

    monkeypatch.setattr(d.leases, "_write", stuck)
    d.leases.hold([1])  # something to renew
    task = asyncio.create_task(d.run())
    try:
        await until(entered.is_set)
        d.stop()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=30)  # patience; the stuck renewal waits 60 s
        assert not release.is_set()  # it ended while the renewal still waited
    finally:
        release.set()


def test_a_row_locked_by_a_record_is_skipped_not_waited_for(pg_db: Database) -> None:
    """PostgreSQL: a batch record locks rows in the order sends finished; a renewal that waited
    for them, holding others, deadlocked with it (PostgreSQL failed one side)."""
    from test_dispatch import GROUP

    from feedsvc.db.schema import articles, chats

    now = pg_db.now()
    with pg_db.write() as conn:
        for chat in (PRIVATE, GROUP):
            conn.execute(chats.insert().values(
                chat_id=chat, channel="telegram", address=str(chat), type="private",
                paused=False, failures=0, link_preview=False, created_at=now,
            ))  # fmt: skip
        article_id = conn.execute(articles.insert().values(
            source_key="K1", version=now, url="https://e.vn/1", title="T", tags=[],
            published_at=now, search_text="", source_cursor=now, first_seen_at=now,
            last_changed_at=now,
        ).returning(articles.c.id)).scalar_one()  # fmt: skip
        ids = [conn.execute(deliveries.insert().values(
            chat_id=chat, article_id=article_id, topics=[], state="sending", attempts=0,
            ambiguous=0, plain_text=False, due_at=now, created_at=now, lease_owner="a",
            lease_until=now + LEASE,
        ).returning(deliveries.c.id)).scalar_one() for chat in (PRIVATE, GROUP)]  # fmt: skip
    keeper = LeaseKeeper(pg_db, deliveries, "a", LEASE, leased="sending", clock=pg_db.now)
    keeper.hold(ids)
    with pg_db.engine.connect() as recording:  # a record of the second row, under way
        recording.execute(
            deliveries.update().where(deliveries.c.id == ids[1]).values(error="recording")
        )
        done: list[int] = []
        renewal = threading.Thread(target=lambda: done.append(keeper.renew()))
        renewal.start()
        renewal.join(timeout=30)  # patience: a renewal waiting for the lock waits until rollback
        waited = renewal.is_alive()
        recording.rollback()
    renewal.join()
    assert not waited, "the renewal waited for the locked row"
    assert done == [1]  # the first row's lease, the second skipped


def test_what_a_process_holds_is_every_keeper_of_its_name_on_that_table(db: Database) -> None:
    """``ours``: the rows held by each sender of one process (a dispatcher per channel), on one
    table; never another owner's (a replica beside it in a test), another table's, or a stopped
    sender's."""
    from sqlalchemy import Table

    from feedsvc.db.schema import alert_followups

    def keeper(owner: str, table: Table = deliveries) -> LeaseKeeper:
        return LeaseKeeper(db, table, owner, LEASE, leased="sending", clock=db.now)

    telegram, apprise, replica = keeper("a"), keeper("a"), keeper("b")
    followups = keeper("a", alert_followups)
    telegram.hold([1, 2])
    apprise.hold([3])
    replica.hold([4])
    followups.hold([5])
    assert telegram.ours == apprise.ours == {1, 2, 3}
    assert replica.ours == {4} and followups.ours == {5}
    telegram.drop([1, 2])
    assert apprise.ours == {3}
    apprise.stop()  # a stopped sender's rows are left to their leases' end, as a killed one's
    assert telegram.ours == set() and apprise.ours == {3}
