"""Watchkeeper rules package."""
