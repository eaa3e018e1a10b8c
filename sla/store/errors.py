"""The store's one error type: a message for the operator, never a traceback."""

from __future__ import annotations


class StoreError(Exception):
    """The database cannot be used as asked; the message says why and what to do."""
