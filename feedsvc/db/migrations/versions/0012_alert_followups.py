"""``alert_followups``: retractions and corrections owed on sent alerts (issue 13 §2, §3),
and the indexes that find an article's alerts and the articles retired since a sweep.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 06:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # rowid alias on SQLite


def upgrade() -> None:
    op.create_table(
        "alert_followups",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("delivery_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_alert_followups_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_followups")),
        sa.UniqueConstraint(
            "delivery_id", "kind", name=op.f("uq_alert_followups_delivery_id_kind")
        ),
    )
    op.create_index(op.f("ix_alert_followups_state_due_at"), "alert_followups", ["state", "due_at"])
    # finding an article's alerts, and the articles withdrawn or hidden since the last sweep
    op.create_index(op.f("ix_deliveries_article_id"), "deliveries", ["article_id"])
    op.create_index(op.f("ix_articles_withdrawn_at"), "articles", ["withdrawn_at"])
    op.create_index(op.f("ix_articles_hidden_at"), "articles", ["hidden_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_articles_hidden_at"), "articles")
    op.drop_index(op.f("ix_articles_withdrawn_at"), "articles")
    op.drop_index(op.f("ix_deliveries_article_id"), "deliveries")
    op.drop_index(op.f("ix_alert_followups_state_due_at"), "alert_followups")
    op.drop_table("alert_followups")
