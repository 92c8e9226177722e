"""``channel_tokens``: the channels this state DB has run with a bot token.

Without ``telegram.token`` the console stands in for Telegram (SPEC §6, the demo's way): it
logs each alert and records it ``sent``. On a production DB started once without the token (a
template's variable unset, a secret file not mounted) the real chats' alerts were consumed so,
and Zalo's ended as failed. A token the channel accepts (an alert delivered, the bot's getMe)
is now recorded here; a later start without it makes the channel wait
(``feedsvc.channel_modes``: ``waiting``).

Existing DBs are marked where their outbox shows a real bot: a Zalo alert sent (there is no
Zalo console); a Telegram alert sent with a Bot API message id (a chat's counter: the console
numbers by the clock in milliseconds, above 10**12) to a chat other than the demo's (chat 1).
Their time is that of the newest such alert. (A console of before the clock's numbering
counted from 1: a DB it sent from to another chat is marked too; ``feedsvc db forget-token``
undoes it.)

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-05 18:00:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from feedsvc.db.types import UTCDateTime

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None

#: the console's message ids are the clock in milliseconds (2001 onwards is above this)
_CONSOLE_IDS = 10**12
#: ``feedsvc.demo.DEMO_CHAT``: the demo's console chat
_DEMO_CHAT = 1

_SENT_BY_A_BOT = (
    "SELECT c.channel, max(coalesce(d.finished_at, d.created_at)) FROM deliveries d"
    " JOIN chats c ON c.chat_id = d.chat_id"
    " WHERE (c.channel = 'zalo' AND d.state = 'sent')"
    " OR (c.channel = 'telegram' AND d.state = 'sent' AND d.message_id > 0"
    " AND d.message_id < :console AND d.chat_id <> :demo)"
    " GROUP BY c.channel"
)


def upgrade() -> None:
    op.create_table(
        "channel_tokens",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", name="pk_channel_tokens"),
    )
    # written and read as the service does (UTC; SQLite keeps no zone)
    table = sa.table(
        "channel_tokens",
        sa.column("channel"),
        sa.column("first_at", UTCDateTime()),
        sa.column("last_at", UTCDateTime()),
    )
    at = sa.column("at", UTCDateTime())
    read = sa.text(_SENT_BY_A_BOT).columns(sa.column("channel"), at)
    found = op.get_bind().execute(read, {"console": _CONSOLE_IDS, "demo": _DEMO_CHAT}).all()
    now = datetime.now(UTC)
    rows = [{"channel": c, "first_at": at or now, "last_at": at or now} for c, at in found]
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_table("channel_tokens")
