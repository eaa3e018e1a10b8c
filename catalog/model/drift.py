"""Drift monitors: reference and current data, the tests per column, the schedule and retraining."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from catalog.addresses import EnvName, HttpUrl
from catalog.durations import Duration
from catalog.errors import did_you_mean
from catalog.fields import Cooldown, Name, Schedule
from catalog.model.alerts import HasAlerts
from catalog.model.connections import AirflowRef, SqlQuery
from catalog.model.strict import Strict, require_one


class DataRef(Strict):
    path: str | None = None
    sql: SqlQuery | None = None

    @model_validator(mode="after")
    def _one(self) -> DataRef:
        return require_one(self, ("path", "sql"), "give exactly one of path (parquet or csv) or sql")


class WebhookTrigger(Strict):
    url: HttpUrl
    secret_env: EnvName | None = None


class Retrain(Strict):
    airflow: AirflowRef | None = None
    webhook: WebhookTrigger | None = None
    cooldown: Cooldown = Duration.parse("24h")

    @model_validator(mode="after")
    def _one(self) -> Retrain:
        return require_one(self, ("airflow", "webhook"), "retrain needs exactly one of airflow or webhook")


class DriftMonitor(HasAlerts):
    alert_kind = "drift"
    name: Name
    service: Name
    reference: DataRef
    current: DataRef
    columns: list[str] = []
    drift_share: float = Field(default=0.5, gt=0, le=1)
    schedule: Schedule = Duration.parse("1h")
    retrain: Retrain | None = None
    stattests: dict[str, str] = {}
    """Per column, an Evidently stattest name instead of Evidently's default choice."""
    thresholds: dict[str, Annotated[float, Field(allow_inf_nan=False)]] = {}
    """Per column, the stattest's threshold (a p-value floor or a distance ceiling)."""

    @field_validator("thresholds")
    @classmethod
    def _positive_thresholds(cls, value: dict[str, float]) -> dict[str, float]:
        for column, threshold in value.items():
            if threshold <= 0:
                raise ValueError(
                    f"column {column!r}: threshold {threshold:g} must be above 0 (a p-value floor such as "
                    "0.05, or a distance ceiling such as 0.1)"
                )
        return value

    @field_validator("stattests")
    @classmethod
    def _known_stattests(cls, value: dict[str, str]) -> dict[str, str]:
        for column, name in value.items():
            if name not in DRIFT_STATTESTS:
                raise ValueError(
                    f"column {column!r}: unknown stattest {name!r}{did_you_mean(name, DRIFT_STATTESTS)} "
                    f"(use one of {', '.join(sorted(DRIFT_STATTESTS))})"
                )
        return value

    @model_validator(mode="after")
    def _per_column_in_columns(self) -> DriftMonitor:
        for key in ("stattests", "thresholds"):
            unknown = sorted(set(getattr(self, key)) - set(self.columns)) if self.columns else []
            if unknown:
                raise ValueError(
                    f"{key} names {', '.join(map(repr, unknown))}, not in the monitor's columns: add it to "
                    "columns or remove it"
                )
        for column, threshold in self.thresholds.items():
            test = self.stattests.get(column)
            if test in P_VALUE_STATTESTS and threshold >= 1:
                raise ValueError(
                    f"thresholds: column {column!r}: {threshold:g} for {test}, whose score is a p-value (drift "
                    "when it is below the threshold): at 1 or more every run reports drift; use a p-value "
                    "floor such as 0.05"
                )
        return self


DRIFT_STATTESTS = frozenset(
    [
        "TVD",
        "anderson",
        "chisquare",
        "cramer_von_mises",
        "ed",
        "empirical_mmd",
        "es",
        "fisher_exact",
        "g_test",
        "hellinger",
        "jensenshannon",
        "kl_div",
        "ks",
        "mannw",
        "psi",
        "t_test",
        "wasserstein",
        "z",
    ]
)
"""Evidently's registered tabular stattest names (tests/test_drift_run_catalog.py checks the registry)."""
P_VALUE_STATTESTS = frozenset(
    [
        "TVD",
        "anderson",
        "chisquare",
        "cramer_von_mises",
        "empirical_mmd",
        "es",
        "fisher_exact",
        "g_test",
        "ks",
        "mannw",
        "t_test",
        "z",
    ]
)
"""The stattests whose score is a p-value, drift below the threshold (the others are distances, drift at or
above it); tests/test_drift_catalog_thresholds.py checks each against Evidently's own verdicts."""
