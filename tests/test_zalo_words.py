"""What the Zalo bot says matches what Zalo can do (tester4 G2, G3): no ``/silent`` line in its
settings (Zalo has no silent messages, README), and in a group, where only /help, /topics, /list
and /settings answer, no reply invites a /sub or /resume the group would refuse. Vietnamese and
English.

SQLite only (``db_url`` below): this module is about the bot's words; the topics and
subscriptions it reads are the storage layer's SQL, run on PostgreSQL by the store's and the
Zalo bot's own tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from factories import VN

from feedsvc.bot import texts
from feedsvc.channels.zalo import ZaloBotAPI
from feedsvc.channels.zalo.bot import READ_ONLY, TELEGRAM_ONLY, ZaloBot
from feedsvc.channels.zalo.updates import REPLY_LIMIT, Incoming, plain_reply
from feedsvc.db import Database
from feedsvc.store.subscriptions import ensure_recipient, set_paused
from feedsvc.store.topics import TopicSpec, save_topic


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """SQLite only (the module's docstring says why): ``db`` reads this."""
    return sqlite_url


@pytest.fixture(params=["vi", "en"])
def language(request: pytest.FixtureRequest) -> Iterator[str]:
    texts.set_language(request.param)
    yield request.param
    texts.set_language("vi")


@pytest.fixture
def bot(db: Database, language: str) -> ZaloBot:
    with db.write() as conn:
        save_topic(conn, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "cli",
                   datetime.now(UTC))  # fmt: skip
    return ZaloBot(db, ZaloBotAPI("1:unused", "http://127.0.0.1:9"), tz=VN)


def say(bot: ZaloBot, chat: str, text: str, kind: str = "private") -> str:
    reply = bot.answer(Incoming(chat, kind, "Lan", text, f"u-{chat}"))
    assert reply is not None
    return plain_reply(reply)


def test_zalo_settings_never_list_silent(bot: ZaloBot) -> None:
    for command in ("/settings", "/digest 23:30", "/quiet 22:00-06:00", "/digest", "/quiet"):
        reply = say(bot, "z-s", command)
        assert "/digest" in reply and "/quiet" in reply, reply
        assert "silent" not in reply, (command, reply)
    assert "silent" not in say(bot, "z-g", "/settings", "group")


def test_a_zalo_group_is_told_the_truth(bot: ZaloBot, db: Database) -> None:
    refusal = say(bot, "z-g", "/sub kien-thuy", "group")
    assert all(f"/{name}" in refusal for name in READ_ONLY), refusal
    topics = say(bot, "z-g", "/topics", "group")
    empty = say(bot, "z-g", "/list", "group")
    for reply in (topics, empty):  # /sub named only as what a private chat does
        assert "kien-thuy" in reply or "/topics" in reply
        head = reply.split("/sub")[0]
        assert "/sub" not in reply or any(w in head for w in ("riêng", "private")), reply
    for command in ("/help", "/settings"):
        assert refusal in say(bot, "z-g", command, "group")  # what works here, and what not
    with db.write() as conn:
        chat = ensure_recipient(conn, "zalo", "z-g", "group", "Nhóm", datetime.now(UTC))
        set_paused(conn, chat.chat_id, True)
    assert "/resume" not in say(bot, "z-g", "/list", "group")
    # a private chat keeps its invitations
    assert "/sub" in say(bot, "z-p", "/list") and "/resume" in say(bot, "z-p", "/pause")
    assert refusal not in say(bot, "z-p", "/help")


def _many_topics(db: Database, count: int, description: str) -> None:
    with db.write() as conn:
        for i in range(count):
            spec = TopicSpec(f"chu-de-{i:02d}", f"Chủ đề số {i}", f'"tin {i}"', description)
            save_topic(conn, spec, "cli", datetime.now(UTC))


@pytest.mark.parametrize("kind", ["private", "group"])
@pytest.mark.parametrize(("count", "description"), [
    (30, "Tin tức về an ninh, trật tự và đời sống của người dân trong huyện " * 2),
    (12, "📰" * 300),  # 2 UTF-16 units each: a Telegram-sized list is twice Zalo's limit
    (90, ""),
])  # fmt: skip
def test_zalo_topics_end_on_a_whole_line_and_say_how_many_more(
    bot: ZaloBot, db: Database, kind: str, count: int, description: str
) -> None:
    """``/topics`` on Zalo is fitted to Zalo's 2,000 units, not Telegram's 3,900 and then cut:
    the reply lost its tail in the middle of a topic's line, with no word of the rest."""
    _many_topics(db, count, description)
    reply = say(bot, "z-t", "/topics", kind)
    assert len(reply.encode("utf-16-le")) // 2 <= REPLY_LIMIT
    last = reply.splitlines()[-1]
    assert not reply.endswith("…") or last.startswith("…"), last  # never a line cut short
    shown = sum(f"chu-de-{i:02d}" in reply for i in range(count))
    assert texts.translator()("bot.more_items", count=count + 1 - shown) == last, last


@pytest.mark.parametrize("title", ["Tiêu đề rất dài của chủ đề " * 18, "🔥" * 480])
def test_zalo_list_ends_on_a_whole_line(bot: ZaloBot, db: Database, title: str) -> None:
    """``/list`` of many long-titled topics (titles take 500 characters) on Zalo."""
    with db.write() as conn:
        for i in range(8):
            spec = TopicSpec(f"dai-{i}", title[:500], f'"tin {i}"')
            save_topic(conn, spec, "cli", datetime.now(UTC))
    for i in range(8):
        say(bot, "z-l", f"/sub dai-{i}")
    reply = say(bot, "z-l", "/list")
    assert len(reply.encode("utf-16-le")) // 2 <= REPLY_LIMIT
    last = reply.splitlines()[-1]
    # every subscription, its title shortened to fit (``bot.texts.LIST_WIDTHS``): before, the
    # list ended "… and 3 more" and nothing showed those three
    assert all(f"(dai-{i})" in reply for i in range(8)) and last.endswith("(dai-7)"), last
    assert texts.translator()("bot.more_items", count=1)[:5] not in reply


def test_a_full_zalo_list_is_measured_as_zalo_shows_it(bot: ZaloBot, db: Database) -> None:
    """50 long own queries (the per-chat cap) on Zalo: measured as Telegram HTML against
    Zalo's 2,000 units, every query was cut to 12 characters and the last line still dropped,
    in a list whose plain text was 1,296 units (a reviewer's finding). Measured as the plain
    text Zalo gets, all 50 fit at a readable width."""
    from feedsvc.store.subscriptions import subscribe

    with db.write() as conn:
        chat = ensure_recipient(conn, "zalo", "z-full", "private", "Lan", db.now()).chat_id
        for i in range(50):
            query = f'"công an huyện Kiến Thụy tuần tra ban đêm số {i}" ' + "an ninh " * 50
            subscribe(conn, chat, topic_id=None, query=query.strip(), now=db.now())
    reply = say(bot, "z-full", "/list")
    lines = reply.splitlines()
    assert len(reply.encode("utf-16-le")) // 2 <= REPLY_LIMIT
    assert all(any(line.startswith(f"{n}. ") for line in lines) for n in range(1, 51)), reply
    assert texts.translator()("bot.more_items", count=1)[:5] not in reply
    assert "Kiến" in lines[1]  # wider than the 12 characters measuring the HTML allowed


SILENT = {
    "vi": "Zalo không có tin báo im lặng (không chuông): lệnh /silent chỉ dùng được trên Telegram. "
    "Trên Zalo, dùng /quiet HH:MM-HH:MM để giữ tin trong giờ yên lặng (nhận một tin gộp khi "
    "hết giờ), hoặc /digest để nhận tin gộp vào giờ đã chọn. Gõ /help để xem các lệnh.",
    "en": "Zalo has no silent alerts: /silent works on Telegram only. On Zalo, use /quiet "
    "HH:MM-HH:MM to hold alerts during quiet hours (one digest when they end), or /digest "
    "to get digests at the times you choose. Type /help to see the commands.",
}
PREVIEW = {
    "vi": "Lệnh /preview (xem trước liên kết dưới tin) chỉ dùng được trên Telegram: bot Zalo gửi "
    "tin dạng văn bản, không bật/tắt được phần xem trước. Gõ /help để xem các lệnh.",
    "en": "/preview (link previews under alerts) works on Telegram only: the Zalo bot sends plain "
    "text, with no link-preview switch. Type /help to see the commands.",
}


@pytest.mark.parametrize("kind", ["private", "group"])
@pytest.mark.parametrize(
    "text", ["/silent on", "/silent", "/SILENT off", "/silent bật", "/silent x y"]
)
def test_a_telegram_only_silent_is_told_zalo_has_none_and_what_instead(
    bot: ZaloBot, language: str, text: str, kind: str
) -> None:
    """Tester: ``/silent on`` on Zalo answered "Lệnh không rõ. Gõ /help…"."""
    reply = say(bot, f"z-{kind}", text, kind)
    assert reply == SILENT[language]
    assert "/quiet" in texts.t("zalo_help")  # what it points to is a command Zalo runs


@pytest.mark.parametrize("kind", ["private", "group"])
def test_a_telegram_only_preview_is_told_so(bot: ZaloBot, language: str, kind: str) -> None:
    assert say(bot, f"z-p{kind}", "/preview on", kind) == PREVIEW[language]


def test_every_telegram_command_zalo_lacks_is_worded(bot: ZaloBot) -> None:
    """The class, not a list of names: each Telegram command (its menu,
    ``texts.COMMAND_NAMES``) the Zalo bot does not run gets its own answer, never "unknown"."""
    assert {"silent", "preview"} == TELEGRAM_ONLY
    unknown = say(bot, "z-u", "/nosuchcommand")
    for name in texts.COMMAND_NAMES:
        assert say(bot, f"z-{name}", f"/{name} on") != unknown, name  # each its own budget
    assert say(bot, "z-u", "/settings") != unknown
