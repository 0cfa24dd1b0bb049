"""Row-level security: the funnel_tenant role and one isolation policy per tenant table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Tenant requests run ``SET LOCAL ROLE funnel_tenant`` with ``funnel.organisation_id`` set
(``funnel.core.db.tenancy.scope_to_organisation``); the policies below then show and accept only
that organisation's rows, whatever SQL the request runs. With the setting missing or empty the
policy compares with NULL and matches nothing: an unscoped tenant sees no rows rather than all.

The login role owns the tables and RLS is enabled but not forced, so the owner is not subject to
it: system work (webhook routing, the scheduler, migrations) runs unscoped on purpose. A
superuser bypasses RLS too, but not after ``SET ROLE funnel_tenant``, which is what the tests
check. A table added by a later migration needs the same GRANT, ENABLE and CREATE POLICY; the
test suite fails for a tenant table without them.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = "funnel_tenant"
SCOPE = "nullif(current_setting('funnel.organisation_id', true), '')::uuid"

#: Frozen here rather than imported from the models: a migration must not change when the
#: models do.
TENANT_TABLES = (
    "api_keys",
    "audit_logs",
    "conversations",
    "ctas",
    "followup_sequences",
    "followup_steps",
    "invitations",
    "knowledge_chunks",
    "knowledge_documents",
    "lead_notes",
    "leads",
    "media_objects",
    "memberships",
    "message_status_events",
    "messages",
    "outbox",
    "pipeline_runs",
    "pipeline_steps",
    "scheduled_actions",
    "templates",
    "webhook_receipts",
    "whatsapp_channels",
)


def upgrade() -> None:
    # Roles are cluster-wide: the role may exist already (another database, a cloned test
    # database, a concurrent migration), so creating it must tolerate that.
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN
                CREATE ROLE {ROLE} NOLOGIN;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END
        $$
        """
    )
    # The login role must be a member to SET ROLE to it.
    op.execute(f"GRANT {ROLE} TO current_user")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {ROLE}")

    for table in TENANT_TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} TO {ROLE} "
            f"USING (organisation_id = {SCOPE}) WITH CHECK (organisation_id = {SCOPE})"
        )

    # The tenant sees and edits its own organisation; creating or deleting one is system work.
    op.execute(f"GRANT SELECT, UPDATE ON organisations TO {ROLE}")
    op.execute("ALTER TABLE organisations ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON organisations TO {ROLE} "
        f"USING (id = {SCOPE}) WITH CHECK (id = {SCOPE})"
    )

    # Users are global; a tenant sees the members of its organisation. The subquery on
    # memberships is itself under that table's policy, so it only finds this tenant's members.
    # Sign-up, login and invitation acceptance are identity work and run unscoped.
    op.execute(f"GRANT SELECT, UPDATE ON users TO {ROLE}")
    op.execute("ALTER TABLE users ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_members ON users TO {ROLE} "
        "USING (EXISTS (SELECT FROM memberships m WHERE m.user_id = users.id))"
    )


def downgrade() -> None:
    op.execute("DROP POLICY IF EXISTS tenant_members ON users")
    op.execute("ALTER TABLE users DISABLE ROW LEVEL SECURITY")
    for table in (*TENANT_TABLES, "organisations"):
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {ROLE}")
    # The role itself stays: it is cluster-wide, other databases on the server (clones of a
    # test template, other environments) may still use it, and DROP ROLE would fail while they
    # hold grants. Dropping it is an operator's decision, not a migration's.
