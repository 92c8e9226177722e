"""``source_cursors``: the ``visible`` setting a source's stored rows were read with, and
whether the re-read under way changed it.

A re-read after a changed mapping (0030, 0031) stores the rows before its alert boundary
silently: a widened ``visible`` may show old drafts, which are no news. But a draft the CMS
publishes by its status alone (WordPress's cron: ``post_status`` only, the cursor column as it
was) while the re-read goes on is reached by the re-read before the published check, and was
stored shown without an alert. ``mapping_visible``: a fingerprint of ``visible`` alone
(:attr:`feedsvc.source.sql.SqlSource.visible_key`), kept with the mapping;
``reread_visible``: at a re-read's start, whether that change touched ``visible`` (False: such
a draft alerts, :mod:`feedsvc.ingest.remap`), cleared when it catches up, as ``alert_ts`` is.

Existing cursors get NULL in both: ``visible`` unknown, so a re-read under way at the upgrade
stays silent; the first start records the running ``visible`` when its mapping is the
recorded one.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-04 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("source_cursors", sa.Column("mapping_visible", sa.String(64), nullable=True))
    op.add_column("source_cursors", sa.Column("reread_visible", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("source_cursors") as batch:
        batch.drop_column("reread_visible")
        batch.drop_column("mapping_visible")
