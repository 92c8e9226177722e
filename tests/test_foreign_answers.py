"""An error answer that is not the Bot API's own is never read as its verdict on a chat or a
message (Telegram and Zalo, against their fakes over real HTTP; SQLite and PostgreSQL).

Before: a proxy between feedsvc and the API (a corporate egress proxy, nginx in front of a local
Bot API server) answering 403 with its HTML page ended the alert as ``blocked`` and, three
times in a row, disabled the chat: every chat it reached; a 400 page made each alert a dead
letter (``bad_content``); the description kept the page's first kilobyte. On Telegram a
``retry_after`` beyond ~10**14 s (or ``1e999``) raised ``OverflowError`` out of the send (the
dispatcher's "sender raised", a traceback, retried at once instead of paused), and a
``migrate_to_chat_id`` that is no supergroup's id (``true``, a text, a positive id, another
channel's id range) moved the chat and its subscriptions there. On Zalo a 2xx answer without
``"ok"`` was retried as transient (25 copies of what may have been sent).

The proxy's status and whether a group is told once or twice to migrate to itself are each
given one state DB backend, rotating (``backend_cases.on_backends``): the status is read by the
channel before any SQL, and a second answer repeats the same statements; each test keeps a
PostgreSQL case.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from backend_cases import on_backends
from factories import VN, article
from fakebot import FakeBotAPI, Fault
from fakezalo import FakeZaloAPI
from sqlalchemy import select
from test_dispatch import Env, make_env, subscribe_chat
from test_zalo import add_topic, dispatch_until_done, states, zalo_subscriber

from feedsvc.channels.base import Target
from feedsvc.channels.zalo import ZaloBotAPI, ZaloChannel
from feedsvc.db import Database
from feedsvc.db.schema import NON_TELEGRAM_IDS, chats, deliveries, subscriptions
from feedsvc.ingest import Ingestor
from feedsvc.notify import OutcomeKind, TelegramSender, format_alert
from feedsvc.notify.outcome import DEFAULT_RETRY_AFTER, MAX_RETRY_AFTER
from feedsvc.outbox import Outbox
from feedsvc.store.chat_migration import follow_migration
from feedsvc.store.source_articles import upsert_source_articles

PAGE = b"<html><head><title>%d</title></head><body><h1>Access denied</h1>" + b"<p>proxy</p>" * 200
# Error answers from something that is not the Bot API: a proxy's page, an empty body, JSON that
# is no Bot API error object, a body cut short.
FOREIGN = [
    (403, PAGE % 403),
    (400, PAGE % 400),
    (403, b""),
    (400, b"Bad Request"),
    (403, b'{"error": "forbidden by policy"}'),
    (400, b"[]"),
    (403, b'{"ok": false, "error_code": 403, "description": "Forbidden: bot was blo'),
    (400, b'{"ok": true, "result": {}}'),
    (502, PAGE % 502),
]
MSG = format_alert(article(1), ["Kiến Thụy"], VN)


async def _telegram_send(fake: FakeBotAPI, status: int, body: bytes) -> object:
    fake.script_raw("sendmessage", (status, body))
    async with TelegramSender(fake.token, base_url=fake.base_url, read_timeout=10) as sender:
        return await sender.send(7, MSG, link_preview=False)


async def _telegram_429(fake: FakeBotAPI, retry_after: str, description: str) -> object:
    """A Bot API 429 whose ``parameters.retry_after`` is ``retry_after``, raw JSON as written."""
    body = (f'{{"ok": false, "error_code": 429, "description": "{description}",'
            f' "parameters": {{"retry_after": {retry_after}}}}}').encode()  # fmt: skip
    return await _telegram_send(fake, 429, body)


def _retried(outcome: object, status: int) -> str:
    """The outcome of a foreign error answer: transient, its description naming the HTTP
    status and holding none of the answer's markup. Returns the description."""
    assert outcome.kind is OutcomeKind.TRANSIENT, outcome  # type: ignore[attr-defined]
    description: str = outcome.description  # type: ignore[attr-defined]
    assert f"HTTP {status}" in description and "<" not in description, description
    return description


