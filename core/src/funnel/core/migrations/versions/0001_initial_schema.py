"""Initial schema: the pgvector extension and every table.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Generated from the models, then reviewed: creation order follows the foreign keys, constraint
names come from the metadata's naming convention, and the composite ``(organisation_id, id)``
keys children point at are created with their parents.
"""

from collections.abc import Sequence

import pgvector.sqlalchemy
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Written by hand: autogenerate does not see extensions. IF NOT EXISTS because a managed
    # server may have it already (and only a privileged role may create it there).
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.create_table(
        "organisations",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("business_name", sa.String(length=255), nullable=True),
        sa.Column("business_description", sa.Text(), nullable=True),
        sa.Column("persona_prompt", sa.Text(), nullable=True),
        sa.Column("flow_prompt", sa.Text(), nullable=True),
        sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False),
        sa.Column("default_language", sa.String(length=16), server_default="en", nullable=False),
        sa.Column("reply_word_limit", sa.Integer(), server_default="80", nullable=False),
        sa.Column(
            "business_hours",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "quiet_hours",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "followup_policy",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "data_retention",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "llm_models",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "allowed_link_domains",
            postgresql.ARRAY(sa.String(length=253)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "pause_bot_on_attention", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column("auto_release_minutes", sa.Integer(), server_default="120", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
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
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9][a-z0-9-]*$'", name=op.f("ck_organisations_slug_format")
        ),
        sa.CheckConstraint(
            "auto_release_minutes > 0", name=op.f("ck_organisations_auto_release_minutes_positive")
        ),
        sa.CheckConstraint(
            "reply_word_limit BETWEEN 5 AND 1000",
            name=op.f("ck_organisations_reply_word_limit_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("slug", name=op.f("uq_organisations_slug")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "is_platform_admin", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index(
        "uq_users_email_lower", "users", [sa.literal_column("lower(email)")], unique=True
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "scopes",
            postgresql.ARRAY(sa.String(length=64)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_api_keys_created_by_user_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_api_keys_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index(
        "ix_api_keys_organisation_id_created_at",
        "api_keys",
        ["organisation_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "audit_logs",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column(
            "actor_kind",
            sa.Enum(
                "user",
                "api_key",
                "system",
                name="actor_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=255), nullable=True),
        sa.Column(
            "changes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("ip", postgresql.INET(), nullable=True),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["users.id"],
            name=op.f("fk_audit_logs_actor_user_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_audit_logs_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_logs")),
    )
    op.create_index(
        "ix_audit_logs_organisation_id_created_at",
        "audit_logs",
        ["organisation_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_audit_logs_organisation_id_entity_type_entity_id",
        "audit_logs",
        ["organisation_id", "entity_type", "entity_id"],
        unique=False,
    )
    op.create_table(
        "ctas",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "book_call",
                "book_demo",
                "send_link",
                "visit",
                "custom",
                name="type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("button_text", sa.String(length=20), nullable=True),
        sa.Column(
            "payload",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_ctas_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ctas")),
        sa.UniqueConstraint("organisation_id", "id", name="uq_ctas_organisation_id_id"),
    )
    op.create_index(
        "uq_ctas_organisation_id_name",
        "ctas",
        ["organisation_id", "name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "followup_sequences",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "trigger",
            sa.Enum(
                "no_reply",
                "cta_pending",
                "manual",
                name="trigger",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="no_reply",
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_followup_sequences_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_sequences")),
        sa.UniqueConstraint(
            "organisation_id", "id", name="uq_followup_sequences_organisation_id_id"
        ),
        sa.UniqueConstraint(
            "organisation_id", "name", name=op.f("uq_followup_sequences_organisation_id_name")
        ),
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "owner",
                "admin",
                "agent",
                "viewer",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invited_by_user_id", sa.Uuid(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["invited_by_user_id"],
            ["users.id"],
            name=op.f("fk_invitations_invited_by_user_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_invitations_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    op.create_index(
        "uq_invitations_organisation_id_email_open",
        "invitations",
        ["organisation_id", sa.literal_column("lower(email)")],
        unique=True,
        postgresql_where=sa.text("accepted_at IS NULL AND revoked_at IS NULL"),
    )
    op.create_table(
        "knowledge_documents",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column(
            "doc_type",
            sa.Enum(
                "pdf",
                "markdown",
                "text",
                name="doc_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("mime_type", sa.String(length=255), nullable=True),
        sa.Column("checksum_sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "processing",
                "ready",
                "failed",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("chunk_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("progress", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("uploaded_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.CheckConstraint(
            "content IS NULL OR octet_length(content) <= 20971520",
            name=op.f("ck_knowledge_documents_content_size_limit"),
        ),
        sa.CheckConstraint(
            "progress BETWEEN 0 AND 100", name=op.f("ck_knowledge_documents_progress_percent")
        ),
        sa.CheckConstraint(
            "size_bytes >= 0 AND size_bytes <= 20971520",
            name=op.f("ck_knowledge_documents_size_limit"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_knowledge_documents_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_user_id"],
            ["users.id"],
            name=op.f("fk_knowledge_documents_uploaded_by_user_id"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_documents")),
        sa.UniqueConstraint(
            "organisation_id",
            "checksum_sha256",
            name=op.f("uq_knowledge_documents_organisation_id_checksum_sha256"),
        ),
        sa.UniqueConstraint(
            "organisation_id", "id", name="uq_knowledge_documents_organisation_id_id"
        ),
    )
    op.create_table(
        "media_objects",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("whatsapp_media_id", sa.String(length=255), nullable=True),
        sa.Column("mime_type", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("downloaded_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.CheckConstraint(
            "content IS NULL OR octet_length(content) <= 16777216",
            name=op.f("ck_media_objects_content_size_limit"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_media_objects_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_objects")),
        sa.UniqueConstraint("organisation_id", "id", name="uq_media_objects_organisation_id_id"),
    )
    op.create_index(
        "ix_media_objects_organisation_id_whatsapp_media_id",
        "media_objects",
        ["organisation_id", "whatsapp_media_id"],
        unique=False,
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "owner",
                "admin",
                "agent",
                "viewer",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
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
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_memberships_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint(
            "organisation_id", "user_id", name=op.f("uq_memberships_organisation_id_user_id")
        ),
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"], unique=False)
    op.create_table(
        "message_status_events",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("wamid", sa.String(length=255), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "delivered",
                "read",
                "failed",
                "received",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipient_id", sa.String(length=128), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_title", sa.String(length=500), nullable=True),
        sa.Column("pricing", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "raw",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
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
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_message_status_events_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_status_events")),
        sa.UniqueConstraint(
            "organisation_id",
            "wamid",
            "status",
            name=op.f("uq_message_status_events_organisation_id_wamid_status"),
        ),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaced_by_id", sa.Uuid(), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_refresh_tokens_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["replaced_by_id"],
            ["refresh_tokens.id"],
            name=op.f("fk_refresh_tokens_replaced_by_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_refresh_tokens_user_id"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"], unique=False)
    op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id"], unique=False)
    op.create_table(
        "templates",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("meta_template_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "marketing",
                "utility",
                "authentication",
                name="category",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "pending",
                "approved",
                "rejected",
                "paused",
                "disabled",
                "in_appeal",
                "pending_deletion",
                "deleted",
                "limit_exceeded",
                "archived",
                "flagged",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="draft",
            nullable=False,
        ),
        sa.Column("quality_score", sa.String(length=32), nullable=True),
        sa.Column(
            "components",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "parameter_format",
            sa.Enum(
                "positional",
                "named",
                name="parameter_format",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="positional",
            nullable=False,
        ),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column(
            "purpose",
            sa.Enum(
                "followup",
                "reengagement",
                "cta",
                "handoff",
                "custom",
                name="purpose",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_templates_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_templates")),
        sa.UniqueConstraint("organisation_id", "id", name="uq_templates_organisation_id_id"),
        sa.UniqueConstraint(
            "organisation_id",
            "name",
            "language",
            name=op.f("uq_templates_organisation_id_name_language"),
        ),
    )
    op.create_index(
        "ix_templates_organisation_id_purpose_status",
        "templates",
        ["organisation_id", "purpose", "status"],
        unique=False,
    )
    op.create_table(
        "whatsapp_channels",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("phone_number_id", sa.String(length=32), nullable=False),
        sa.Column("waba_id", sa.String(length=32), nullable=False),
        sa.Column("display_phone_number", sa.String(length=32), nullable=True),
        sa.Column("graph_version", sa.String(length=16), server_default="v23.0", nullable=False),
        sa.Column("throughput_tier", sa.String(length=32), nullable=True),
        sa.Column("messages_per_second", sa.Integer(), server_default="80", nullable=False),
        sa.Column("access_token_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("access_token_last4", sa.String(length=4), nullable=False),
        sa.Column("app_secrets_encrypted", postgresql.ARRAY(sa.LargeBinary()), nullable=False),
        sa.Column("app_secret_last4", sa.String(length=4), nullable=False),
        sa.Column("verify_token_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("verify_token_last4", sa.String(length=4), nullable=False),
        sa.Column("is_connected", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("paused_reason", sa.String(length=255), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_sandbox", sa.Boolean(), server_default=sa.text("false"), nullable=False),
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
        sa.CheckConstraint(
            "cardinality(app_secrets_encrypted) >= 1",
            name=op.f("ck_whatsapp_channels_app_secrets_not_empty"),
        ),
        sa.CheckConstraint(
            "messages_per_second > 0",
            name=op.f("ck_whatsapp_channels_messages_per_second_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_whatsapp_channels_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_channels")),
        sa.UniqueConstraint(
            "organisation_id", "id", name="uq_whatsapp_channels_organisation_id_id"
        ),
        sa.UniqueConstraint("phone_number_id", name=op.f("uq_whatsapp_channels_phone_number_id")),
    )
    op.create_table(
        "followup_steps",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("sequence_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("delay_minutes", sa.Integer(), nullable=False),
        sa.Column("message_hint", sa.Text(), nullable=True),
        sa.Column("template_id", sa.Uuid(), nullable=True),
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
        sa.CheckConstraint(
            "delay_minutes > 0", name=op.f("ck_followup_steps_delay_minutes_positive")
        ),
        sa.CheckConstraint("position >= 1", name=op.f("ck_followup_steps_position_positive")),
        sa.ForeignKeyConstraint(
            ["organisation_id", "sequence_id"],
            ["followup_sequences.organisation_id", "followup_sequences.id"],
            name=op.f("fk_followup_steps_organisation_id_sequence_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id", "template_id"],
            ["templates.organisation_id", "templates.id"],
            name=op.f("fk_followup_steps_organisation_id_template_id"),
            ondelete="SET NULL (template_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_followup_steps_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_steps")),
        sa.UniqueConstraint(
            "organisation_id",
            "sequence_id",
            "position",
            name=op.f("uq_followup_steps_organisation_id_sequence_id_position"),
        ),
    )
    op.create_table(
        "knowledge_chunks",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("embedding", pgvector.sqlalchemy.vector.VECTOR(dim=768), nullable=True),
        sa.Column("embedding_model", sa.String(length=128), nullable=True),
        sa.Column("token_count", sa.Integer(), nullable=True),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A') || setweight(to_tsvector('simple'::regconfig, content), 'B')",
                persisted=True,
            ),
            nullable=False,
        ),
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
        sa.ForeignKeyConstraint(
            ["organisation_id", "document_id"],
            ["knowledge_documents.organisation_id", "knowledge_documents.id"],
            name=op.f("fk_knowledge_chunks_organisation_id_document_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_knowledge_chunks_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_chunks")),
        sa.UniqueConstraint(
            "organisation_id",
            "document_id",
            "ordinal",
            name=op.f("uq_knowledge_chunks_organisation_id_document_id_ordinal"),
        ),
    )
    op.create_index(
        "ix_knowledge_chunks_embedding_hnsw",
        "knowledge_chunks",
        ["embedding"],
        unique=False,
        postgresql_using="hnsw",
        postgresql_with={"m": 16, "ef_construction": 64},
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.create_index(
        "ix_knowledge_chunks_search_vector",
        "knowledge_chunks",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_table(
        "leads",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("wa_id", sa.String(length=32), nullable=True),
        sa.Column("bsuid", sa.String(length=128), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("company", sa.String(length=255), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "tags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column(
            "stage",
            sa.Enum(
                "greeting",
                "qualification",
                "pricing",
                "cta",
                "closed",
                "lost",
                "ghosted",
                name="stage",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="greeting",
            nullable=False,
        ),
        sa.Column(
            "intent_level",
            sa.Enum(
                "low",
                "medium",
                "high",
                "very_high",
                "unknown",
                name="intent_level",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="unknown",
            nullable=False,
        ),
        sa.Column(
            "sentiment",
            sa.Enum(
                "annoyed",
                "distrustful",
                "confused",
                "curious",
                "disappointed",
                "neutral",
                "uninterested",
                "positive",
                name="sentiment",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="neutral",
            nullable=False,
        ),
        sa.Column("opted_out", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "opt_out_source",
            sa.Enum(
                "keyword",
                "agent",
                "api",
                "meta",
                name="opt_out_source",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "facts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
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
        sa.CheckConstraint(
            "opted_out = (opted_out_at IS NOT NULL)", name=op.f("ck_leads_opted_out_has_timestamp")
        ),
        sa.CheckConstraint(
            "wa_id IS NOT NULL OR bsuid IS NOT NULL", name=op.f("ck_leads_has_contact_id")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id", "channel_id"],
            ["whatsapp_channels.organisation_id", "whatsapp_channels.id"],
            name=op.f("fk_leads_organisation_id_channel_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_leads_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint("organisation_id", "id", name="uq_leads_organisation_id_id"),
    )
    op.create_index(
        "ix_leads_organisation_id_created_at",
        "leads",
        ["organisation_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_leads_organisation_id_stage", "leads", ["organisation_id", "stage"], unique=False
    )
    op.create_index("ix_leads_tags", "leads", ["tags"], unique=False, postgresql_using="gin")
    op.create_index(
        "uq_leads_organisation_id_channel_id_bsuid",
        "leads",
        ["organisation_id", "channel_id", "bsuid"],
        unique=True,
        postgresql_where=sa.text("bsuid IS NOT NULL"),
    )
    op.create_index(
        "uq_leads_organisation_id_channel_id_wa_id",
        "leads",
        ["organisation_id", "channel_id", "wa_id"],
        unique=True,
        postgresql_where=sa.text("wa_id IS NOT NULL"),
    )
    op.create_table(
        "webhook_receipts",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("raw_body", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["organisation_id", "channel_id"],
            ["whatsapp_channels.organisation_id", "whatsapp_channels.id"],
            name=op.f("fk_webhook_receipts_organisation_id_channel_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_webhook_receipts_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_receipts")),
    )
    op.create_index(
        "ix_webhook_receipts_expires_at", "webhook_receipts", ["expires_at"], unique=False
    )
    op.create_index(
        "ix_webhook_receipts_organisation_id_received_at",
        "webhook_receipts",
        ["organisation_id", "received_at"],
        unique=False,
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column(
            "mode",
            sa.Enum(
                "bot",
                "human",
                "closed",
                name="mode",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="bot",
            nullable=False,
        ),
        sa.Column(
            "stage",
            sa.Enum(
                "greeting",
                "qualification",
                "pricing",
                "cta",
                "closed",
                "lost",
                "ghosted",
                name="stage",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="greeting",
            nullable=False,
        ),
        sa.Column(
            "intent_level",
            sa.Enum(
                "low",
                "medium",
                "high",
                "very_high",
                "unknown",
                name="intent_level",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="unknown",
            nullable=False,
        ),
        sa.Column(
            "sentiment",
            sa.Enum(
                "annoyed",
                "distrustful",
                "confused",
                "curious",
                "disappointed",
                "neutral",
                "uninterested",
                "positive",
                name="sentiment",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="neutral",
            nullable=False,
        ),
        sa.Column("assigned_user_id", sa.Uuid(), nullable=True),
        sa.Column("needs_attention", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("attention_reason", sa.String(length=500), nullable=True),
        sa.Column("attention_raised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attention_resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cta_id", sa.Uuid(), nullable=True),
        sa.Column(
            "cta_state",
            sa.Enum(
                "offered",
                "accepted",
                "completed",
                "dismissed",
                "expired",
                name="cta_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("cta_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cta_scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rolling_summary", sa.Text(), nullable=True),
        sa.Column("summary_message_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("followups_sent_24h", sa.Integer(), server_default="0", nullable=False),
        sa.Column("total_nudges", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_followup_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_message_preview", sa.String(length=500), nullable=True),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_bot_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_human_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("human_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("auto_release_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.CheckConstraint(
            "(mode = 'closed') = (closed_at IS NOT NULL)",
            name=op.f("ck_conversations_closed_has_timestamp"),
        ),
        sa.CheckConstraint(
            "followups_sent_24h >= 0 AND total_nudges >= 0",
            name=op.f("ck_conversations_counters_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["assigned_user_id"],
            ["users.id"],
            name=op.f("fk_conversations_assigned_user_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id", "channel_id"],
            ["whatsapp_channels.organisation_id", "whatsapp_channels.id"],
            name=op.f("fk_conversations_organisation_id_channel_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id", "cta_id"],
            ["ctas.organisation_id", "ctas.id"],
            name=op.f("fk_conversations_organisation_id_cta_id"),
            ondelete="SET NULL (cta_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id", "lead_id"],
            ["leads.organisation_id", "leads.id"],
            name=op.f("fk_conversations_organisation_id_lead_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_conversations_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint("organisation_id", "id", name="uq_conversations_organisation_id_id"),
    )
    op.create_index(
        "ix_conversations_organisation_id_assigned_user_id",
        "conversations",
        ["organisation_id", "assigned_user_id"],
        unique=False,
    )
    op.create_index(
        "ix_conversations_organisation_id_last_message_at",
        "conversations",
        ["organisation_id", sa.literal_column("last_message_at DESC NULLS LAST")],
        unique=False,
    )
    op.create_index(
        "ix_conversations_organisation_id_lead_id",
        "conversations",
        ["organisation_id", "lead_id"],
        unique=False,
    )
    op.create_index(
        "ix_conversations_organisation_id_needs_attention",
        "conversations",
        ["organisation_id", "attention_raised_at"],
        unique=False,
        postgresql_where=sa.text("needs_attention"),
    )
    op.create_index(
        "uq_conversations_organisation_id_lead_id_open",
        "conversations",
        ["organisation_id", "lead_id"],
        unique=True,
        postgresql_where=sa.text("mode <> 'closed'"),
    )
    op.create_table(
        "lead_notes",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("author_user_id", sa.Uuid(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name=op.f("fk_lead_notes_author_user_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id", "lead_id"],
            ["leads.organisation_id", "leads.id"],
            name=op.f("fk_lead_notes_organisation_id_lead_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_lead_notes_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_notes")),
    )
    op.create_index(
        "ix_lead_notes_organisation_id_lead_id",
        "lead_notes",
        ["organisation_id", "lead_id"],
        unique=False,
    )
    op.create_table(
        "pipeline_runs",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column(
            "trigger_message_ids",
            postgresql.ARRAY(sa.Uuid()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("is_offline", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "running",
                "succeeded",
                "failed",
                "skipped",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="running",
            nullable=False,
        ),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("input_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("output_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "cost_usd", sa.Numeric(precision=12, scale=6), server_default="0", nullable=False
        ),
        sa.Column(
            "decision",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["organisation_id", "conversation_id"],
            ["conversations.organisation_id", "conversations.id"],
            name=op.f("fk_pipeline_runs_organisation_id_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_pipeline_runs_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_runs")),
        sa.UniqueConstraint("organisation_id", "id", name="uq_pipeline_runs_organisation_id_id"),
    )
    op.create_index(
        "ix_pipeline_runs_organisation_id_conversation_id_started_at",
        "pipeline_runs",
        ["organisation_id", "conversation_id", "started_at"],
        unique=False,
    )
    op.create_index(
        "ix_pipeline_runs_organisation_id_started_at",
        "pipeline_runs",
        ["organisation_id", "started_at"],
        unique=False,
    )
    op.create_table(
        "scheduled_actions",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "followup",
                "wait_resume",
                "auto_release",
                "template_fallback",
                "attention_escalation",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "claimed",
                "done",
                "cancelled",
                "failed",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "payload",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=255), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["organisation_id", "conversation_id"],
            ["conversations.organisation_id", "conversations.id"],
            name=op.f("fk_scheduled_actions_organisation_id_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_scheduled_actions_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_actions")),
        sa.UniqueConstraint(
            "organisation_id",
            "idempotency_key",
            name=op.f("uq_scheduled_actions_organisation_id_idempotency_key"),
        ),
    )
    op.create_index(
        "ix_scheduled_actions_due_at_pending",
        "scheduled_actions",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_scheduled_actions_organisation_id_conversation_id_status",
        "scheduled_actions",
        ["organisation_id", "conversation_id", "status"],
        unique=False,
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column(
            "direction",
            sa.Enum(
                "inbound",
                "outbound",
                name="direction",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "author",
            sa.Enum(
                "lead",
                "bot",
                "human",
                "system",
                name="author",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("author_user_id", sa.Uuid(), nullable=True),
        sa.Column(
            "type",
            sa.Enum(
                "text",
                "image",
                "audio",
                "video",
                "document",
                "sticker",
                "location",
                "contacts",
                "reaction",
                "interactive",
                "button",
                "order",
                "template",
                "system",
                "unsupported",
                name="type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="text",
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column(
            "content",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("wamid", sa.String(length=255), nullable=True),
        sa.Column("reply_to_wamid", sa.String(length=255), nullable=True),
        sa.Column("whatsapp_timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "delivered",
                "read",
                "failed",
                "received",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("status_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_title", sa.String(length=500), nullable=True),
        sa.Column("media_id", sa.Uuid(), nullable=True),
        sa.Column("pipeline_run_id", sa.Uuid(), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["users.id"],
            name=op.f("fk_messages_author_user_id"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id", "conversation_id"],
            ["conversations.organisation_id", "conversations.id"],
            name=op.f("fk_messages_organisation_id_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id", "lead_id"],
            ["leads.organisation_id", "leads.id"],
            name=op.f("fk_messages_organisation_id_lead_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id", "media_id"],
            ["media_objects.organisation_id", "media_objects.id"],
            name=op.f("fk_messages_organisation_id_media_id"),
            ondelete="SET NULL (media_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id", "pipeline_run_id"],
            ["pipeline_runs.organisation_id", "pipeline_runs.id"],
            name=op.f("fk_messages_organisation_id_pipeline_run_id"),
            ondelete="SET NULL (pipeline_run_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_messages_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("organisation_id", "id", name="uq_messages_organisation_id_id"),
        sa.UniqueConstraint(
            "organisation_id", "wamid", name=op.f("uq_messages_organisation_id_wamid")
        ),
    )
    op.create_index(
        "ix_messages_organisation_id_conversation_id_created_at",
        "messages",
        ["organisation_id", "conversation_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_messages_organisation_id_lead_id",
        "messages",
        ["organisation_id", "lead_id"],
        unique=False,
    )
    op.create_table(
        "pipeline_steps",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column(
            "stage",
            sa.Enum(
                "eyes",
                "rag",
                "brain",
                "policy",
                "mouth",
                "memory",
                name="stage",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempt", sa.Integer(), server_default="1", nullable=False),
        sa.Column("model", sa.String(length=128), nullable=True),
        sa.Column("prompt_version", sa.String(length=64), nullable=True),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("input_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("output_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("output", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "overrides",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
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
        sa.ForeignKeyConstraint(
            ["organisation_id", "run_id"],
            ["pipeline_runs.organisation_id", "pipeline_runs.id"],
            name=op.f("fk_pipeline_steps_organisation_id_run_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_pipeline_steps_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_steps")),
        sa.UniqueConstraint(
            "organisation_id",
            "run_id",
            "stage",
            "attempt",
            name=op.f("uq_pipeline_steps_organisation_id_run_id_stage_attempt"),
        ),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "message",
                "template",
                "mark_read",
                name="kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "failed",
                "dead",
                name="status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_error_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_wamid", sa.String(length=255), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["organisation_id", "channel_id"],
            ["whatsapp_channels.organisation_id", "whatsapp_channels.id"],
            name=op.f("fk_outbox_organisation_id_channel_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id", "conversation_id"],
            ["conversations.organisation_id", "conversations.id"],
            name=op.f("fk_outbox_organisation_id_conversation_id"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id", "message_id"],
            ["messages.organisation_id", "messages.id"],
            name=op.f("fk_outbox_organisation_id_message_id"),
            ondelete="SET NULL (message_id)",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_outbox_organisation_id"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint(
            "organisation_id",
            "idempotency_key",
            name=op.f("uq_outbox_organisation_id_idempotency_key"),
        ),
        sa.UniqueConstraint(
            "organisation_id", "message_id", name=op.f("uq_outbox_organisation_id_message_id")
        ),
    )
    op.create_index(
        "ix_outbox_next_attempt_at_due",
        "outbox",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'failed')"),
    )
    op.create_index(
        "ix_outbox_organisation_id_conversation_id_created_at",
        "outbox",
        ["organisation_id", "conversation_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("pipeline_steps")
    op.drop_table("messages")
    op.drop_table("scheduled_actions")
    op.drop_table("pipeline_runs")
    op.drop_table("lead_notes")
    op.drop_table("conversations")
    op.drop_table("webhook_receipts")
    op.drop_table("leads")
    op.drop_table("knowledge_chunks")
    op.drop_table("followup_steps")
    op.drop_table("whatsapp_channels")
    op.drop_table("templates")
    op.drop_table("refresh_tokens")
    op.drop_table("message_status_events")
    op.drop_table("memberships")
    op.drop_table("media_objects")
    op.drop_table("knowledge_documents")
    op.drop_table("invitations")
    op.drop_table("followup_sequences")
    op.drop_table("ctas")
    op.drop_table("audit_logs")
    op.drop_table("api_keys")
    op.drop_table("users")
    op.drop_table("organisations")
    # The extension goes too, so a downgrade to base leaves the database as it found it.
    op.execute("DROP EXTENSION IF EXISTS vector")
