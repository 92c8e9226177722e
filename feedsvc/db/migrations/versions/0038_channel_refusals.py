"""``channel_refusals``: when a channel last refused the bot token it was given.

A channel read ``refused`` only while an alert waited with ``retry_kind`` ``token_refused``: a
wrong token on a quiet channel read ``on`` on every surface (a monitor's rule on
``feedsvc_channel_mode{mode="refused"}`` stayed silent), went back to ``on`` when that alert
ended, and a web-only replica or an operator's shell without the token read ``waiting`` or
``console`` beside it. The channel's own word is recorded now (``channels.tokens.TokenWatch``:
getMe at a dispatcher's start and every minute, a send refused), cleared when a token is
accepted (``channel_tokens``), and every process on the DB reads it
(``feedsvc.channel_modes.shown_modes``).

Nothing to carry over: no existing DB has recorded a refusal (a running dispatcher records one
within a minute).

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-05 21:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_refusals",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", name="pk_channel_refusals"),
    )


def downgrade() -> None:
    op.drop_table("channel_refusals")
