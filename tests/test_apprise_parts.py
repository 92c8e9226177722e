"""An Apprise notification sent as several HTTP requests that reached its destination in part
(a URL with several targets, a message Apprise splits) is sent with a note, never retried whole:
the retry showed it again to every target that had it. Against the local receiver
(``tests/receiver.py``) on loopback; SQLite (``module_on_sqlite``), but the cases given a backend
each.

The refusing target's status is given one state DB backend, rotating
(``backend_cases.on_backends``): Apprise reads it before anything is stored, and the outcome is
recorded by the same statements for either status."""

from __future__ import annotations

import json

import pytest
from backend_cases import module_on_sqlite, on_backends
from factories import VN
from receiver import Receiver
from test_apprise import dispatch, done, publish, rows
from test_apprise import receiver as receiver  # the fixture
from test_apprise import topic as topic  # the autouse fixture

from feedsvc import operations as ops
from feedsvc.channels.apprise import AppriseChannel, classify
from feedsvc.channels.apprise_transport import Watched
from feedsvc.db import Database
from feedsvc.notify.outcome import OutcomeKind

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)


def subscribe(db: Database, address: str) -> None:
    ops.add_subscription(db, None, None, topic="kien-thuy", query=None, channel="apprise",
                         address=address)  # fmt: skip


def errors(db: Database) -> list[str | None]:
    from sqlalchemy import select

    from feedsvc.db.schema import deliveries

    with db.read() as conn:
        return list(conn.execute(select(deliveries.c.error).order_by(deliveries.c.id)).scalars())


@pytest.mark.parametrize(("db_url", "refusal"), on_backends([500, 429]), indirect=["db_url"])
async def test_a_url_with_two_targets_one_refusing_is_not_sent_again_to_the_other(
    db: Database, receiver: Receiver, refusal: int
) -> None:
    """``ntfy://host/topic1/topic2``: one request per topic. The first took it, the other
    refused (an error, or a throttling answer): Apprise says False. It was retried whole, and
    the first showed the alert again at each retry."""
    subscribe(db, f"ntfy://127.0.0.1:{receiver.port}/topic1/topic2")
    receiver.statuses.extend([200, refusal, refusal, refusal])  # the second keeps refusing
    publish(db, 1)
    # three 429 pauses (Retry-After or the default) before the last try: more than the usual
    # 20 s on a loaded CI machine
    await dispatch(db, AppriseChannel(VN), done, timeout=60, max_attempts=4)
    assert rows(db) == [("sent", 1, 0)]
    got = [r.body.get("topic") for r in receiver.all()]
    assert len(got) == 1 and got[0] in ("topic1", "topic2"), got  # the old code: 3 or 4
    [note] = errors(db)
    assert note is not None and note.startswith("partly sent: 1 of 2 requests failed"), note


async def test_a_message_apprise_splits_and_that_arrives_in_part_is_not_sent_again(
    db: Database, receiver: Receiver
) -> None:
    """Rocket.Chat's webhook takes 1,000 characters: with ``?overflow=split`` Apprise sends a
    2,000-character alert as several requests. One refused: the parts that arrived were sent
    again at each retry."""
    subscribe(db, f"rocket://hook/TOKEN123@127.0.0.1:{receiver.port}/%23news?mode=webhook"
                  "&overflow=split")  # fmt: skip
    receiver.statuses.extend([200, 500, 500, 500, 500])
    publish(db, 1)
    await dispatch(db, AppriseChannel(VN), done, max_attempts=4)
    assert rows(db) == [("sent", 1, 0)]
    texts = [r.body.get("text") for r in receiver.all()]
    assert len(texts) >= 1 and len(texts) == len(set(texts)), texts  # no part twice
    [note] = errors(db)
    assert note is not None and note.startswith("partly sent: "), note


async def test_a_notification_no_part_of_which_arrived_is_still_retried(
    db: Database, receiver: Receiver
) -> None:
    """Both targets refused once: nothing arrived, so it is retried (and then arrives)."""
    subscribe(db, f"ntfy://127.0.0.1:{receiver.port}/topic1/topic2")
    receiver.statuses.extend([500, 500])
    publish(db, 1)
    await dispatch(db, AppriseChannel(VN), done, max_attempts=4)
    assert rows(db) == [("sent", 2, 0)] and errors(db) == [None]
    assert sorted(r.body.get("topic") for r in receiver.all()) == ["topic1", "topic2"]


TEXT = "Công an Kiến Thụy bắt đối tượng trộm cắp số 1\nhttps://example.vn/tin/1.html"


@pytest.mark.parametrize(
    ("url", "body", "carries"),
    [
        (None, json.dumps({"message": TEXT}).encode(), True),  # JSON escapes the letters
        (None, "title=C%C3%B4ng+an+Ki%E1%BA%BFn+Th%E1%BB%A5y+b%E1%BA%AFt+x", True),  # a form
        ("http://h/send?text=C%C3%B4ng+an+Ki%E1%BA%BFn+Th%E1%BB%A5y+b%E1%BA%AFt", None, True),
        (None, json.dumps({"user": "feedsvc", "password": "Kiến Thụy"}).encode(), False),
        (None, json.dumps({"type": "m.login.password", "user": "bot"}), False),
        (None, b"--------------------------------", False),
        (None, None, False),  # a GET with nothing of it: a room look-up
    ],
)
def test_a_request_carries_the_notification_when_its_payload_holds_a_piece_of_it(
    url: str | None, body: object, carries: bool
) -> None:
    assert Watched(text=TEXT).carries(url, body) is carries


def test_a_log_in_that_succeeded_before_the_message_failed_is_retried() -> None:
    """The log-in request carried nothing of the alert: no part arrived, a retry repeats
    nothing. A part that arrived makes it sent."""
    failed = Watched(text=TEXT, parts_sent=0, parts_failed=1)
    assert classify(False, failed).kind is OutcomeKind.TRANSIENT
    partly = Watched(text=TEXT, parts_sent=2, parts_failed=1)
    outcome = classify(False, partly)
    assert outcome.kind is OutcomeKind.SENT
    assert outcome.description.startswith("partly sent: 1 of 3 requests failed")
