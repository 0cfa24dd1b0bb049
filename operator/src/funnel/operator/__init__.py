"""Funnel operator."""
