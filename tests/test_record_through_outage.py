"""A send's outcome the state DB cannot take now is recorded once it can: never dropped.

CI's `test_state_file_kept::test_run_with_its_state_db_moved_alerts_each_article_once` timed
out waiting for an alert due at once after the SQLite state DB file was put back: the test moved
the file as soon as the destination had the chat's previous alert, before the dispatcher had
recorded it. That record failed (an outage) and was dropped, so the row stayed leased until its
lease ran out (``telegram.lease_seconds``, 60 s), was then sent again as of an unknown outcome
(a duplicate), and the new alert, in order behind it in its chat, waited all that time (seen
beside load: sent 55.6 s after the file was back, the previous alert twice).

Real SQLite files moved away and put back, the real Apprise channel and a local receiver that
holds a send until the file is gone: the record then meets the outage, deterministically.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import VN, article, builtin_ingestor
from receiver import Receiver
from sqlalchemy import exc as sa_exc
from sqlalchemy import select

from feedsvc import operations as ops
from feedsvc.channels.apprise import AppriseChannel
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import deliveries
from feedsvc.dispatch import Dispatcher, DispatchSettings
from feedsvc.notify import SendOutcome
from feedsvc.outbox import Outbox
from feedsvc.send_record import BatchRecorder
from feedsvc.store.deliveries import Claimed
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, save_topic

#: The dispatcher's poll here: a refused record is written again this often.
POLL = 0.2
#: How long a record may take once the file is back: many polls, far less than the 60 s lease
#: that the dropped record waited for (a loaded machine's margin).
BACK_WITHIN = 20.0


class Watched(Dispatcher):
    """The dispatcher, counting the records the state DB refused: the test's hook (the file is
    put back only once one was)."""

    refused = 0

    def _record_many(self, outcomes: Sequence[tuple[Claimed, SendOutcome]]) -> None:
        try:
            super()._record_many(outcomes)
        except Exception:
            self.refused += 1
            raise


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture
def state(tmp_path: Path) -> Iterator[Database]:
    """A state DB on a file of its own (moved away by the tests)."""
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(db)
    with db.write() as conn:
        save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli",
                   datetime.now(UTC))  # fmt: skip
    yield db
    db.dispose()


def state_file(db: Database) -> Path:
    return Path(db.url.removeprefix("sqlite:///"))


def move_away(db: Database) -> None:
    file = state_file(db)
    file.rename(file.with_name("state.db.moved"))


def put_back(db: Database) -> None:
    file = state_file(db)
    file.with_name("state.db.moved").rename(file)


def publish(db: Database, n: int) -> None:
    ing = builtin_ingestor(db)
    ing.hooks.append(Outbox(timedelta(hours=48)))
    with db.write() as conn:
        upsert_source_articles(conn, [article(n, published_at=datetime.now(VN))],
                               datetime.now(UTC))  # fmt: skip
    assert ing.tick().error is None


def rows(db: Database) -> list[tuple[str, int]]:
    with db.read() as conn:
        stmt = select(deliveries.c.state, deliveries.c.ambiguous).order_by(deliveries.c.id)
        return [(s, a) for s, a in conn.execute(stmt).tuples()]


def lease_end(db: Database) -> datetime:
    with db.read() as conn:
        found = conn.execute(select(deliveries.c.lease_until)).scalar_one()
    assert isinstance(found, datetime)
    return found


async def until(
    what: str,
    holds: Callable[[], bool],
    timeout: float = BACK_WITHIN,
    seen: Callable[[], object] | None = None,
) -> None:
    """Poll ``holds`` (a deadline, not a sleep); ``seen``: what to show if it never does."""
    deadline = time.monotonic() + timeout
    while not holds():
        shown = seen() if seen is not None else ""
        assert time.monotonic() < deadline, f"not within {timeout} s: {what} {shown}"
        await asyncio.sleep(0.02)


def sent(receiver: Receiver, n: int) -> int:
    """How many times the destinations got article ``n``."""
    return sum(f"/tin/{n}.html" in str(r.body) for r in receiver.all())


async def refused_while_away(db: Database, d: Watched, receiver: Receiver, sends: int) -> None:
    """``sends`` sends held by the destination; the file moved away, they are answered: the
    record of their outcome meets the outage."""
    await until("the sends reach the destination", lambda: len(receiver.hung) == sends)
    move_away(db)
    receiver.hang.clear()
    receiver.release.set()
    await until("a record refused", lambda: d.refused >= 1)


def dispatcher(db: Database, lease: timedelta = timedelta(seconds=60)) -> Watched:
    settings = DispatchSettings(backoff_base=0.05, poll_seconds=POLL, lease=lease)
    return Watched(db, AppriseChannel(VN), VN, settings)


def subscribe(db: Database, receiver: Receiver, *paths: str) -> None:
    for path in paths:
        ops.add_subscription(db, None, None, topic="kien-thuy", query=None, channel="apprise",
                             address=receiver.url(path))  # fmt: skip


async def test_the_chats_next_alert_goes_out_once_the_file_is_back(
    state: Database, receiver: Receiver
) -> None:
    """The shown case: the file moved while article 1's send is answered, put back, article 2
    queued for the same chat: both sent within a few polls, each once."""
    subscribe(state, receiver, "hook")
    publish(state, 1)
    receiver.hang.set()
    d = dispatcher(state)
    task = asyncio.create_task(d.run())
    try:
        await refused_while_away(state, d, receiver, 1)
        put_back(state)
        publish(state, 2)
        await until(
            "both sent", lambda: rows(state) == [("sent", 0), ("sent", 0)], seen=lambda: rows(state)
        )
    finally:
        d.stop()
        await task
    assert (sent(receiver, 1), sent(receiver, 2)) == (1, 1), receiver.all()


async def test_sends_finishing_together_are_all_recorded_after(
    state: Database, receiver: Receiver
) -> None:
    """Two chats' sends answered together while the file is away (one batch of outcomes): both
    recorded once it is back, neither sent again."""
    subscribe(state, receiver, "a", "b")
    publish(state, 1)
    receiver.hang.set()
    d = dispatcher(state)
    task = asyncio.create_task(d.run())
    try:
        await refused_while_away(state, d, receiver, 2)
        put_back(state)
        await until(
            "both recorded",
            lambda: rows(state) == [("sent", 0), ("sent", 0)],
            seen=lambda: rows(state),
        )
    finally:
        d.stop()
        await task
    assert [r.path for r in receiver.all()].count("/a") == 1, receiver.all()
    assert [r.path for r in receiver.all()].count("/b") == 1, receiver.all()


async def test_an_outage_longer_than_the_lease_sends_nothing_twice(
    state: Database, receiver: Receiver
) -> None:
    """The file away past the row's lease: the sender still holds the row (its own claims never
    take it back), records it once the file is back, and sends nothing again."""
    lease = timedelta(seconds=1)
    subscribe(state, receiver, "hook")
    publish(state, 1)
    receiver.hang.set()
    d = dispatcher(state, lease)
    task = asyncio.create_task(d.run())
    try:
        await until("the send reaches the destination", lambda: len(receiver.hung) == 1)
        moved_at = datetime.now(UTC)
        ends = max(lease_end(state), moved_at + lease)  # a renewal may come before the move
        move_away(state)
        receiver.hang.clear()
        receiver.release.set()
        await until("a record refused", lambda: d.refused >= 1)
        await until("the lease ran out", lambda: datetime.now(UTC) > ends + lease)
        put_back(state)
        publish(state, 2)
        await until(
            "both sent", lambda: rows(state) == [("sent", 0), ("sent", 0)], seen=lambda: rows(state)
        )
    finally:
        d.stop()
        await task
    assert (sent(receiver, 1), sent(receiver, 2)) == (1, 1), receiver.all()


async def test_a_stop_during_the_outage_is_not_held_up(state: Database, receiver: Receiver) -> None:
    """The stop ends the wait (one last try): the row keeps its lease, as a crash's would
    (sent again after it runs out, as of an unknown outcome)."""
    subscribe(state, receiver, "hook")
    publish(state, 1)
    receiver.hang.set()
    d = dispatcher(state)
    task = asyncio.create_task(d.run())
    try:
        await refused_while_away(state, d, receiver, 1)
    finally:
        d.stop()
        await asyncio.wait_for(task, BACK_WITHIN)
    put_back(state)
    assert rows(state) == [("sending", 0)]


def outage_error() -> sa_exc.OperationalError:
    return sa_exc.OperationalError("COMMIT", {}, sqlite3.OperationalError("unable to open"))


async def test_the_recorder_writes_an_outage_again_and_anything_else_once() -> None:
    """The rule alone: an outage's write again every ``every`` seconds until it commits; the
    stop ends it after one last try; any other failure (a bug, a row's fault) raises at once."""
    calls: list[str] = []
    fails = iter([outage_error(), outage_error(), None, RuntimeError("a bug"), outage_error()])

    def write(outcomes: Sequence[tuple[Claimed, SendOutcome]]) -> None:
        calls.append("write")
        if (error := next(fails)) is not None:
            raise error

    stop = asyncio.Event()
    recorder = BatchRecorder(write, stop, every=0.01)
    row = Claimed(1, 1, "private", 1, [], 0, 0, False, False, "apprise", "json://x")
    await recorder.record(row, SendOutcome.sent(1))
    assert len(calls) == 3  # two refusals, then the commit
    with pytest.raises(RuntimeError):
        await recorder.record(row, SendOutcome.sent(1))
    assert len(calls) == 4  # never again
    stop.set()
    with pytest.raises(sa_exc.OperationalError):
        await recorder.record(row, SendOutcome.sent(1))
    assert len(calls) == 5  # stopped: the one last try only
