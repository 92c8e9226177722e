"""``feedsvc.notify.tls``: one TLS context per process for the messaging APIs' clients. Each
client built its own before (the CA bundle loaded again: ~30 ms of CPU a client), the
dispatcher's sender, getMe at start and Zalo's client among them."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import certifi
import pytest
from fakebot import FakeBotAPI
from fakezalo import FakeZaloAPI
from test_bot import make_bot

from feedsvc.app import learn_bot_username
from feedsvc.channels.zalo.api import ZaloBotAPI
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.notify.telegram import TelegramSender
from feedsvc.notify.tls import tls_context


@pytest.fixture
def ca_loads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Every CA bundle a TLS context loads from now on (the costly part of building one)."""
    tls_context()  # the process's, built before counting
    loads: list[object] = []
    real = ssl.SSLContext.load_verify_locations

    def counted(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loads.append(args or kwargs)
        real(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    yield loads


def test_the_context_is_built_once_and_verifies() -> None:
    context = tls_context()
    assert tls_context() is context
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0  # a CA bundle is loaded


def test_ssl_cert_file_is_honoured_as_by_httpx(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An operator's own CA bundle (a proxy that re-signs TLS) set as httpx reads it."""
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(Path(certifi.where()).read_bytes())
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    loaded: list[object] = []
    real = ssl.SSLContext.load_verify_locations

    def spied(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loaded.append(kwargs.get("cafile", args[0] if args else None))
        real(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", spied)
    tls_context.cache_clear()
    try:
        tls_context()
        assert loaded == [str(bundle)]
    finally:
        tls_context.cache_clear()


async def test_the_alert_sender_and_getme_build_no_context_of_their_own(
    ca_loads: list[object], lite_db: Database
) -> None:
    with FakeBotAPI() as fake:
        async with TelegramSender(fake.token, base_url=fake.base_url) as sender:
            await sender.bot.get_me()
        settings = load_config(None, {"telegram": {"token": fake.token, "base_url": fake.base_url}})
        service = _Service(settings)
        await learn_bot_username(service, fake.token, attempts=1)  # type: ignore[arg-type]
    assert service.publisher.learnt == ["feedsvc_test_bot"]  # getMe answered
    assert ca_loads == []


class _Publisher:
    def __init__(self) -> None:
        self.learnt: list[str] = []

    def set_bot_username(self, name: str) -> None:
        self.learnt.append(name)


class _Service:
    """What ``learn_bot_username`` reads of a Service: its settings and its publisher."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.publisher = _Publisher()


async def test_the_bot_and_zalo_build_no_context_of_their_own(
    ca_loads: list[object], lite_db: Database
) -> None:
    with FakeBotAPI() as fake:
        bot = make_bot(lite_db, fake.base_url, fake.token)
        await bot.start()
        try:
            await fake.await_for(lambda: bot.polling, timeout=10)
        finally:
            await bot.stop()
    with FakeZaloAPI() as zalo:
        async with ZaloBotAPI(zalo.token, base_url=zalo.base_url) as api:
            await api.get_me()
    assert ca_loads == []
