"""``due_watermark``: where the due check has looked through, kept across restarts.

The first due check of a process looked back a whole day (``first_lookback``) with no memory
of what the previous process had released: every start logged "N scheduled article(s) became
public" again for articles long public (and re-rendered their feeds). The watermark lets a
restart start where the last committed check ended.

No row at first: the first start after the upgrade looks back as before, once.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 10:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "due_watermark",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("checked_through", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_due_watermark"),
    )


def downgrade() -> None:
    op.drop_table("due_watermark")
