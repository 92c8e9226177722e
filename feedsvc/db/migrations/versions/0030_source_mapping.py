"""``source_cursors.mapping``: which column mapping a source's stored articles were read with.

An operator who adds or changes ``[source.columns]`` (a ``visible`` expression, another
column for the summary) after a first sync expects it to apply to what is stored: without a
record of the mapping, rows read before kept what the old mapping made of them (every draft
stayed public until edited in the CMS). Ingest compares the mapping's fingerprint with this
column and reads the source again from its start when they differ.

Existing cursors get NULL: the mapping they were read with is not known, and is taken to be
the one the first start after the upgrade runs with (no re-read on upgrade).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-03 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("source_cursors", sa.Column("mapping", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("source_cursors") as batch:
        batch.drop_column("mapping")
