"""Watchkeeper exporters package."""
