"""Archive search index over ``articles.search_text`` (issue 7, "Large archives").

Preview and backfill find candidate articles through this index and re-check them with the
matcher (``feedsvc.matching.candidates``).  ``search_text`` already holds normalised, lower-case
syllable keys (``kiên1 thuy5 kien thuy``), so both indexes keep tokens as they are:

* PostgreSQL: a GIN index on ``to_tsvector('simple', search_text)`` — the ``simple`` config does
  no stemming and no stop words; ``thuy5`` and ``kiên1`` stay single lexemes.
* SQLite: an FTS5 external-content table (no second copy of the text) with the ``unicode61``
  tokenizer and ``remove_diacritics 0`` (letters and digits are token characters, so ``kiên1``
  is one token), kept in sync by triggers and filled from the existing rows.

The object names are listed in ``feedsvc.db.schema.SEARCH_INDEX_OBJECTS`` (not SQLAlchemy
metadata, which cannot describe either), so the schema comparison knows to skip them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:55:00
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PG_INDEX = "ix_articles_search_text_tsv"
FTS_TABLE = "articles_search"

_SQLITE_UP = [
    f"""CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(
        search_text, content='articles', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0')""",
    f"""CREATE TRIGGER {FTS_TABLE}_ai AFTER INSERT ON articles BEGIN
        INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    f"""CREATE TRIGGER {FTS_TABLE}_ad AFTER DELETE ON articles BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    END""",
    f"""CREATE TRIGGER {FTS_TABLE}_au AFTER UPDATE OF id, search_text ON articles BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
        INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON articles "
            "USING gin (to_tsvector('simple'::regconfig, search_text))"
        )
        op.execute("ANALYZE articles")  # statistics for the new expression (planner estimates)
    elif dialect == "sqlite":
        for statement in _SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
    elif dialect == "sqlite":
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
