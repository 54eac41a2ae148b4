"""Hazard reports (placeholder)."""
