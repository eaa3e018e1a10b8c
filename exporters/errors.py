"""The exporter's errors: why a source could not be collected, and why the exporter cannot start."""

from __future__ import annotations


class ScrapeError(Exception):
    """A source could not be collected; `kind` is one of exporters.names.ERROR_KINDS."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class ConfigError(Exception):
    """The exporter cannot start: a secret is missing or unreadable. Names the source and the variable."""
