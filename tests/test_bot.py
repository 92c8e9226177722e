"""The bot's commands, driven through real python-telegram-bot against the fake Bot API over HTTP.

Every test runs on SQLite and on the real PostgreSQL (the ``db`` fixture). Replies are observed at
the fake (``visible`` is the text after Telegram's HTML parsing, so escaping is checked too) and
database effects read back through the store; the bot writes before it replies, so a reply seen
means the transaction committed. The ways a list of slugs or a decomposed query is typed are
given one backend each, rotating (``backend_cases.on_backends``): they are read and normalised
in Python (``bot.actions.normalise``) before the same statements store and find the
subscription.
"""

from __future__ import annotations

import html
import re
import time
import unicodedata
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from backend_cases import on_backends
from fakebot import FakeBotAPI
from fakeserver import PATIENCE
from patience import PATIENT_READ_TIMEOUT
from pydantic import SecretStr

from feedsvc.bot import BotService, actions, texts
from feedsvc.catalogue import Translator
from feedsvc.config import Settings, TelegramSettings
from feedsvc.db import Database
from feedsvc.graphemes import utf16_units
from feedsvc.store import audience
from feedsvc.store import subscriptions as subs
from feedsvc.store.topics import Topic, TopicSpec, save_topic

ADMIN = 1000  # in telegram.admins
OTHER_ADMIN = 1001  # in telegram.admins, but not an admin of the test channel
USER = 42
#: How long a reply or a state change may take: a deadline that bounds only a failure (a
#: loaded CI machine took over 5 s for one reply), never a wait: the shared patience.
DEADLINE = PATIENCE
TOPICS = [
    TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy" OR "Núi Đối"', "Tin Kiến Thụy"),
    TopicSpec("the-thao", "Thể thao", '"bóng đá" OR "thể thao"', "Bóng đá & <mọi môn>"),
    TopicSpec("cu", "Chủ đề cũ", "cũ", "", enabled=False),
]


#: ``BotService`` timing for tests not about the lease or timeouts (every module that builds a
#: bot of its own takes it too):
TIMING: dict[str, Any] = {
    # a lease of 20 s, renewed every 0.2 s: a loaded machine's lock wait behind a command's
    # write lapsed one of 1.5 s (test_bot_unsub_numbers, two CI runs) and one of 6 s
    # (test_fakebot_strict, a landing CI on a slow host at 100 % CPU), which cancels the
    # update in hand (its reply lost); tests of expiry set their own
    "poll_timeout": 1, "lease_seconds": 20, "renew_seconds": 0.2, "standby_seconds": 0.05,
    # a reply is sent once (an answer after the read timeout is not re-sent: the user asks
    # again), so a loaded machine's stall of the fake past 2 s made "Xin lỗi" (CI)
    "connect_timeout": 1, "read_timeout": PATIENT_READ_TIMEOUT,
}  # fmt: skip


def make_bot(db: Database, fake_url: str, token: str, holder: str = "a", **kw: Any) -> BotService:
    settings = Settings(
        telegram=TelegramSettings(
            token=SecretStr(token),
            base_url=fake_url,
            admins=[ADMIN, OTHER_ADMIN],
            # these tests are about replies and permissions: command budgets out of the way
            # (tests/test_bot_limits.py tests them, with the shipped defaults too)
            user_command_burst=1000,
            chat_command_burst=1000,
        )
    )
    return BotService(db, settings, holder=holder, **(TIMING | kw))


def seed_topics(db: Database) -> None:
    with db.write() as conn:
        for spec in TOPICS:
            save_topic(conn, spec, "cli", db.now())


def subs_of(db: Database, chat_id: int) -> list[str]:
    """This chat's subscriptions as slugs or query texts, in creation order."""
    with db.read() as conn:
        return [s.topic_slug or s.query or "" for s in subs.list_subscriptions(conn, chat_id)]


def chat_row(db: Database, chat_id: int) -> subs.Chat | None:
    with db.read() as conn:
        return subs.get_chat(conn, chat_id)


async def ask(fake: FakeBotAPI, chat_id: int, text: str, user_id: int | None = None) -> str:
    """Send ``text`` as ``user_id`` (default: the private chat's user) and return the reply."""
    before = len(fake.messages(chat_id))
    fake.user_sends(chat_id, user_id if user_id is not None else chat_id, text)
    replies = await fake.await_for(lambda: fake.messages(chat_id)[before:], timeout=DEADLINE)
    assert replies[0].parse_mode == "HTML"
    return replies[0].visible


@contextmanager
def fast_fake() -> Iterator[FakeBotAPI]:
    server = FakeBotAPI().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with fast_fake() as server:
        server.add_chat(-1001234567, "channel", "Tin nhanh", admins=[ADMIN], username="tinnhanh")
        server.add_chat(-5, "group", "Nhóm", admins=[7])
        yield server


