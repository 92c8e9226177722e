"""``deliveries.sent_chat_id``: the chat a sent alert's message is in.

A Telegram group upgraded to a supergroup gets a new chat id (the ``migrate_to_chat_id`` service
message, or a send answered 400 "group chat was upgraded to a supergroup chat" with
``parameters.migrate_to_chat_id``; FIELD-NOTES "python-telegram-bot 22.x and the Bot API").
``deliveries.migrate_chat`` then moves the group's rows to the supergroup's id, sent ones too,
but their ``message_id`` is a message of the OLD group: message ids are per chat, so the
follow-up worker edited or deleted ``(supergroup, old message id)``, an unrelated message (a
/help reply), and counted an old-group alert as sharing a supergroup's message. A sent row now
records the chat its message went to, and follow-ups and the digest check key on it.

Existing sent rows (``message_id`` set) get their ``chat_id``: where they were sent, unless a
migration already moved them, which nothing stored tells apart (no record of a migration was
kept). Rows not sent stay NULL. The index serves "the other deliveries recorded with this
message" (a digest's siblings).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("sent_chat_id", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE deliveries SET sent_chat_id = chat_id WHERE message_id IS NOT NULL"
    )
    op.create_index(
        "ix_deliveries_sent_chat_id_message_id", "deliveries", ["sent_chat_id", "message_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_sent_chat_id_message_id", table_name="deliveries")
    # no batch rebuild: on SQLite a rebuilt ``deliveries`` cascades into ``alert_followups``
    op.execute("ALTER TABLE deliveries DROP COLUMN sent_chat_id")
