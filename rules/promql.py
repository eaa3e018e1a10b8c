"""Safe PromQL building blocks: quoted strings, label matchers, numbers and template filling."""

from __future__ import annotations

import re

from catalog.durations import Duration
from catalog.fields import WINDOW_PLACEHOLDER


def quote(value: str) -> str:
    """A PromQL double-quoted string literal with backslash, quote and newline escaped."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def matchers(labels: dict[str, str]) -> str:
    """`{a="x", b="y"}` from a mapping, every value escaped."""
    return "{" + ", ".join(f"{k}={quote(v)}" for k, v in sorted(labels.items())) + "}"


def number(value: float) -> str:
    """A float literal that round-trips and never uses exponent-free noise like 0.0009999999999999432."""
    return repr(round(value, 12))


def le_regex(value: float) -> str:
    """A regex matching a histogram `le` label as Go ("1", "0.3") and Python ("1.0") clients format it."""
    text = f"{value:.12f}".rstrip("0").rstrip(".")
    escaped = re.escape(text)
    return escaped + (r"0*" if "." in text else r"(\.0+)?")


def fill(template: str, window: Duration) -> str:
    """Replace the catalog's `{{window}}` placeholder with a concrete range."""
    return template.replace(WINDOW_PLACEHOLDER, str(window))
