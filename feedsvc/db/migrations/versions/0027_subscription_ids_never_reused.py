"""``subscriptions.id`` never reused on SQLite (``AUTOINCREMENT``).

SQLite gives a new row ``max(rowid) + 1``, so the id of the newest subscription, once removed,
went to the next one made: a retried ``DELETE /api/subscriptions/20``, a `subs remove 20` typed
from an old listing or an admin page left open removed another chat's subscription (a
newcomer's report: the same id three times in a row). With ``AUTOINCREMENT`` SQLite never hands
out an id again (``sqlite_sequence`` keeps the highest one given). PostgreSQL's sequences never
did: nothing to do there.

The table is rebuilt (Alembic's batch mode: a copy, its rows, constraints and indexes, then the
swap). No table references ``subscriptions``, so the swap's ``DROP TABLE`` under
``PRAGMA foreign_keys=ON`` cascades nowhere; the copy's references to ``chats`` and ``topics``
are kept.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-02 14:20:00
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "subscriptions", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "subscriptions", recreate="always", table_kwargs={"sqlite_autoincrement": False}
    ):
        pass
