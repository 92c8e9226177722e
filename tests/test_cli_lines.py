"""Free text never breaks a line-based CLI output (defects §2).

A hide reason holding a newline printed ``feedsvc articles find`` as two rows. Every printer
that shows user-supplied text (article titles, hide reasons, topic titles and queries, chat
queries, a channel's error text) goes through :func:`feedsvc.cli.common.cell`: one row is one
line, a tab-separated row keeps its columns, an over-long cell ends in "…". At input, a hide
reason is one line (breaks and tabs read as a space) and other control characters are refused.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cli_service import run, service
from sqlalchemy import insert, select, update

from feedsvc import operations as ops
from feedsvc.app import Service
from feedsvc.cli.common import CELL_CHARS, cell
from feedsvc.db.schema import articles, deliveries
from feedsvc.store.records import TopicSpec
from feedsvc.store.subscriptions import ensure_chat

BREAKERS = ["a\nb", "a\r\nb", "a\rb", "a\tb", "a\u2028b", "a\u2029b", "a\x85b", "a\x0bb",
            "a\x0cb", "a\x1cb", "\n\nđầu\n", "x" * 5000]  # fmt: skip

__all__ = ["service"]  # the fixture, shared (cli_service)


@pytest.mark.parametrize("text", BREAKERS)
def test_cell_is_one_line_and_keeps_columns(text: str) -> None:
    shown = cell(text, CELL_CHARS)
    assert len(shown.splitlines()) == 1 and "\t" not in shown and len(shown) <= CELL_CHARS
    assert shown.isprintable() or "…" in shown


@pytest.mark.parametrize("reason", BREAKERS)
def test_articles_find_prints_one_row_per_article(service: Service, reason: str) -> None:
    """A reason stored before the input rule (or by any front end) with a line break, a tab,
    a separator or 5,000 characters still prints as one row of five columns."""
    with service.db.write() as conn:
        conn.execute(update(articles).values(hidden_at=datetime.now(UTC), hidden_reason=reason,
                                             title="Kiến Thụy\nkhánh\tthành"))  # fmt: skip
    for args in (["articles", "find", "Kiến"], ["articles", "find", "TEST-00001"]):
        found = run(service, *args)
        assert found.exit_code == 0, found.output
        rows = found.output.splitlines()
        assert len(rows) == 1, rows
        assert len(rows[0].split("\t")) == 5, rows[0]
        assert len(rows[0]) < 3 * CELL_CHARS


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Gỡ theo\nyêu cầu", "Gỡ theo yêu cầu"),
        ("  Gỡ\r\n\r\ntheo\t\tyêu cầu ", "Gỡ theo yêu cầu"),
        ("Gỡ\u2028theo", "Gỡ theo"),
    ],
)
def test_a_hide_reason_is_stored_as_one_line(service: Service, typed: str, stored: str) -> None:
    done = run(service, "articles", "hide", "TEST-00001", "--reason", typed)
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [done.output.rstrip("\n")]
    assert done.output.rstrip("\n").split("\t")[-1] == stored
    with service.db.read() as conn:
        assert conn.execute(select(articles.c.hidden_reason)).scalar_one() == stored


@pytest.mark.parametrize("typed", ["a\x07b", "a\x00b", "a\x1bb", "a\x7fb", "a\x85b", "a\x9bb"])
def test_other_control_characters_in_a_reason_are_refused(service: Service, typed: str) -> None:
    refused = run(service, "articles", "hide", "TEST-00001", "--reason", typed)
    assert refused.exit_code == 2, refused.output
    assert "control character" in refused.output
    with service.db.read() as conn:
        assert conn.execute(select(articles.c.hidden_at)).scalar_one() is None


@pytest.mark.parametrize("text", ["Kiến\nThụy", "Kiến\tThụy", "Kiến\r\nThụy", " Kiến\n\tThụy "])
def test_topics_and_subscriptions_list_one_row_each(service: Service, text: str) -> None:
    ops.save_topic(service.db, TopicSpec("kien-thuy", text, f"({text}) OR cầu"), "cli")
    ops.save_topic(service.db, TopicSpec("do-son", "Đồ Sơn", '"Đồ Sơn"'), "cli")
    ops.add_subscription(service.db, 4242, "private", topic=None, query=f"({text}) OR cầu")
    topics = run(service, "topics", "list")
    assert topics.exit_code == 0, topics.output
    assert [len(r.split("\t")) for r in topics.output.splitlines()] == [4, 4], topics.output
    subs = run(service, "subs", "list")
    assert subs.exit_code == 0, subs.output
    assert [len(r.split("\t")) for r in subs.output.splitlines()] == [5], subs.output
    preview = run(service, "topics", "preview", f"({text}) OR cầu")
    assert preview.exit_code == 0, preview.output
    assert (
        preview.output.splitlines()[0]
        == f"1 of all 1 published articles matches {cell(f'({text}) OR cầu')}"
    )
    assert "\\" in preview.output.splitlines()[0]


def test_status_errors_and_reasons_stay_on_their_line(service: Service) -> None:
    now = datetime.now(UTC)
    with service.db.write() as conn:
        ensure_chat(conn, -100123, "supergroup", "Tòa\nsoạn", now)
        article_id = conn.execute(select(articles.c.id)).scalar_one()
        conn.execute(insert(deliveries).values(
            chat_id=-100123, article_id=article_id, topics=["x"], state="bad_content",
            error="Bad Request:\nINJECTED line\tcol", attempts=1, ambiguous=0, plain_text=False,
            digest=False, due_at=now, created_at=now,
        ))  # fmt: skip
    shown = run(service, "status")
    assert shown.exit_code == 0, shown.output
    assert not any(line.startswith("INJECTED") for line in shown.output.splitlines())
    assert "Bad Request:\\nINJECTED line\\tcol" in shown.output
