"""``deleted_topics``: the slugs of topics deleted, so their feeds answer 410 Gone.

A deleted topic's feeds answered 404 like a slug never known, and feed readers, which take a
404 for a passing fault, kept polling them for good; 410 Gone (RFC 9110 §15.5.11) is what
they take for "unsubscribe". Deleting a topic (CLI, API, admin: ``store.topics.
delete_topic``) now records its slug; creating the slug again removes the record.

Topics deleted before the upgrade are recorded too, where the state DB still knows them: a
file topic kept deleted (``deleted_file_topics``, 0020) and a slug whose feed snapshots are
stored (``feed_snapshots``: a delete left them) with no topic of that slug. Their time is the
upgrade's.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-05 14:00:00
"""

import re
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from feedsvc.db.types import UTCDateTime

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

#: The formats of a topic's feed snapshots (an index page's are ``html`` under ``_index``).
_FEED_FORMATS = ("rss", "atom", "json")
#: A topic's slug (``topics_file.SLUG`` today): the index pages' ``_index…`` never is one.
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")


def upgrade() -> None:
    op.create_table(
        "deleted_topics",
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("slug", name="pk_deleted_topics"),
    )
    # written as the service reads it (UTC; SQLite keeps no zone)
    table = sa.table("deleted_topics", sa.column("slug"), sa.column("deleted_at", UTCDateTime()))
    conn = op.get_bind()
    known = {r[0] for r in conn.execute(sa.text("SELECT slug FROM topics"))}
    kept = {r[0] for r in conn.execute(sa.text("SELECT slug FROM deleted_file_topics"))}
    snapshots = sa.text(
        "SELECT DISTINCT topic_slug FROM feed_snapshots WHERE format IN :formats"
    ).bindparams(sa.bindparam("formats", expanding=True))
    stored = {r[0] for r in conn.execute(snapshots, {"formats": list(_FEED_FORMATS)})}
    gone = sorted(s for s in (kept | stored) - known if _SLUG.fullmatch(s))
    if gone:
        now = datetime.now(UTC)
        op.bulk_insert(table, [{"slug": slug, "deleted_at": now} for slug in gone])


def downgrade() -> None:
    op.drop_table("deleted_topics")
