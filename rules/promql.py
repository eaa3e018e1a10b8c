"""Safe PromQL building blocks: quoted strings, label matchers, numbers and template filling."""

from __future__ import annotations

import math
import re
from decimal import Decimal

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


def go_float(value: float) -> str:
    """A float as Go's `strconv.FormatFloat(v, 'g', -1, 64)` writes it: how client_golang writes a
    bucket's `le` (`1`, `0.3`, `102400`, `1.6384e+06`, `1e-05`)."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    _, digit_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + exponent  # the decimal point's position in the digits
    minus = "-" if value < 0 else ""
    if point - 1 < -4 or point - 1 >= 6:  # Go's %g with the shortest precision switches at 1e-4 and 1e6
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{minus}{mantissa}e{'-' if point - 1 < 0 else '+'}{abs(point - 1):02d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return minus + digits + "0" * (point - len(digits))
    return f"{minus}{digits[:point]}.{digits[point:]}"


def le_labels(value: float) -> list[str]:
    """Every way a client writes this bucket bound: Go (`1`, `1e+06`), the Python client (`1.0`,
    `1e+06`) and Prometheus 3's normalised classic-histogram labels (`1.0`)."""
    go = go_float(value)
    python = repr(float(value))
    dot = python.find(".")
    if value > 0 and dot > 6:  # prometheus_client's floatToGoString uses Go's exponent form from 1e6
        mantissa = f"{python[0]}.{python[1:dot]}{python[dot + 1 :]}".rstrip("0").rstrip(".")
        python = f"{mantissa}e+0{dot - 1}"
    normalised = go if any(c in go for c in ".eE") else go + ".0"
    return list(dict.fromkeys([go, python, normalised]))


def le_regex(value: float) -> str:
    """A regex matching a histogram `le` label however a client wrote this bound (see `le_labels`)."""
    return "|".join(re.escape(label) for label in le_labels(value))


def fill(template: str, window: Duration) -> str:
    """Replace the catalog's `{{window}}` placeholder with a concrete range."""
    return template.replace(WINDOW_PLACEHOLDER, str(window))
