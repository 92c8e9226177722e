"""An index on ``articles.source_id``: ingest looks a new key's row id up among the held
articles (tester 3 F7).

A CMS row whose ``source_key`` changes (a slug fixed, a key derived from the slug) is the same
row, same id: feedsvc stored the new key as a second article, both public, every subscriber
alerted twice. Ingest now finds the article held from that row under its old key
(``store.rekeyed.held_from_rows``: by ``source_id``, for the new keys of each batch only) and
hands it over to the new key; without this index that look-up scanned the whole table once
per batch with a new key (a first sync: one scan per batch). Nothing to backfill.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02 02:00:00
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_articles_source_id", "articles", ["source_id"])


def downgrade() -> None:
    op.drop_index("ix_articles_source_id", table_name="articles")
