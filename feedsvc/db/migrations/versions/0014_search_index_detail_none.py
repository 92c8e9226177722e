"""SQLite: the archive search index keeps no token positions (FTS5 ``detail=none``; issue 17 §2,
ingest throughput).

The only query against ``articles_search`` is :func:`feedsvc.store.article_search.candidate_ids`:
an OR of AND-groups of quoted single tokens (``("a" AND "b") OR "c"``) — no phrases, ``NEAR``,
column filters or ranking. So the index only has to say which rows hold a token, and FTS5's
``detail=none`` (no positions or columns per token) is enough. On 4,000 ~2 KB bench articles
in batches of 100 (``bench/search_index.py``: CPU time of ``insert_articles``, the ``articles``
rows and their index rows; shared 2-core machine, median of 5 and 7 rounds): default 132 and
175 µs/article, ``detail=none`` 106 and 143, against 70 and 94 for the same statements with no
FTS5 behind them — the index's own cost down by ~40 %; the index 4.4 → 1.3 MB (database
25.2 → 21.2 MB); lookups as fast. An earlier bare ``sqlite3`` experiment: 84 → 51 µs/article,
13.1 → 8.9 MB.

A quoted key that the tokenizer splits would be a phrase, which ``detail=none`` refuses
(``fts5: phrase queries are not supported``): :func:`feedsvc.matching.candidates.indexable_key`
leaves out the few letters ``unicode61`` splits on, so every key stays one token.

The table is dropped and created again with the same tokenizer (an FTS5 table's options cannot
be altered), its update and delete triggers with it (as 0002 made them; 0010 dropped only the
insert trigger), and the existing rows are indexed again (``'rebuild'``: 20,000 articles in
~1 s, under the migration's write lock). The shadow tables are the same (``_data``, ``_idx``,
``_docsize``, ``_config``), so ``feedsvc.db.schema``'s list holds. PostgreSQL's GIN index (and
any other database): nothing to do.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 13:10:00
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

FTS_TABLE = "articles_search"
_TOKENIZE = "tokenize='unicode61 remove_diacritics 0'"


def _table(options: str) -> str:
    return f"""CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(
        search_text, content='articles', content_rowid='id',
        {options})"""


# as 0002 created them (0010 dropped only the insert trigger `_ai`)
_TRIGGERS = [
    f"""CREATE TRIGGER {FTS_TABLE}_ad AFTER DELETE ON articles BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    END""",
    f"""CREATE TRIGGER {FTS_TABLE}_au AFTER UPDATE OF id, search_text ON articles BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
        INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
]


def _recreate(options: str) -> None:
    for suffix in ("ad", "au"):
        op.execute(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{suffix}")
    op.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    op.execute(_table(options))
    for statement in _TRIGGERS:
        op.execute(statement)
    op.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _recreate(f"{_TOKENIZE}, detail=none")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _recreate(_TOKENIZE)
