"""``channel_refusals``: one row per channel and process (``holder``), with its token's
fingerprint.

With one row per channel, two replicas holding different tokens for one channel (a token
rotated on one host only: one accepted, one refused) overwrote each other's word every minute:
the acceptance deleted the refusal, the next refusal made it again, and every surface flipped
between ``refused`` and ``on``. Now each process records its own refusal
(``channels.tokens.TokenWatch``, holder ``store.leases.this_process``), only its own acceptance
deletes it, a stopped process's ages out (``channel_modes.REFUSED_FRESH_SECONDS``), and status
names the process and its token's fingerprint (``channel_modes.token_fingerprint``).

Carried over: each refusal recorded before, under holder ``""`` (not recorded then) and no
fingerprint; it is read as fresh as its time says, and any acceptance ends it (as before). The
downgrade keeps each channel's latest refusal.

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-05 23:30:00
"""

import sqlalchemy as sa
from alembic import op

from feedsvc.db.types import UTCDateTime

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None


def _table(*extra: sa.ColumnClause[object]) -> sa.TableClause:
    """``channel_refusals`` for reading and writing its rows as the service does (UTC)."""
    times = (sa.column("first_at", UTCDateTime()), sa.column("last_at", UTCDateTime()))
    return sa.table("channel_refusals", sa.column("channel"), *extra, *times)


def upgrade() -> None:
    # a handful of rows (one per channel): read, the table made again, written back — the same
    # on SQLite (no primary key change in place) and PostgreSQL
    old = _table()
    rows = [dict(r._mapping) for r in op.get_bind().execute(sa.select(old))]
    op.drop_table("channel_refusals")
    op.create_table(
        "channel_refusals",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("token", sa.String(length=16), nullable=True),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "holder", name="pk_channel_refusals"),
    )
    if rows:
        new = _table(sa.column("holder"), sa.column("token"))
        op.bulk_insert(new, [r | {"holder": "", "token": None} for r in rows])  # type: ignore[arg-type]


def downgrade() -> None:
    table = _table(sa.column("holder"), sa.column("token"))
    latest: dict[str, dict[str, object]] = {}
    for r in op.get_bind().execute(sa.select(table).order_by(table.c.last_at)):
        latest[r.channel] = {"channel": r.channel, "first_at": r.first_at, "last_at": r.last_at}
    op.drop_table("channel_refusals")
    op.create_table(
        "channel_refusals",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", name="pk_channel_refusals"),
    )
    if latest:
        op.bulk_insert(_table(), list(latest.values()))  # type: ignore[arg-type]
