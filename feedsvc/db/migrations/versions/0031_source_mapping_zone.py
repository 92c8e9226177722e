"""``source_cursors``: the zone a source's naive times were read in, when its mapping was
recorded, and where the cursor stood then (the alert boundary of a re-read).

A re-read after a changed mapping (0030) was a first sync from the start: rows that came in
while it caught up, or that the old cursor had not reached yet, were stored as archive and
never alerted. ``alert_ts``/``alert_id`` keep the old cursor's position (as ``cursor_ts`` and
``cursor_id`` hold it) for the re-read: rows after it alert as in any sync.
``mapping_zone``: ``source.timezone`` (or ``site.timezone``) changes every naive time read, so
it is part of the mapping. ``mapping_at``: when the mapping was recorded (state DB clock): a
replica started before that runs an older config and does not record its own over it.

Existing cursors get NULL everywhere: the zone is taken to be the one the first start after
the upgrade runs with (no re-read on upgrade), and there is no re-read under way.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04 09:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

_ADDED = ("mapping_zone", "mapping_at", "alert_ts", "alert_id")


def upgrade() -> None:
    op.add_column("source_cursors", sa.Column("mapping_zone", sa.String(64), nullable=True))
    for name in ("mapping_at", "alert_ts"):
        op.add_column("source_cursors", sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.add_column("source_cursors", sa.Column("alert_id", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("source_cursors") as batch:
        for name in reversed(_ADDED):
            batch.drop_column(name)
