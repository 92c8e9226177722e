"""A recipient named in the dispatcher's log lines by its channel and its own id (a chat
tester's report, low): ``WARNING feedsvc.dispatch: chat 4503599627370496 disabled: 403 …``
named feedsvc's internal chat number, which nobody can find in Zalo (the re-enable line said
``zalo: chat zb re-enabled``). Now :func:`feedsvc.channels.recipients.recipient_name`, the one
naming: ``zalo chat z-gone``, a Telegram chat as ``telegram chat 1001``, an Apprise URL masked.
Real dispatcher against the fake Zalo API, SQLite.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from factories import VN, article, builtin_ingestor
from test_zalo import add_topic, dispatch_until_done, zalo_subscriber
from test_zalo import fake as fake  # the fixture

from feedsvc.channels.recipients import recipient_name
from feedsvc.db import Database
from feedsvc.outbox import Outbox
from feedsvc.store.source_articles import upsert_source_articles


@pytest.mark.parametrize("address", ["z-gone", "zb"])
async def test_a_zalo_recipient_disabled_is_named_by_its_zalo_id(
    lite_db: Database, fake: object, caplog: pytest.LogCaptureFixture, address: str
) -> None:
    caplog.set_level(logging.INFO)
    add_topic(lite_db)
    ing = builtin_ingestor(lite_db)
    ing.hooks.append(Outbox(timedelta(hours=48)))
    chat_id = zalo_subscriber(lite_db, address)
    fake.block(address)  # type: ignore[attr-defined]
    with lite_db.write() as conn:
        items = [article(n, published_at=datetime.now(VN)) for n in range(1, 4)]
        upsert_source_articles(conn, items, datetime.now(UTC))
    assert ing.tick().error is None
    await dispatch_until_done(lite_db, fake)  # type: ignore[arg-type]
    [line] = [r.getMessage() for r in caplog.records if "disabled:" in r.getMessage()]
    assert line.startswith(f"zalo chat {address} disabled: ")
    assert str(chat_id) not in line


def test_the_one_naming() -> None:
    assert recipient_name("telegram", "-1001234567890") == "telegram chat -1001234567890"
    assert recipient_name("zalo", "zb") == "zalo chat zb"
    named = recipient_name("apprise", "json://user:secret@example.net/hook")
    assert named.startswith("apprise chat json://") and "secret" not in named
