"""``telegram.username`` that is not the token's bot (tester3 F5).

The configured name was used as it was: every reader page's Telegram button and QR code sent
readers to that bot (a typo, or a bot replaced while the config kept the old name: perhaps
someone else's), while the service itself answered only commands addressed to the real bot.
Now getMe is asked whenever a token is set; a different name is one WARNING naming both, and
the pages link to the bot the token belongs to (the fake Bot API's ``@feedsvc_test_bot``).
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Iterator

import pytest
from backend_cases import module_on_sqlite
from fakebot import FakeBotAPI
from migrated import premigrated
from pydantic import SecretStr
from test_bot import ADMIN, TIMING, ask, seed_topics

from feedsvc import operations as ops
from feedsvc.app import Roles, Service, create_app, learn_bot_username
from feedsvc.bot import BotService
from feedsvc.config import Settings, TelegramSettings, load_config
from feedsvc.db import Database
from feedsvc.pages import qr_svg
from feedsvc.store.topics import TopicSpec

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = [
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`"),
    module_on_sqlite,
]

REAL = "feedsvc_test_bot"  # what the fake's getMe answers
REAL_LINK = f"https://t.me/{REAL}?start=kien-thuy"


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


def _service(db_url: str, fake: FakeBotAPI, username: str | None) -> Service:
    telegram: dict[str, object] = {"token": fake.token, "base_url": fake.base_url}
    if username is not None:
        telegram["username"] = username
    settings = load_config(
        None,
        {
            "database": {"url": premigrated(db_url)},
            "topics": {"import_on_start": False},
            "http": {"public_url": "https://tin.example.vn"},
            "telegram": telegram,
        },
    )
    return Service(settings, Roles(scheduler=False, bot=False))


def _learnt(service: Service, caplog: pytest.LogCaptureFixture) -> None:
    """Wait for the start's getMe task (``Service.start``: ``learn_bot_username``) to end.
    Long enough for its second try (30 s after the first): on a loaded machine (CI, 2 cores,
    load ~7) the first getMe once took longer than PTB's 5 s read timeout, and these tests
    are about the name's check, not about the first try's luck."""
    deadline = time.monotonic() + 60
    while service._username_task is None or not service._username_task.done():
        failures = [r.getMessage() for r in caplog.records if "getMe" in r.getMessage()]
        assert time.monotonic() < deadline, f"getMe never answered: {failures}"
        time.sleep(0.02)


def _mismatch_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "telegram.username" in r.getMessage()
    ]


@pytest.mark.parametrize("configured", ["T3Bot", "feedsvc_test_bot2", "feedsvc_test"])
def test_a_configured_name_of_another_bot_is_replaced_and_warned(
    db_url: str, fake: FakeBotAPI, caplog: pytest.LogCaptureFixture, configured: str
) -> None:
    """The pages (button and QR code) link to the token's bot; one WARNING names both."""
    service = _service(db_url, fake, configured)
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        ops.save_topic(service.db, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "test")
        service.publisher.sync()
        _learnt(service, caplog)  # the start asked getMe
        service.publisher.sync()
        for path in ("/", "/topics/kien-thuy"):
            text = client.get(path).text
            assert REAL_LINK in text and f"t.me/{configured}?" not in text, path
        assert client.get("/topics/kien-thuy/telegram.svg").content == qr_svg(REAL_LINK)
    [line] = _mismatch_warnings(caplog)
    assert f"@{configured}" in line and f"@{REAL}" in line
    assert fake.token not in caplog.text  # the token is never logged


@pytest.mark.parametrize("configured", [REAL, "FeedSvc_Test_Bot"])
def test_the_right_name_in_any_case_is_kept_without_a_warning(
    db_url: str, fake: FakeBotAPI, caplog: pytest.LogCaptureFixture, configured: str
) -> None:
    """Telegram usernames are case-insensitive: the configured spelling stays, no warning."""
    service = _service(db_url, fake, configured)
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        ops.save_topic(service.db, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "test")
        service.publisher.sync()
        _learnt(service, caplog)
        asyncio.run(learn_bot_username(service, fake.token, attempts=1))  # and once more
        assert service.publisher.bot_username == configured
        assert f"https://t.me/{configured}?start=kien-thuy" in client.get("/topics/kien-thuy").text
    assert _mismatch_warnings(caplog) == []


def test_the_service_asks_getme_at_start_though_a_name_is_configured(
    db_url: str, fake: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Started as ``run`` starts it (the app's lifespan: ``Service.start``), with
    ``telegram.username = "T3Bot"``: the pages end up linking to the real bot."""
    caplog.set_level(logging.INFO, logger="feedsvc.app")
    service = _service(db_url, fake, "T3Bot")
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:
        ops.save_topic(service.db, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "test")
        _learnt(service, caplog)
        service.publisher.sync()
        assert REAL_LINK in client.get("/topics/kien-thuy").text
    [line] = _mismatch_warnings(caplog)
    assert "@T3Bot" in line and f"@{REAL}" in line


async def test_commands_to_the_real_bot_are_ours_when_the_name_differs(
    lite_db: Database, fake: FakeBotAPI
) -> None:
    """With ``telegram.username`` another bot's, a group's ``/list@feedsvc_test_bot`` is
    answered, ``/list@T3Bot`` (the configured name, not this bot) is not."""
    seed_topics(lite_db)
    fake.add_chat(-5, "group", "Nhóm", admins=[7])
    settings = Settings(
        telegram=TelegramSettings(
            token=SecretStr(fake.token),
            base_url=fake.base_url,
            username="T3Bot",
            admins=[ADMIN],
            user_command_burst=1000,
            chat_command_burst=1000,
        )
    )
    bot = BotService(lite_db, settings, holder="a", **TIMING)
    await bot.start()
    try:
        await fake.await_for(lambda: bot.polling)
        before = len(fake.messages(-5))
        fake.user_sends(-5, 7, "/list@T3Bot")
        reply = await ask(fake, -5, f"/list@{REAL}", user_id=7)
        assert reply
        assert len(fake.messages(-5)) == before + 1  # the other bot's command: no answer
    finally:
        await bot.stop()


@pytest.mark.parametrize("status", [404, 401, 403, 500])
def test_a_base_url_that_is_no_bot_api_is_not_called_a_token_problem(
    db_url: str, fake: FakeBotAPI, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    """A wrong ``telegram.base_url`` (another site, a proxy's page) answering getMe with a
    page of its own: the start said "The token … was rejected by the server" (PTB's reading of
    any 401/404) and the operator changed a good token. It names the base URL now."""
    page = b"<html><body><h1>Not Found</h1>nginx</body></html>"
    fake.script_raw("getMe", (status, page))
    service = _service(db_url, fake, None)
    caplog.set_level(logging.WARNING, logger="feedsvc")
    try:
        asyncio.run(learn_bot_username(service, fake.token, attempts=1))
    finally:
        service.close()
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(said) == 1, caplog.text
    assert "rejected" not in said[0] and "token" not in said[0].replace("telegram.", ""), said
    assert f"HTTP {status} answer" in said[0], said
    assert said[0].startswith(
        f"telegram.base_url {fake.base_url} answered something that is not the Bot API: "
    ), said
    assert fake.token not in caplog.text
