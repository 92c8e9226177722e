"""A reader's query error points at the character the reader typed, not at one of the text
``typed_query`` rewrote it to (a tester's: ``POST /api/subscriptions {"query": "''an ninh'' a AND
b OR c"}`` answered ``position`` 18, and ``query[18:]`` was ``'b OR c'``: the two ``''`` read
as one ``"`` each moved it two characters early; dropped zero-width spaces, an NFD letter
composed did alike, on the API, the bots' replies, the CLI's caret and the search feed's 400).

Each case: the text sent, and where its offending token begins in it (``sent[position:]``
starts with it, as README promises of ``position``: "for code that slices the query").
:func:`feedsvc.typed_query.typed_position` is the one map back (``typed_error``)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import httpx
import pytest
from backend_cases import module_on_sqlite
from fakebot import FakeBotAPI
from test_api import AUTH, CHAT, service  # noqa: F401 - a fixture
from test_bot import USER, ask
from test_bot_quotes import say, zalo  # noqa: F401 - a fixture
from test_cli_subs import Run, run  # noqa: F401 - a fixture
from test_on_demand import app_service

from feedsvc.app import Service, create_app
from feedsvc.bot import BotService
from feedsvc.bot.typed import unseen, visible_start
from feedsvc.channels.zalo.bot import ZaloBot
from feedsvc.cli.query_caret import caret_lines
from feedsvc.db import Database
from feedsvc.typed_query import typed_query

pytestmark = module_on_sqlite  # its subject is not the SQL (tests/backend_cases.py)

NFD = unicodedata.normalize("NFD", "Kiến Thụy")

#: (sent, the offending token, its 0-based place in ``sent``); "" for the end of the query
CASES = [
    ("''an ninh'' a AND b OR c", "OR", 20),  # the tester's: '' read as "
    ("\u200b\u200ba AND b OR c", "OR", 10),  # zero-width spaces dropped
    (unicodedata.normalize("NFD", "Kiến a AND b OR c"), "OR", 15),  # composed to NFC
    (f"{NFD} a AND b OR c", "OR", 21),  # NFD letters before the error
    ("«Kiến» \u200ba AND b OR c", "OR", 16),  # guillemets (same length) and a ZWSP
    ("ｋｉｅｎ a AND\u200b b OR c", "OR", 14),  # full-width letters, a ZWSP in the middle
    ("a   AND  \u2060b OR c", "OR", 12),  # spaces collapsed, a word joiner dropped
    ("a AND b OR c ''an ninh''", "OR", 8),  # the error before any rewrite
    ("''x'' a (", "", 9),  # the end: nothing after it
    ("''x'' \u200ba (\u200b  ", "", 10),  # the end, before what the reading dropped
    ("\u200b''a'' «an ninh", "«", 7),  # a quote refusal, after a rewrite
    (f"{NFD} an ninh」", "」", 20),  # a stray closing bracket after NFD letters
]
IDS = [repr(sent) for sent, _, _ in CASES]


def at(sent: str, token: str, position: int) -> None:
    """``sent[position:]`` starts with ``token`` (at the end: only what does not show)."""
    rest = sent[position:]
    if token:
        assert rest.startswith(token), (sent, position, rest)
    else:
        assert all(unseen(c) for c in rest) and not unseen(sent[position - 1]), (sent, rest)


@pytest.mark.parametrize(("sent", "token", "position"), CASES, ids=IDS)
def test_the_place_in_the_rewritten_text_maps_back(sent: str, token: str, position: int) -> None:
    from feedsvc.typed_query import typed_position

    at(sent, token, position)  # the case itself says what it means
    read = typed_query(sent)
    if token:
        assert typed_position(sent, read.index(token, 1 if token == "OR" else 0)) == position


@pytest.mark.parametrize(
    "sent",
    ["", "\u200b", "  ", "''a'' ''b''", "«a „b» c“", NFD + "\u0301", "ｆｕｌｌ　ｗｉｄｔｈ",
     "'rock 'n' roll'", '«báo "Tuổi trẻ" hôm nay»', "a\u202eb", "e\u0301\u200b\u0302"],
)  # fmt: skip
def test_the_map_reads_what_typed_query_reads(sent: str) -> None:
    """The map's own reading is ``typed_query``'s, character for character."""
    from feedsvc.typed_query import _read_units

    assert "".join(c for c, _, _ in _read_units(sent)) == typed_query(sent)


# --- the API: POST /api/subscriptions ---------------------------------------------------------


@pytest.mark.parametrize(("sent", "token", "position"), CASES, ids=IDS)
async def test_the_api_places_the_error_in_the_query_sent(
    service: Service,  # noqa: F811  (the imported fixture)
    sent: str,
    token: str,
    position: int,
) -> None:
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        body = {"chat_id": CHAT, "chat_type": "private", "query": sent}
        r = await client.post("/api/subscriptions", json=body, headers=AUTH)
    assert r.status_code == 422, r.text
    got = r.json()
    assert (got["position"], got["column"]) == (position, position + 1), got
    at(sent, token, got["position"])
    assert f" {position + 1}" in got["message"], got  # "tại ký tự N: …"


# --- the search feed's 400 --------------------------------------------------------------------


async def test_the_search_feed_says_the_character_sent(tmp_path: Path) -> None:
    searched = app_service(tmp_path)
    transport = httpx.ASGITransport(app=create_app(searched))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for sent, _token, position in CASES:
                got = await client.get("/feeds/search.rss", params={"q": sent})
                assert got.status_code == 400, (sent, got.text)
                assert f"tại ký tự {position + 1}:" in got.text, (sent, got.text)
    finally:
        searched.close()


# --- the bots' replies ------------------------------------------------------------------------


def argument(sent: str) -> tuple[str, int]:
    """What the bot reads as ``/sub``'s argument (its ends' invisible characters and spaces
    skipped: ``bot.typed.read_command``) and the case's place in it."""
    lead = len(sent) - len(visible_start(sent))
    return visible_start(visible_start(sent)[::-1])[::-1], max(0, position_of(sent) - lead)


