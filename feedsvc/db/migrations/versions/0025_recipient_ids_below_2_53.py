"""Recipients of other channels renumbered from [2**53, 2**53 + 2**52) to [2**52, 2**53)
(tester F9).

Zalo and Apprise recipients got ``chat_id`` from 2**53 up (0009). The JSON API, the admin and
the CLI show that id, and a client that parses JSON numbers as IEEE doubles (jq 1.6,
JavaScript) reads 2**53 and 2**53 + 1 as one number: a script pausing or patching "the chat it
just listed" could hit another destination. Telegram's Bot API documents ``Chat.id`` as having
"at most 52 significant bits" (|id| < 2**52; "a signed 64-bit integer or double-precision float
type are safe"), so [2**52, 2**53) is never a Telegram id and every id in it is exact as a
double: each such row moves down by 2**52 (``chat_id - 2**52``), its order and gaps kept.

Every table holding a chat id moves with it: ``chats`` (the key) and the two that reference it,
``subscriptions`` and ``deliveries`` (the outbox and the delivery history: sent, failed, held
for a digest). Follow-ups (``alert_followups``) reference a delivery's own id, pauses, pacing
and delivery options are columns of ``chats``: nothing else names a chat id. Text and JSON
columns hold none of these ids either: Telegram callback data and digests name topic ids, a
Zalo/Apprise row's ``address`` is the Zalo chat id or the URL, ``subscriptions.created_by`` a
channel's user id, ``deliveries.topics`` topic labels.

Both foreign keys are ``ON UPDATE CASCADE`` (0001), so on PostgreSQL, and on SQLite with
``PRAGMA foreign_keys`` on (feedsvc's engine), updating ``chats`` moves the other two. The
explicit updates that follow move whatever the cascade did not: SQLite without the pragma (the
plain ``alembic`` command), where they are the whole move. SQLite's checks wait for the commit
(``defer_foreign_keys``) so the order of the three never matters. The two ranges do not overlap,
so no unique key ever meets a row still to move.

A row that is not where this migration expects it stops it before anything changes, with the
ids: a Telegram row with an id of 2**52 or more (one Telegram never gives: an admin's typo the
old check let through) would share the new range, and a row of another channel outside the old
range cannot be moved within the new one. The downgrade moves the same rows back up.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 04:30:00
"""

import logging

import sqlalchemy as sa
from alembic import op

from feedsvc.db.revision import SchemaError

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

log = logging.getLogger("feedsvc.migrations.0025")

SPAN = 2**52  # the size of either range, and the distance a row moves
OLD_BASE = 2**53  # other channels' first id before 0025
NEW_BASE = 2**52  # and from 0025 on (db.schema.NON_TELEGRAM_IDS, written out: a migration
# keeps the numbers it was written with)
REFERENCING = ("subscriptions", "deliveries")  # every table with a chats.chat_id besides chats


def upgrade() -> None:
    _move(OLD_BASE, NEW_BASE)


def downgrade() -> None:
    _move(NEW_BASE, OLD_BASE)


def _move(src: int, dst: int) -> None:
    """Every recipient of another channel in [src, src + SPAN) to the same place in [dst, …),
    in ``chats`` and the tables referencing it."""
    conn = op.get_bind()
    _refuse_strays(conn, src)
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")  # reset by the commit
    shift = {"src": src, "end": src + SPAN - 1, "by": dst - src}
    moved = 0
    for table in ("chats", *REFERENCING):  # the key first: its cascade leaves the others nothing
        count = conn.execute(
            sa.text(
                f"UPDATE {table} SET chat_id = chat_id + :by"  # table: a name of this module
                " WHERE chat_id BETWEEN :src AND :end"
            ),
            shift,
        ).rowcount
        moved = count if table == "chats" else moved
    if moved:  # said only when something moved: a new database's upgrade (any command's
        # first run, e.g. `feedsvc import`) prints nothing
        log.info("0025: %d recipient(s) of other channels renumbered from %d up to %d up",
                 moved, src, dst)  # fmt: skip


def _refuse_strays(conn: sa.Connection, src: int) -> None:
    """Stop (nothing changed) when a row with an id from 2**52 up is not one to move: a Telegram
    row (Telegram never gives such an id) or a row of another channel outside [src, src+SPAN)."""
    strays = conn.execute(
        sa.text(
            "SELECT chat_id, channel FROM chats WHERE chat_id >= :low"
            " AND (channel = 'telegram' OR chat_id NOT BETWEEN :src AND :end)"
            " ORDER BY chat_id LIMIT 10"
        ),
        {"low": NEW_BASE, "src": src, "end": src + SPAN - 1},
    ).all()
    if strays:
        listed = ", ".join(f"{chat_id} ({channel})" for chat_id, channel in strays)
        raise SchemaError(
            f"migration 0025 cannot renumber the recipients of other channels: chat ids {listed}"
            f" are not in the range it moves ({src} to {src + SPAN - 1}, channels other than"
            " telegram; a Telegram chat id has at most 52 significant bits, so a Telegram row"
            " there is no Telegram chat): delete such a row with its subscriptions and"
            " deliveries, then run the migration again"
        )
