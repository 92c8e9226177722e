"""``pending_hides``: an editor's hide of a key ingest has not read yet.

A hide of a key ``feedsvc import`` had put in the built-in source table (or an external CMS
held) but ingest had not read yet was refused: there was no article row to hold it, and the
next ingest published the article and alerted every subscribed chat — exactly when a takedown
is urgent. The hide is now recorded here (the key as the editors' tools trim it, the reason,
who hid it, when) and ingest applies it in the transaction that stores the article, which
then arrives hidden and is never public; the record goes in the same transaction.

No rows at first: nothing was ever recorded before (such hides were refused).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_hides",
        sa.Column("source_key", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("hidden_by", sa.String(length=100), nullable=True),
        sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source_key", name="pk_pending_hides"),
    )


def downgrade() -> None:
    op.drop_table("pending_hides")
