"""Saved replies (title and text) the organisation's agents insert from the inbox composer."""