@asynccontextmanager
async def running(db: Database, fake: FakeBotAPI) -> AsyncIterator[BotService]:
    seed_topics(db)
    service = make_bot(db, fake.base_url, fake.token)
    await service.start()
    try:
        await fake.await_for(lambda: service.polling, timeout=DEADLINE)
        yield service
    finally:
        await service.stop()


@pytest.fixture
async def bot(db: Database, fake: FakeBotAPI) -> AsyncIterator[BotService]:
    """The bot on both backends: for tests whose point is a database effect."""
    async with running(db, fake) as service:
        yield service


@pytest.fixture
async def lite_bot(lite_db: Database, fake: FakeBotAPI) -> AsyncIterator[BotService]:
    """The bot on SQLite only: for tests about replies and permissions, not SQL."""
    async with running(lite_db, fake) as service:
        yield service


# --- basics ----------------------------------------------------------------------------------
async def test_start_registers_and_reenables_a_blocked_chat(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    with lite_db.write() as conn:
        subs.ensure_chat(conn, USER, "private", "U", lite_db.now())
        subs.disable_chat(conn, USER, "bot bị chặn")
    assert "Xin chào" in await ask(fake, USER, "/start")
    row = chat_row(lite_db, USER)
    assert row is not None and row.type == "private" and row.disabled_reason is None


async def test_start_with_a_topic_subscribes_to_it(
    db: Database, fake: FakeBotAPI, bot: BotService
) -> None:
    """``t.me/<bot>?start=<slug>`` (the reader pages' Telegram button) sends ``/start <slug>``."""
    reply = await ask(fake, USER, "/start the-thao")
    assert reply.startswith("Xin chào") and "Đã đăng ký: Thể thao (the-thao)" in reply
    assert subs_of(db, USER) == ["the-thao"]
    assert "Đã đăng ký rồi" in await ask(fake, USER, "/start the-thao")  # idempotent
    for unknown in ("khong-co", "the-thao-cu", "x" * 64):
        reply = await ask(fake, USER, f"/start {unknown}")
        assert f"Không tìm thấy chủ đề {unknown}" in reply and "/topics" in reply
    assert subs_of(db, USER) == ["the-thao"]  # an unknown slug is not a query subscription
    reply = await ask(fake, -5, "/start the-thao", user_id=99)  # a group: admins only
    assert "Chỉ quản trị viên" in reply and subs_of(db, -5) == []


async def test_help_menu_and_webhook(fake: FakeBotAPI, lite_bot: BotService) -> None:
    reply = await ask(fake, USER, "/help")
    assert "/sub <chủ đề hoặc truy vấn>" in reply and "/pause" in reply
    assert {c["command"] for c in fake.commands} >= {"start", "sub", "unsub", "list", "pause"}
    assert any(c.method == "deletewebhook" for c in fake.calls)


async def test_topics_lists_enabled_topics_escaped(fake: FakeBotAPI, lite_bot: BotService) -> None:
    reply = await ask(fake, USER, "/topics")
    assert "kien-thuy — Kiến Thụy: Tin Kiến Thụy" in reply
    assert "Bóng đá & <mọi môn>" in reply  # escaped on the way out, intact for the reader
    assert "cu —" not in reply


async def test_unknown_command_hint_only_when_addressed(
    fake: FakeBotAPI, lite_bot: BotService
) -> None:
    assert "/help" in await ask(fake, USER, "/frobnicate")
    fake.user_sends(-5, 8, "/otherbots_command")  # groups host other bots: stay quiet
    assert "/help" in await ask(fake, -5, "/nope@feedsvc_test_bot", user_id=8)
    assert len(fake.messages(-5)) == 1


def _edit(fake: FakeBotAPI, chat_id: int, user_id: int, text: str) -> None:
    """``user_id`` edits a message of theirs in ``chat_id`` to ``text`` (an edited_message)."""
    chat = fake.chat(chat_id).to_api()
    entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    fake.inject_update({"edited_message": {
        "message_id": 9000 + len(fake.messages(chat_id)), "date": int(time.time()),
        "edit_date": int(time.time()), "chat": chat, "text": text, "entities": entities,
        "from": {"id": user_id, "is_bot": False, "first_name": "U"},
    }})  # fmt: skip


@pytest.mark.parametrize(
    "edited", ["/sub kien-thuy", "/unsub 1", "/digest 08:00", "/sub@feedsvc_test_bot the-thao"]
)
async def test_an_edited_command_is_answered_not_run(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, edited: str
) -> None:
    """A command corrected by editing the message is answered (send it again), never run a
    second time nor left without an answer; in a group only a command of ours."""
    assert "Đã đăng ký" in await ask(fake, USER, "/sub the-thao")
    assert "edited_message" in (fake.allowed_updates or [])  # asked for (Telegram filters)
    before = len(fake.messages(USER))
    _edit(fake, USER, USER, edited)
    [reply] = await fake.await_for(lambda: fake.messages(USER)[before:], timeout=DEADLINE)
    head = edited.split()[0]
    assert f"Hãy gửi lại {head} thành tin nhắn mới" in reply.visible
    assert subs_of(lite_db, USER) == ["the-thao"]  # nothing run
    # a group: another bot's command edited stays unanswered, ours is answered
    _edit(fake, -5, 7, "/othercmd@some_other_bot x")
    _edit(fake, -5, 7, "/settings")
    [answer] = await fake.await_for(lambda: fake.messages(-5), timeout=DEADLINE)
    assert "Hãy gửi lại /settings" in answer.visible
    await fake.await_for(lambda: fake.pending_updates == 0, timeout=DEADLINE)
    assert len(fake.messages(-5)) == 1


# --- /sub, /unsub, /list ---------------------------------------------------------------------
async def test_sub_topic_is_idempotent(db: Database, fake: FakeBotAPI, bot: BotService) -> None:
    assert "Đã đăng ký: Thể thao (the-thao)" in await ask(fake, USER, "/sub the-thao")
    assert "Đã đăng ký rồi" in await ask(fake, USER, "/sub the-thao")
    assert subs_of(db, USER) == ["the-thao"]


async def test_sub_multiword_quoted_query(db: Database, fake: FakeBotAPI, bot: BotService) -> None:
    reply = await ask(fake, USER, '/sub "công an"   OR "an ninh"')
    assert 'Đã đăng ký: truy vấn "công an" OR "an ninh"' in reply
    assert "Đã đăng ký rồi" in await ask(fake, USER, '/sub "công an" OR "an ninh"')
    assert "Đã đăng ký" in await ask(fake, USER, "/sub Kiến Thụy @the-thao")
    assert subs_of(db, USER) == ['"công an" OR "an ninh"', "Kiến Thụy @the-thao"]


@pytest.mark.parametrize(
    ("db_url", "typed", "then"),
    on_backends(
        [
            ('"công an" OR "an ninh"', "NFD"),  # decomposed first, composed after
            ('"công an" OR "an ninh"', "NFC"),  # and the other way round
            ("kiến thụy", "NFD"),
            ("Hải Phòng -bóng", "NFD"),
            ("Thuỵ", "NFD"),  # a tone mark on a letter with a mark of its own, decomposed
        ],
        start=1,
    ),
    indirect=["db_url"],
)
async def test_a_query_typed_decomposed_is_the_same_subscription(
    db: Database, fake: FakeBotAPI, bot: BotService, typed: str, then: str
) -> None:
    """A keyboard that sends Vietnamese decomposed (``o`` + U+0302) types the query /list
    shows: /sub again is "already subscribed" and /unsub composed removes it (it was a second
    subscription shown alike, and /unsub answered "no subscription"). Stored composed."""
    first = unicodedata.normalize("NFC" if then == "NFD" else "NFD", typed)
    second = unicodedata.normalize(then, typed)
    assert first != second
    assert "Đã đăng ký:" in await ask(fake, USER, f"/sub {first}")
    assert "Đã đăng ký rồi" in await ask(fake, USER, f"/sub {second}")
    assert subs_of(db, USER) == [unicodedata.normalize("NFC", typed)]
    assert "Đã huỷ đăng ký" in await ask(fake, USER, f"/unsub {second}")
    assert subs_of(db, USER) == []


async def test_a_query_stored_decomposed_before_is_found_by_what_users_type(
    db: Database, fake: FakeBotAPI, bot: BotService
) -> None:
    """A query row stored decomposed (before the bot composed queries) is the one /sub and
    /unsub name when the user types it composed, or decomposed."""
    stored = unicodedata.normalize("NFD", '"công an"')
    with db.write() as conn:
        subs.ensure_chat(conn, USER, "private", "u", db.now())
        subs.subscribe(conn, USER, topic_id=None, query=stored, now=db.now())
    assert "Đã đăng ký rồi" in await ask(fake, USER, '/sub "công an"')
    assert "Đã đăng ký rồi" in await ask(fake, USER, f"/sub {stored}")
    assert subs_of(db, USER) == [stored]
    assert "Đã huỷ đăng ký" in await ask(fake, USER, '/unsub "công an"')
    assert subs_of(db, USER) == []


@pytest.mark.parametrize(
    ("db_url", "typed"),
    on_backends(
        ["kien-thuy the-thao", "kien-thuy, the-thao", "Kien-Thuy  THE-THAO", "the-thao;kien-thuy"]
    ),
    indirect=["db_url"],
)
async def test_several_slugs_are_each_their_topic(
    db: Database, fake: FakeBotAPI, bot: BotService, typed: str
) -> None:
    """``/sub kien-thuy the-thao`` subscribes both topics (read as a query it ANDed the
    syllables "kien thuy the thao", unaccented: a subscription that matched nothing, answered
    "Đã đăng ký"); /unsub of the same list removes both; a disabled one among them says so."""
    reply = await ask(fake, USER, f"/sub {typed}")
    assert "Đã đăng ký: Kiến Thụy (kien-thuy)" in reply
    assert "Đã đăng ký: Thể thao (the-thao)" in reply
    assert sorted(subs_of(db, USER)) == ["kien-thuy", "the-thao"]
    again = await ask(fake, USER, f"/sub {typed} cu")
    assert again.count("Đã đăng ký rồi") == 2 and "cu đang tạm ngưng" in again
    reply = await ask(fake, USER, f"/unsub {typed}")
    assert reply.count("Đã huỷ đăng ký") == 2
    assert subs_of(db, USER) == []
    # not every word a slug, or @slug composition: a query as before
    assert "truy vấn kien-thuy bóng" in await ask(fake, USER, "/sub kien-thuy bóng")
    assert "truy vấn @kien-thuy @the-thao" in await ask(fake, USER, "/sub @kien-thuy @the-thao")
    assert subs_of(db, USER) == ["kien-thuy bóng", "@kien-thuy @the-thao"]


def test_several_slugs_reply_fits_the_channels_limit(lite_db: Database) -> None:
    """Sixty slugs typed at once: one reply line each, cut with a count at the limit given
    (Zalo's 2,000 units), never a reply the channel refuses."""
    with lite_db.write() as conn:
        for i in range(60):
            save_topic(conn, TopicSpec(f"t{i:02d}", "😀" * 30 + f" {i}", f"chữ{i}"), "cli",
                       lite_db.now())  # fmt: skip
    target = actions.Target(USER, "private", "u")
    slugs = " ".join(f"t{i:02d}" for i in range(60))
    reply = actions.subscribe(lite_db, target, slugs, limit=2000)
    assert utf16_units(reply) <= 2000 and "… và" in reply
    assert len(subs_of(lite_db, USER)) == actions.MAX_SUBSCRIPTIONS
    reply = actions.unsubscribe(lite_db, target, slugs, 2000)
    assert utf16_units(reply) <= 2000 and subs_of(lite_db, USER) == []


async def test_invalid_query_gets_parser_message(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    cases = {
        "nguon:abc": "không có trường 'nguon'",
        '"công an': 'cụm từ chưa đóng ngoặc kép — đóng bằng dấu ", ví dụ "an ninh" (tại ký tự 1)',
        "@khong-co": "không có chủ đề @khong-co",
        "-bóng": "không có từ nào bắt buộc",
    }
    for query, expected in cases.items():
        reply = await ask(fake, USER, f"/sub {query}")
        assert reply.startswith(f"Truy vấn không hợp lệ: {query}\n"), reply
        assert expected in reply, reply
    assert subs_of(lite_db, USER) == []


async def test_sub_usage_and_disabled_topic(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    assert "Cách dùng" in await ask(fake, USER, "/sub")
    assert "Cách dùng" in await ask(fake, USER, "/unsub   ")
    assert "đang tạm ngưng" in await ask(fake, USER, "/sub cu")
    assert subs_of(lite_db, USER) == []


async def test_unsub_by_slug_query_and_number(
    db: Database, fake: FakeBotAPI, bot: BotService
) -> None:
    for arg in ("the-thao", "kien-thuy", '"an ninh"', "xe buýt"):
        await ask(fake, USER, f"/sub {arg}")
    assert "Đã huỷ đăng ký: Thể thao" in await ask(fake, USER, "/unsub the-thao")
    assert 'Đã huỷ đăng ký: truy vấn "an ninh"' in await ask(fake, USER, '/unsub "an ninh"')
    assert "Đã huỷ đăng ký: Kiến Thụy" in await ask(fake, USER, "/unsub 1")
    assert "Không có đăng ký" in await ask(fake, USER, "/unsub the-thao")
    assert "Không có đăng ký" in await ask(fake, USER, "/unsub 7")
    assert subs_of(db, USER) == ["xe buýt"]


async def test_list_and_pause_resume(db: Database, fake: FakeBotAPI, bot: BotService) -> None:
    assert "Chưa có đăng ký nào" in await ask(fake, USER, "/list")
    await ask(fake, USER, "/sub the-thao")
    await ask(fake, USER, "/sub <b>AT&T</b>")
    assert "Đã tạm dừng" in await ask(fake, USER, "/pause")
    assert (row := chat_row(db, USER)) is not None and row.paused
    assert "Đang tạm dừng thông báo rồi" in await ask(fake, USER, "/pause")
    listing = await ask(fake, USER, "/list")
    assert "đang tạm dừng" in listing
    assert "1. Thể thao (the-thao)" in listing and "2. truy vấn <b>AT&T</b>" in listing
    assert "Đã bật lại" in await ask(fake, USER, "/resume")
    assert (row := chat_row(db, USER)) is not None and not row.paused
    assert "đang tạm dừng" not in await ask(fake, USER, "/list")


async def test_link_preview_setting(db: Database, fake: FakeBotAPI, bot: BotService) -> None:
    assert "Cách dùng" in await ask(fake, USER, "/preview")
    assert "bật" in await ask(fake, USER, "/preview on")
    assert (row := chat_row(db, USER)) is not None and row.link_preview
    assert "tắt" in await ask(fake, USER, "/preview off")
    assert (row := chat_row(db, USER)) is not None and not row.link_preview
    # bật / tắt typed decomposed (combining tone marks, as some keyboards send them)
    assert "bật" in await ask(fake, USER, unicodedata.normalize("NFD", "/preview Bật"))
    assert (row := chat_row(db, USER)) is not None and row.link_preview
    assert "tắt" in await ask(fake, USER, unicodedata.normalize("NFD", "/preview tắt"))
    assert (row := chat_row(db, USER)) is not None and not row.link_preview
    assert "Chỉ quản trị viên" in await ask(fake, -5, "/preview on", user_id=8)


async def test_long_list_fits_and_slugs_ignore_case(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    assert "Đã đăng ký: Thể thao" in await ask(fake, USER, "/sub The-Thao")
    with lite_db.write() as conn:
        subs.ensure_chat(conn, USER, "private", "U", lite_db.now())
        for i in range(actions.MAX_SUBSCRIPTIONS - 1):
            query = f'"tin số {i}" ' + " ".join(f"từ{i}x{j}" for j in range(60))
            subs.subscribe(conn, USER, topic_id=None, query=query, now=lite_db.now())
    listing = await ask(fake, USER, "/list")  # the fake rejects > 4096 visible characters
    assert "1. Thể thao (the-thao)" in listing and "\n50. " in listing  # each line, shortened
    assert "mục khác" not in listing
    assert "Đã đạt giới hạn" in await ask(fake, USER, "/sub xe buýt")


def _visible_units(reply: str) -> int:
    """What Telegram counts of an HTML reply: UTF-16 units of the text, tags and entities parsed."""
    return utf16_units(html.unescape(re.sub(r"<[^>]*>", "", reply)))


@pytest.mark.parametrize("char", ["📰", "🇻🇳", "👨‍👩‍👧", "𝐀"])
@pytest.mark.parametrize("count", [250, 500])
def test_topics_reply_fits_telegram_with_astral_characters(char: str, count: int) -> None:
    """Topic titles and descriptions of emoji (2 UTF-16 units per code point; titles take 500
    characters, ``limits.TITLE``): the reply stays under Telegram's 4096 units and says how
    many topics it left out."""
    now = datetime.now(UTC)
    text = (char * count)[: 500 - 500 % len(char)]
    items = [Topic(i, f"t{i}", text, text, "q", True, "db", now) for i in range(6)]
    reply = texts.topics(items)
    assert _visible_units(reply) <= 4096 and utf16_units(reply) <= texts.MAX_REPLY
    assert "mục khác" in reply


@pytest.mark.parametrize("length", [3900, 5000])
@pytest.mark.parametrize("position", [0, 2])
def test_topics_reply_lists_every_topic_past_a_long_description(length: int, position: int) -> None:
    """One topic's description of thousands of characters (``limits.DESCRIPTION``: 5,000) is
    cut in the reply; it used to make a line no reply holds, so /topics listed no topic after
    it ("… và 5 mục khác" alone)."""
    now = datetime.now(UTC)
    items = [Topic(i, f"t{i}", f"Chủ đề {i}", "ngắn", "q", True, "db", now) for i in range(5)]
    long = ("Mô tả rất dài & <chi tiết> " * 300)[:length]
    items[position] = Topic(position, f"t{position}", "Dài", long, "q", True, "db", now)
    reply = texts.topics(items)
    assert all(f"<code>t{i}</code>" in reply for i in range(5)) and "mục khác" not in reply
    assert _visible_units(reply) <= 4096 and "Mô tả rất dài &amp; &lt;chi tiết&gt;" in reply
    assert "…" in reply


@pytest.mark.parametrize("count", [150, 240])
def test_list_reply_fits_telegram_with_emoji_topic_titles(count: int) -> None:
    """``/list`` of topics whose titles are emoji (500 characters, ``limits.TITLE``)."""
    items = [
        subs.Subscription(i, USER, f"t{i}", "🔥" * count, None)
        for i in range(actions.MAX_SUBSCRIPTIONS)
    ]
    reply = texts.subscription_list(items, paused=False, disabled=None, label=None)
    assert _visible_units(reply) <= 4096 and utf16_units(reply) <= texts.MAX_REPLY


@pytest.mark.parametrize("kind", ["queries", "topics"])
def test_a_full_list_shows_every_subscription(kind: str) -> None:
    """50 subscriptions (the per-chat cap) of long own queries or long topic titles: ``/list``
    showed 26 and "… và 24 mục khác", and nothing showed the rest, which ``/unsub`` names by
    number (a tester's report). Each line is now shortened as much as the whole list needs."""
    long = "công an huyện Kiến Thụy tuần tra ban đêm " * 12  # ~490 characters
    items = [
        subs.Subscription(i, USER, None, None, f"{long} {i}") if kind == "queries"
        else subs.Subscription(i, USER, f"chu-de-so-{i}", f"{long} {i}", None)
        for i in range(1, actions.MAX_SUBSCRIPTIONS + 1)
    ]  # fmt: skip
    for limit in (texts.MAX_REPLY, 3000):  # Telegram's, and less
        reply = texts.subscription_list(items, False, None, None, limit=limit)
        assert utf16_units(reply) <= limit and "mục khác" not in reply
        assert all(f"\n{n}. " in reply for n in range(1, actions.MAX_SUBSCRIPTIONS + 1))
    few = texts.subscription_list(items[:3], False, None, None)
    assert long[:100] in few  # a short list keeps its lines as wide as before


# --- groups ----------------------------------------------------------------------------------
async def test_group_only_admins_change_subscriptions(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    assert "Chỉ quản trị viên" in await ask(fake, -5, "/sub the-thao", user_id=8)
    assert "Chỉ quản trị viên" in await ask(fake, -5, "/pause", user_id=8)
    assert subs_of(lite_db, -5) == []
    assert "Đã đăng ký" in await ask(fake, -5, "/sub@feedsvc_test_bot the-thao", user_id=7)
    assert "Đã đăng ký" in await ask(fake, -5, "/sub kien-thuy", user_id=ADMIN)  # bot admin
    assert "1. Thể thao" in await ask(fake, -5, "/list", user_id=8)  # reading is open
    assert subs_of(lite_db, -5) == ["the-thao", "kien-thuy"]
    row = chat_row(lite_db, -5)
    assert row is not None and (row.type, row.title) == ("group", "Nhóm")


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        ("/digest", "Cách dùng: /digest off"), ("/quiet", "Cách dùng: /quiet"),
        ("/silent", "Cách dùng: /silent"), ("/sub", "Cách dùng: /sub"),
        ("/unsub@feedsvc_test_bot", "Cách dùng: /unsub"), ("/preview", "Cách dùng: /preview"),
    ],
)  # fmt: skip
async def test_a_group_member_asking_how_gets_the_usage(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, command: str, shown: str
) -> None:
    """A command without its argument changes nothing: a member who is no admin gets its
    usage (and the settings, as /settings shows anyone), not "only admins change
    subscriptions"; with an argument it is still refused, nothing saved."""
    reply = await ask(fake, -5, command, user_id=8)
    assert shown in reply and "Chỉ quản trị viên" not in reply
    name = command.split("@")[0]
    refused = await ask(fake, -5, f"{name} on" if name != "/digest" else "/digest 8:00", user_id=8)
    assert "Chỉ quản trị viên" in refused
    assert subs_of(lite_db, -5) == []
    row = chat_row(lite_db, -5)
    assert row is None or not row.paused


# --- channels --------------------------------------------------------------------------------
async def test_channel_subscription_from_admin_private_chat(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    channel = -1001234567
    reply = await ask(fake, ADMIN, "/sub @tinnhanh the-thao")
    assert reply == "Đã đăng ký cho kênh @tinnhanh: Thể thao (the-thao)"
    assert "Đã đăng ký" in await ask(fake, ADMIN, f'/sub {channel} "an ninh"')
    assert subs_of(lite_db, channel) == ["the-thao", '"an ninh"']
    assert subs_of(lite_db, ADMIN) == []
    row = chat_row(lite_db, channel)
    assert row is not None and (row.type, row.title) == ("channel", "Tin nhanh")
    assert "1. Thể thao" in await ask(fake, ADMIN, "/list @tinnhanh")
    assert "Đã tạm dừng thông báo cho kênh" in await ask(fake, ADMIN, "/pause @tinnhanh")
    assert "Đã huỷ" in await ask(fake, ADMIN, "/unsub @tinnhanh the-thao")
    assert subs_of(lite_db, channel) == ['"an ninh"']
    assert fake.messages(channel) == []  # nothing was posted to the channel itself


async def test_channel_refusals(lite_db: Database, fake: FakeBotAPI, lite_bot: BotService) -> None:
    fake.add_chat(
        -1009999999, "channel", "Khác", admins=[ADMIN], username="kenhkhac", bot_status="member"
    )
    assert "chỉ quản trị viên của bot" in await ask(fake, USER, "/sub @tinnhanh the-thao")
    assert "Bạn không phải quản trị viên của kênh @tinnhanh" in await ask(
        fake, OTHER_ADMIN, "/sub @tinnhanh the-thao"
    )
    assert "Bot chưa là quản trị viên của kênh @kenhkhac" in await ask(
        fake, ADMIN, "/sub @kenhkhac the-thao"
    )
    assert "không tìm thấy kênh @khongcokenh" in await ask(fake, ADMIN, "/sub @khongcokenh x")
    fake.add_chat(-1005555555, "supergroup", "Nhóm lớn")  # a chat the bot is in, not a channel
    assert "không phải là kênh" in await ask(fake, ADMIN, "/list -1005555555")
    assert "Không tìm thấy kênh -1006666666" in await ask(fake, ADMIN, "/list -1006666666")
    for chat_id in (-1001234567, -1009999999, USER, OTHER_ADMIN, ADMIN):
        assert subs_of(lite_db, chat_id) == []


async def test_topic_reference_is_not_a_channel(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    with lite_db.write() as conn:
        save_topic(conn, TopicSpec("thoitiet", "Thời tiết", "mưa OR bão"), "cli", lite_db.now())
    # the topic itself (tester4 G5: tests/test_bot_topic_reference.py)
    assert "Đã đăng ký: Thời tiết" in await ask(fake, ADMIN, "/sub @thoitiet")
    assert subs_of(lite_db, ADMIN) == ["thoitiet"]


# --- migration and membership ----------------------------------------------------------------
def _service_message(chat: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "message": {
            "message_id": 99,
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": 7, "is_bot": False, "first_name": "A"},
            **fields,
        }
    }


async def test_group_migration_moves_subscriptions(
    db: Database, fake: FakeBotAPI, bot: BotService
) -> None:
    await ask(fake, -5, "/sub the-thao", user_id=7)
    await ask(fake, -5, "/pause", user_id=7)
    fake.inject_update(
        _service_message({"id": -5, "type": "group", "title": "Nhóm"}, migrate_to_chat_id=-1005)
    )
    await fake.await_for(lambda: subs_of(db, -1005) == ["the-thao"], timeout=DEADLINE)
    assert subs_of(db, -5) == [] and chat_row(db, -5) is None
    row = chat_row(db, -1005)
    assert row is not None and row.type == "supergroup" and row.paused


async def test_migration_when_supergroup_already_known(
    db: Database, fake: FakeBotAPI, bot: BotService
) -> None:
    fake.add_chat(-1006, "supergroup", "Siêu nhóm", admins=[7])
    await ask(fake, -5, "/sub the-thao", user_id=7)
    await ask(fake, -5, '/sub "an ninh"', user_id=7)
    await ask(fake, -1006, "/sub the-thao", user_id=7)
    fake.inject_update(
        _service_message(
            {"id": -1006, "type": "supergroup", "title": "Siêu nhóm"}, migrate_from_chat_id=-5
        )
    )
    await fake.await_for(lambda: chat_row(db, -5) is None, timeout=DEADLINE)
    assert subs_of(db, -1006) == ["the-thao", '"an ninh"']


async def test_bot_removed_disables_and_readded_reenables(
    db: Database, fake: FakeBotAPI, bot: BotService
) -> None:
    await ask(fake, -5, "/sub the-thao", user_id=7)
    await ask(fake, USER, "/sub the-thao")
    fake.member_update(-5, 7, "kicked", old_status="member")
    fake.member_update(USER, USER, "kicked", old_status="member")  # a user blocking the bot
    await fake.await_for(lambda: (r := chat_row(db, -5)) and r.disabled_reason, timeout=DEADLINE)
    await fake.await_for(lambda: (r := chat_row(db, USER)) and r.disabled_reason, timeout=DEADLINE)
    assert (r := chat_row(db, USER)) is not None and r.disabled_reason == "user_blocked"
    g = chat_row(db, -5)
    assert g is not None and g.disabled_reason == "removed|kicked"
    assert Translator("vi").reason(r.disabled_reason) == "người dùng đã chặn bot"
    removed = Translator("en").reason(g.disabled_reason)
    assert removed == "the bot was removed from the group (kicked)"
    with db.read() as conn:
        assert audience.live_topic_subscribers(conn, {1, 2}) == []
    fake.member_update(-5, 7, "member", old_status="left")
    await fake.await_for(
        lambda: (r := chat_row(db, -5)) and r.disabled_reason is None, timeout=DEADLINE
    )
    assert subs_of(db, -5) == ["the-thao"]  # the subscriptions survived the removal
    fake.member_update(-77, 7, "administrator", old_status="left")  # added to a new group
    await fake.await_for(lambda: chat_row(db, -77) is not None, timeout=DEADLINE)


async def test_bot_given_rights_revives_a_disabled_chat(
    db: Database, fake: FakeBotAPI, bot: BotService
) -> None:
    """The chat was disabled because sends were refused ("need administrator rights"); the
    channel's admin then promotes the bot: alerts flow again without a command."""
    channel = -1001234567
    with db.write() as conn:
        subs.ensure_chat(conn, channel, "channel", "Tin nhanh", db.now())
        subs.disable_chat(conn, channel, "Need administrator rights in the channel chat")
    fake.member_update(channel, ADMIN, "administrator", old_status="member")
    await fake.await_for(lambda: (r := chat_row(db, channel)) and not r.disabled_reason)
    fake.member_update(channel, ADMIN, "kicked", old_status="administrator")
    await fake.await_for(lambda: (r := chat_row(db, channel)) and r.disabled_reason)


# --- odd input ------------------------------------------------------------------------------
# Unicode digits that are not ASCII ("²" made int() raise), invisible or control characters,
# lone operators, huge numbers, nesting and lengths past what a reply can echo back: every
# command answers with a clear message, never with the apology of a crashed handler.
ODD_COMMANDS = [
    "/unsub ²",
    "/unsub ١",
    "/unsub ³⁴",
    "/unsub ½",
    "/unsub Ⅻ",
    "/unsub 0",
    "/unsub -1",
    "/unsub 1.5",
    "/unsub 99999999999999999999999999999",
    "/unsub 1 2",
    "/unsub ٣ ٤",
    "/sub " + " " * 40,
    "/sub \u200b",
    "/sub \u3000\u3000",
    "/sub @",
    "/sub @@",
    "/sub @ @",
    "/sub ²",
    "/sub ~",
    "/sub -",
    "/sub title:",
    '/sub """',
    "/sub ()",
    "/sub \u202eabc",
    "/sub a\x00b",
    "/sub a\x07b",
    "/unsub a\x00b",
    "/sub " + "(" * 300 + "a" + ")" * 300,
    "/sub " + "a" * 4000,
    "/unsub " + "ư" * 4000,
    "/unsub " + "x " * 1900,
    "/sub -100١٢٣٤٥٦٧",
    "/sub -1009999999999999999999999999999",
    "/list ²",
    "/list @",
    "/pause ²",
    "/resume @@@",
    "/preview ²",
    "/preview " + "x" * 4000,
    "/sub@feedsvc_test_bot ²",
    "/unsub@feedsvc_test_bot",
]


@pytest.mark.parametrize("sender", [USER, ADMIN])
async def test_odd_arguments_get_a_clear_reply(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, sender: int,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    await ask(fake, sender, "/sub the-thao")
    commands = ODD_COMMANDS + (
        ["/sub @tinnhanh", "/unsub @tinnhanh ²", "/unsub -1001234567 ١", "/list @tinnhanh ²"]
        if sender == ADMIN else []
    )  # fmt: skip
    for text in commands:
        reply = await ask(fake, sender, text)
        assert reply and "Xin lỗi" not in reply, (text[:40], reply)
        assert len(reply) < 1000, (text[:40], len(reply))
    assert "bot handler failed" not in caplog.text
    stored = subs_of(lite_db, sender)
    assert stored[0] == "the-thao"  # nothing was removed by an odd /unsub
    assert all(c.isprintable() for query in stored for c in query), stored  # nor stored odd


# --- errors ----------------------------------------------------------------------------------
async def test_handler_error_is_logged_and_user_gets_apology(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    def boom(*_: object, **__: object) -> str:
        raise RuntimeError("database exploded")

    monkeypatch.setattr(actions, "subscribe", boom)
    assert "Xin lỗi" in await ask(fake, USER, "/sub the-thao")
    assert "database exploded" in caplog.text and "bot handler failed" in caplog.text
    assert "Traceback" not in fake.messages(USER)[-1].visible
    assert "/help" in await ask(fake, USER, "/whatever")  # the bot keeps serving
