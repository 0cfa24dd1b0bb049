"""Storing what customers send: routing, ingest with dedup, statuses, opt-outs."""
