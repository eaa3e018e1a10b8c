"""The alert-window tables (rules/windows.yaml): one per supported SLO window, with burn-rate factors."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from catalog.durations import SUPPORTED_WINDOWS, Duration, Window

Severity = Literal["page", "ticket"]


@dataclass(frozen=True)
class AlertWindow:
    """One burn-rate condition: both windows must exceed factor x error budget."""

    severity: Severity
    long: Duration
    short: Duration
    budget_percent: float
    factor: float


@dataclass(frozen=True)
class WindowTable:
    """A named table: the period its budget shares refer to, and its page and ticket rows."""

    name: str
    period: Duration
    windows: tuple[AlertWindow, ...]


def _rows(name: str, table: dict[str, Any]) -> WindowTable:
    period = Duration.parse(str(table["period"]))
    windows = []
    for severity in ("page", "ticket"):
        for row in table[severity]:
            long, short = Duration.parse(str(row["long"])), Duration.parse(str(row["short"]))
            share = float(row["budget_percent"]) / 100
            # Sloth's getBurnRateFactor: the burn rate that spends `share` of the budget in `long`.
            factor = round(share * period.seconds / long.seconds, 6)
            windows.append(AlertWindow(severity, long, short, float(row["budget_percent"]), factor))
    return WindowTable(name, period, tuple(windows))


@cache
def tables() -> dict[str, WindowTable]:
    """SLO window name (7d, 28d, 30d, week, month, quarter) -> its table, checked against the closed list."""
    text = resources.files("rules").joinpath("windows.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    named = {str(name): _rows(str(name), table) for name, table in data["tables"].items()}
    mapping = {str(k): str(v) for k, v in data["windows"].items()}
    if set(mapping) != set(SUPPORTED_WINDOWS) or not set(mapping.values()) <= set(named):
        raise RuntimeError(
            f"rules/windows.yaml maps {sorted(mapping)} to tables {sorted(set(mapping.values()))}, but the "
            f"supported windows are {list(SUPPORTED_WINDOWS)} and its tables {sorted(named)}"
        )
    return {window: named[table] for window, table in mapping.items()}


def _table(window: Window | Duration) -> WindowTable:
    if isinstance(window, Window):
        return tables()[str(window)]
    # A nominal period (`slo.window.period`): the supported window of that length. Windows of equal
    # length share a table (30d and month, 7d and week), so the answer is the same either way.
    for name in SUPPORTED_WINDOWS:
        if Window.parse(name).period == window:
            return tables()[name]
    raise ValueError(
        f"no burn-rate table for a {window} period; supported windows: {', '.join(SUPPORTED_WINDOWS)}"
    )


def alert_windows(window: Window | Duration) -> list[AlertWindow]:
    """The page and ticket windows of an SLO window (or of its nominal period), with their factors."""
    return list(_table(window).windows)


def sli_windows(window: Window | Duration) -> list[Duration]:
    """Every window an SLO's error ratio is recorded over for its alerts, shortest first."""
    found = {w for aw in alert_windows(window) for w in (aw.long, aw.short)}
    return sorted(found)
