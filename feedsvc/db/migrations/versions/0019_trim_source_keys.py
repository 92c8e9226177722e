"""Stored source keys trimmed by the parser's rule; two articles the trim makes one merged.

``parse_article`` trims ``source_key`` now; versions before stored it as given. An article
stored as ``" abc "`` became a second article ``"abc"`` at its next edit in the CMS (the
trimmed key did not find the stored one), alerting its subscribers again. This migration trims
every stored key with :func:`feedsvc.keys.trim_key` (the parser's own rule: tabs, line breaks,
NBSP, the Unicode spaces, a BOM) in the tables that hold one:

* ``articles`` (unique): where two rows trim to one key, the newer version survives
  (:func:`feedsvc.keys.survivor`, :mod:`feedsvc.versions`' rule); the other's matches move to
  it, its deliveries too (one per chat: the one that reached the chat is kept, the other
  dropped with its follow-ups, :func:`feedsvc.keys.kept_alert`), an editor's hide and the
  earliest ``first_seen_at`` are carried over; then it is deleted (its search index rows with
  it, by the FTS trigger on SQLite);
* ``source_articles``, the built-in source (unique): the newer version survives, the other
  row is deleted (an article ingested from it names the kept row: ``articles.source_id``);
* ``ingest_quarantine`` (not unique: keyed by the source row id): trimmed.

A key that trims to nothing (invisible characters only) is left as it is. When any article's
key changed, the feed watermark (0015) is cleared so the next start renders every feed (a feed
item's id is built from its key). Every change is counted in one log line. Downgrade: nothing
to undo (the untrimmed keys were never wanted; merged rows are not split again).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 13:15:00
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from feedsvc.db.schema import UTCDateTime
from feedsvc.keys import KEY_SPACE, Alert, Held, kept_alert, survivor, trim_key

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

log = logging.getLogger("feedsvc.migrations.0019")


@dataclass
class Counts:
    trimmed: int = 0  # rows whose key was trimmed in place
    merged: int = 0  # rows deleted into the survivor of their key
    matches: int = 0  # article-topic matches moved to a survivor
    alerts: int = 0  # deliveries moved to a survivor
    dropped: int = 0  # deliveries dropped: the chat had one of the survivor already
    hides: int = 0  # editors' hides carried over to a survivor
    left: list[int] = field(default_factory=list)  # ids whose key trims to nothing
    into: dict[int, tuple[int, str]] = field(default_factory=dict)  # deleted id: (kept, key)


def upgrade() -> None:
    conn = op.get_bind()
    now = datetime.now(UTC)
    source = _table(conn, "source_articles", now, dependants=False)
    articles = _table(conn, "articles", now, dependants=True)
    quarantine = _quarantine(conn)
    _follow_source_rows(conn, source)
    if articles.trimmed or articles.merged:
        conn.execute(sa.text("DELETE FROM feed_watermark"))  # feed item ids follow the keys
    for name, c in (("articles", articles), ("source_articles", source)):
        if c.trimmed or c.merged or c.left:
            log.warning(
                "0019: %s: %d key(s) trimmed, %d row(s) merged into the newer version of their "
                "key (%d match(es) and %d alert(s) moved, %d alert(s) a chat had twice "
                "dropped, %d hide(s) carried over); %d key(s) of invisible characters only "
                "left as they are%s",
                name, c.trimmed, c.merged, c.matches, c.alerts, c.dropped, c.hides,
                len(c.left), f" (ids {c.left[:20]})" if c.left else "",
            )  # fmt: skip
    if quarantine:
        log.info("0019: ingest_quarantine: %d key(s) trimmed", quarantine)


def downgrade() -> None:
    pass  # nothing to undo: see the module docstring


def _untrimmed(conn: sa.Connection, table: str) -> list[tuple[int, str]]:
    """Rows whose key has a :data:`KEY_SPACE` character at an edge: found by the backend's own
    trim over the same characters (an index-free scan, but no row sent that needs nothing),
    then checked with :func:`trim_key` itself."""
    trim = "btrim" if conn.dialect.name == "postgresql" else "trim"
    rows = conn.execute(
        sa.text(f"SELECT id, source_key FROM {table} WHERE source_key <> {trim}(source_key, :s)"),
        {"s": KEY_SPACE},
    ).tuples()
    return [(int(i), k) for i, k in rows if k is not None and trim_key(k) != k]


_COLUMNS = {  # per table: the version, withdrawn and last-written expressions
    "articles": ("version", "withdrawn_at IS NOT NULL", "last_changed_at"),
    "source_articles": ("COALESCE(updated_at, published_at)", "withdrawn", "changed_at"),
}  # (and published_at: a scheduled article's own time is no version, versions.undated)


def _table(conn: sa.Connection, table: str, now: datetime, *, dependants: bool) -> Counts:
    """Trim ``table``'s keys; where several rows trim to one key, keep the newer version
    (:func:`feedsvc.keys.survivor`), moving the others' ``dependants`` to it (articles)."""
    counts = Counts()
    groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for id_, key in _untrimmed(conn, table):
        if trim_key(key):
            groups[trim_key(key)].append((id_, key))
        else:
            counts.left.append(id_)
    version, withdrawn, written = _COLUMNS[table]
    stmt = sa.text(
        f"SELECT id, source_key, {version} AS v, {withdrawn} AS w, {written} AS t, "
        f"published_at AS p FROM {table} WHERE source_key IN :keys"
    ).columns(
        sa.column("id", sa.BigInteger), sa.column("source_key", sa.String),
        sa.column("v", UTCDateTime), sa.column("w", sa.Boolean), sa.column("t", UTCDateTime),
        sa.column("p", UTCDateTime),
    ).bindparams(sa.bindparam("keys", expanding=True))  # fmt: skip
    for key, members in groups.items():
        keys = [key, *(k for _, k in members)]
        held = [
            Held(int(i), v, bool(w), t, k == key, p)
            for i, k, v, w, t, p in conn.execute(stmt, {"keys": keys}).tuples()
        ]
        keep = survivor(held, now)
        for other in held:
            if other.id != keep.id:
                if dependants:
                    _merge_article(conn, other.id, keep.id, counts)
                conn.execute(sa.text(f"DELETE FROM {table} WHERE id = :i"), {"i": other.id})
                counts.merged += 1
                counts.into[other.id] = (keep.id, key)
        if not keep.trimmed:
            conn.execute(
                sa.text(f"UPDATE {table} SET source_key = :k WHERE id = :i"),
                {"k": key, "i": keep.id},
            )
            counts.trimmed += 1
    return counts


