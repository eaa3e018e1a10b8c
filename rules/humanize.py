"""Prometheus' template functions `humanize`, `humanizePercentage` and `humanizeDuration`, in Python.

The generated promtool tests expect the annotations Prometheus will render, so they must format
`$value` exactly as Prometheus does (Go's `%.4g` with SI prefixes).
"""

from __future__ import annotations

import math
import re

_BIG = ("k", "M", "G", "T", "P", "E", "Z", "Y")
_SMALL = ("m", "u", "n", "p", "f", "a", "z", "y")


def _g4(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.4g}"


def _scale_small(value: float) -> tuple[float, str]:
    prefix = ""
    for p in _SMALL:
        if abs(value) >= 1:
            break
        prefix, value = p, value * 1000
    return value, prefix


def humanize(value: float) -> str:
    if value == 0 or math.isnan(value) or math.isinf(value):
        return _g4(value)
    if abs(value) >= 1:
        prefix = ""
        for p in _BIG:
            if abs(value) < 1000:
                break
            prefix, value = p, value / 1000
        return f"{_g4(value)}{prefix}"
    value, prefix = _scale_small(value)
    return f"{_g4(value)}{prefix}"


def humanize_percentage(value: float) -> str:
    return f"{_g4(value * 100)}%"


def humanize_duration(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return _g4(value)
    if value == 0:
        return f"{_g4(value)}s"
    if abs(value) >= 1:
        sign = "-" if value < 0 else ""
        value = abs(value)
        whole = int(value)
        seconds, minutes, hours, days = whole % 60, whole // 60 % 60, whole // 3600 % 24, whole // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(value)}s"
    value, prefix = _scale_small(value)
    return f"{_g4(value)}{prefix}s"


_FUNCTIONS = {
    "humanize": humanize,
    "humanizePercentage": humanize_percentage,
    "humanizeDuration": humanize_duration,
}
_VALUE = re.compile(r"\{\{\s*\$value\s*\|\s*(\w+)\s*\}\}")


_LABEL = re.compile(r"\{\{\s*\$labels\.(\w+)\s*\}\}")


def render(text: str, value: float | None, labels: dict[str, str]) -> str:
    """Expand `{{ $value | fn }}` and `{{ $labels.x }}` as Prometheus would for an alert."""
    text = _LABEL.sub(lambda m: labels[m.group(1)], text)
    if value is None:
        if _VALUE.search(text):
            raise ValueError(f"annotation needs an alert value to render: {text!r}")
        return text
    return _VALUE.sub(lambda m: _FUNCTIONS[m.group(1)](value), text)
