"""``deleted_file_topics``: topics the topics file lists that were deleted in the state DB.

A topic from the topics file deleted through the CLI, the API or the admin came back at the
next start: its entry in the file was unchanged, but the row holding ``topics.file_entry``
(0017) was gone with it, so the start saw a new entry. Deleting such a topic now records its
slug and the file entry last applied to it here; a start keeps it deleted while that entry is
unchanged.

No rows at first: a topic deleted before the upgrade comes back once, as it did before.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 13:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deleted_file_topics",
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("file_entry", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("slug", name="pk_deleted_file_topics"),
    )


def downgrade() -> None:
    op.drop_table("deleted_file_topics")