def _merge_article(conn: sa.Connection, loser: int, winner: int, counts: Counts) -> None:
    """Move what refers to article ``loser`` to ``winner`` (before ``loser`` is deleted)."""
    params = {"l": loser, "w": winner}
    moved = conn.execute(
        sa.text(
            "INSERT INTO article_topics (article_id, topic_id, terms, matched_at) "
            "SELECT :w, topic_id, terms, matched_at FROM article_topics WHERE article_id = :l "
            "AND topic_id NOT IN (SELECT topic_id FROM article_topics WHERE article_id = :w)"
        ),
        params,
    )
    counts.matches += max(moved.rowcount, 0)
    conn.execute(sa.text("DELETE FROM article_topics WHERE article_id = :l"), params)
    _move_alerts(conn, loser, winner, counts)
    _carry_over(conn, loser, winner, counts)


def _move_alerts(conn: sa.Connection, loser: int, winner: int, counts: Counts) -> None:
    """The loser's deliveries go to the winner; a chat with one of each keeps one (a chat holds
    one delivery per article: :func:`feedsvc.keys.kept_alert`)."""
    stmt = sa.text(
        "SELECT id, chat_id, (message_id IS NOT NULL OR state = 'sent') FROM deliveries "
        "WHERE article_id = :a"
    )
    theirs = {c: Alert(int(i), bool(s), True) for i, c, s in conn.execute(stmt, {"a": winner})}
    for i, chat, sent in conn.execute(stmt, {"a": loser}).tuples().all():
        mine = Alert(int(i), bool(sent), False)
        other = theirs.get(chat)
        if other is not None:
            kept = kept_alert(mine, other)
            gone = other if kept is mine else mine
            conn.execute(
                sa.text("DELETE FROM alert_followups WHERE delivery_id = :d"), {"d": gone.id}
            )
            conn.execute(sa.text("DELETE FROM deliveries WHERE id = :d"), {"d": gone.id})
            counts.dropped += 1
            if kept is other:
                continue
        conn.execute(
            sa.text("UPDATE deliveries SET article_id = :w WHERE id = :d"), {"w": winner, "d": i}
        )
        counts.alerts += 1


def _carry_over(conn: sa.Connection, loser: int, winner: int, counts: Counts) -> None:
    """An editor's hide of the loser (the winner not hidden) and its earlier first sight."""
    hidden = conn.execute(
        sa.text(
            "UPDATE articles SET hidden_at = (SELECT hidden_at FROM articles WHERE id = :l), "
            "hidden_reason = (SELECT hidden_reason FROM articles WHERE id = :l), "
            "hidden_by = (SELECT hidden_by FROM articles WHERE id = :l) "
            "WHERE id = :w AND hidden_at IS NULL "
            "AND EXISTS (SELECT 1 FROM articles WHERE id = :l AND hidden_at IS NOT NULL)"
        ),
        {"l": loser, "w": winner},
    )
    counts.hides += max(hidden.rowcount, 0)
    conn.execute(
        sa.text(
            "UPDATE articles SET first_seen_at = (SELECT first_seen_at FROM articles "
            "WHERE id = :l) WHERE id = :w AND first_seen_at > (SELECT first_seen_at "
            "FROM articles WHERE id = :l)"
        ),
        {"l": loser, "w": winner},
    )


def _follow_source_rows(conn: sa.Connection, source: Counts) -> None:
    """An article ingested from a built-in source row deleted here names the row kept instead
    (``articles.source_id``): reconciliation withdraws an article whose source row is gone.
    The two tables choose alike (the same versions) but for a tie broken by write times."""
    for deleted, (kept, key) in source.into.items():
        conn.execute(
            sa.text(
                "UPDATE articles SET source_id = :k WHERE source_id = :d AND source_key = :key"
            ),
            {"k": str(kept), "d": str(deleted), "key": key},
        )


def _quarantine(conn: sa.Connection) -> int:
    rows = _untrimmed(conn, "ingest_quarantine")
    for id_, key in rows:
        conn.execute(
            sa.text("UPDATE ingest_quarantine SET source_key = :k WHERE id = :i"),
            {"k": trim_key(key) or key, "i": id_},
        )
    return len(rows)
