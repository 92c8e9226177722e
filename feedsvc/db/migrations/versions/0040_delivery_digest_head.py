"""``deliveries.digest_head``: which digest sent in several parts a sent row went in.

A digest too long for one message goes in parts, numbered on their first line: part 1 opens
"Tin tổng hợp · 8 tin (1/3)", the others "(tiếp) (2/3)". When a part is laid out again later
(the rest of the digest shrank before it went, or an article of the part was withdrawn or
corrected since), the follow-up worker needs the part's place among its digest's parts and the
digest's count, and nothing stored told one digest's parts from another's: each part is a
message of its own (``message_id``), and the rows of two digests of one chat look alike. A row
sent in a digest of several parts whose part 1 was delivered now records part 1's message id
(in ``sent_chat_id``, where every part went); the parts of one digest are the sent rows that
share it, in the order of their message ids.

Existing rows get NULL: a message of theirs is laid out again as a digest of its own, as before.
The index serves "the rows of this digest" (``store.digests.part_of``).

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-12 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("digest_head", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_deliveries_sent_chat_id_digest_head", "deliveries", ["sent_chat_id", "digest_head"]
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_sent_chat_id_digest_head", table_name="deliveries")
    # no batch rebuild: on SQLite a rebuilt ``deliveries`` cascades into ``alert_followups``
    # (its history of retractions and corrections; 0028's and 0033's downgrades alike)
    op.execute("ALTER TABLE deliveries DROP COLUMN digest_head")
