"""The exporter's errors: why a source could not be collected, and why the exporter cannot start."""

from __future__ import annotations


class ScrapeError(Exception):
    """A source could not be collected; `kind` is one of exporters.names.ERROR_KINDS.

    `detail` holds a traceback when the cause was unforeseen (a bug or an unexpected payload shape); it is
    logged once, when the source goes down, never on every scrape.
    """

    def __init__(self, kind: str, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.detail = detail


class ConfigError(Exception):
    """The exporter cannot start: a secret is missing or unreadable. Names the source and the variable."""


def shown(text: object, limit: int = 80) -> str:
    """An upstream-supplied value (a Content-Type, an encoding) fit for a message: printable, truncated, quoted."""
    raw = str(text)
    clean = "".join(c if c.isprintable() else "?" for c in raw[:limit])
    return repr(clean + ("…" if len(raw) > limit else ""))
