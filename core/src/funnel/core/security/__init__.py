"""Password hashing, encryption of secrets at rest, and opaque tokens."""
