"""Alembic migrations, packaged with funnel-core (see ``funnel.core.db.migrate``)."""
