"""What one bot user can cost everyone else (#12 §2): the cap on a query's expanded terms, the
command rate limits, and the cap on subscriptions per user across chats.

Through real python-telegram-bot against the fake Bot API; SQLite and PostgreSQL where a database
effect is the point: the subscriptions counted across a user's chats (by the mute's undo too)
and the upgrade that leaves existing ones uncounted. The cap on a query's terms is checked in
Python before anything is stored, and the command budgets are in memory
(``feedsvc.bot.gate``, no row shared): those tests run on SQLite only
(``backend_cases.on_sqlite``, ``lite_db``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from backend_cases import on_sqlite
from fakebot import FakeBotAPI
from pydantic import SecretStr
from sqlalchemy import select, text
from test_bot import ADMIN, TIMING, USER, ask, running, seed_topics, subs_of
from test_digest_bot import alert_with_buttons
from upgrades import database_at

from feedsvc import operations as ops
from feedsvc.bot import BotService
from feedsvc.config import Settings, TelegramSettings
from feedsvc.db import Database, upgrade
from feedsvc.db.schema import subscriptions
from feedsvc.matching import QueryError, parse_chat_query
from feedsvc.matching.query import MAX_CHAT_QUERY_TERMS
from feedsvc.store.subscriptions import count_user_subscriptions
from feedsvc.store.topics import TopicSpec, get_topic, save_topic

# four place-name topics of 90 aliases each, and one that includes them all (360 terms)
BIG = {f"xa{k}": " OR ".join(f'"xã {k} {n}"' for n in range(1, 91)) for k in range(4)}
BIG["xa"] = "@xa0 OR @xa1 OR @xa2 OR @xa3"


def seed_big(db: Database) -> None:
    with db.write() as conn:
        for slug, query in BIG.items():
            save_topic(conn, TopicSpec(slug, slug, query), "cli", datetime.now(UTC))


@pytest.fixture
async def bot(db: Database, fake: FakeBotAPI) -> AsyncIterator[BotService]:
    seed_big(db)
    async with running(db, fake) as service:
        yield service


# --- the cap on expanded terms ------------------------------------------------------------------
TOO_BIG = [
    ("@xa0 @xa1 @xa2", 270),  # three references
    ("@xa", 360),  # one reference that expands into four
    ("(@xa0 OR @xa1) -@xa2", 270),  # negative terms cost the same to match
    ("title:@xa0 OR ~@xa1 OR tag:(@xa2 bão)", 271),  # under fields and folding
]


@pytest.mark.parametrize(("query", "terms"), TOO_BIG)
def test_expanded_terms_are_capped(query: str, terms: int) -> None:
    with pytest.raises(QueryError) as caught:
        parse_chat_query(query, BIG.get)
    assert caught.value.code == "chat_query_too_big"
    assert caught.value.params == {"terms": terms, "limit": MAX_CHAT_QUERY_TERMS}


def test_the_cap_is_inclusive() -> None:
    words = " ".join(f"từ{n}" for n in range(MAX_CHAT_QUERY_TERMS - 180))
    assert sum(1 for _ in parse_chat_query(f"@xa0 @xa1 {words}", BIG.get).terms()) == 200


@on_sqlite
async def test_bot_refuses_an_oversized_query_saying_the_limit(
    db: Database, fake: FakeBotAPI, bot: BotService
) -> None:
    for query, terms in TOO_BIG:
        if query == "@xa":  # alone: the topic itself, no chat query (tester4 G5)
            continue
        reply = await ask(fake, USER, f"/sub {query}")
        assert reply.startswith("Truy vấn không hợp lệ"), reply
        assert f"mở rộng thành {terms} từ" in reply and f"tối đa {MAX_CHAT_QUERY_TERMS} từ" in reply
    assert "Đã đăng ký" in await ask(fake, USER, "/sub @xa0 bão")
    assert "Đã đăng ký: xa" in await ask(fake, USER, "/sub @xa")
    assert subs_of(db, USER) == ["@xa0 bão", "xa"]


@on_sqlite
async def test_a_chat_query_over_the_term_limit_says_what_the_chat_can_do(
    db: Database, fake: FakeBotAPI, bot: BotService
) -> None:
    """A chat's /sub of 101 words was told to "split it into several topics" (only an admin
    makes topics); nothing is subscribed."""
    reply = await ask(fake, USER, "/sub " + " ".join(f"từ{n}" for n in range(101)))
    assert "quá 100 từ — tách thành nhiều lệnh /sub" in reply, reply
    assert "chủ đề" not in reply, reply
    assert subs_of(db, USER) == []


@on_sqlite
def test_api_and_cli_path_refuses_it_too(db: Database) -> None:
    seed_big(db)
    with pytest.raises(ops.OperationError) as caught:
        ops.add_subscription(db, 77, "private", topic=None, query="@xa")
    assert caught.value.cause is not None and caught.value.cause.code == "chat_query_too_big"
    assert "360 terms" in str(caught.value)
    sub, created = ops.add_subscription(db, 77, "private", topic=None, query="@xa0")
    assert created and sub.query == "@xa0"


def still() -> float:
    """The command budgets' clock held still: no token comes back while a test runs.

    Why: the shipped budgets give a token back every 3 s (20 a minute), and a test that counts
    what a flood gets (10 answers, one refusal) ran against wall time: on a loaded CI machine
    the 30 presses or 40 commands took longer than 3 s to handle, a token came back, and an
    11th answer or a second worded refusal failed it. The refill itself is the gate's unit
    tests' (``now=``), not these."""
    return 1000.0


