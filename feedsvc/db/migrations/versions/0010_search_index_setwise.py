"""SQLite: the archive search index is filled per batch by ingest, not by a row trigger
(issue 17 §2).

FTS5 flushes its in-memory pending terms whenever a statement that writes it opens a savepoint,
which a trigger firing once per inserted row does: every article became its own tiny index
segment, and indexing cost ~3.5x what one ``INSERT … SELECT`` per batch costs
(``bench/ingest.py``). ``feedsvc.store.articles.insert_articles`` — the only code that inserts
into ``articles`` — now writes the index rows of a batch in one statement, in the same
transaction. The update and delete triggers stay: they fire for single rows, where the
trigger costs nothing extra. PostgreSQL's GIN index is maintained by the database as before.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 06:20:00
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

FTS_TABLE = "articles_search"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_ai")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"""CREATE TRIGGER {FTS_TABLE}_ai AFTER INSERT ON articles BEGIN
            INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
        END"""
        )
