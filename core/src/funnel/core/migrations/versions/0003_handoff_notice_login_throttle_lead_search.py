"""Handoff notice setting, shared login throttle, trigram indexes for the leads search.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

- ``organisations.notify_customer_on_handoff``: whether the customer is told a person will follow
  up when the bot hands off. True by default, which is what every organisation got before.
- ``login_attempts``: the login rate limit's counters, in the database so every API replica
  shares them. Identity data like ``refresh_tokens``: no tenant grant, no row-level security
  (the auth service reads it unscoped, and the tenant role cannot touch it at all).
- ``pg_trgm`` and a GIN trigram index on each column the leads search matches with
  ``ILIKE '%term%'`` (name, wa_id, email), so the search stops scanning every lead.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "funnel_tenant"

#: Frozen here rather than read from the models: a migration must not change when the models do.
SEARCH_COLUMNS = ("name", "wa_id", "email")


def upgrade() -> None:
    op.add_column(
        "organisations",
        sa.Column(
            "notify_customer_on_handoff", sa.Boolean(), server_default=sa.true(), nullable=False
        ),
    )

    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "attempted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "scope IN ('account', 'ip')", name=op.f("ck_login_attempts_scope_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index(
        "ix_login_attempts_scope_key_hash_attempted_at",
        "login_attempts",
        ["scope", "key_hash", "attempted_at"],
    )
    op.create_index("ix_login_attempts_attempted_at", "login_attempts", ["attempted_at"])
    # 0002 granted USAGE, SELECT on all sequences, which a new table does not change; explicit
    # here so the table stays closed to the tenant role whatever default privileges a server has.
    op.execute(f"REVOKE ALL ON login_attempts FROM {ROLE}")

    # IF NOT EXISTS because a managed server may have it already (and only a privileged role may
    # create it there), as for vector in 0001.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in SEARCH_COLUMNS:
        op.create_index(
            f"ix_leads_{column}_trgm",
            "leads",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade() -> None:
    for column in SEARCH_COLUMNS:
        op.drop_index(f"ix_leads_{column}_trgm", table_name="leads")
    # As 0001 does for vector: the extension goes with the schema that needed it.
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
    op.drop_index("ix_login_attempts_attempted_at", table_name="login_attempts")
    op.drop_index("ix_login_attempts_scope_key_hash_attempted_at", table_name="login_attempts")
    op.drop_table("login_attempts")
    op.drop_column("organisations", "notify_customer_on_handoff")
