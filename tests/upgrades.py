"""Set-up the migration tests share: a state DB stopped at an old revision and filled as that
revision's code would have left it, then upgraded (or downgraded) with its data in place.

Rows are written in raw SQL (:func:`run_sql`) where the current ``db/schema.py`` tables name
columns the old database does not have yet; :data:`OLD_ARTICLE` is one article every revision
since 0001 can hold.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from feedsvc.db import Database, upgrade

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
