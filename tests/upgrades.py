"""Set-up the migration tests share: a state DB stopped at an old revision and filled as that
revision's code would have left it, then upgraded (or downgraded) with its data in place.

Rows are written in raw SQL (:func:`run_sql`) where the current ``db/schema.py`` tables name
columns the old database does not have yet; :data:`OLD_ARTICLE` is one article every revision
since 0001 can hold; :func:`queued_for_followers`, a topic, its followers and their queue.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, text

from feedsvc.db import Database, upgrade
from feedsvc.db.schema import articles, chats, deliveries, subscriptions, topics
from feedsvc.store.bulk import BulkInsert

# one article in the columns every revision has; :t is its times (a "YYYY-MM-DD HH:MM:SS" text)
OLD_ARTICLE = (
    "INSERT INTO articles (source_key, version, url, title, tags, published_at,"
    " search_text, source_cursor, first_seen_at, last_changed_at)"
    " VALUES ('a-1', :t, 'https://x.vn/1', 'Tin cũ', '[]', :t, '', :t, :t, :t)"
)


def database_at(db_url: str, revision: str) -> Database:
    """The state DB at ``db_url`` migrated up to ``revision`` only (the caller disposes of it)."""
    db = Database(db_url)
    upgrade(db, revision)
    return db


@contextmanager
def articles_inserted_without(column: str) -> Iterator[None]:
    """Head's ``store.articles.insert_articles`` writing an article row as the code before
    ``column``'s migration did: the column left out (an old revision's table has none, e.g.
    ``source_key_nfc`` before 0041), the rest of the statement, the search rows and the ids
    as head writes them."""
    from feedsvc.store import articles as store

    full = store._INSERT
    at = full.names.index(column)

    class _Without(BulkInsert):
        def execute(
            self, conn: Connection, rows: Sequence[Sequence[Any]], *, converted: bool = False
        ) -> None:
            kept = [(*row[:at], *row[at + 1 :]) for row in rows]
            super().execute(conn, kept, converted=converted)

    store._INSERT = _Without(full.table, full.names[:at] + full.names[at + 1 :])
    try:
        yield
    finally:
        store._INSERT = full


@contextmanager
def sent_without_kind() -> Iterator[None]:
    """Head's send record (``store.deliveries.mark_sent``) as the code before 0042 wrote it:
    no ``message_kind`` (an old revision's ``deliveries`` has none), the rest as head."""
    from feedsvc.store import deliveries as store

    full = store.mark_sent

    def old(*args: Any, kind: str | None = None, **kw: Any) -> bool:
        return full(*args, **kw)

    store.mark_sent = old  # type: ignore[assignment]
    try:
        yield
    finally:
        store.mark_sent = full  # type: ignore[assignment]


def run_sql(db: Database, *statements: str, **params: Any) -> None:
    """Run raw ``statements`` with the same ``params`` in one transaction."""
    with db.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def downgrade(db: Database, revision: str) -> None:
    """Alembic's downgrade to ``revision``, on a connection of ``db``'s own engine."""
    from alembic import command

    from feedsvc.db.engine import alembic_config

    cfg = alembic_config(db)
    with db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        conn.commit()


def telegram_chat(
    conn: Connection, now: datetime, *, recipient: bool = True
) -> Callable[[int], object]:
    """An ``add_chat`` for :func:`queued_for_followers`: a Telegram chat's row (a private chat
    for a positive id, else a supergroup), with its recipient columns (``channel``,
    ``address``, since migration 0009) unless ``recipient`` is False."""

    def add(chat_id: int) -> object:
        values: dict[str, object] = {
            "chat_id": chat_id, "type": "private" if chat_id > 0 else "supergroup",
            "title": "c", "paused": False, "failures": 0, "link_preview": False,
            "created_at": now,
        }  # fmt: skip
        if recipient:
            values |= {"channel": "telegram", "address": str(chat_id)}
        return conn.execute(insert(chats).values(**values))

    return add


def queued_for_followers(
    conn: Connection, chat_ids: Iterable[int], add_chat: Callable[[int], object], now: datetime
) -> int:
    """Topic 1 ("kien-thuy"), one article ("K1") and, for each chat (its row written by
    ``add_chat(chat_id)`` in the old revision's columns), a subscription to the topic and a
    pending delivery of the article: a state DB with people waiting for alerts. Returns the
    article's id. (These tables' columns here exist since 0001.)"""
    conn.execute(insert(topics).values(
        id=1, slug="kien-thuy", title="Kiến Thụy", description="", query='"Kiến Thụy"',
        enabled=True, origin="cli", created_at=now, updated_at=now,
    ))  # fmt: skip
    article_id = int(conn.execute(insert(articles).values(
        source_key="K1", version=now, url="https://example.vn/1.html", title="Tin 1", tags=[],
        published_at=now, search_text="", source_cursor=now, first_seen_at=now,
        last_changed_at=now,
    ).returning(articles.c.id)).scalar_one())  # fmt: skip
    for chat_id in chat_ids:
        add_chat(chat_id)
        conn.execute(insert(subscriptions).values(chat_id=chat_id, topic_id=1, created_at=now))
        conn.execute(insert(deliveries).values(
            chat_id=chat_id, article_id=article_id, topics=["Kiến Thụy"], state="pending",
            attempts=0, ambiguous=0, plain_text=False, due_at=now, created_at=now,
        ))  # fmt: skip
    return article_id


def held_columns(engine: Any, table: Any) -> Any:
    """``SELECT`` of the columns of ``table`` (a ``db.schema`` table) that the database holds
    at its revision: a later migration's column (0028's ``deliveries.sent_chat_id``) is not
    there yet in a DB stopped before it."""
    from sqlalchemy import inspect, select

    names = {c["name"] for c in inspect(engine).get_columns(table.name)}
    return select(*[c for c in table.c if c.name in names])
