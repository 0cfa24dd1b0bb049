"""Funnel receiver."""