def limited_bot(
    db: Database, fake: FakeBotAPI, clock: Callable[[], float] = still, **limits: Any
) -> BotService:
    settings = Settings(
        telegram=TelegramSettings(
            token=SecretStr(fake.token), base_url=fake.base_url, admins=[ADMIN], **limits
        )
    )
    return BotService(db, settings, holder="a", clock=clock, **TIMING)


@asynccontextmanager
async def polling(bot: BotService, fake: FakeBotAPI) -> AsyncIterator[BotService]:
    await bot.start()
    try:
        await fake.await_for(lambda: bot.polling)
        yield bot
    finally:
        await bot.stop()


async def handled(fake: FakeBotAPI, bot: BotService) -> None:
    """Every update sent so far has been handled: the bot takes updates in order (different
    chats' at once), so once an admin's /help is answered every update before it has been
    taken; then none is left in hand."""
    before = len(fake.messages(ADMIN))
    fake.user_sends(ADMIN, ADMIN, "/help")
    await fake.await_for(lambda: fake.messages(ADMIN)[before:])
    await fake.await_for(lambda: bot.updates_in_hand == 0)


async def test_a_flooding_user_gets_one_reply_then_silence(
    lite_db: Database, fake: FakeBotAPI
) -> None:
    seed_big(lite_db)
    bot = limited_bot(lite_db, fake, user_command_burst=3, user_commands_per_minute=0.5)
    async with polling(bot, fake):
        for n in range(12):
            fake.user_sends(USER, USER, "/help" if n % 2 else "/sub @xa0 bão")
        await handled(fake, bot)
        replies = [m.visible for m in fake.messages(USER)]
        assert len(replies) == 4, replies  # 3 commands, then one "too fast", then nothing
        assert "quá nhanh" in replies[3] and "120 giây" in replies[3]
        assert subs_of(lite_db, USER) == ["@xa0 bão"]  # the refused /sub did nothing
        assert "/sub" in await ask(fake, ADMIN, "/help")  # bot admins are not limited
        fake.user_sends(USER + 1, USER + 1, "/help")  # nor is anyone else
        await fake.await_for(lambda: fake.messages(USER + 1))


async def test_a_busy_group_is_limited_as_a_chat(lite_db: Database, fake: FakeBotAPI) -> None:
    fake.add_chat(-5, "group", "Nhóm", admins=[7])
    bot = limited_bot(lite_db, fake, chat_command_burst=2, chat_commands_per_minute=0.5)
    async with polling(bot, fake):
        for user in range(100, 106):  # six different users, one command each
            fake.user_sends(-5, user, "/topics")
        await handled(fake, bot)
        replies = [m.visible for m in fake.messages(-5)]
        assert len(replies) == 3, replies
        assert "Cuộc trò chuyện này gửi lệnh quá nhanh" in replies[2]


