"""The admin's pages name a chat as every other place does (a tester's report, low): the
subscriptions and delivery rows showed ``json://***#689bc0 4503599627370497``, the chat's page
its heading ``Cuộc trò chuyện json://***#689bc0 4503599627370497`` and the ``<title>``
``Cuộc trò chuyện 4503599627370497 · Tin tức`` — feedsvc's internal number, which nobody finds
in Zalo or in the config —, and so did the pause, resume and save flashes, the 409 of a chat's
options changed meanwhile, the chat queries a topic's delete names, and the log lines of the
console channel, its edits and the follow-up worker. Now every one names it by
:mod:`feedsvc.recipient_names` (the log's ``telegram chat -1001234``, ``zalo chat zb``,
``apprise chat json://***#…``), the number kept in URLs and hidden form fields only, and never
a secret of an Apprise URL (password, path token, query token).

The pages then said that English inside Vietnamese sentences ("Đã tạm dừng telegram chat
1001", a report, low-medium): a page's words name a chat in the page's language
(``recipient.<channel>``, :meth:`feedsvc.catalogue.Translator.recipient`): ``chat Telegram
-1001234`` / ``Telegram chat -1001234``, ``chat Zalo zb`` / ``Zalo chat zb``, ``Apprise
json://***#…`` in both; the log lines keep the operators' words.

The real app (HTTP only) on a real SQLite state DB, both admin languages.
"""

from __future__ import annotations

import html
import logging
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from factories import article
from test_admin import csrf_of, hidden_of, login, make_client

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.catalogue import Translator
from feedsvc.channels.apprise_urls import mask
from feedsvc.db import Database
from feedsvc.digest import options as chat_options
from feedsvc.notify.console import ConsoleSender
from feedsvc.notify.message import AlertMessage
from feedsvc.store import deliveries as delivery_store
from feedsvc.store import subscriptions as sub_store
from feedsvc.store.articles import SourcePosition, insert_articles
from feedsvc.store.followups import Followup
from feedsvc.store.source_articles import upsert_source_articles
from feedsvc.store.topics import TopicSpec, save_topic

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

NOW = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
#: the report's URL: a password, a path token and a query token, none of which may show
SECRETS = ("S3cretPW", "TOKPATHSEG", "TOKQUERY1")
HOOK = "json://hookuser:S3cretPW@127.0.0.1:9/p/TOKPATHSEG?token=TOKQUERY1"
GROUP = -1001234567890  # a Telegram supergroup: a negative id, and a title
ZALO = "zb-4f2a"  # Zalo's chat ids are strings
TITLE = re.compile(r"<title>([^<]*)</title>")
H1 = re.compile(r"<h1>(.*?)</h1>", re.S)
#: the log's and the CLI's name of each chat: in no page
OPERATORS = {
    "telegram": f"telegram chat {GROUP}",
    "zalo": f"zalo chat {ZALO}",
    "apprise": f"apprise chat {mask(HOOK)}",
}
#: each chat as the admin's pages name it, by language: exact
NAMES = {
    "vi": {
        "telegram": f"chat Telegram {GROUP}",
        "zalo": f"chat Zalo {ZALO}",
        "apprise": f"Apprise {mask(HOOK)}",
    },
    "en": {
        "telegram": f"Telegram chat {GROUP}",
        "zalo": f"Zalo chat {ZALO}",
        "apprise": f"Apprise {mask(HOOK)}",
    },
}
#: a heading or ``<title>`` begins with a capital
HEADINGS = {
    "vi": {"telegram": f"Chat Telegram {GROUP}", "zalo": f"Chat Zalo {ZALO}"},
    "en": {},
}


@dataclass(frozen=True)
class Chats:
    client: TestClient
    service: Service
    t: Translator
    ids: dict[str, int]  # channel → feedsvc's own chat number

    @property
    def names(self) -> dict[str, str]:
        return NAMES[self.t.language]

    def heading(self, channel: str) -> str:
        return HEADINGS[self.t.language].get(channel, self.names[channel])

    def hidden(self, page: str) -> None:
        """No secret anywhere in the page (attributes too), no internal number of the
        recipients with an id of their own in what a person reads (URLs and hidden fields may
        hold it), and no chat named in the log's words ("telegram chat 1001")."""
        for secret in SECRETS:
            assert secret not in page, secret
        shown = seen_text(page)
        for channel in ("zalo", "apprise"):
            assert str(self.ids[channel]) not in shown, (channel, shown)
        for operators in OPERATORS.values():
            assert operators not in shown, (operators, shown)


