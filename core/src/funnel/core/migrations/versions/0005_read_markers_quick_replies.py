"""Per-operator read markers on conversations, and the organisation's quick replies.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

- ``conversation_read_markers``: how far each operator has read each conversation (one row per
  operator and conversation); the inbox counts the customer's messages after it as unread.
- ``quick_replies``: saved replies (title and text) agents insert from the composer; a title is
  unique within its organisation.

Both are tenant tables: the same GRANT, row-level security and policy as 0002 gives the others.
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "funnel_tenant"
SCOPE = "nullif(current_setting('funnel.organisation_id', true), '')::uuid"
TABLES = ("conversation_read_markers", "quick_replies")


def _timestamps() -> list[sa.Column[dt.datetime]]:
    return [
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "conversation_read_markers",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("last_read_at", sa.DateTime(timezone=True), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_conversation_read_markers_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_conversation_read_markers_user_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id", "conversation_id"],
            ["conversations.organisation_id", "conversations.id"],
            name=op.f("fk_conversation_read_markers_organisation_id_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_read_markers")),
        sa.UniqueConstraint(
            "organisation_id",
            "user_id",
            "conversation_id",
            name="uq_conversation_read_markers_user_conversation",
        ),
    )
    op.create_table(
        "quick_replies",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("text", sa.String(length=4096), nullable=False),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_quick_replies_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_quick_replies_created_by_user_id"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quick_replies")),
        sa.UniqueConstraint("organisation_id", "id", name="uq_quick_replies_organisation_id_id"),
        sa.UniqueConstraint(
            "organisation_id", "title", name=op.f("uq_quick_replies_organisation_id_title")
        ),
    )
    for table in TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} TO {ROLE} "
            f"USING (organisation_id = {SCOPE}) WITH CHECK (organisation_id = {SCOPE})"
        )


def downgrade() -> None:
    # Dropping a table drops its policies and grants with it.
    op.drop_table("quick_replies")
    op.drop_table("conversation_read_markers")
