"""Identity and access: users, memberships, sessions (refresh tokens), invitations, API keys."""
