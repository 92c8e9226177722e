"""``deliveries.message_kind``: what a sent alert's message is, a photo or a text.

With ``telegram.images`` on, an alert for an article with an image goes as a photo with the
alert as its caption, and as a text when Telegram refuses the photo (or when images were off
at the time). The follow-up worker guessed which from the settings and the article as they
are when it edits: a text alert guessed a photo got ``editMessageMedia`` for its notice, which
today's Bot API answers by adding the blank picture, so the takedown turned the alert into a
grey photo captioned "Tin này đã được gỡ bỏ." (a chat tester's). The send's answer now says
what the message is (Telegram's ``Message.photo``), kept here — ``photo`` or ``text``
(``feedsvc.delivery_states.MESSAGE_KINDS``) — and kept up to date by the follow-ups that
change it (a notice's blank picture makes a photo).

Existing rows get NULL, "not known": their first edit is a text edit, which Telegram refuses
for a photo ("there is no text in the message to edit") and the worker then edits the caption
or covers the picture, one call more; a restore of a notice made before this revision goes by
the old guess, as that notice was made by it. Nothing to fill in, no index (read with the row).

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-06 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0042"
down_revision = "0041"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("message_kind", sa.String(10), nullable=True))


def downgrade() -> None:
    # no batch rebuild: on SQLite a rebuilt ``deliveries`` cascades into ``alert_followups``
    # (its history of retractions and corrections; 0040's downgrade alike)
    op.execute("ALTER TABLE deliveries DROP COLUMN message_kind")
