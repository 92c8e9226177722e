"""``topics.file_entry``: the topics file's entry last applied to each topic.

``run`` imported ``topics.file`` at every start and put back the file's version of every topic
it lists, undoing edits made since through the CLI, the API or the admin. With the entry last
applied remembered, a start changes a topic only when the file's entry for it changed.

Existing topics get NULL ("never recorded"): the first start after the upgrade records the
file's current entry without changing the topic (its state DB version may hold edits the old
code would have undone at that start).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("topics", sa.Column("file_entry", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("topics") as batch:
        batch.drop_column("file_entry")
