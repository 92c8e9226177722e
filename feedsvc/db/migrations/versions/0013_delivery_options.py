"""Delivery options per chat (issue 15): digests, quiet hours, silent alerts, forum threads.

- ``chats.digest`` (NULL: instant | ``hourly`` | ``HH:MM,…``), ``chats.quiet`` (NULL |
  ``HH:MM-HH:MM``), ``chats.silent``: on the chat row, so they hold for every channel.
- ``subscriptions.thread_id``: the forum topic thread a ``/sub`` was sent in (NULL: the chat).
- ``deliveries.digest``: the row is held for (or was sent in) a digest; a crashed digest send
  returns its rows to ``held``, not to the instant queue. ``deliveries.notice``: a catalogue
  key said once above this alert (e.g. its forum thread was deleted).

Existing rows: every chat instant, loud, no thread; every delivery an instant one.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 06:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (constant defaults): no table rebuild, which on SQLite would drop and
    # re-create `chats` and let ON DELETE CASCADE empty the subscriptions and the queue
    op.add_column("chats", sa.Column("digest", sa.String(length=40), nullable=True))
    op.add_column("chats", sa.Column("quiet", sa.String(length=11), nullable=True))
    op.add_column(
        "chats", sa.Column("silent", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("subscriptions", sa.Column("thread_id", sa.BigInteger(), nullable=True))
    op.add_column(
        "deliveries", sa.Column("digest", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("deliveries", sa.Column("notice", sa.String(length=40), nullable=True))


def downgrade() -> None:
    for table, column in (
        ("deliveries", "notice"), ("deliveries", "digest"), ("subscriptions", "thread_id"),
        ("chats", "silent"), ("chats", "quiet"), ("chats", "digest"),
    ):  # fmt: skip
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
