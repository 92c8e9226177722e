"""What one bot user can cost everyone else (#12 §2): the cap on a query's expanded terms, the
command rate limits, and the cap on subscriptions per user across chats.

Through real python-telegram-bot against the fake Bot API; SQLite and PostgreSQL where a database
effect is the point.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from fakebot import FakeBotAPI
from test_bot import USER, ask, fast_fake, running, subs_of

from feedsvc import operations as ops
from feedsvc.bot import BotService
from feedsvc.db import Database
from feedsvc.matching import QueryError, parse_chat_query
from feedsvc.matching.query import MAX_CHAT_QUERY_TERMS
from feedsvc.store.topics import TopicSpec, save_topic

# four place-name topics of 90 aliases each, and one that includes them all (360 terms)
BIG = {f"xa{k}": " OR ".join(f'"xã {k} {n}"' for n in range(1, 91)) for k in range(4)}
BIG["xa"] = "@xa0 OR @xa1 OR @xa2 OR @xa3"


def seed_big(db: Database) -> None:
    with db.write() as conn:
        for slug, query in BIG.items():
            save_topic(conn, TopicSpec(slug, slug, query), "cli", datetime.now(UTC))


@pytest.fixture
def fake() -> Iterator[FakeBotAPI]:
    with fast_fake() as server:
        yield server


@pytest.fixture
async def bot(db: Database, fake: FakeBotAPI) -> AsyncIterator[BotService]:
    seed_big(db)
    async with running(db, fake) as service:
        yield service


# --- the cap on expanded terms ------------------------------------------------------------------
TOO_BIG = [
    ("@xa0 @xa1 @xa2", 270),  # three references
    ("@xa", 360),  # one reference that expands into four
    ("(@xa0 OR @xa1) -@xa2", 270),  # negative terms cost the same to match
    ("title:@xa0 OR ~@xa1 OR tag:(@xa2 bão)", 271),  # under fields and folding
]


@pytest.mark.parametrize(("query", "terms"), TOO_BIG)
def test_expanded_terms_are_capped(query: str, terms: int) -> None:
    with pytest.raises(QueryError) as caught:
        parse_chat_query(query, BIG.get)
    assert caught.value.code == "chat_query_too_big"
    assert caught.value.params == {"terms": terms, "limit": MAX_CHAT_QUERY_TERMS}


def test_the_cap_is_inclusive() -> None:
    words = " ".join(f"từ{n}" for n in range(MAX_CHAT_QUERY_TERMS - 180))
    assert sum(1 for _ in parse_chat_query(f"@xa0 @xa1 {words}", BIG.get).terms()) == 200


async def test_bot_refuses_an_oversized_query_saying_the_limit(
    db: Database, fake: FakeBotAPI, bot: BotService
) -> None:
    for query, terms in TOO_BIG:
        reply = await ask(fake, USER, f"/sub {query}")
        assert reply.startswith("Truy vấn không hợp lệ"), reply
        assert f"mở rộng thành {terms} từ" in reply and f"tối đa {MAX_CHAT_QUERY_TERMS} từ" in reply
    assert "Đã đăng ký" in await ask(fake, USER, "/sub @xa0 bão")
    assert subs_of(db, USER) == ["@xa0 bão"]


def test_api_and_cli_path_refuses_it_too(db: Database) -> None:
    seed_big(db)
    with pytest.raises(ops.OperationError) as caught:
        ops.add_subscription(db, 77, "private", topic=None, query="@xa")
    assert caught.value.cause is not None and caught.value.cause.code == "chat_query_too_big"
    assert "360 terms" in str(caught.value)
    sub, created = ops.add_subscription(db, 77, "private", topic=None, query="@xa0")
    assert created and sub.query == "@xa0"