# --- subscriptions per user, across chats -------------------------------------------------------
async def test_subscriptions_per_user_are_capped_across_chats(
    db: Database, fake: FakeBotAPI
) -> None:
    seed_big(db)
    fake.add_chat(-5, "group", "Nhóm", admins=[USER, 7])
    bot = limited_bot(db, fake, max_subscriptions_per_user=3)
    async with polling(bot, fake):
        assert "Đã đăng ký" in await ask(fake, USER, "/sub xa0")
        assert "Đã đăng ký" in await ask(fake, USER, "/sub bão lũ")
        assert "Đã đăng ký" in await ask(fake, -5, "/sub xa1", USER)  # a group USER runs
        refused = await ask(fake, -5, "/sub xa2", USER)
        assert "Bạn đã tạo 3 đăng ký" in refused and "/unsub" in refused
        assert "Bạn đã tạo 3 đăng ký" in await ask(fake, USER, "/sub mưa đá")
        assert "Đã đăng ký rồi" in await ask(fake, USER, "/sub xa0")  # idempotent at the cap
        assert "Đã huỷ" in await ask(fake, USER, "/unsub bão lũ")
        assert "Đã đăng ký" in await ask(fake, -5, "/sub xa2", USER)
        assert "Đã đăng ký" in await ask(fake, ADMIN, "/sub xa3")  # bot admins: no cap
        assert "Đã đăng ký" in await ask(fake, -5, "/sub xa3", 7)  # another admin's budget
    assert subs_of(db, USER) == ["xa0"]
    assert subs_of(db, -5) == ["xa1", "xa2", "xa3"]
    with db.read() as conn:
        owners = (
            conn.execute(select(subscriptions.c.created_by).order_by(subscriptions.c.id))
            .scalars()
            .all()
        )
    assert owners == ["telegram:42", "telegram:42", "telegram:42", None, "telegram:7"]


async def test_the_undo_button_respects_the_per_user_cap_and_records_its_user(
    db: Database, fake: FakeBotAPI
) -> None:
    """Undo under a muted alert subscribes again exactly as /sub would: at the user's cap it
    is refused (an alert on the button, nothing stored) and what it adds counts as theirs.
    Before: undo re-subscribed past every cap, with no owner (so the cap never saw it)."""
    seed_big(db)
    bot = limited_bot(db, fake, max_subscriptions_per_user=2)
    async with polling(bot, fake):
        assert "Đã đăng ký" in await ask(fake, USER, "/sub xa0")
        assert "Đã đăng ký" in await ask(fake, USER, "/sub xa1")
        with db.read() as conn:
            xa0 = get_topic(conn, "xa0")
        assert xa0 is not None
        message_id = await alert_with_buttons(fake, USER, xa0.id)
        fake.user_presses(USER, USER, message_id, f"mute:{xa0.id}")
        await fake.await_for(lambda: len(fake.callback_answers) == 1)
        assert "Đã đăng ký" in await ask(fake, USER, "/sub xa2")  # the freed place taken
        fake.user_presses(USER, USER, message_id, f"undo:{xa0.id}")
        await fake.await_for(lambda: len(fake.callback_answers) == 2)
        refused = fake.callback_answers[1]
        assert "Bạn đã tạo 2 đăng ký" in refused["text"]
        assert refused.get("show_alert") in (True, "true")  # form-encoded by PTB
        assert sorted(subs_of(db, USER)) == ["xa1", "xa2"]
        assert "Đã huỷ" in await ask(fake, USER, "/unsub xa2")
        fake.user_presses(USER, USER, message_id, f"undo:{xa0.id}")
        await fake.await_for(lambda: len(fake.callback_answers) == 3)
        assert fake.callback_answers[2]["text"].startswith("Đã bật lại")
        assert sorted(subs_of(db, USER)) == ["xa0", "xa1"]
        with db.read() as conn:
            assert count_user_subscriptions(conn, f"telegram:{USER}") == 2  # undo's is counted


