"""The fake Bot API behaves like Telegram as far as real python-telegram-bot can tell."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fakebot import EntityError, FakeBotAPI, Fault, Limit, check_html
from fakeserver import PATIENCE
from patience import PATIENT_READ_TIMEOUT
from telegram import Bot, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


def _request(read_timeout: float = PATIENT_READ_TIMEOUT) -> HTTPXRequest:
    """Timeouts no answer of the in-process fake misses on a loaded machine (a CI run with eight
    workers on two cores kept one photo upload past a 0.5 s read timeout); the timeout tests
    pass their own short one."""
    return HTTPXRequest(
        connect_timeout=PATIENCE,
        read_timeout=read_timeout,
        write_timeout=PATIENCE,
        pool_timeout=PATIENCE,
    )


def patient_client(
    fake: FakeBotAPI, token: str | None = None, read_timeout: float | None = None
) -> Bot:
    """A real PTB client of ``fake`` whose getUpdates is as patient as its other calls: PTB
    gives getUpdates a client of its own, at its defaults (a 5 s read timeout plus the long
    poll's), which a loaded CI host once ran past on a ``timeout=0`` poll."""
    sends = _request() if read_timeout is None else _request(read_timeout)
    return Bot(
        token or fake.token, base_url=fake.base_url, request=sends, get_updates_request=_request()
    )


@pytest.fixture
async def bot(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    async with patient_client(fake) as b:
        yield b


async def test_send_message_returns_full_message(fake: FakeBotAPI, bot: Bot) -> None:
    first = await bot.send_message(42, "hello")
    second = await bot.send_message(42, "again")
    other = await bot.send_message(-5, "group")
    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)
    assert first.chat.type == "private" and other.chat.type == "group"
    assert first.text == "hello" and first.date is not None
    assert [m.text for m in fake.messages(42)] == ["hello", "again"]
    assert len(fake.all_messages) == 3


async def test_wrong_token_is_unauthorized(fake: FakeBotAPI) -> None:
    with pytest.raises(InvalidToken):
        async with patient_client(fake, "1:wrong"):
            pass
    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        resp = await client.post(f"{fake.base_url}1:wrong/getMe")
    assert resp.status_code == 401
    assert resp.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


@pytest.mark.parametrize(
    ("fault", "exc_type", "check"),
    [
        (Fault.flood(3), RetryAfter, lambda e: e._retry_after.total_seconds() == 3),
        (Fault.blocked(), Forbidden, lambda e: "blocked by the user" in e.message),
        (Fault.chat_not_found(), BadRequest, lambda e: "not found" in e.message),
        (Fault.migrate(-1009), ChatMigrated, lambda e: e.new_chat_id == -1009),
        (Fault.parse_error(), BadRequest, lambda e: "parse entities" in e.message),
        (Fault.server_error(500), NetworkError, lambda e: not isinstance(e, BadRequest)),
        (Fault.server_error(502), NetworkError, lambda e: "Bad Gateway" in e.message),
    ],
)
async def test_scripted_fault_raises_ptb_exception(
    fake: FakeBotAPI, bot: Bot, fault: Fault, exc_type: type[Exception], check: object
) -> None:
    fake.script(7, fault)
    with pytest.raises(exc_type) as info:
        await bot.send_message(7, "x")
    assert callable(check) and check(info.value)
    assert fake.messages(7) == []
    assert (await bot.send_message(7, "after")).message_id == 1  # the queue was consumed


async def test_429_has_retry_after_header(fake: FakeBotAPI) -> None:
    fake.script(1, Fault.flood(5))
    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        resp = await client.post(
            f"{fake.base_url}{fake.token}/sendMessage", json={"chat_id": 1, "text": "x"}
        )
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "5"
    assert resp.json()["description"] == "Too Many Requests: retry after 5"
    assert resp.json()["parameters"] == {"retry_after": 5}


async def test_slow_answer_within_timeout_is_sent(fake: FakeBotAPI, bot: Bot) -> None:
    fake.script(3, Fault.slow(0.2))
    assert (await bot.send_message(3, "slow")).message_id == 1


async def test_a_held_call_stays_in_flight_until_released(fake: FakeBotAPI, bot: Bot) -> None:
    gate = threading.Event()
    fake.script(3, Fault.held(gate))
    sending = asyncio.create_task(bot.send_message(3, "held"))
    await fake.await_for(lambda: fake.in_flight == 1)
    assert fake.messages(3) == [] and not sending.done()
    gate.set()
    assert (await sending).message_id == 1
    assert [m.text for m in fake.messages(3)] == ["held"]


@pytest.fixture
async def impatient_bot(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    async with patient_client(fake, read_timeout=0.5) as b:
        yield b


async def test_slow_answer_beyond_timeout_times_out_undelivered(
    fake: FakeBotAPI, impatient_bot: Bot
) -> None:
    fake.script(3, Fault.slow(2.0))
    with pytest.raises(TimedOut):
        await impatient_bot.send_message(3, "too slow")
    assert fake.messages(3) == []


async def test_late_answer_is_delivered_but_times_out(fake: FakeBotAPI, impatient_bot: Bot) -> None:
    fake.script(3, Fault.late(2.0))
    with pytest.raises(TimedOut):
        await impatient_bot.send_message(3, "late")
    assert [m.text for m in fake.messages(3)] == ["late"]


async def test_persistent_chat_states(fake: FakeBotAPI, bot: Bot) -> None:
    fake.block(10)
    fake.delete_chat(11)
    fake.add_chat(-12, "group", "Old group")
    fake.migrate_chat(-12, -10012)
    with pytest.raises(Forbidden):
        await bot.send_message(10, "x")
    with pytest.raises(BadRequest, match="not found"):
        await bot.send_message(11, "x")
    with pytest.raises(ChatMigrated):
        await bot.send_message(-12, "x")
    assert (await bot.send_message(-10012, "x")).chat.type == "supergroup"


async def test_unknown_chat_without_auto_create() -> None:
    with FakeBotAPI(auto_create_chats=False) as fake:
        async with patient_client(fake) as bot:
            with pytest.raises(BadRequest, match="not found"):
                await bot.send_message(99, "x")


async def test_photo_url_upload_and_rejection(fake: FakeBotAPI, bot: Bot) -> None:
    msg = await bot.send_photo(
        5, "https://img.example/a.jpg", caption="<b>c</b>", parse_mode="HTML"
    )
    assert msg.photo and msg.caption == "c"
    upload = await bot.send_photo(5, b"\x89PNG fake bytes", caption="up")
    assert fake.messages(5)[1].photo is not None and upload.caption == "up"
    fake.script(5, Fault.photo_rejected())
    await bot.send_message(5, "text skips a photo-only fault")
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(5, "https://img.example/b.jpg")


@pytest.mark.parametrize(
    "text",
    [
        "<b>x</b>",
        "a &lt; b &gt; c &amp; &quot;q&quot; &#x27;s &#39;",
        '<a href="h?a=1&amp;b=2">l</a>',
        '<span class="tg-spoiler">s</span>',
        '<pre><code class="language-py">x</code></pre>',
        "<blockquote expandable>q</blockquote>",
        "<b><i>n</i></b>",
        "a > b",
    ],
)
def test_html_checker_accepts(text: str) -> None:
    check_html(text)


@pytest.mark.parametrize(
    "text",
    [
        "<div>x</div>",
        "<b>x",
        "x</b>",
        "<b><i>x</b></i>",
        "a < b",
        "AT&T",
        "&nbsp;",
        '<a href="x&y">l</a>',
        '<span class="red">x</span>',
        '<b onclick="x">y</b>',
        "<br/>",
    ],
)
def test_html_checker_rejects(text: str) -> None:
    with pytest.raises(EntityError, match="can't parse entities"):
        check_html(text)


async def test_bad_html_and_lengths_are_rejected(fake: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="parse entities"):
        await bot.send_message(1, "<b>1 < 2</b>", parse_mode="HTML")
    await bot.send_message(1, "1 < 2 & no parse mode")  # plain text is never parsed
    emoji = "😀"  # 2 UTF-16 units
    await bot.send_message(2, emoji * 2048)
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(2, emoji * 2048 + "x")
    await bot.send_message(2, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")  # 4096 visible
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_photo(2, "https://img.example/a.jpg", caption="c" * 1025)
    with pytest.raises(BadRequest, match="empty"):
        await bot.send_message(2, "<b></b>", parse_mode="HTML")


async def test_pacing_violations_are_recorded(bot: Bot, fake: FakeBotAPI) -> None:
    # windows no loaded machine outlasts (a CI run took over 0.475 s for four sends): the rule
    # is the same at any window's length
    fake.limits["private"] = Limit(1, 60.0)
    fake.limits["group"] = Limit(3, 60.0)
    await bot.send_message(1, "a")
    await bot.send_message(1, "b")  # < 57 s after "a"
    for i in range(4):
        await bot.send_message(-20, str(i))  # the 4th within 57 s of the 1st
    kinds = [(v.kind, v.chat_id, v.enforced) for v in fake.violations]
    assert kinds == [("private", 1, False), ("group", -20, False)]
    assert len(fake.messages(-20)) == 4


async def test_pacing_enforced_answers_429() -> None:
    with FakeBotAPI(enforce_pacing=True, global_limit=Limit(2, 1.0)) as fake:
        async with patient_client(fake) as bot:
            await bot.send_message(1, "a")
            with pytest.raises(RetryAfter):
                await bot.send_message(1, "b")
            await bot.send_message(2, "c")
            with pytest.raises(RetryAfter):
                await bot.send_message(3, "d")  # global: 3 messages within 1 s
    assert [m.text for m in fake.all_messages] == ["a", "c"]
    assert [(v.kind, v.enforced) for v in fake.violations] == [("private", True), ("global", True)]
    assert sum(c.status == 429 for c in fake.calls) == 2


async def test_get_updates_long_poll_and_offset(fake: FakeBotAPI, bot: Bot) -> None:
    assert await bot.get_updates(timeout=0) == ()
    injector = threading.Timer(0.1, fake.user_sends, (50, 50, "/sub Kiến Thụy"))
    injector.start()
    updates = await bot.get_updates(timeout=30)  # returns as soon as the update arrives
    injector.join()
    assert len(updates) == 1 and updates[0].message is not None
    msg = updates[0].message
    assert msg.text == "/sub Kiến Thụy" and msg.from_user is not None
    assert msg.entities[0].type == "bot_command" and msg.entities[0].length == 4
    fake.channel_post(-100777, "post")
    fake.member_update(-100777, 9, "administrator")
    again = await bot.get_updates(offset=updates[0].update_id + 1, timeout=1)
    assert again[0].channel_post is not None and again[0].channel_post.text == "post"
    member = again[1].my_chat_member
    assert member is not None and member.new_chat_member.status == "administrator"
    await bot.get_updates(offset=again[-1].update_id + 1, timeout=0)
    assert fake.pending_updates == 0


async def test_chat_queries_and_housekeeping(fake: FakeBotAPI, bot: Bot) -> None:
    fake.add_chat(-1001, "channel", "News", admins=[7], username="news")
    chat = await bot.get_chat("@news")
    assert chat.id == -1001 and chat.title == "News"
    assert (await bot.get_chat_member(-1001, 7)).status == "administrator"
    assert (await bot.get_chat_member(-1001, 8)).status == "left"
    assert (await bot.get_chat_member(-1001, bot.id)).status == "administrator"
    admins = await bot.get_chat_administrators(-1001)
    assert {a.user.id for a in admins} == {7, bot.id}
    assert await bot.set_my_commands([("sub", "Subscribe")])
    assert fake.commands == [{"command": "sub", "description": "Subscribe"}]
    assert await bot.delete_webhook()
    async with httpx.AsyncClient(timeout=PATIENCE) as client:
        resp = await client.get(f"{fake.base_url}{fake.token}/noSuchMethod")
        closing = await client.get(f"{fake.base_url}{fake.token}/CLOSE")
    assert resp.status_code == 404 and closing.json() == {"ok": True, "result": True}


async def test_ptb_application_round_trip(fake: FakeBotAPI) -> None:
    async def sub(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("ok: " + " ".join(context.args or []))

    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .read_timeout(PATIENT_READ_TIMEOUT)  # PTB's 5 s: a loaded host's late reply is no fault
        .get_updates_read_timeout(PATIENCE)
        .build()
    )
    app.add_handler(CommandHandler("sub", sub))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        fake.user_sends(77, 77, "/sub Kiến Thụy")
        await fake.await_for(lambda: fake.messages(77))
        await app.updater.stop()
        await app.stop()
    assert fake.messages(77)[0].text == "ok: Kiến Thụy"


async def test_wait_for_refuses_to_block_a_running_loop(fake: FakeBotAPI) -> None:
    with pytest.raises(RuntimeError, match="await_for"):
        fake.wait_for(lambda: True)
    with pytest.raises(TimeoutError):
        await fake.await_for(lambda: False, timeout=0.05)  # expected to time out


def test_wait_for_wakes_on_delivery(fake: FakeBotAPI) -> None:
    def send() -> None:
        httpx.post(
            f"{fake.base_url}{fake.token}/sendMessage",
            data={"chat_id": 4, "text": "hi"},
            timeout=PATIENCE,
        )

    threading.Thread(target=send).start()
    assert fake.wait_for(lambda: fake.messages(4))[0].text == "hi"


def test_idle_connections_outlive_the_clients_keep_alive() -> None:
    """The client closes an idle connection first, as with the real API's servers: at
    uvicorn's 5 s default (httpx's own expiry) a reused connection was closed under a request,
    an unknown outcome no test scripted (a photo alert re-sent as text, CI)."""
    from fakezalo import FakeZaloAPI

    client_expiry = httpx.Limits().keepalive_expiry  # PTB and the Zalo client keep httpx's
    assert client_expiry is not None
    for server in (FakeBotAPI(), FakeZaloAPI()):
        with server:
            assert server._server is not None
            assert server._server.config.timeout_keep_alive > 2 * client_expiry