def position_of(sent: str) -> int:
    return next(p for s, _, p in CASES if s == sent)


@pytest.mark.parametrize(("sent", "token", "position"), CASES, ids=IDS)
def test_zalo_replies_with_the_character_typed(
    db: Database,
    zalo: ZaloBot,  # noqa: F811  (the imported fixture)
    sent: str,
    token: str,
    position: int,
) -> None:
    typed, place = argument(sent)
    reply = say(zalo, f"/sub {sent}")
    assert reply.startswith("Truy vấn không hợp lệ"), reply
    assert f"(tại ký tự {min(place, len(typed)) + 1})" in reply, (typed, reply)
    assert typed.strip() in reply  # the query shown is the one typed, the place's frame


async def test_telegram_replies_with_the_character_typed(
    lite_db: Database, fake: FakeBotAPI, lite_bot: BotService
) -> None:
    reply = await ask(fake, USER, "/sub ''an ninh'' a AND b OR c")
    assert "(tại ký tự 21)" in reply and "''an ninh'' a AND b OR c" in reply, reply


# --- the CLI's caret (subs add --query) -------------------------------------------------------


@pytest.mark.parametrize(("sent", "token", "position"), [c for c in CASES if c[1] != "«" and
                                                         c[1] != "」"], ids=IDS[:-2])  # fmt: skip
def test_subs_add_puts_the_caret_under_the_character_typed(
    run: Run,  # noqa: F811  (the imported fixture)
    sent: str,
    token: str,
    position: int,
) -> None:
    result = run("subs", "add", "42", "--type", "private", "--query", sent)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert f"at character {position + 1}:" in lines[0], lines
    shown, caret = caret_lines(sent, position)
    assert lines[1:3] == [f"  {shown}", f"  {caret}"], lines
