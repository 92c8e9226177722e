"""The reader pages' Zalo way to follow a topic (SPEC §13: "Zalo when configured").

The pages had a ``zalo`` slot that nothing filled: no setting held the bot's link, so a reader
never saw how to follow a topic on Zalo. Now ``zalo.link`` (the bot's public https link) with
the channel on (``zalo.token``) shows, on ``/`` and ``/topics/{slug}``, a "Zalo" button, the
link's QR code (``/topics/{slug}/zalo.svg``, the Telegram QR's route, renderer and cache) and
the command to send, ``/sub <slug>`` (the Zalo Bot API has no start payload), which the bot
takes. Without the link, or with the channel off, the pages are as before. A value that is not
an absolute https URL is a ``config check`` problem naming ``zalo.link``, from the file or the
environment. Real service over HTTP (Starlette's test client), SQLite and PostgreSQL.

SQLite only (``sqlite_url``): the page's language and Zalo settings pick its words and
buttons, while the topics behind the pages are read by the publisher's statements, run on
PostgreSQL by ``test_index_page.py``, ``test_store_snapshots.py`` and ``test_warm_start.py``,
and the subscription the shown command makes is the Zalo bot's, run on PostgreSQL by
``test_zalo_replay.py``.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import html5lib
import pytest
from click.testing import CliRunner
from migrated import premigrated
from site_placeholder import unplaced
from test_config_urls import check, one_problem

from feedsvc import operations as ops
from feedsvc.app import Roles, Service, create_app
from feedsvc.catalogue import Translator
from feedsvc.channels.zalo import ZaloBotAPI
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.channels.zalo.updates import Incoming
from feedsvc.cli import cli
from feedsvc.config import load_config
from feedsvc.pages import qr_svg
from feedsvc.publish.warm_start import fingerprint
from feedsvc.store.subscriptions import find_recipient, list_subscriptions
from feedsvc.store.topics import TopicSpec

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

LINK = "https://zalo.me/2468013579135792468"
TOKEN = "1234567890:zalo-test-token-abcdefghijklmnop"
#: no Zalo call leaves the machine (the service here runs no bot and no dispatcher)
NOWHERE = "http://127.0.0.1:9"
SLUGS = ("kien-thuy", "do-son-2026")
PATHS = ("/", *(f"/topics/{slug}" for slug in SLUGS))


def settings_for(db_url: str, language: str = "vi", **zalo: object) -> object:
    return load_config(None, {
        "database": {"url": premigrated(db_url)},
        "topics": {"import_on_start": False},
        "http": {"public_url": "https://tin.example.vn"},
        "site": {"language": language},
        "zalo": {"base_url": NOWHERE, **zalo},
    })  # fmt: skip


@pytest.fixture
def serve(sqlite_url: str) -> Iterator[object]:
    """``serve(language, **zalo)``: a started service with two topics and its test client."""
    clients: list[TestClient] = []

    def start(language: str = "vi", **zalo: object) -> tuple[TestClient, Service]:
        settings = settings_for(sqlite_url, language, **zalo)
        service = Service(settings, Roles(scheduler=False, bot=False))  # type: ignore[arg-type]
        client = TestClient(create_app(service), base_url="http://127.0.0.1")
        client.__enter__()
        clients.append(client)
        ops.save_topic(service.db, TopicSpec("kien-thuy", "Kiến Thụy", '"Kiến Thụy"'), "test")
        ops.save_topic(service.db, TopicSpec("do-son-2026", "Đồ Sơn", '"Đồ Sơn"'), "test")
        service.publisher.sync()
        return client, service

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def valid(body: bytes) -> None:
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(body)


def command_shown(html: str, slug: str) -> str:
    """The command a page shows for ``slug``: its read-only input's value, with the copy button
    that copies that input."""
    found = re.search(rf'<input id="(zalo-{re.escape(slug)})" type="text" readonly value="([^"]*)"',
                      html)  # fmt: skip
    assert found, slug
    assert f'data-copy="{found.group(1)}"' in html
    return found.group(2)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_pages_show_the_zalo_button_qr_code_and_command(serve: object, language: str) -> None:
    client, _ = serve(language, token=TOKEN, link=LINK)  # type: ignore[operator]
    t = Translator(language)
    for path in PATHS:
        page = client.get(path)
        assert page.status_code == 200, path
        valid(page.content)
        html = page.text
        assert f'<a class="button zalo" href="{LINK}">{t("reader.zalo")}</a>' in html, path
        assert t("reader.zalo_qr") in html and t("reader.zalo_command") in html, path
        for slug in SLUGS if path == "/" else [path.rsplit("/", 1)[1]]:
            qr = f'<img class="qr" src="https://tin.example.vn/topics/{slug}/zalo.svg"'
            assert qr in html, (path, slug)
            assert command_shown(html, slug) == f"/sub {slug}"
    other = Translator("en" if language == "vi" else "vi")
    assert other("reader.zalo_command") not in client.get("/topics/kien-thuy").text


def test_the_zalo_qr_code_is_the_link_drawn_like_telegrams(serve: object) -> None:
    client, _ = serve(token=TOKEN, link=LINK)  # type: ignore[operator]
    first = client.get("/topics/kien-thuy/zalo.svg")
    assert first.status_code == 200 and first.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(first.content)  # a well-formed SVG document
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert first.content == qr_svg(LINK)
    again = client.get(
        "/topics/kien-thuy/zalo.svg", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert client.get("/topics/do-son-2026/zalo.svg").content == first.content  # one link
    moved = client.get("/topics/Kien-Thuy/zalo.svg", follow_redirects=False)
    assert moved.status_code == 301
    assert moved.headers["location"].endswith("/topics/kien-thuy/zalo.svg")
    unknown = client.get("/topics/khong-co/zalo.svg")
    assert unknown.status_code == 404 and unknown.text == "Không có chủ đề khong-co.\n"
    assert client.get("/topics/kien-thuy/viber.svg").status_code == 404  # no such route
    assert client.get("/topics/kien-thuy/telegram.svg").status_code == 404  # no bot: as before


ZALO_OFF = {
    "nothing": {},
    "token-without-link": {"token": TOKEN},
    "link-with-zalo-off": {"link": LINK},
    "empty-link": {"link": ""},
}


@pytest.mark.parametrize("zalo", list(ZALO_OFF.values()), ids=list(ZALO_OFF))
def test_without_the_link_or_with_zalo_off_the_pages_show_no_zalo(
    serve: object, zalo: dict[str, str]
) -> None:
    client, _ = serve(**zalo)  # type: ignore[operator]
    for path in PATHS:
        html = re.sub(r"<style>.*?</style>", "", client.get(path).text, flags=re.S)
        assert "zalo" not in html.lower() and "/sub " not in html, path  # the style's rule only
    drawn = client.get("/topics/kien-thuy/zalo.svg")
    assert drawn.status_code == 404
    assert drawn.text == Translator("vi")("http.no_zalo_link", slug="kien-thuy") + "\n"


def test_the_command_shown_subscribes_on_the_zalo_bot(serve: object) -> None:
    """What the page tells a reader to send, sent to the Zalo bot as a message from a private
    chat: the chat follows that topic (the stored subscription) and the reply names it."""
    client, service = serve(token=TOKEN, link=LINK)  # type: ignore[operator]
    bot = ZaloBot(service.db, ZaloBotAPI(TOKEN, NOWHERE))
    for n, (slug, title) in enumerate([("kien-thuy", "Kiến Thụy"), ("do-son-2026", "Đồ Sơn")]):
        command = command_shown(client.get(f"/topics/{slug}").text, slug)
        chat = f"z-reader-{n}"
        reply = bot.answer(Incoming(chat, "private", "Lan", command, f"u{n}"))
        assert reply and title in reply
        with service.db.read() as conn:
            recipient = find_recipient(conn, "zalo", chat)
            assert recipient is not None
            subs = list_subscriptions(conn, recipient.chat_id)
        assert [s.topic_slug for s in subs] == [slug]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_command_is_said_to_be_for_a_private_chat(serve: object, language: str) -> None:
    """The bot takes ``/sub`` only in a private chat (in a group it answers that subscribing is
    done there): the page says so under the command, in the site's language, and the command's
    box is described by that line (a screen reader reads it with the box)."""
    client, service = serve(language, token=TOKEN, link=LINK)  # type: ignore[operator]
    t = Translator(language)
    for path in PATHS:
        html = client.get(path).text
        for slug in SLUGS if path == "/" else [path.rsplit("/", 1)[1]]:
            line = f'<p class="note small muted" id="zalo-{slug}-private"'
            assert line in html and f'aria-describedby="zalo-{slug}-private"' in html, path
        assert html.count(t("reader.zalo_private")) == (2 if path == "/" else 1), path
        other = Translator("en" if language == "vi" else "vi")
        assert other("reader.zalo_private") not in html
    # what the line says: the same command sent in a group is refused, with that reason
    bot = ZaloBot(service.db, ZaloBotAPI(TOKEN, NOWHERE))
    command = command_shown(client.get("/topics/kien-thuy").text, "kien-thuy")
    reply = bot.answer(Incoming("z-group-1", "group", "Nhóm tin", command, "u9"))
    assert reply == Translator("vi")("bot.zalo_private_only")
    with service.db.read() as conn:
        assert find_recipient(conn, "zalo", "z-group-1") is None


def test_a_restart_renders_again_when_the_shown_link_changes() -> None:
    """The warm start's fingerprint covers the link the pages show (a restart with a new link
    renders every page before serving), and stays as it was when none is shown."""

    def print_of(**zalo: object) -> str:
        return fingerprint(load_config(None, {"zalo": {"base_url": NOWHERE, **zalo}}))

    assert print_of() == print_of(link=LINK) == print_of(token=TOKEN)
    assert print_of(token=TOKEN, link=LINK) != print_of(token=TOKEN)
    assert print_of(token=TOKEN, link=LINK) != print_of(token=TOKEN, link=LINK + "1")


@pytest.mark.parametrize(
    "value",
    [
        "http://zalo.me/2468013579135792468",  # plain http: refused, not "upgraded"
        "/zalo",  # relative
        "zalo.me/2468013579135792468",  # no scheme
        "https://",  # no host
        "https://zalo .me/1",
        "https://zalo.me:99999/1",
        "javascript:alert(1)",
        "garbage",
        " ",
        "https://user:pass@zalo.me/1",  # credentials on a public page
        "ftp://zalo.me/1",
    ],
)
def test_a_link_that_is_no_absolute_https_url_is_refused(tmp_path: Path, value: str) -> None:
    quoted = value.replace("\\", "\\\\").replace('"', '\\"')
    line = one_problem(tmp_path, "zalo.link", f'[zalo]\nlink = "{quoted}"')
    assert "https" in line
    from_env = one_problem(tmp_path, "zalo.link", FEEDSVC_ZALO__LINK=value)
    assert from_env == f"{line} (set by FEEDSVC_ZALO__LINK)"


def test_a_wrong_type_is_refused_and_a_good_link_passes(tmp_path: Path) -> None:
    assert one_problem(tmp_path, "zalo.link", "[zalo]\nlink = 5")
    with_bot = check(tmp_path, f'[zalo]\nlink = "{LINK}"', FEEDSVC_ZALO__TOKEN=TOKEN)
    assert with_bot == (0, [])
    assert check(tmp_path, FEEDSVC_ZALO__LINK=LINK, FEEDSVC_ZALO__TOKEN=TOKEN) == (0, [])
    # without a bot the link works but shows nothing: config check says so, once, by key
    (tmp_path / "feedsvc.toml").write_text(
        f'[zalo]\nlink = "{LINK}"\n[topics]\nfile = "{tmp_path}/topics.toml"\n', encoding="utf-8"
    )
    clean = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    config = str(tmp_path / "feedsvc.toml")
    checked = CliRunner().invoke(cli, ["config", "check", "--config", config], env=clean)
    warned = [line for line in unplaced(checked.output).splitlines() if line.startswith("warning:")]
    assert checked.exit_code == 0 and checked.output.rstrip().endswith(": OK"), checked.output
    assert len(warned) == 1 and warned[0].startswith("warning: zalo.link: "), warned
    assert "zalo.token" in warned[0]
    assert check(tmp_path, "[zalo]\nlinks = 1")[0] == 2  # a misspelt key names the real one
    assert "link" in " ".join(check(tmp_path, "[zalo]\nlinks = 1")[1])
