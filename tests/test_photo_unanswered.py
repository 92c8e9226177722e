"""An alert whose photo went unanswered is re-sent as text (Telegram with images on, against the
fake Bot API over real HTTP; SQLite: ``module_on_sqlite``, but the cases given a backend each).

Telegram fetches a ``sendPhoto`` URL from the article's image host before it answers: a slow host
makes the call outlast the read timeout, an unknown outcome re-sent once. Before, the re-send was
the same photo, which timed out again, and the alert ended ``unknown_outcome``, a dead letter,
though its text would have gone at once. Now a re-send after an unknown outcome (a read timeout,
a crash mid-send) goes as the text message; a first try still carries the photo.

How many times the photo goes unanswered is given one state DB backend per case, rotating
(``backend_cases.on_backends``): it is the fake's timing, and each unknown outcome is recorded by
the same statement whatever the count.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from backend_cases import module_on_sqlite, on_backends
from fakebot import FakeBotAPI, Fault
from patience import PATIENT_READ_TIMEOUT
from sqlalchemy import update
from test_dispatch import PRIVATE, Env, make_env, subscribe_chat

from feedsvc.db import Database
from feedsvc.db.schema import deliveries

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

IMAGE = "https://img.example/anh.jpg"
#: the sender's read timeout (seconds): a slow photo outlasts it; long enough that a loaded
#: machine's ordinary answer does not (that would be one more unknown outcome)
READ_TIMEOUT = 2.0


@pytest.fixture
async def env(db: Database, fake: FakeBotAPI) -> AsyncIterator[Env]:
    """The sender waits :data:`READ_TIMEOUT` for an answer: a slow photo outlasts it."""
    async with make_env(db, fake, READ_TIMEOUT) as made:
        yield made


def _slow_photo() -> Fault:
    """A photo answered long after the sender's read timeout (delivered when it answers; the
    stall ends when the fake stops). Far longer than the timeout: answered 1 s after it, a
    loaded CI machine whose event loop was held past both read the answer before the timer
    (ci1: ``sent`` with no unknown outcome)."""
    return Fault(delay=READ_TIMEOUT + 60.0, photo_only=True)


@pytest.mark.parametrize(
    ("db_url", "slow_photos"),
    on_backends([1, 2, 3], label=lambda n: f"slow{n}"),
    indirect=["db_url"],
)
async def test_a_photo_that_timed_out_is_followed_by_the_text(env: Env, slow_photos: int) -> None:
    subscribe_chat(env.db, PRIVATE, "private", "an-ninh")
    env.fake.script(PRIVATE, *[_slow_photo()] * slow_photos)  # the image host stays slow
    item = env.fresh(image_url=IMAGE)
    env.publish(item)
    await env.dispatch_until_done(timeout=30, images=True)
    assert env.states() == [(PRIVATE, "sent", 1)]  # one unknown outcome, re-sent once
    texts = [m for m in env.fake.messages(PRIVATE) if m.method == "sendmessage"]
    assert len(texts) == 1 and item.title in (texts[0].text or "")
    assert texts[0].photo is None


async def test_a_resend_after_a_crash_mid_send_goes_as_text(env: Env) -> None:
    """A delivery whose lease ran out mid-send (recorded as one unknown outcome) goes as text."""
    subscribe_chat(env.db, PRIVATE, "private", "an-ninh")
    env.publish(env.fresh(image_url=IMAGE))
    with env.db.write() as conn:
        conn.execute(update(deliveries).values(ambiguous=1))
    await env.dispatch_until_done(timeout=30, images=True)
    assert [m.method for m in env.fake.messages(PRIVATE)] == ["sendmessage"]
    assert env.states() == [(PRIVATE, "sent", 1)]


async def test_a_first_try_still_carries_the_photo(db: Database, fake: FakeBotAPI) -> None:
    async with make_env(db, fake, PATIENT_READ_TIMEOUT) as env:
        await _first_try(env)


async def _first_try(env: Env) -> None:
    subscribe_chat(env.db, PRIVATE, "private", "an-ninh")
    env.publish(env.fresh(image_url=IMAGE))
    await env.dispatch_until_done(timeout=30, images=True)
    sent = env.fake.messages(PRIVATE)
    assert [(m.method, m.photo) for m in sent] == [("sendphoto", IMAGE)]
