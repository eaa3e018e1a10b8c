"""The alert-window table (rules/windows.yaml) and burn-rate factors scaled to an SLO's period."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import yaml

from catalog.durations import Duration

Severity = Literal["page", "ticket"]


@dataclass(frozen=True)
class AlertWindow:
    """One burn-rate condition: both windows must exceed factor x error budget."""

    severity: Severity
    long: Duration
    short: Duration
    budget_percent: float
    factor: float


@cache
def _table() -> dict[str, object]:
    text = resources.files("rules").joinpath("windows.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def alert_windows(period: Duration) -> list[AlertWindow]:
    """The page and ticket windows for an SLO period, with factor = budget share x period / long window."""
    return list(_alert_windows(period))


@cache
def _alert_windows(period: Duration) -> tuple[AlertWindow, ...]:
    table = _table()
    periods = table.get("periods") or {}
    assert isinstance(periods, dict)
    rows = periods.get(str(period)) or table["default"]
    assert isinstance(rows, dict)
    windows = []
    for severity in ("page", "ticket"):
        for row in rows[severity]:
            long, short = Duration.parse(row["long"]), Duration.parse(row["short"])
            share = float(row["budget_percent"]) / 100
            factor = round(share * period.seconds / long.seconds, 6)
            windows.append(AlertWindow(severity, long, short, float(row["budget_percent"]), factor))
    return tuple(windows)


def sli_windows(period: Duration) -> list[Duration]:
    """Every window an SLO's error ratio is recorded over, shortest first."""
    found = {w for aw in alert_windows(period) for w in (aw.long, aw.short)}
    return sorted(found)
