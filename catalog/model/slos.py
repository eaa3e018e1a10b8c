"""SLOs: their SLI (one of five kinds), objective, window and burn-rate alerting."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from catalog.durations import Window
from catalog.fields import (
    ALERT_NAME_RE,
    AlertFor,
    AlertName,
    AnnotationMap,
    MaxAge,
    MetricName,
    Name,
    PromQLTemplate,
    Selector,
    objective_precision_problem,
)
from catalog.model.corrections import Correction
from catalog.model.labels import ExtraLabels, SloLabels
from catalog.model.strict import Strict, require_one


class EventsSLI(Strict):
    """Ratio SLI: bad (or good) events over total events, each a PromQL template."""

    errors: PromQLTemplate | None = None
    good: PromQLTemplate | None = None
    total: PromQLTemplate

    @model_validator(mode="after")
    def _errors_or_good(self) -> EventsSLI:
        return require_one(self, ("errors", "good"), "events needs exactly one of errors or good, plus total")


class LatencySLI(Strict):
    """Latency SLI from histogram buckets: requests slower than `le` seconds are errors.

    `le` must be one of the histogram's bucket bounds. List the bounds in `buckets` to have that checked
    here; at run time a missing bucket reads as no SLI data (WatchkeeperSLONoData), never as all good.
    """

    histogram: MetricName
    le: float = Field(gt=0)
    selector: Selector = "{}"
    buckets: list[Annotated[float, Field(gt=0, allow_inf_nan=False)]] | None = Field(
        default=None,
        min_length=1,
        description="the histogram's bucket bounds in seconds (without +Inf); when given, le must be one of them",
    )

    @field_validator("buckets")
    @classmethod
    def _increasing(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and value != sorted(set(value)):  # ascending, no repeats
            raise ValueError(f"buckets must be strictly increasing, as a client declares them: {value}")
        return value

    @model_validator(mode="after")
    def _le_is_a_bucket(self) -> LatencySLI:
        if self.buckets is None or any(abs(b - self.le) <= 1e-9 * self.le for b in self.buckets):
            return self
        below = [b for b in self.buckets if b < self.le]
        above = [b for b in self.buckets if b > self.le]
        nearest = " and ".join(f"{b:g}" for b in (below[-1:] + above[:1]))
        raise ValueError(
            f"le {self.le:g} is not one of the histogram's bucket bounds, so no bucket counts the requests "
            f"under it; use a bound (nearest: {nearest}) or add {self.le:g} to the histogram's buckets"
        )

    @field_validator("histogram")
    @classmethod
    def _base_name(cls, value: str) -> str:
        for suffix in ("_bucket", "_count", "_sum"):
            if value.endswith(suffix):
                raise ValueError(
                    f"give the histogram's base name without {suffix!r}: {value.removesuffix(suffix)}"
                )
        return value


class FreshnessSLI(Strict):
    """Freshness SLI: the share of time a dataset is younger than max_age."""

    dataset: str = Field(min_length=1)
    max_age: MaxAge


class KafkaLagSLI(Strict):
    """Kafka lag SLI: the share of time a group's lag in seconds stays under its limit."""

    cluster: Name
    group: str = Field(min_length=1)
    max_lag_seconds: float = Field(gt=0)

    @field_validator("max_lag_seconds")
    @classmethod
    def _plausible_lag(cls, value: float) -> float:
        # The rules write numbers to 12 decimals: a smaller limit would read as 0 (found by the fuzz test).
        if not 0.001 <= value <= 1e9:
            raise ValueError(
                f"max_lag_seconds {value:g} is out of range: write a number of seconds from 0.001 to 1e9"
            )
        return value


class RawSLI(Strict):
    """An error-ratio query used as is (Sloth's `raw` SLI)."""

    error_ratio: PromQLTemplate


SLI_KINDS = ("events", "latency", "freshness", "kafka_lag", "raw")


class SLI(Strict):
    events: EventsSLI | None = None
    latency: LatencySLI | None = None
    freshness: FreshnessSLI | None = None
    kafka_lag: KafkaLagSLI | None = None
    raw: RawSLI | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SLI:
        given = [kind for kind in SLI_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            found = ", ".join(given) if given else "none"
            raise ValueError(f"an sli needs exactly one of {', '.join(SLI_KINDS)} (found: {found})")
        return self

    @property
    def kind(self) -> str:
        return next(kind for kind in SLI_KINDS if getattr(self, kind) is not None)


class AlertSpec(Strict):
    """One burn-rate alert (page or ticket); `page: false` is shorthand for `page: {enabled: false}`."""

    enabled: bool = True
    for_: AlertFor | None = Field(
        default=None, alias="for", description="how long the burn must last (default: page 2m, ticket 15m)"
    )
    labels: ExtraLabels = {}
    annotations: AnnotationMap = {}

    @model_validator(mode="before")
    @classmethod
    def _from_bool(cls, data: Any) -> Any:
        return {"enabled": data} if isinstance(data, bool) else data


class Alerting(Strict):
    """How an SLO alerts: the page and ticket burn-rate alerts, extra labels and annotations."""

    name: AlertName | None = Field(default=None, json_schema_extra={"pattern": ALERT_NAME_RE.pattern})
    page: AlertSpec = AlertSpec()
    ticket: AlertSpec = AlertSpec()
    labels: ExtraLabels = {}
    annotations: AnnotationMap = {}
    min_events_per_hour: float = Field(
        default=10.0,
        ge=0,
        description="low-traffic guard: no page unless this many events in the last hour (0: no guard)",
    )


class SLO(Strict):
    name: Name
    service: Name
    objective: float = Field(description="target in percent, strictly between 0 and 100")
    window: Window = Window.parse("30d")
    description: str = ""
    sli: SLI
    alerting: Alerting = Alerting()
    labels: SloLabels = {}
    corrections: list[Correction] = []

    @field_validator("objective")
    @classmethod
    def _percent(cls, value: float) -> float:
        if not 0 < value < 100:
            hint = f" (did you mean {value * 100:g}?)" if 0 < value < 1 else ""
            raise ValueError(f"objective {value:g} must be a percentage strictly between 0 and 100{hint}")
        problem = objective_precision_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @property
    def target_ratio(self) -> float:
        return self.objective / 100

    @property
    def error_budget_ratio(self) -> float:
        return 1 - self.objective / 100