def subscribe(
    db: Database, channel: str, address: str | None, topic: str | None, query: str | None
) -> tuple[sub_store.Subscription, bool]:
    """As ``feedsvc subs add --channel … --to …`` subscribes (the report's steps)."""
    if channel == "telegram":
        return ops.add_subscription(db, GROUP, "supergroup", topic=topic, query=query)
    return ops.add_subscription(
        db, None, None, topic=topic, query=query, channel=channel, address=address
    )


def seen_text(page: str) -> str:
    """What a reader of ``page`` sees: its text without tags (and so without attributes)."""
    return html.unescape(re.sub(r"<[^>]*>", " ", page))


@pytest.fixture(params=["vi", "en"])
def chats(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Chats]:
    """A Telegram supergroup with a title, a Zalo chat and the report's Apprise URL (added as
    ``subs add`` adds it), each subscribed to topic ``t00`` and with a delivery of one article."""
    client, service = make_client(tmp_path, monkeypatch, language=request.param)
    with client:
        db = service.db
        with db.write() as conn:
            save_topic(conn, TopicSpec("t00", "Tin t00", '"mưa"'), "test", NOW)
            sub_store.ensure_chat(conn, GROUP, "supergroup", "Tin Kiến Thụy", NOW)
        ids = {"telegram": GROUP}
        for channel, address in (("telegram", None), ("zalo", ZALO), ("apprise", HOOK)):
            sub, _ = subscribe(db, channel, address, "t00", None)
            ids[channel] = sub.chat_id
        with db.write() as conn:
            upsert_source_articles(conn, [article(1)], NOW)
            [aid] = insert_articles(conn, [(article(1), "k", SourcePosition(NOW, "1"))], NOW)
            delivery_store.enqueue(
                conn,
                [
                    {"chat_id": chat, "article_id": aid, "topics": ["t00"], "state": "pending",
                     "attempts": 0, "ambiguous": 0, "plain_text": False, "due_at": NOW,
                     "created_at": NOW}
                    for chat in ids.values()
                ],
            )  # fmt: skip
        login(client)
        yield Chats(client, service, Translator(request.param), ids)


def test_subscription_and_delivery_rows_name_each_chat(chats: Chats) -> None:
    for path in ("/admin/subscriptions", "/admin/deliveries"):
        page = chats.client.get(path).text
        for channel, name in chats.names.items():
            assert f'<code class="data" translate="no">{html.escape(name)}</code>' in page, (
                path, channel, page,
            )  # fmt: skip
        chats.hidden(page)


@pytest.mark.parametrize("channel", ["telegram", "zalo", "apprise"])
def test_the_chat_page_title_and_heading_name_the_chat(chats: Chats, channel: str) -> None:
    chat = chats.ids[channel]
    page = chats.client.get(f"/admin/chats/{chat}").text
    name = chats.heading(channel)
    title = TITLE.search(page)
    heading = H1.search(page)
    assert title and heading, page
    site = chats.service.settings.site.title
    assert html.unescape(title.group(1)) == f"{name} · {site}", title
    said = " ".join(seen_text(heading.group(1)).split())
    assert said == (f"{name} · Tin Kiến Thụy" if channel == "telegram" else name), said
    if channel != "telegram":  # a Telegram chat's own id is the number
        assert str(chat) not in seen_text(title.group(1) + heading.group(1))
    chats.hidden(page)


@pytest.mark.parametrize("channel", ["telegram", "zalo", "apprise"])
def test_pause_resume_and_save_flashes_name_the_chat(chats: Chats, channel: str) -> None:
    chat, name, t = chats.ids[channel], chats.names[channel], chats.t
    csrf = csrf_of(chats.client, f"/admin/chats/{chat}")
    for action, key in (("pause", "paused_msg"), ("resume", "resumed_msg")):
        page = chats.client.post(f"/admin/chats/{chat}/{action}", data={"csrf": csrf}).text
        assert t(key, chat=name) in html.unescape(page), (key, page)
        chats.hidden(page)
    fields = hidden_of(chats.client, f"/admin/chats/{chat}")
    page = chats.client.post(f"/admin/chats/{chat}", data={**fields, "digest": "08:00"}).text
    assert t("chat_saved", chat=name) in html.unescape(page), page
    chats.hidden(page)


