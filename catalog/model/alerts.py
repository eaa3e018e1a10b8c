"""Component-alert overrides (`alerts:`) of sources and drift monitors, checked against the kind's
alerts and their defaults (catalog/alert_defaults.py)."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator

from catalog.alert_defaults import COMPONENT_ALERTS, Severity
from catalog.errors import did_you_mean
from catalog.fields import AlertFor
from catalog.model.labels import ExtraLabels
from catalog.model.strict import Strict


class AlertOverride(Strict):
    """Overrides one component alert's defaults; `false` is shorthand for `{enabled: false}`."""

    enabled: bool = True
    threshold: float | None = None
    for_: AlertFor | None = Field(default=None, alias="for")
    severity: Severity | None = None
    labels: ExtraLabels = {}

    @model_validator(mode="before")
    @classmethod
    def _from_bool(cls, data: Any) -> Any:
        return {"enabled": data} if isinstance(data, bool) else data


class HasAlerts(Strict):
    """An entry with component alerts (catalog/alert_defaults.py lists them per kind)."""

    alert_kind: ClassVar[str]
    alerts: dict[str, AlertOverride] = {}

    @field_validator("alerts")
    @classmethod
    def _known_alerts(cls, value: dict[str, AlertOverride]) -> dict[str, AlertOverride]:
        known = COMPONENT_ALERTS[cls.alert_kind]
        for key, override in value.items():
            if key not in known:
                raise ValueError(
                    f"unknown {cls.alert_kind} alert {key!r}{did_you_mean(key, known)}; "
                    f"known: {', '.join(known)}"
                )
            problem = _threshold_problem(key, override.threshold, known[key].threshold, known[key].unit)
            if problem:
                raise ValueError(problem)
        return value


def _threshold_problem(key: str, threshold: float | None, default: float | None, unit: str) -> str | None:
    """Why an override's threshold cannot work for this alert, or None. Every threshold counts something
    (blocks, seconds, nodes) or is a ratio: below 0 the alert always fires, above 1 a ratio never does."""
    if threshold is None:
        return None
    if default is None and not unit:
        return f"{key} has no threshold (it fires on a state); remove threshold"
    if threshold < 0:
        return (
            f"{key} threshold {threshold:g} is negative, so the alert would always fire; its unit is {unit}"
        )
    if threshold == 0 and re.search(r"seconds(?! ahead)|intervals|schedules", unit):
        return (
            f"{key} threshold 0 would fire on any age or delay at all (in {unit.partition(' (')[0]}), that "
            f"is practically always; write a positive threshold such as {default if default else 1:g}"
        )
    if unit.startswith("ratio") and threshold > 1:
        return (
            f"{key} threshold {threshold:g} is above 1, but it is a {unit} (0 to 1), so the alert could never "
            f"fire: write a ratio such as {default if default is not None else 0.5:g}"
        )
    if 0 < threshold < 1e-6:  # rules/promql.number writes 12 decimals: 1e-20 would read as 0
        return f"{key} threshold {threshold:g} is too small to mean anything; write 0 or at least 1e-06"
    if threshold > 1e15:
        return f"{key} threshold {threshold:g} is too large to mean anything; write at most 1e15"
    if key == "failed_apps" and threshold == 1:  # it fires on a share of finished apps above the threshold
        return f"{key} threshold 1 could never fire: no more than all applications can fail; write 0.99"
    if key == "queue_saturated" and threshold == 0:  # it fires on used/max at or above the threshold
        return (
            f"{key} threshold 0 would fire whenever a container waits, however empty the queue; write a "
            f"ratio such as {default if default is not None else 0.95:g}"
        )
    return None
