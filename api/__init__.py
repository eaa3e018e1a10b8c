"""Watchkeeper api package."""
