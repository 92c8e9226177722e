"""Issue 14's acceptance, end to end against the fakes, with the whole service in-process: a Zalo
user subscribes through the webhook, a Telegram chat through the bot, two Apprise destinations from
the CLI and the API — all get the same new article once; /unsub stops Zalo's; a forged webhook
call is refused. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from factories import VN, article
from fakebot import FakeBotAPI
from fakezalo import FakeZaloAPI
from receiver import Receiver

from feedsvc.app import Roles, Service, create_app
from feedsvc.cli import cli
from feedsvc.config import load_config
from feedsvc.store.source_articles import upsert_source_articles

USER = 5151
SECRET = "e2e-webhook-secret-0123456789"
ADMIN = "admin-token-for-the-e2e-test-0123456789"


@pytest.fixture
def fakes() -> Iterator[tuple[FakeBotAPI, FakeZaloAPI, Receiver]]:
    with FakeBotAPI() as tg, FakeZaloAPI() as zalo, Receiver() as hooks:
        yield tg, zalo, hooks


def publish(service: Service, n: int) -> None:
    with service.db.write() as conn:
        upsert_source_articles(conn, [article(n, published_at=datetime.now(VN))],
                               datetime.now(UTC))  # fmt: skip


async def test_one_article_reaches_every_channel_once(
    tmp_path: Path, db_url: str, fakes: tuple[FakeBotAPI, FakeZaloAPI, Receiver],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    tg, zalo, hooks = fakes
    topics = tmp_path / "topics.toml"
    topics.write_text('[[topic]]\nslug = "kien-thuy"\ntitle = "Kiến Thụy"\n'
                      'query = \'"Kiến Thụy"\'\n', encoding="utf-8")  # fmt: skip
    env = {
        "FEEDSVC_DATABASE__URL": db_url, "FEEDSVC_TELEGRAM__TOKEN": tg.token,
        "FEEDSVC_TELEGRAM__BASE_URL": tg.base_url, "FEEDSVC_ZALO__TOKEN": zalo.token,
        "FEEDSVC_ZALO__BASE_URL": zalo.base_url, "FEEDSVC_ZALO__WEBHOOK_SECRET": SECRET,
        "FEEDSVC_ADMIN__TOKEN": ADMIN, "FEEDSVC_SOURCE__POLL_SECONDS": "0.3",
        "FEEDSVC_TOPICS__FILE": str(topics), "FEEDSVC_CONFIG": "/dev/null",
    }  # fmt: skip
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    service = Service(load_config(None), Roles(http=False))
    await service.start()
    transport = httpx.ASGITransport(app=create_app(service))
    hook_cli, hook_api = hooks.url("from-cli"), hooks.url("from-api", "user:pa55word-api@")
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://feedsvc") as http:
            tg.user_sends(USER, USER, "/sub kien-thuy")
            ok = {"X-Bot-Api-Secret-Token": SECRET}
            forged = await http.post("/zalo/webhook", json=zalo.update("z-lan", "/sub kien-thuy"),
                                     headers={"X-Bot-Api-Secret-Token": "forged"})  # fmt: skip
            assert forged.status_code == 401
            r = await http.post("/zalo/webhook", json=zalo.update("z-lan", "/sub kien-thuy"),
                                headers=ok)  # fmt: skip
            assert r.status_code == 200
            added = await asyncio.to_thread(
                CliRunner().invoke, cli,
                ["subs", "add", "--channel", "apprise", "--to", hook_cli, "--topic", "kien-thuy"],
            )  # fmt: skip
            assert added.exit_code == 0, added.output
            r = await http.post("/api/subscriptions", headers={"Authorization": f"Bearer {ADMIN}"},
                                json={"channel": "apprise", "address": hook_api,
                                      "topic": "kien-thuy"})  # fmt: skip
            assert r.status_code == 201, r.text
            await tg.await_for(lambda: tg.messages(USER))  # the /sub replies
            await zalo.await_for(lambda: zalo.messages("z-lan"))

            publish(service, 1)
            url = "https://example.vn/tin/1.html"
            await hooks_and_chats(tg, zalo, hooks, url, expected=1)

            r = await http.post("/zalo/webhook", json=zalo.update("z-lan", "/unsub kien-thuy"),
                                headers=ok)  # fmt: skip
            await zalo.await_for(lambda: len(zalo.messages("z-lan")) == 3)
            publish(service, 2)
            await tg.await_for(lambda: any("tin/2.html" in m.body for m in tg.messages(USER)))
            await hooks.await_for(lambda: len(hooks.at("from-api")) == 2)
            await hooks.await_for(lambda: len(hooks.at("from-cli")) == 2)
            await service.dispatchers.by_channel("zalo").step()  # type: ignore[union-attr]
    finally:
        await service.stop()
    assert len(zalo.messages("z-lan")) == 3  # /sub reply, article 1, /unsub reply: not article 2
    await hooks_and_chats(tg, zalo, hooks, "https://example.vn/tin/1.html", expected=1)


async def hooks_and_chats(
    tg: FakeBotAPI, zalo: FakeZaloAPI, hooks: Receiver, url: str, expected: int
) -> None:
    """Each of the four recipients holds exactly ``expected`` alerts with ``url``."""

    def counts() -> list[int]:
        return [
            sum(url in m.body for m in tg.messages(USER)),
            sum(url in m.text for m in zalo.messages("z-lan")),
            sum(url in r.body.get("message", "") for r in hooks.at("from-cli")),
            sum(url in r.body.get("message", "") for r in hooks.at("from-api")),
        ]

    await tg.await_for(lambda: min(counts()) >= expected, timeout=30)
    assert counts() == [expected] * 4
