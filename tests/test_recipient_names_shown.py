"""Every place that names a chat to operators names it by its channel and its own id (an
operator's report, low): a Zalo or Apprise recipient appeared only as feedsvc's internal chat
number — ``chats_not_receiving`` ``4503599627370497 (…)``, ``recent_errors`` ``#10 blocked chat
4503599627370497: …`` in ``feedsvc status`` (text and ``--json``), ``/api/status``, the admin's
status page, ``subs list``'s stderr note and the digest's log lines —, a number nobody finds in
Zalo or in the config. Now :func:`feedsvc.recipient_names.recipient_name`: ``telegram chat
1001``, ``zalo chat zb``, ``apprise chat json://***#1edd70`` (never the URL itself); the JSON
keeps ``chat_id`` (SPEC §9) and adds ``channel`` and ``recipient`` beside it.

A real SQLite state DB (``module_on_sqlite``), the real CLI (in process), the real app (HTTP only).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from backend_cases import module_on_sqlite
from click.testing import CliRunner
from factories import article
from fakebot import FakeBotAPI
from sqlalchemy import update
from starlette.testclient import TestClient
from test_admin import TOKEN, login
from test_bot import DEADLINE, _service_message, ask
from test_status_first_sync import serve_app

from feedsvc.bot.service import BotService
from feedsvc.catalogue.reasons import stored_reason
from feedsvc.channels.apprise_urls import mask
from feedsvc.channels.recipients import recipient_name
from feedsvc.cli import cli
from feedsvc.db import Database
from feedsvc.db.schema import deliveries
from feedsvc.digest.record import Policy, record_part
from feedsvc.notify import SendOutcome
from feedsvc.store import deliveries as delivery_store
from feedsvc.store import subscriptions as subs
from feedsvc.store.articles import SourcePosition, insert_articles
from feedsvc.store.claims import block_chat_until
from feedsvc.store.digests import HeldBatch, HeldRow
from feedsvc.store.source_articles import upsert_source_articles

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

NOW = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
TELEGRAM = 1001
SECRET = "s3cret-pw"
#: (Zalo chat id, Apprise URL) per case: the report's, and others
RECIPIENTS = [
    ("zb", f"json://user:{SECRET}@127.0.0.1:9/hook"),
    ("z-gone", f"ntfy://{SECRET}@127.0.0.1:9/tin-moi"),
    ("9144727418374155261", f"discord://1234/{SECRET}"),
]


@dataclass(frozen=True)
class World:
    url: str
    zalo: str
    hook: str
    ids: dict[str, int]  # channel → feedsvc's own chat number
    errors: dict[str, int]  # channel → the failed delivery's id

    @property
    def names(self) -> dict[str, str]:
        return {
            "telegram": f"telegram chat {TELEGRAM}",
            "zalo": f"zalo chat {self.zalo}",
            "apprise": f"apprise chat {mask(self.hook)}",
        }

    def hidden(self, text: str) -> None:
        """Nothing of what operators must not read: the Apprise URL's secret, and the
        internal numbers of the recipients that have their own ids."""
        assert SECRET not in text
        assert self.hook not in text
        for channel in ("zalo", "apprise"):
            assert str(self.ids[channel]) not in text, (channel, text)


@pytest.fixture(params=range(len(RECIPIENTS)), ids=["zb", "z-gone", "digits"])
def world(request: pytest.FixtureRequest, db: Database, db_url: str) -> World:
    """Three chats that receive nothing now (a paused Telegram chat, a switched-off Zalo chat,
    an Apprise destination in a 429 pause), each subscribed and with a failed delivery."""
    zalo, hook = RECIPIENTS[request.param]
    with db.write() as conn:
        subs.ensure_chat(conn, TELEGRAM, "private", "Lan", NOW)
        ids = {
            "telegram": TELEGRAM,
            "zalo": subs.ensure_recipient(conn, "zalo", zalo, "private", None, NOW).chat_id,
            "apprise": subs.ensure_recipient(
                conn, "apprise", hook, "destination", None, NOW
            ).chat_id,
        }
        for chat in ids.values():
            subs.subscribe(conn, chat, topic_id=None, query="mưa", now=NOW)
        subs.set_paused(conn, TELEGRAM, True)
        subs.disable_chat(conn, ids["zalo"], stored_reason("blocked", "403 Forbidden"))
        block_chat_until(conn, ids["apprise"], datetime.now(UTC) + timedelta(hours=1))
        upsert_source_articles(conn, [article(1)], NOW)
        [aid] = insert_articles(conn, [(article(1), "k", SourcePosition(NOW, "1"))], NOW)
        delivery_store.enqueue(
            conn,
            [
                {"chat_id": chat, "article_id": aid, "topics": ["x"], "state": "pending",
                 "attempts": 0, "ambiguous": 0, "plain_text": False, "due_at": NOW,
                 "created_at": NOW}
                for chat in ids.values()
            ],
        )  # fmt: skip
        conn.execute(
            update(deliveries).values(state="blocked", error="Forbidden: refused", finished_at=NOW)
        )
        rows = conn.execute(deliveries.select()).all()
    errors = {ch: next(r.id for r in rows if r.chat_id == ids[ch]) for ch in ids}
    return World(db_url, zalo, hook, ids, errors)


def _cli(world: World, *args: str) -> tuple[str, str]:
    env = {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": world.url}
    done = CliRunner().invoke(cli, list(args), env=env)
    assert done.exit_code == 0, done.output
    return done.stdout, done.stderr


def test_status_text_names_each_chat_by_its_channel_and_own_id(world: World) -> None:
    out, _ = _cli(world, "status")
    names = world.names
    assert f"    {names['telegram']} (paused)\n" in out
    assert f"    {names['zalo']} (the channel refused messages" in out
    assert f"    {names['apprise']} (429 until " in out
    for channel, delivery in world.errors.items():
        assert f"    #{delivery} blocked {names[channel]}: " in out, (channel, out)
    world.hidden(out)


def test_status_json_keeps_chat_id_and_adds_channel_and_recipient(world: World) -> None:
    out, _ = _cli(world, "status", "--json")
    facts = json.loads(out)
    names = world.names
    by_id = {p["chat_id"]: p for p in facts["chat_pauses"]}
    assert set(by_id) == set(world.ids.values())  # the id keeps its meaning (SPEC §9)
    for channel, chat in world.ids.items():
        assert by_id[chat]["channel"] == channel
        assert by_id[chat]["recipient"] == names[channel]
    lines = facts["chats_not_receiving"]
    assert [line.split(" (")[0] for line in lines] == [names[c] for c in world.ids]
    for channel, delivery in world.errors.items():
        assert any(e.startswith(f"#{delivery} blocked {names[channel]}: ") for e in
                   facts["recent_errors"]), facts["recent_errors"]  # fmt: skip
    world.hidden(json.dumps({k: v for k, v in facts.items() if k != "chat_pauses"}))
    assert SECRET not in out and world.hook not in out


def test_subs_list_names_a_chat_that_receives_nothing(world: World) -> None:
    out, err = _cli(world, "subs", "list")
    names = world.names
    notes = err.splitlines()
    assert len(notes) == 3, notes
    assert f"feedsvc: {names['telegram']} receives no alerts now: paused" in notes
    for channel, why in (("zalo", "the channel refused messages"), ("apprise", "429 until ")):
        said = f"feedsvc: {names[channel]} receives no alerts now: {why}"
        assert sum(n.startswith(said) for n in notes) == 1, (said, notes)
    world.hidden(err)
    assert SECRET not in out


@pytest.fixture
def served(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    for _service, client in serve_app(world.url, monkeypatch):
        yield client


def test_api_status_adds_channel_and_recipient(world: World, served: TestClient) -> None:
    answer = served.get("/api/status", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    names = world.names
    by_id = {p["chat_id"]: p for p in body["chat_pauses"]}
    assert set(by_id) == set(world.ids.values())
    for channel, chat in world.ids.items():
        assert (by_id[chat]["channel"], by_id[chat]["recipient"]) == (channel, names[channel])
    errors = {e["id"]: e for e in body["recent_errors"]}
    for channel, delivery in world.errors.items():
        assert errors[delivery]["chat_id"] == world.ids[channel]
        assert errors[delivery]["recipient"] == names[channel]
    assert SECRET not in answer.text and world.hook not in answer.text
    listed = served.get("/api/deliveries", headers={"Authorization": f"Bearer {TOKEN}"})
    assert {d["recipient"] for d in listed.json()["items"]} == set(names.values())
    assert SECRET not in listed.text


def test_admin_status_page_names_each_chat(world: World, served: TestClient) -> None:
    login(served)
    page = served.get("/admin/status").text
    # the admin's words (English here, serve_app): the channel a proper noun, the address as
    # the operators' name has it (test_admin_recipient_names: both languages)
    names = {
        "telegram": f"Telegram chat {TELEGRAM}",
        "zalo": f"Zalo chat {world.zalo}",
        "apprise": f"Apprise {mask(world.hook)}",
    }
    # the held chats' table and the recent errors': each recipient in both
    for channel in world.ids:
        shown = names[channel]
        assert page.count(f'translate="no">{shown}</code>') == 2, (channel, shown)
        assert world.names[channel] not in page  # the log's "telegram chat 1001"
    world.hidden(page)


# -- the digest's log lines ------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["telegram", "zalo", "apprise"])
@pytest.mark.parametrize(("zalo", "hook"), RECIPIENTS, ids=["zb", "z-gone", "digits"])
def test_a_digest_line_names_the_chat(
    lite_db: Database, caplog: pytest.LogCaptureFixture, channel: str, zalo: str, hook: str
) -> None:
    """``digest of chat 4503599627370496: a part sent again …`` (``digest.record``): the
    digest's recipient as the dispatcher's own lines name it."""
    address = {"telegram": str(TELEGRAM), "zalo": zalo, "apprise": hook}[channel]
    with lite_db.write() as conn:
        if channel == "telegram":
            chat = subs.ensure_chat(conn, TELEGRAM, "private", None, NOW).chat_id
        else:
            kind = "private" if channel == "zalo" else "destination"
            chat = subs.ensure_recipient(conn, channel, address, kind, None, NOW).chat_id
    batch = HeldBatch(chat, "private", False, False, [HeldRow(7, 1, ["x"], 1, 1, False)],
                      channel=channel, address=address)  # fmt: skip
    policy = Policy(3, 5, 2, lambda _n: timedelta(seconds=1))
    caplog.set_level(logging.INFO)
    with lite_db.write() as conn:
        record_part(conn, NOW, "me", batch, [7], [], SendOutcome.sent(5), policy)
    [line] = [r.getMessage() for r in caplog.records if "sent again" in r.getMessage()]
    assert line.startswith(f"digest of {recipient_name(channel, address)}: "), line
    assert SECRET not in line and hook not in line
    if channel != "telegram":
        assert str(chat) not in line


# -- the Telegram bot's own lines ---------------------------------------------------------------


@pytest.mark.parametrize(("group", "supergroup"), [(-5, -1005), (-4000123, -1004000123)])
async def test_the_bots_lines_name_the_telegram_chat(
    lite_db: Database,
    fake: FakeBotAPI,
    lite_bot: BotService,
    caplog: pytest.LogCaptureFixture,
    group: int,
    supergroup: int,
) -> None:
    """``chat -5 disabled: …``, ``chat -5 migrated to supergroup -1005``: named as every other
    line names a chat (``telegram chat -5``)."""
    caplog.set_level(logging.INFO, logger="feedsvc.bot")
    fake.add_chat(group, "group", "Nhóm", admins=[7])
    await ask(fake, group, "/sub mưa", user_id=7)
    fake.member_update(group, 7, "kicked", old_status="member")
    await fake.await_for(lambda: "disabled:" in caplog.text, timeout=DEADLINE)
    fake.member_update(group, 7, "member", old_status="left")
    await fake.await_for(lambda: "(re-)enabled" in caplog.text, timeout=DEADLINE)
    fake.inject_update(
        _service_message(
            {"id": group, "type": "group", "title": "Nhóm"}, migrate_to_chat_id=supergroup
        )
    )
    await fake.await_for(lambda: "migrated to" in caplog.text, timeout=DEADLINE)
    said = [r.getMessage() for r in caplog.records if r.name.startswith("feedsvc.bot")]
    assert f"telegram chat {group} disabled: removed|kicked" in said, said
    assert f"telegram chat {group} (re-)enabled: bot is member" in said, said
    migrated = f"telegram chat {group} migrated to supergroup telegram chat {supergroup}"
    assert migrated in said, said
