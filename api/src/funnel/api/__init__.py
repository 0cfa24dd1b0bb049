"""Funnel api."""
