"""Database plumbing: the declarative base, engines and sessions, tenant scoping, migrations."""