def test_upgrade_keeps_existing_subscriptions_uncounted(db_url: str) -> None:
    """0011 on a database that holds subscriptions: rows intact, owner unknown (NULL), so
    nobody is refused for what they made before the cap existed."""
    db = database_at(db_url, "0010")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")  # rows as 0010 had them: plain SQL
    with db.write() as conn:
        conn.execute(
            text(
                "INSERT INTO chats (chat_id, channel, address, type, paused, failures,"
                " link_preview, created_at) VALUES (42, 'telegram', '42', 'private', false, 0,"
                " false, :t)"
            ),
            {"t": now},
        )
        conn.execute(
            text("INSERT INTO subscriptions (chat_id, query, created_at) VALUES (42, :q, :t)"),
            [{"q": f"q{n}", "t": now} for n in range(5)],
        )
    upgrade(db)
    with db.read() as conn:
        rows = conn.execute(select(subscriptions.c.query, subscriptions.c.created_by)).all()
        assert sorted(rows) == [(f"q{n}", None) for n in range(5)]
        assert count_user_subscriptions(conn, "telegram:42") == 0
    db.engine.dispose()


async def test_default_limits_stop_a_flood(lite_db: Database, fake: FakeBotAPI) -> None:
    """With the shipped defaults (10 at once), 40 commands in a row get 10 answers and one
    "too fast": the bot never floods back."""
    async with polling(limited_bot(lite_db, fake), fake) as bot:
        for _ in range(40):
            fake.user_sends(USER, USER, "/topics")
        await handled(fake, bot)
    replies = [m.visible for m in fake.messages(USER)]
    assert len(replies) == 11 and "quá nhanh" in replies[-1]


async def test_a_token_comes_back_on_the_budgets_clock(lite_db: Database, fake: FakeBotAPI) -> None:
    """The command budgets read the bot's clock (``BotService(clock=)``), not the wall: 3.5 s
    on it (20 a minute: a token every 3 s) lets one more command through, and none comes back
    before, however long the commands took to handle."""
    now = [1000.0]
    async with polling(limited_bot(lite_db, fake, clock=lambda: now[0]), fake) as bot:
        for _ in range(11):
            fake.user_sends(USER, USER, "/topics")
        await handled(fake, bot)
        replies = [m.visible for m in fake.messages(USER)]
        assert len(replies) == 11 and "quá nhanh" in replies[-1]
        now[0] += 3.5
        fake.user_sends(USER, USER, "/topics")
        await handled(fake, bot)
        replies = [m.visible for m in fake.messages(USER)]
        assert len(replies) == 12 and "quá nhanh" not in replies[-1]


@on_sqlite
async def test_button_presses_share_the_command_budget(db: Database, fake: FakeBotAPI) -> None:
    """A press writes to the state DB and edits a message (the bot's Telegram budget, shared by
    every chat): a user tapping mute/undo in a loop is held to the same per-user budget as
    commands (#12 §2). Every press is still answered (Telegram's spinner stops), only the first
    refusal with words. Before: all 30 presses changed the subscription and edited the alert."""
    seed_topics(db)
    bot = limited_bot(db, fake)  # the shipped budgets: 10 at once, 20 a minute
    await bot.start()
    try:
        await fake.await_for(lambda: bot.polling)
        await press_30_times(db, fake)
    finally:
        await bot.stop()


async def press_30_times(db: Database, fake: FakeBotAPI) -> None:
    await ask(fake, USER, "/sub the-thao")
    with db.read() as conn:
        topic = get_topic(conn, "the-thao")
    assert topic is not None
    message_id = await alert_with_buttons(fake, USER, topic.id)
    presses = 30
    for n in range(presses):
        fake.user_presses(USER, USER, message_id, f"{('mute', 'undo')[n % 2]}:{topic.id}")
    await fake.await_for(lambda: len(fake.callback_answers) == presses)
    done = [a for a in fake.callback_answers if a.get("text", "").startswith("Đã ")]
    refusals = [a for a in fake.callback_answers[len(done) :] if a.get("text")]
    assert len(done) == 9  # the default burst is 10 commands, /sub took one
    assert len(refusals) == 1 and refusals[0].get("show_alert") in (True, "true")
    assert all(a.get("text", "").startswith("Đã ") for a in fake.callback_answers[: len(done)])
    edits = [c for c in fake.calls if c.method == "editmessagereplymarkup"]
    assert len(edits) <= len(done)
