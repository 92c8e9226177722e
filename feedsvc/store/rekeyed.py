"""A CMS row that now carries another ``source_key`` (tester 3 F7): the same row, same id, a
slug fixed or a key derived from it. Stored as a second article, both stayed public and every
subscriber was alerted twice ("never twice", SPEC §6). The article held from that row under
its old key is handed over to the key the row carries now, in ingest's transaction:

* its alerts (deliveries, with their follow-ups) move to the new key's article, so the outbox
  skips those chats (one delivery per chat and article) and a later correction or takedown
  edits the message the chat holds; a chat that holds one of each keeps both, the old one
  retracted with the old article;
* an editor's hide moves with it (a takedown does not come undone by a slug fix);
* the old article is withdrawn as ``re-keyed``: it leaves every feed; with no alert left it
  retracts nothing.

An article withdrawn as ``deleted`` or ``re-keyed`` is not handed over again (a row id a
database reuses after a deletion is another row). Needs the ``articles.source_id`` index
(migration 0024). Only what ingest stores is looked at: the old key's article goes when the
row is read with its new key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, not_, or_, select, update

from feedsvc.db.schema import articles, deliveries

#: ``articles.withdrawn_reason`` of an article whose row carries another key now
REKEYED = "re-keyed"
_GONE = ("deleted", REKEYED)
CHUNK = 500


@dataclass(frozen=True, slots=True)
class HeldFrom:
    """An article held from a source row under a key the row no longer carries."""

    id: int
    source_key: str


def held_from_rows(conn: Connection, rows: Mapping[str, str]) -> dict[str, HeldFrom]:
    """``source id → article`` held from these rows (``rows``: source id → the key the row
    carries now) under another key, not withdrawn as deleted or re-keyed; indexed reads."""
    ids = list(rows)
    found: dict[str, HeldFrom] = {}
    for start in range(0, len(ids), CHUNK):
        stmt = select(articles.c.id, articles.c.source_id, articles.c.source_key).where(
            articles.c.source_id.in_(ids[start : start + CHUNK]),
            or_(articles.c.withdrawn_reason.is_(None), articles.c.withdrawn_reason.not_in(_GONE)),
        )  # by article id: of two such articles (an id given twice) every call finds the same
        for id_, sid, key in conn.execute(stmt.order_by(articles.c.id)).tuples():
            if key != rows[sid]:
                found[sid] = HeldFrom(int(id_), key)
    return found


def held_pairs(conn: Connection, ids: Sequence[str]) -> set[tuple[str, str]]:
    """``(source id, key)`` of every article held from these rows, not withdrawn as deleted
    or re-keyed: what :func:`held_from_rows` may pick from, each of them (an id given twice
    holds several; ``ingest.shared_ids`` asks the source which of them a row still carries).
    Indexed reads, :data:`CHUNK` ids at a time."""
    found: set[tuple[str, str]] = set()
    for start in range(0, len(ids), CHUNK):
        stmt = select(articles.c.source_id, articles.c.source_key).where(
            articles.c.source_id.in_(list(ids[start : start + CHUNK])),
            or_(articles.c.withdrawn_reason.is_(None), articles.c.withdrawn_reason.not_in(_GONE)),
        )
        found.update((str(sid), str(key)) for sid, key in conn.execute(stmt).tuples())
    return found


def hand_over(conn: Connection, old: int, new: int, now: datetime) -> None:
    """Hand article ``old`` over to ``new`` (see the module docstring), in the caller's
    transaction."""
    taken = select(deliveries.c.chat_id).where(deliveries.c.article_id == new).scalar_subquery()
    conn.execute(
        update(deliveries)
        .where(deliveries.c.article_id == old, not_(deliveries.c.chat_id.in_(taken)))
        .values(article_id=new)
    )
    hide = conn.execute(
        select(
            articles.c.hidden_at, articles.c.hidden_reason, articles.c.hidden_by,
            articles.c.hidden_unpublic,
        ).where(articles.c.id == old, articles.c.hidden_at.is_not(None))
    ).first()  # fmt: skip
    if hide is not None:
        conn.execute(
            update(articles)
            .where(articles.c.id == new, articles.c.hidden_at.is_(None))
            .values(
                hidden_at=hide.hidden_at, hidden_reason=hide.hidden_reason,
                hidden_by=hide.hidden_by, hidden_unpublic=hide.hidden_unpublic,
            )
        )  # fmt: skip
    conn.execute(
        update(articles)
        .where(articles.c.id == old, articles.c.withdrawn_at.is_(None))
        .values(withdrawn_at=now)
    )
    conn.execute(
        update(articles)
        .where(articles.c.id == old)
        .values(withdrawn_reason=REKEYED, last_changed_at=now)
    )
