"""``feedsvc.notify.tls``: one TLS context per process for the messaging APIs' clients. Each
client built its own before (the CA bundle loaded again: ~30 ms of CPU a client), the
dispatcher's sender, getMe at start and Zalo's client among them."""

from __future__ import annotations

import os
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import certifi
import pytest
from factories import VN
from fakebot import FakeBotAPI
from fakezalo import FakeZaloAPI
from receiver import Receiver
from test_bot import make_bot

from feedsvc.app import learn_bot_username
from feedsvc.channels.apprise import AppriseChannel
from feedsvc.channels.base import OutcomeKind, SendOutcome, Target
from feedsvc.channels.zalo.api import ZaloBotAPI
from feedsvc.config import load_config
from feedsvc.db import Database
from feedsvc.notify.message import AlertMessage
from feedsvc.notify.telegram import TelegramSender
from feedsvc.notify.tls import share_trust_with_requests, tls_context


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
            await fake.await_for(lambda: bot.polling)
        finally:
            await bot.stop()
    with FakeZaloAPI() as zalo:
        async with ZaloBotAPI(zalo.token, base_url=zalo.base_url) as api:
            await api.get_me()
    assert ca_loads == []


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1 (an internal destination's private CA), made by
    the machine's ``openssl``; the certificate's path and a server context serving it."""
    where = tmp_path_factory.mktemp("ca")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    return cert, server


@pytest.fixture
def trust_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The four CA variables empty (read as unset by httpx, requests and feedsvc), each put
    back as it was after the test, whatever the code under test sets."""
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.setenv(name, "")
    return monkeypatch


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "SSL_CERT_DIR"])
async def test_apprise_trusts_the_ca_bundle_telegram_and_zalo_trust(
    private_ca: tuple[Path, ssl.SSLContext], trust_env: pytest.MonkeyPatch, variable: str
) -> None:
    """An Apprise destination on a private CA the operator named in ``SSL_CERT_FILE`` (or a
    ``c_rehash``-style ``SSL_CERT_DIR``): before, requests verified it against certifi's
    bundle and the alert never left, while the messaging APIs' clients trusted it."""
    cert, server = private_ca
    if variable == "SSL_CERT_FILE":
        trust_env.setenv(variable, str(cert))
    else:
        hashed = cert.parent / "dir"
        hashed.mkdir(exist_ok=True)
        name = _subject_hash(cert)
        (hashed / f"{name}.0").write_bytes(cert.read_bytes())
        trust_env.setenv(variable, str(hashed))
    with Receiver(server) as receiver:
        outcome = await _send_once(receiver.url("tls"))
        assert outcome.kind is OutcomeKind.SENT, outcome
        assert [r.body["message"] for r in receiver.at("tls")] == ["Bão số 3"]


async def test_without_the_ca_bundle_the_private_destination_is_refused(
    private_ca: tuple[Path, ssl.SSLContext], trust_env: pytest.MonkeyPatch
) -> None:
    """The other side of the test above: verification is on, so the same destination with no
    CA named fails and nothing reaches it."""
    with Receiver(private_ca[1]) as receiver:
        outcome = await _send_once(receiver.url("tls"))
        assert outcome.kind is not OutcomeKind.SENT
        assert receiver.all() == []


def test_requests_own_variables_are_the_operators_choice(
    private_ca: tuple[Path, ssl.SSLContext], trust_env: pytest.MonkeyPatch
) -> None:
    trust_env.setenv("SSL_CERT_FILE", str(private_ca[0]))
    trust_env.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    assert share_trust_with_requests() is None
    assert os.environ["REQUESTS_CA_BUNDLE"] == certifi.where()
    trust_env.setenv("REQUESTS_CA_BUNDLE", "")
    trust_env.setenv("CURL_CA_BUNDLE", certifi.where())
    assert share_trust_with_requests() is None and os.environ["REQUESTS_CA_BUNDLE"] == ""
    trust_env.setenv("CURL_CA_BUNDLE", "")
    assert share_trust_with_requests() == str(private_ca[0])
    assert os.environ["REQUESTS_CA_BUNDLE"] == str(private_ca[0])


@pytest.mark.parametrize("shape", ["a list of directories", "a missing file", "a missing dir"])
def test_what_requests_cannot_read_is_not_handed_to_it(
    private_ca: tuple[Path, ssl.SSLContext], trust_env: pytest.MonkeyPatch, shape: str
) -> None:
    """OpenSSL (and so httpx) takes ``SSL_CERT_DIR=/etc/ssl/certs:/opt/corp``; requests takes
    one path, and handed the list raised ``OSError`` at every Apprise send, to public
    destinations too (a reviewer's finding). A path requests cannot read is not handed on:
    Apprise keeps certifi's bundle, as before the operator's variable was shared."""
    here = str(private_ca[0].parent)
    if shape == "a list of directories":
        trust_env.setenv("SSL_CERT_DIR", f"/etc/ssl/certs{os.pathsep}{here}")
    elif shape == "a missing file":
        trust_env.setenv("SSL_CERT_FILE", f"{here}/none.pem")
    else:
        trust_env.setenv("SSL_CERT_DIR", f"{here}/none")
    assert share_trust_with_requests() is None
    assert os.environ["REQUESTS_CA_BUNDLE"] == ""


async def _send_once(url: str) -> SendOutcome:
    channel = AppriseChannel(VN, send_timeout=15)
    await channel.start()
    try:
        target = Target(1, "apprise", url, "private", link_preview=False, plain_text=True)
        return await channel.send_message(target, AlertMessage("<b>Bão số 3</b>", "Bão số 3"))
    finally:
        await channel.close()


def _subject_hash(cert: Path) -> str:
    """The name OpenSSL looks a certificate up by in a CA directory (``openssl rehash``)."""
    done = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", str(cert)],
                          check=True, capture_output=True, text=True, timeout=30)  # fmt: skip
    return done.stdout.strip()