@pytest.mark.parametrize(("status", "body"), FOREIGN, ids=range(len(FOREIGN)))
async def test_telegram_a_foreign_error_answer_is_retried_not_the_chats_fault(
    fake: FakeBotAPI, status: int, body: bytes
) -> None:
    description = _retried(await _telegram_send(fake, status, body), status)
    assert len(description) < 120 and "proxy" not in description, description
    assert fake.messages(7) == []


@pytest.mark.parametrize(
    "retry_after",
    ["1e999", "1" + "0" * 15, "1" + "0" * 41, str(10**9), "86401"],
)
async def test_telegram_a_huge_retry_after_is_the_longest_pause(
    fake: FakeBotAPI, retry_after: str
) -> None:
    outcome = await _telegram_429(fake, retry_after, "Too Many Requests: retry later")
    assert outcome.kind is OutcomeKind.RETRY_AFTER, outcome  # type: ignore[attr-defined]
    assert outcome.seconds == MAX_RETRY_AFTER  # type: ignore[attr-defined]


@pytest.mark.parametrize("retry_after", ['"7"', "[5]", "true", "NaN", '{"s": 3}'])
async def test_telegram_a_retry_after_that_is_no_number_pauses_the_default(
    fake: FakeBotAPI, retry_after: str
) -> None:
    """Still a 429: the chat paused :data:`DEFAULT_RETRY_AFTER` (before: retried as
    transient; every variant: ``test_flood_default``)."""
    outcome = await _telegram_429(fake, retry_after, "Too Many Requests")
    assert outcome.kind is OutcomeKind.RETRY_AFTER, outcome  # type: ignore[attr-defined]
    assert outcome.seconds == DEFAULT_RETRY_AFTER  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "new_id",
    ["true", '"-1001234"', "5", str(-NON_TELEGRAM_IDS), str(-(2**63)), "[1]", "-1.5", '{"id": 1}'],
)
async def test_telegram_a_migration_to_no_supergroup_is_not_followed(
    fake: FakeBotAPI, new_id: str
) -> None:
    body = ('{"ok": false, "error_code": 400, "description": "Bad Request: group chat was '
            f'upgraded to a supergroup chat", "parameters": {{"migrate_to_chat_id": {new_id}}}}}'
            ).encode()  # fmt: skip
    outcome = await _telegram_send(fake, 400, body)
    assert outcome.kind is OutcomeKind.TRANSIENT, outcome  # type: ignore[attr-defined]
    assert outcome.new_chat_id is None  # type: ignore[attr-defined]


async def test_telegram_a_migration_of_a_chat_to_itself_is_not_followed(fake: FakeBotAPI) -> None:
    fake.script(-1001234567890, Fault.migrate(-1001234567890))
    async with TelegramSender(fake.token, base_url=fake.base_url, read_timeout=10) as sender:
        outcome = await sender.send(-1001234567890, MSG, link_preview=False)
    assert outcome.kind is OutcomeKind.TRANSIENT, outcome
    assert "itself" in outcome.description


async def test_telegram_the_bot_apis_own_answers_read_as_before(fake: FakeBotAPI) -> None:
    """The family the classifier reads is untouched: a JSON 403 is the chat's, a real
    migration is followed, an ordinary ``retry_after`` pauses that long."""
    blocked = b'{"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked"}'
    assert (await _telegram_send(fake, 403, blocked)).kind is OutcomeKind.BLOCKED  # type: ignore[attr-defined]
    moved = b'{"ok": false, "error_code": 400, "description": "Bad Request: group chat was upgraded", "parameters": {"migrate_to_chat_id": -1009876543210}}'  # noqa: E501
    outcome = await _telegram_send(fake, 400, moved)
    assert outcome.new_chat_id == -1009876543210  # type: ignore[attr-defined]
    flood = b'{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 3", "parameters": {"retry_after": 3}}'  # noqa: E501
    outcome = await _telegram_send(fake, 429, flood)
    assert (outcome.kind, outcome.seconds) == (OutcomeKind.RETRY_AFTER, 3.0)  # type: ignore[attr-defined]


