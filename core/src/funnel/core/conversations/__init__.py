"""Conversations: the inbox, one thread with its messages and traces, and the operator actions
(takeover, release, assign, close, resolve attention)."""
