"""Watchkeeper dashboards package."""
