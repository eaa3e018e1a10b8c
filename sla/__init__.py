"""Watchkeeper sla package."""
