"""Whatever a channel's API answers, the outbox can record it: one send, one recorded outcome
(Telegram and Zalo against their fakes over real HTTP; SQLite and PostgreSQL).

Before: an answer whose words held a NUL (PostgreSQL text refuses it) or a lone surrogate
(neither driver encodes it), or a message id beyond BIGINT, made the record fail at every try.
The lease ran out, the alert was sent again (one more copy per lease when it had been
delivered), and the chat's later alerts, which go in order, waited behind it for good.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from factories import builtin_ingestor
from fakebot import FakeBotAPI
from fakezalo import FakeZaloAPI
from sqlalchemy import select
from test_dispatch import make_env, subscribe_chat
from test_foreign_answers import _publish
from test_zalo import add_topic, dispatch_until_done, zalo_subscriber

from feedsvc.db import Database
from feedsvc.db.schema import deliveries
from feedsvc.digits import MAX_ID
from feedsvc.notify import OutcomeKind, SendOutcome
from feedsvc.notify.outcome import NOTE_CHARS
from feedsvc.outbox import Outbox

CHAT = 1001
# Error words no state DB stores as they are, and the kind each refusal is
WORDS = [
    ("Bad Request: message \u0000 refused", 400, "bad_content"),
    ("Bad Request: message \ud800 refused", 400, "bad_content"),
    ("Forbidden: bot was blocked \udfff by the user", 403, "blocked"),
    ("Bad Request: " + "\u0000\x07" * 3000, 400, "bad_content"),
]

#: The dispatcher's lease: short, so the old fault (a row whose record failed was sent again
#: at each lease's end) shows within a test's 30 s; not 1 s, which a loaded CI machine's
#: delayed renewals let run out under a live send (an "unknown" re-send, CI).
LEASE = timedelta(seconds=5)


def _rows(db: Database) -> list[tuple[str, int, str | None]]:
    with db.read() as conn:
        query = select(deliveries.c.state, deliveries.c.ambiguous, deliveries.c.error)
        return [tuple(r) for r in conn.execute(query.order_by(deliveries.c.id)).tuples()]  # type: ignore[misc]


def _sends(fake: FakeBotAPI) -> int:
    return sum(call.method == "sendmessage" for call in fake.calls)


@pytest.mark.parametrize(("words", "status", "state"), WORDS, ids=range(len(WORDS)))
async def test_a_refusal_in_words_no_db_stores_ends_the_alert_and_the_next_one_goes(
    db: Database, fake: FakeBotAPI, words: str, status: int, state: str
) -> None:
    async with make_env(db, fake, 10.0) as env:
        subscribe_chat(db, CHAT, "private", "kien-thuy")
        body = {"ok": False, "error_code": status, "description": words}
        fake.script_raw("sendmessage", (status, json.dumps(body).encode()))
        _publish(db, env.ingestor, 2)
        await env.dispatch_until_done(timeout=30, lease=LEASE, disable_after=3)
        rows = _rows(db)
        assert [(s, a) for s, a, _ in rows] == [(state, 0), ("sent", 0)], rows
        error = rows[0][2] or ""
        assert "\u0000" not in error and "\x07" not in error and len(error) <= NOTE_CHARS
        error.encode("utf-8")  # no lone surrogate
        assert _sends(fake) == 2  # each alert once: the refused one was not tried again
        assert len(fake.messages(CHAT)) == 1


@pytest.mark.parametrize("message_id", [10**20, 2**63, -5, '"12"', 1.5])
async def test_a_sent_alert_with_a_message_id_no_db_stores_is_sent_once(
    db: Database, fake: FakeBotAPI, message_id: object
) -> None:
    async with make_env(db, fake, 10.0) as env:
        subscribe_chat(db, CHAT, "private", "kien-thuy")
        result = {"message_id": "MID", "date": 1700000000, "text": "x",
                  "chat": {"id": CHAT, "type": "private"}}  # fmt: skip
        body = json.dumps({"ok": True, "result": result}).replace('"MID"', str(message_id))
        fake.script_raw("sendmessage", (200, body.encode()))
        _publish(db, env.ingestor, 1)
        await env.dispatch_until_done(timeout=30, lease=LEASE)
        assert [(s, a) for s, a, _ in _rows(db)] == [("sent", 0)]
        assert _sends(fake) == 1  # before: sent again at every lease's end


async def test_zalo_a_refusal_in_words_no_db_stores_ends_the_alert(
    db: Database, zalo: FakeZaloAPI
) -> None:
    add_topic(db)
    ingestor = builtin_ingestor(db)
    ingestor.hooks.append(Outbox(timedelta(hours=48)))
    zalo_subscriber(db, "z-a")
    body = {"ok": False, "error_code": 400, "description": "message \u0000 \ud800 refused"}
    zalo.script_raw("sendMessage", (400, json.dumps(body).encode()))
    _publish(db, ingestor, 2)
    await dispatch_until_done(db, zalo, timeout=30)
    assert [(s, a) for s, a, _ in _rows(db)] == [("bad_content", 0), ("sent", 0)]
    assert len(zalo.messages("z-a")) == 1


@pytest.mark.parametrize(
    ("given", "kept"),
    [(5, 5), (0, 0), (MAX_ID, MAX_ID), (MAX_ID + 1, 0), (-1, 0), ("7", 0), (True, 0), (2.0, 0)],
)
def test_an_outcome_keeps_only_a_message_id_a_bigint_holds(given: object, kept: int) -> None:
    assert SendOutcome.sent(given).message_id == kept  # type: ignore[arg-type]


def test_an_outcome_keeps_words_every_db_stores() -> None:
    outcome = SendOutcome.bad_content("a\u0000b\ud800c\x1bd" + "x" * 5000)
    assert outcome.kind is OutcomeKind.BAD_CONTENT
    assert outcome.description.startswith("abcdx") and len(outcome.description) == NOTE_CHARS
    assert SendOutcome.transient("Bad Gateway").description == "Bad Gateway"
