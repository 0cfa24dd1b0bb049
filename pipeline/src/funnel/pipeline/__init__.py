"""Funnel pipeline."""
