"""The organisation's own profile and settings, and the platform operator's listing."""