PRIVATES = (1001, 1002, 1003)


def _publish(db: Database, ingestor: Ingestor, count: int) -> None:
    now = datetime.now(VN)
    with db.write() as conn:
        upsert_source_articles(conn, [article(n, published_at=now) for n in range(1, count + 1)],
                               datetime.now(UTC))  # fmt: skip
    assert ingestor.tick().error is None


def _disabled(db: Database) -> list[int]:
    with db.read() as conn:
        query = select(chats.c.chat_id).where(chats.c.disabled_reason.is_not(None))
        return list(conn.execute(query).scalars())


@pytest.mark.parametrize(("db_url", "status"), on_backends([403, 400]), indirect=["db_url"])
async def test_telegram_a_proxy_refusing_for_a_while_disables_no_chat_and_loses_nothing(
    db: Database, fake: FakeBotAPI, status: int
) -> None:
    """Every send answered by the proxy's page for a while (9 answers: three alerts to each of
    three chats), then the Bot API again: every alert arrives once, no chat is disabled."""
    async with make_env(db, fake, 10.0) as env:
        for chat in PRIVATES:
            subscribe_chat(db, chat, "private", "kien-thuy")
        fake.script_raw("sendmessage", *[(status, PAGE % status)] * 9)
        _publish(db, env.ingestor, 3)
        await _dispatch(env)
        assert [s for _, s, _ in env.states()] == ["sent"] * 9
        assert all(len(fake.messages(chat)) == 3 for chat in PRIVATES)
        assert _disabled(db) == []


async def _dispatch(env: Env) -> None:
    await env.dispatch_until_done(timeout=60, disable_after=3)


async def _one_alert_kept_by_group(db: Database, env: Env, fake: FakeBotAPI) -> None:
    """One article published and dispatched: group -2001 got it as it was, its id and its
    subscription kept (the answers scripted before decide the way)."""
    _publish(db, env.ingestor, 1)
    await _dispatch(env)
    assert [(c, s) for c, s, _ in env.states()] == [(-2001, "sent")]
    assert len(fake.messages(-2001)) == 1
    with db.read() as conn:
        assert list(conn.execute(select(subscriptions.c.chat_id)).scalars()) == [-2001]


async def test_telegram_a_migration_to_no_supergroup_moves_nothing(
    db: Database, fake: FakeBotAPI
) -> None:
    """A group's alert answered with ``migrate_to_chat_id: true`` (then the Bot API again): the
    group keeps its id and its subscription, and gets its alert (before: moved to chat 1)."""
    async with make_env(db, fake, 10.0) as env:
        subscribe_chat(db, -2001, "group", "kien-thuy")
        body = b'{"ok": false, "error_code": 400, "description": "Bad Request: group chat was upgraded to a supergroup chat", "parameters": {"migrate_to_chat_id": true}}'  # noqa: E501
        fake.script_raw("sendmessage", (400, body))
        await _one_alert_kept_by_group(db, env, fake)


ZALO_FOREIGN = [(s, b) for s, b in FOREIGN if not b.startswith(b'{"ok": true')]


@pytest.mark.parametrize(("status", "body"), ZALO_FOREIGN, ids=range(len(ZALO_FOREIGN)))
async def test_zalo_a_foreign_error_answer_is_retried_not_the_chats_fault(
    zalo: FakeZaloAPI, status: int, body: bytes
) -> None:
    _retried(await _zalo_send(zalo, status, body), status)


