"""The delivery log: outbox rows as the admin reads them (web admin, API, CLI ``status``).

Read-only listings over the same table :mod:`feedsvc.store.deliveries` works: each row joined
with its chat, its article and the follow-ups owed on it (SPEC §10), filtered by state (or
:data:`DEAD`, every dead letter), chat, topic or channel, newest first and paged: by offset for
the API's ``limit``/``offset`` (SPEC §9), by keyset for the admin (:func:`page_deliveries`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select

from feedsvc.db.schema import alert_followups, article_topics, articles, chats, deliveries
from feedsvc.delivery_states import DEAD_STATES, NOT_ERRORS, waits_because
from feedsvc.recipient_names import chat_name
from feedsvc.store.deliveries import of_channel

DEAD = "dead"  # a listing filter: every terminal state but ``sent`` (what ``resend`` accepts)


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """One outbox row as the admin sees it: the article, the chat and what happened."""

    id: int
    chat_id: int
    chat_title: str | None
    article_id: int
    article_title: str
    article_url: str
    topics: list[str]
    state: str
    attempts: int
    error: str | None
    due_at: datetime
    created_at: datetime
    finished_at: datetime | None
    # follow-ups on the sent alert (SPEC §10): outcome (or pending/working) and when it ended
    # deleted | edited | gone | kept | cancelled | failed | unreachable (an old group's message)
    retraction: str | None = None
    retracted_at: datetime | None = None
    correction: str | None = None  # edited | unchanged | gone | kept | cancelled | failed | …
    corrected_at: datetime | None = None
    channel: str = "telegram"
    #: why it waits to be tried again, when unfinished (``delivery_states.RETRY_KINDS``)
    retry_kind: str | None = None
    #: the chat's own address (``chats.address``: an Apprise URL is a secret, never shown as
    #: it is; :attr:`recipient` is how operators see it)
    address: str | None = None

    @property
    def recipient(self) -> str:
        """The chat as operators know it (``zalo chat zb``, an Apprise URL masked):
        :func:`feedsvc.recipient_names.chat_name`."""
        return chat_name(self.channel, self.address, self.chat_id)

    @property
    def dead(self) -> bool:
        """A dead letter: finished without being sent (what ``resend`` accepts)."""
        return self.state in DEAD_STATES


def _rows_select() -> Any:
    retract, correct = alert_followups.alias("retract"), alert_followups.alias("correct")
    return (
        select(
            deliveries.c.id, deliveries.c.chat_id, chats.c.title, deliveries.c.article_id,
            articles.c.title, articles.c.url, deliveries.c.topics, deliveries.c.state,
            deliveries.c.attempts, deliveries.c.error, deliveries.c.due_at,
            deliveries.c.created_at, deliveries.c.finished_at,
            func.coalesce(retract.c.outcome, retract.c.state), retract.c.finished_at,
            func.coalesce(correct.c.outcome, correct.c.state), correct.c.finished_at,
            chats.c.channel, deliveries.c.retry_kind, chats.c.address,
        )
        .join(chats, chats.c.chat_id == deliveries.c.chat_id)
        .join(articles, articles.c.id == deliveries.c.article_id)
        .outerjoin(retract, and_(retract.c.delivery_id == deliveries.c.id,
                                 retract.c.kind == "retract"))
        .outerjoin(correct, and_(correct.c.delivery_id == deliveries.c.id,
                                 correct.c.kind == "correct"))
    )  # fmt: skip


def _to_rows(result: Any) -> list[DeliveryRow]:
    out = []
    for row in result.tuples():
        values = list(row)
        values[6] = list(values[6] or [])
        row = DeliveryRow(*values)
        out.append(replace(row, retry_kind=waits_because(row.state, row.retry_kind)))
    return out


def _listing_filter(
    stmt: Any,
    state: str | None,
    chat_id: int | None,
    topic_id: int | None,
    channel: str | None = None,
) -> Any:
    if state == DEAD:
        stmt = stmt.where(deliveries.c.state.in_(DEAD_STATES))
    elif state is not None:
        stmt = stmt.where(deliveries.c.state == state)
    if chat_id is not None:
        stmt = stmt.where(deliveries.c.chat_id == chat_id)
    if channel is not None:
        stmt = stmt.where(of_channel(channel))
    if topic_id is not None:  # the delivered article matched this topic
        stmt = stmt.where(
            select(article_topics.c.article_id)
            .where(
                article_topics.c.article_id == deliveries.c.article_id,
                article_topics.c.topic_id == topic_id,
            )
            .exists()
        )
    return stmt


def list_deliveries(
    conn: Connection,
    *,
    state: str | None = None,
    chat_id: int | None = None,
    topic_id: int | None = None,
    channel: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[DeliveryRow], int]:
    """Newest first, with the total matching the filters (for paging). ``state`` may be
    :data:`DEAD`."""
    total_stmt = _listing_filter(
        select(func.count()).select_from(deliveries), state, chat_id, topic_id, channel
    )
    total = int(conn.execute(total_stmt).scalar_one())
    stmt = _rows_select().order_by(deliveries.c.id.desc()).limit(limit).offset(offset)
    stmt = _listing_filter(stmt, state, chat_id, topic_id, channel)
    return _to_rows(conn.execute(stmt)), total


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    """One page of the log by keyset (:func:`page_deliveries`): ``rows`` newest first;
    ``newer``: how many rows matching the filters are newer than the first (its place in the
    log, 0 on the newest page); ``older``: whether any is older than the last; ``total``."""

    rows: list[DeliveryRow]
    total: int
    newer: int
    older: bool


def page_deliveries(
    conn: Connection,
    *,
    state: str | None = None,
    chat_id: int | None = None,
    topic_id: int | None = None,
    channel: str | None = None,
    limit: int = 100,
    before: int | None = None,
    after: int | None = None,
) -> DeliveryPage:
    """``limit`` rows of the log newest first, by keyset on the id (rows are numbered as they
    are queued): ``before`` an id, the rows older than it (the next page); ``after`` an id, the
    ``limit`` rows just newer than it (the page before); neither, the newest. Why not an
    offset: rows arrive while an admin pages, and page 2 read 25 s after page 1 began with
    rows page 1 had shown (``#26 #25 #24`` after ``… #25``); a keyset page begins where the
    last one ended whatever arrives."""

    def where(stmt: Any) -> Any:
        return _listing_filter(stmt, state, chat_id, topic_id, channel)

    def count(*clauses: Any) -> int:
        stmt = where(select(func.count()).select_from(deliveries)).where(*clauses)
        return int(conn.execute(stmt).scalar_one())

    stmt = where(_rows_select())
    if after is not None:
        stmt = stmt.where(deliveries.c.id > after).order_by(deliveries.c.id.asc())
        rows = _to_rows(conn.execute(stmt.limit(limit)))[::-1]
    else:
        if before is not None:
            stmt = stmt.where(deliveries.c.id < before)
        rows = _to_rows(conn.execute(stmt.order_by(deliveries.c.id.desc()).limit(limit)))
    total = count()
    if not rows:  # past either end: where it would have begun
        edge = before if before is not None else after
        newer = count(deliveries.c.id >= edge) if edge is not None else 0
        return DeliveryPage(rows, total, newer, False)
    newer = count(deliveries.c.id > rows[0].id)
    return DeliveryPage(rows, total, newer, count(deliveries.c.id < rows[-1].id) > 0)


def nth_id(
    conn: Connection, offset: int, *, state: str | None = None, channel: str | None = None
) -> int | None:
    """The id of the log's row ``offset`` rows from the newest (filtered): where an old
    ``?page=`` link's page began, read once to send it to its keyset page."""
    stmt = _listing_filter(select(deliveries.c.id), state, None, None, channel)
    stmt = stmt.order_by(deliveries.c.id.desc()).offset(offset).limit(1)
    found = conn.execute(stmt).scalar()
    return None if found is None else int(found)


def delivery_state(conn: Connection, id_: int) -> str | None:
    return conn.execute(select(deliveries.c.state).where(deliveries.c.id == id_)).scalar()


def delivery_channel(conn: Connection, id_: int) -> tuple[str, str] | None:
    """``(state, channel of its recipient)`` of delivery ``id_``; None when there is none."""
    stmt = (
        select(deliveries.c.state, chats.c.channel)
        .join(chats, chats.c.chat_id == deliveries.c.chat_id)
        .where(deliveries.c.id == id_)
    )
    row = conn.execute(stmt).first()
    return None if row is None else (str(row[0]), str(row[1]))


def recent_errors(conn: Connection, limit: int = 10) -> list[DeliveryRow]:
    """The latest deliveries that recorded an error (retrying or dead), newest first; not one
    that ended without a message on purpose (``delivery_states.NOT_ERRORS``: withdrawn by an
    editor's takedown, unsubscribed), whose ``error`` is a note, not a failure."""
    stmt = (
        _rows_select()
        .where(deliveries.c.error.is_not(None), deliveries.c.state.not_in(NOT_ERRORS))
        .order_by(func.coalesce(deliveries.c.finished_at, deliveries.c.due_at).desc())
        .limit(limit)
    )
    return _to_rows(conn.execute(stmt))
