"""``source_key_nfc``: a stored key's NFC form where it differs, so a key typed in another
Unicode form finds it.

Keys are stored as the source sent them (trimmed, migration 0019), never normalised: a CMS's
``Tin-Kiến-Thụy-42`` may be decomposed (NFD: ``e`` + U+0302 + U+0301). An editor types it
composed (NFC: every keyboard, most copy and paste) and the two look the same, but compared
code point by code point they differed: ``articles hide`` found no article, ``--pending``
recorded a hide for a key that never arrives, and the article stayed public. The lookups now
compare canonical forms (``feedsvc.store.article_keys``); this column makes that an index probe
on each table holding keys a person types or ingest matches: ``articles``, ``pending_hides``
and the built-in ``source_articles``.

It holds ``unicodedata.normalize("NFC", source_key)`` when that differs from the key, else
NULL: nearly every key is NFC already (ASCII ones always), so the index stays small, and a row
written without the column by anything older is right as it is unless its key is not NFC —
which this upgrade fills in for every existing row. The keys themselves are not touched.
Downgrade: the columns and their indexes go.

The column is ``VARCHAR(765)``, not ``source_key``'s 255: NFC can make a text longer. The
composition exclusions (U+0958 क़ and the other Devanagari/Bengali/Gurmukhi nukta letters,
Hebrew presentation forms such as U+FB2C, U+0344) are DEcomposed by NFC, so 130 × U+0958 — a
valid 130-character key — has a 260-character NFC and failed this upgrade on PostgreSQL
(``StringDataRightTruncation``), and import, ingest and hides ahead with it. Unicode bounds
the growth: NFC is at most 3 × the text's length in code points and in UTF-8 bytes (UAX #15
Unicode Normalization Forms, and the Unicode Normalization FAQ, "maximum expansion factors":
NFC ×3, e.g. U+1D160 → 3 code points), a bound the stability policy keeps. 3 × 255 = 765, a
bounded type rather than ``TEXT``: every backend indexes it (MariaDB: 765 × 4 bytes is inside
InnoDB's 3072-byte key; PostgreSQL compresses a B-tree entry over ~512 bytes) and the
lookups compare it as they compare ``source_key``.

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-13 00:00:00
"""

import logging
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None

log = logging.getLogger("feedsvc.migrations.0041")

TABLES = ("articles", "pending_hides", "source_articles")
BATCH = 500  # rows per UPDATE executemany


def _nfc(key: str) -> str | None:
    """The column's value (``feedsvc.keys.key_nfc`` as of this revision: written out, so a
    later change there cannot change what this upgrade wrote)."""
    if key.isascii():
        return None
    form = unicodedata.normalize("NFC", key)
    return None if form == key else form


def upgrade() -> None:
    for name in TABLES:
        op.add_column(name, sa.Column("source_key_nfc", sa.String(765), nullable=True))
        op.create_index(f"ix_{name}_source_key_nfc", name, ["source_key_nfc"])
    conn = op.get_bind()
    filled = {name: _fill(conn, name) for name in TABLES}
    if any(filled.values()):
        said = ", ".join(f"{name} {count}" for name, count in filled.items())
        log.info("0041: keys stored in another Unicode form than NFC: %s", said)


def _fill(conn: sa.Connection, name: str) -> int:
    """Fill the column for the rows of ``name`` whose key is not NFC; how many. Only the keys
    are read (each key once, streamed), and only those rows written."""
    table = sa.table(name, sa.column("source_key", sa.String), sa.column("source_key_nfc"))
    keys = conn.execute(sa.select(table.c.source_key)).scalars()
    changed = [{"k": key, "n": form} for key in keys if (form := _nfc(key)) is not None]
    stmt = (
        sa.update(table)
        .where(table.c.source_key == sa.bindparam("k"))
        .values(source_key_nfc=sa.bindparam("n"))
    )
    for start in range(0, len(changed), BATCH):
        conn.execute(stmt, changed[start : start + BATCH])
    return len(changed)


def downgrade() -> None:
    for name in TABLES:
        op.drop_index(f"ix_{name}_source_key_nfc", table_name=name)
        # no batch rebuild: a rebuilt ``articles`` on SQLite would cascade into its matches
        # and deliveries (0040's downgrade alike)
        op.execute(f"ALTER TABLE {name} DROP COLUMN source_key_nfc")
