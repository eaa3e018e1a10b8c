"""Alertmanager's alert fingerprint, for payloads that omit it (webhook senders before Alertmanager 0.19).

It is Prometheus' `model.LabelSet.Fingerprint()`: FNV-1a 64 over the label names in sorted order, each
name and value followed by the separator byte 0xff, printed as 16 hex digits.
"""

from __future__ import annotations

from collections.abc import Mapping

_OFFSET64 = 14695981039346656037
_PRIME64 = 1099511628211
_MASK64 = (1 << 64) - 1
_SEPARATOR = 0xFF


def label_fingerprint(labels: Mapping[str, str]) -> str:
    """The fingerprint Alertmanager gives an alert with these labels."""
    value = _OFFSET64
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in (*part.encode("utf-8"), _SEPARATOR):
                value = ((value ^ byte) * _PRIME64) & _MASK64
    return f"{value:016x}"
