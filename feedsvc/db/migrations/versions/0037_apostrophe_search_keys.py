"""The archive search keys of stored articles holding ``ʼ`` (U+02BC) or its kin, made again.

Since ``ʼ`` and the other apostrophes Unicode files as letters (``ʹ ʺ ʻ ʽ ʾ ʿ ˈ ˮ Ꞌ ꞌ``,
:data:`feedsvc.matching.letters.APOSTROPHE_LETTERS`) separate syllables, ``Kiếnʼ Thụy`` reads
"kiến thụy". An article stored before kept the keys of the old reading in ``search_text``
(``kiếnʼ``), so search feeds, previews and backfill did not find it for ``"Kiến Thụy"`` until a
new version of it was ingested, which for most of an archive never happens. This recomputes
``search_text`` as ingest now writes it (:func:`feedsvc.matching.search_keys` of the article's
title, summary, body, tags, section and author) for those articles only: the rows whose text
holds one of those characters (a tag's as the JSON column stores it, ``\\u02bc``). SQLite's
FTS5 index follows by its update trigger (migration 0014); PostgreSQL's GIN index by itself.

Rows are read by id in batches of :data:`_CHUNK` (keyset, never an offset) and written per
batch, only where the keys changed; nothing else of a row is touched (its feeds show the same
text: ``last_changed_at`` stays). On 20,000 such articles: seconds. The downgrade leaves the
new keys (the old reading is the bug; an older feedsvc re-checks every candidate anyway).

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-05 20:40:00
"""

import json

import sqlalchemy as sa
from alembic import op

from feedsvc.matching.letters import APOSTROPHE_LETTERS

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None

#: Rows read and written per round trip.
_CHUNK = 500

_TEXT_COLUMNS = ("title", "summary", "body", "section", "author")


def _affected(table: sa.TableClause) -> sa.ColumnElement[bool]:
    """A row holding one of the letters: in a text column, or in ``tags`` as JSON writes it
    (``json.dumps`` escapes it, ``\\u02bc``; a hand-written row may hold the letter itself).
    ``autoescape``: the pattern's ``\\`` is a character, in PostgreSQL's ``LIKE`` too."""
    tags = sa.cast(table.c.tags, sa.Text)
    found: list[sa.ColumnElement[bool]] = []
    for letter in APOSTROPHE_LETTERS:
        escaped = json.dumps(letter)[1:-1]
        found.extend(table.c[name].contains(letter, autoescape=True) for name in _TEXT_COLUMNS)
        found.append(tags.contains(letter, autoescape=True))
        found.append(tags.contains(escaped, autoescape=True))
    return sa.or_(*found)


def _tags(value: object) -> list[str]:
    """The ``tags`` column as read (a list, or JSON text where a driver leaves it so)."""
    if isinstance(value, str):
        value = json.loads(value)
    return [t for t in value if isinstance(t, str)] if isinstance(value, list) else []


def upgrade() -> None:
    # the matcher's normaliser is imported here, not when Alembic reads every revision's header
    from feedsvc.matching import search_keys
    from feedsvc.matching.document import build_document

    conn = op.get_bind()
    table = sa.table(
        "articles",
        sa.column("id"),
        sa.column("search_text"),
        sa.column("tags", sa.JSON()),
        *(sa.column(name) for name in _TEXT_COLUMNS),
    )
    write = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("_id"))
        .values(search_text=sa.bindparam("_keys"))
    )
    last = None
    while True:
        query = sa.select(table).where(_affected(table)).order_by(table.c.id).limit(_CHUNK)
        if last is not None:
            query = query.where(table.c.id > last)
        rows = conn.execute(query).all()
        if not rows:
            return
        last = rows[-1].id
        changed = []
        for row in rows:
            doc = build_document(
                row.title, row.summary, row.body, _tags(row.tags), row.section, row.author
            )
            keys = search_keys(doc)
            if keys != row.search_text:
                changed.append({"_id": row.id, "_keys": keys})
        if changed:
            conn.execute(write, changed)


def downgrade() -> None:
    pass