@pytest.mark.parametrize("channel", ["telegram", "zalo", "apprise"])
def test_a_save_over_a_change_meanwhile_names_the_chat(chats: Chats, channel: str) -> None:
    chat, name = chats.ids[channel], chats.names[channel]
    fields = hidden_of(chats.client, f"/admin/chats/{chat}")
    db = chats.service.db
    changes = chat_options.parse_changes("hourly", "off", False)
    chat_options.apply(db, chat, changes, chats.service.settings.tz)  # in the chat, meanwhile
    answer = chats.client.post(f"/admin/chats/{chat}", data={**fields, "digest": "08:00"})
    assert answer.status_code == 409, answer.text
    said = chats.t("chat_changed_meanwhile", chat=name, fields=chats.t("chat_digest"))
    assert said in html.unescape(answer.text), answer.text
    chats.hidden(answer.text)


@pytest.mark.parametrize("channel", ["telegram", "zalo", "apprise"])
def test_a_topic_a_chat_query_uses_names_that_chat(chats: Chats, channel: str) -> None:
    """The topics list's note in place of Delete, and the delete's 409, name the chat."""
    db = chats.service.db
    address = {"telegram": None, "zalo": ZALO, "apprise": HOOK}[channel]
    sub, _ = subscribe(db, channel, address, None, "@t00 OR gió")
    ref = chats.t("chat_query_ref", chat=chats.names[channel], id=sub.id)
    page = chats.client.get("/admin/topics").text
    assert ref in html.unescape(page), page
    chats.hidden(page)
    with pytest.raises(ops.OperationError) as refused:
        ops.delete_topic(db, "t00")
    assert ref in chats.t.operation_error(refused.value)
    english = str(refused.value)  # the CLI's and the API's `error`: the operators' words
    assert f"own queries of {OPERATORS[channel]} (subscription {sub.id})" in english, english
    assert not any(secret in english for secret in SECRETS)


# -- log lines -------------------------------------------------------------------------------


async def test_the_console_and_its_edits_name_the_telegram_chat(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="feedsvc.notify")
    sender = ConsoleSender()
    msg = AlertMessage(text="<b>Mưa</b>", plain_text="Mưa")
    sent = await sender.send(GROUP, msg, False)
    await sender.editor.delete(GROUP, sent.message_id or 0)
    await sender.editor.edit(GROUP, 7, "x", caption=False, html=False)
    await sender.editor.cover(GROUP, 7, "x", html=False)
    await sender.editor.uncover(GROUP, 7, "https://127.0.0.1/a.png", "x", html=False)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith(f"alert to telegram chat {GROUP} (#"), lines
    for line in lines[1:]:
        assert line.startswith(f"alert #{sent.message_id if 'deleted' in line else 7} in "
                               f"telegram chat {GROUP}"), line  # fmt: skip
    assert len(lines) == 5


@pytest.mark.parametrize(
    ("channel", "address", "shown"),
    [
        ("telegram", None, f"telegram chat {GROUP}"),
        ("zalo", ZALO, f"zalo chat {ZALO}"),
        ("apprise", HOOK, f"apprise chat {mask(HOOK)}"),
    ],
)
def test_a_follow_ups_line_names_the_chat(channel: str, address: str | None, shown: str) -> None:
    """The follow-up worker's ``alert #5 in chat 4503599627370497: retract deleted``."""
    chat = GROUP if channel == "telegram" else 4503599627370497
    f = Followup(1, "retract", None, 0, 1, "sent", chat, "private", 5, NOW, 1, [], False,
                 False, channel=channel, address=address)  # fmt: skip
    assert f.message_recipient == shown
    moved = Followup(1, "retract", None, 0, 1, "sent", GROUP, "supergroup", 5, NOW, 1, [],
                     False, False, sent_chat_id=-4321)  # fmt: skip
    assert moved.message_recipient == "telegram chat -4321"  # the old group the message is in
