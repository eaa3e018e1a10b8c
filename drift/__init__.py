"""Watchkeeper drift package."""