@pytest.mark.parametrize(
    "body",
    [b'{"result": {"message_id": "5"}}', b'{"ok": "true", "result": {}}', b'{"ok": 1}'],
)
async def test_zalo_a_2xx_answer_without_ok_is_an_unknown_outcome(
    zalo: FakeZaloAPI, body: bytes
) -> None:
    """It may have been sent: re-sent once at most (before: transient, up to 25 copies)."""
    outcome = await _zalo_send(zalo, 200, body)
    assert outcome.kind is OutcomeKind.AMBIGUOUS, outcome  # type: ignore[attr-defined]


async def test_zalo_an_error_code_that_is_no_number_is_the_status(zalo: FakeZaloAPI) -> None:
    """``"error_code": true`` was read as error 1 (transient): the HTTP status tells."""
    body = json.dumps({"ok": False, "error_code": True, "description": "user blocked the bot"})
    outcome = await _zalo_send(zalo, 403, body.encode())
    assert outcome.kind is OutcomeKind.BLOCKED, outcome  # type: ignore[attr-defined]


async def test_zalo_a_description_is_bounded(zalo: FakeZaloAPI) -> None:
    body = json.dumps({"ok": False, "error_code": 400, "description": "x" * 100_000})
    outcome = await _zalo_send(zalo, 400, body.encode())
    assert outcome.kind is OutcomeKind.BAD_CONTENT
    assert len(outcome.description) <= 600  # type: ignore[attr-defined]


async def _zalo_send(zalo: FakeZaloAPI, status: int, body: bytes) -> object:
    zalo.script_raw("sendMessage", (status, body))
    channel = ZaloChannel(ZaloBotAPI(zalo.token, zalo.base_url, read_timeout=10), VN)
    try:
        target = Target(1, "zalo", "z-1", "private", False, True)
        return await channel.deliver(target, article(1), ["Kiến Thụy"])
    finally:
        await channel.close()


@pytest.mark.parametrize(
    ("db_url", "status"), on_backends([403, 400], start=1), indirect=["db_url"]
)
async def test_zalo_a_proxy_refusing_for_a_while_disables_no_recipient_and_loses_nothing(
    db: Database, zalo: FakeZaloAPI, status: int
) -> None:
    from factories import builtin_ingestor

    add_topic(db)
    ingestor = builtin_ingestor(db)
    ingestor.hooks.append(Outbox(timedelta(hours=48)))
    for address in ("z-a", "z-b", "z-c"):
        zalo_subscriber(db, address)
    zalo.script_raw("sendMessage", *[(status, PAGE % status)] * 9)
    _publish(db, ingestor, 3)
    await dispatch_until_done(db, zalo, timeout=60)
    assert states(db) == ["sent"] * 9
    assert all(len(zalo.messages(a)) == 3 for a in ("z-a", "z-b", "z-c"))
    assert _disabled(db) == []
    with db.read() as conn:
        errors = list(conn.execute(select(deliveries.c.error)).scalars())
    assert errors == [None] * 9


@pytest.mark.parametrize(
    ("db_url", "twice"),
    on_backends([False, True], label=lambda t: "twice" if t else "once"),
    indirect=["db_url"],
)
async def test_telegram_a_group_told_to_migrate_to_itself_keeps_its_alert_and_subscription(
    db: Database, fake: FakeBotAPI, twice: bool
) -> None:
    """Before: the chat, its subscription and the alert were deleted (the store dropped the
    "old" chat beside the "new" one, both the same), nothing sent and nothing recorded."""
    async with make_env(db, fake, 10.0) as env:
        subscribe_chat(db, -2001, "group", "kien-thuy")
        fake.script(-2001, *[Fault.migrate(-2001)] * (2 if twice else 1))
        await _one_alert_kept_by_group(db, env, fake)


def test_the_store_moves_no_chat_onto_itself(db: Database) -> None:
    """The one place that moves a chat refuses the move that would drop it, whoever asks
    (an alert's or a digest's outcome, the bot's service message)."""
    subscribe_chat(db, -2001, "group")
    with db.write() as conn:
        follow_migration(conn, -2001, -2001, datetime.now(UTC))
    with db.read() as conn:
        assert list(conn.execute(select(chats.c.chat_id)).scalars()) == [-2001]
