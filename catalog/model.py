"""Pydantic models of the catalog: teams, services, SLOs, sources and drift monitors."""

from __future__ import annotations

import re
import typing
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from catalog.addresses import DatabaseUrl, Email, EnvName, FilePath, HeaderMap, HttpUrl, TlsVerify, Username
from catalog.alert_defaults import COMPONENT_ALERTS, Severity
from catalog.claims import Claims
from catalog.durations import Duration, Window
from catalog.errors import did_you_mean
from catalog.fields import (
    ALERT_NAME_RE,
    AlertFor,
    AlertName,
    AnnotationMap,
    Cooldown,
    LabelMap,
    LatencyTarget,
    Lookback,
    MaxAge,
    MetricName,
    Name,
    NoBool,
    PollInterval,
    ProbeInterval,
    PromQLTemplate,
    Schedule,
    Selector,
    bounded,
    objective_precision_problem,
)
from catalog.secrets import credential_name, secret_shape

TOP_LEVEL_KEYS = ("teams", "services", "slos", "sources", "drift")
SOURCE_KINDS = ("hdfs", "yarn", "spark", "kafka", "freshness", "inference")

# Keys that would hold a secret inline, mapped to the reference that replaces them.
INLINE_SECRET_KEYS: dict[str, str] = {
    "api_url": "api_url_env (or api_url_file)",
    "routing_key": "routing_key_env (or routing_key_file)",
    "service_key": "routing_key_env (or routing_key_file)",
    "password": "password_env (or password_file)",
    "token": "token_env (or token_file)",
    "secret": "secret_env (or secret_file)",
    "bearer_token": "token_env (or token_file)",
}


M = TypeVar("M", bound=BaseModel)


def require_one(model: M, fields: tuple[str, ...], message: str) -> M:
    """Return the model if exactly one of `fields` is set; else raise ValueError(message)."""
    if sum(getattr(model, f) is not None for f in fields) != 1:
        raise ValueError(message)
    return model


class Strict(BaseModel):
    """Base for every catalog entry: unknown keys are errors, and inline secrets are refused.

    Types are strict: a number is a YAML number (not `true`, not a quoted "99.9"), a boolean is true or
    false, and numbers are finite (no .inf or .nan).
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, strict=True, allow_inf_nan=False
    )

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        """Frozen, so shared: pydantic deep-copies a default such as `Alerting()` for every entry otherwise
        (a third of the time to validate 10,000 SLOs; see docs/performance.md)."""
        return self

    @model_validator(mode="before")
    @classmethod
    def _refuse_inline_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, replacement in INLINE_SECRET_KEYS.items():
                if key in data and key not in cls.model_fields:
                    raise PydanticCustomError(
                        "inline_secret",
                        "{key} holds a secret inline; never write secrets in the catalog: use {replacement} "
                        "naming an environment variable or file that holds it",
                        {"key": key, "replacement": replacement},
                    )
            data = _yaml12_floats(data, _float_fields(cls))
        return data


_EXPONENT = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+")
"""Numbers in exponent form that YAML 1.1 (PyYAML) reads as text but YAML 1.2 and Go read as numbers:
`1e-20`, `1e6`, `1.5e3` (YAML 1.1 wants a '.' and a signed exponent: `1.0e+6`)."""
_FLOAT_FIELDS: dict[type, frozenset[str]] = {}


def _float_fields(cls: type[BaseModel]) -> frozenset[str]:
    """The fields of `cls` holding a float or a list of floats."""
    found = _FLOAT_FIELDS.get(cls)
    if found is None:
        found = frozenset(name for name, info in cls.model_fields.items() if _holds_float(info.annotation))
        _FLOAT_FIELDS[cls] = found
    return found


def _holds_float(annotation: Any) -> bool:
    if annotation is float:
        return True
    return any(_holds_float(arg) for arg in typing.get_args(annotation))


def _yaml12_floats(data: dict[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    """`data` with exponent-form text in float fields read as the number it writes (see _EXPONENT).

    Types are strict otherwise: a quoted "99.9" stays text and is refused."""
    changed: dict[str, Any] = {}
    for name in fields:
        value = data.get(name)
        if isinstance(value, str) and _EXPONENT.fullmatch(value):
            changed[name] = float(value)
        elif isinstance(value, list) and any(isinstance(v, str) for v in value):
            changed[name] = [float(v) if isinstance(v, str) and _EXPONENT.fullmatch(v) else v for v in value]
    return {**data, **changed} if changed else data


# --- corrections (planned maintenance, excluded from SLO budgets; docs/sla.md#corrections) ----------


def _aware_time(value: Any) -> Any:
    """A time with a zone: a YAML timestamp or ISO 8601 text such as 2026-11-03T02:00:00Z."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not a time: write it like 2026-11-03T02:00:00Z") from None
    if not isinstance(value, datetime):
        raise ValueError("write a time with a zone, like 2026-11-03T02:00:00Z (a date alone is not enough)")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value.isoformat()} has no zone: add Z (UTC) or an offset such as +01:00")
    return value


AwareTime = Annotated[datetime, BeforeValidator(_aware_time)]


class Correction(Strict):
    """A planned maintenance window: [start, end) is excluded from the budget of the SLOs it covers."""

    start: AwareTime
    end: AwareTime
    reason: str = Field(min_length=1, max_length=1000, description="why this time does not count")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError(f"a correction must end after it starts ({self.start} to {self.end}): swap them")
        return self


# --- teams -----------------------------------------------------------------------------------------


class SlackChannel(Strict):
    channel: str = Field(pattern=r"^[#@][\w.-]+$")
    api_url_env: EnvName | None = None
    api_url_file: FilePath | None = None

    @model_validator(mode="after")
    def _one_ref(self) -> SlackChannel:
        return require_one(
            self,
            ("api_url_env", "api_url_file"),
            "slack needs exactly one of api_url_env or api_url_file (the webhook URL is a secret)",
        )


class PagerDutyChannel(Strict):
    routing_key_env: EnvName | None = None
    routing_key_file: FilePath | None = None

    @model_validator(mode="after")
    def _one_ref(self) -> PagerDutyChannel:
        return require_one(
            self,
            ("routing_key_env", "routing_key_file"),
            "pagerduty needs exactly one of routing_key_env or routing_key_file",
        )


class WebhookChannel(Strict):
    url: HttpUrl
    token_env: EnvName | None = None
    token_file: FilePath | None = None


class EmailChannel(Strict):
    to: list[Email] = Field(min_length=1)


class Channels(Strict):
    slack: SlackChannel | None = None
    pagerduty: PagerDutyChannel | None = None
    webhook: WebhookChannel | None = None
    email: EmailChannel | None = None


class Team(Strict):
    name: Name
    owners: list[str] = Field(min_length=1, description="on-call contacts: e-mail addresses or handles")
    channels: Channels = Channels()
    description: str = ""
    corrections: list[Correction] = []


# --- services --------------------------------------------------------------------------------------


class Tier(StrEnum):
    """Service tier: drives severity and routing (critical pages, low never does)."""

    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"


class Service(Strict):
    name: Name
    team: Name
    tier: Tier = Field(default=Tier.medium, strict=False)  # an enum: its YAML text is the value
    runbook: HttpUrl | None = None
    description: str = ""
    labels: LabelMap = {}
    corrections: list[Correction] = []
    claims: Claims = Field(default=Claims(), description="parts of shared sources this service owns")


# --- SLOs ------------------------------------------------------------------------------------------


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


RESERVED_LABELS = frozenset(
    {"severity", "team", "service", "slo", "tier", "alertname", "burn", "component", "source"}
)
"""Labels Watchkeeper sets on alerts: a catalog value would be overwritten, or would break routing and
inhibition (which match on alertname, service, slo and source)."""
SLO_RESERVED_LABELS = RESERVED_LABELS | {"objective", "window", "sli", "calendar"}
"""An SLO's own `labels` also reach its recording rules, where these are set (`slo:info`, calendar ratio)."""


def _no_reserved(reserved_set: frozenset[str]) -> AfterValidator:
    def check(value: dict[str, str]) -> dict[str, str]:
        reserved = reserved_set & value.keys()
        if reserved:
            raise ValueError(
                f"labels {sorted(reserved)} are set by Watchkeeper from the catalog; remove them (severity "
                "and burn come from the alert, team/service/tier from the service, slo and its objective, "
                "window and sli from the SLO, source and component from the source)"
            )
        return value

    return AfterValidator(check)


ExtraLabels = Annotated[LabelMap, _no_reserved(RESERVED_LABELS)]
SloLabels = Annotated[LabelMap, _no_reserved(SLO_RESERVED_LABELS)]


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


# --- sources ---------------------------------------------------------------------------------------


class BasicAuth(Strict):
    username: Username
    password_env: EnvName | None = None
    password_file: FilePath | None = None

    @model_validator(mode="after")
    def _one_ref(self) -> BasicAuth:
        return require_one(
            self,
            ("password_env", "password_file"),
            "basic auth needs exactly one of password_env or password_file",
        )


class BearerAuth(Strict):
    token_env: EnvName | None = None
    token_file: FilePath | None = None

    @model_validator(mode="after")
    def _one_ref(self) -> BearerAuth:
        return require_one(
            self, ("token_env", "token_file"), "bearer auth needs exactly one of token_env or token_file"
        )


class HttpAuth(Strict):
    basic: BasicAuth | None = None
    bearer: BearerAuth | None = None

    @model_validator(mode="after")
    def _one(self) -> HttpAuth:
        return require_one(self, ("basic", "bearer"), "auth needs exactly one of basic or bearer")


DEFAULT_TIMEOUT = Duration.parse("5s")
MAX_TIMEOUT = Duration.parse("30s")
"""A source's timeout must stay below Prometheus' scrape_timeout for the exporter (which cannot exceed
the scrape interval): a longer one only makes Prometheus give up first, on every scrape."""
MAX_MIN_INTERVAL = Duration.parse("5m")
"""Past Prometheus' 5m staleness a reused result would be older than any sample Prometheus keeps."""
DEFAULT_MAX_SERIES = 50_000
MAX_MAX_SERIES = 10_000_000


def _at_most(bound: Duration, field: str, why: str) -> AfterValidator:
    def check(value: Duration) -> Duration:
        if value > bound:
            raise PydanticCustomError(
                "duration_bound",
                "{field} {value} is too long: at most {bound} ({why})",
                {"field": field, "value": str(value), "bound": str(bound), "why": why},
            )
        return value

    return AfterValidator(check)


Timeout = Annotated[
    Duration,
    _at_most(
        MAX_TIMEOUT,
        "timeout",
        "keep it below the scrape_timeout Prometheus uses for the exporter; docs/exporters.md",
    ),
]
MinInterval = Annotated[
    Duration, _at_most(MAX_MIN_INTERVAL, "min_interval", "a result is reused at most this long")
]
MaxSeries = Annotated[int, Field(strict=True, ge=1, le=MAX_MAX_SERIES)]


def _count_within(low: int, high: int, field: str, why: str) -> AfterValidator:
    """An integer field's bounds, with a message naming the field, the bounds and what it costs."""

    def check(value: int) -> int:
        if value < low:
            raise PydanticCustomError(
                "count_range",
                "{value} is below {low}: {field} is at least {low}; write a number from {low} to {high}",
                {"value": value, "low": low, "high": high, "field": field},
            )
        if value > high:
            raise PydanticCustomError(
                "count_range",
                "{value} is above {high}: {field} is at most {high} ({why}); write {high} or less",
                {"value": value, "high": high, "field": field, "why": why},
            )
        return value

    return AfterValidator(check)


AppsWindow = Annotated[Duration, bounded("1m", "7d", "applications_window")]


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


class HttpSource(HasAlerts):
    """Fields shared by sources scraped over HTTP."""

    name: Name
    service: Name
    timeout: Timeout = DEFAULT_TIMEOUT
    auth: HttpAuth | None = None
    tls_verify: TlsVerify = True


class ScrapedSource(HttpSource):
    """HTTP sources the exporter collects when scraped (hdfs, yarn, spark)."""

    min_interval: MinInterval = Field(
        default=Duration.parse("1s"),
        description="concurrent scrapes share one collection; a result younger than this is reused",
    )
    max_series: MaxSeries = Field(
        default=DEFAULT_MAX_SERIES, description="series kept per collection; the rest are dropped and counted"
    )


class HdfsSource(ScrapedSource):
    alert_kind = "hdfs"
    namenodes: list[HttpUrl] = Field(min_length=1)
    datanodes: list[HttpUrl] = []


class YarnSource(ScrapedSource):
    alert_kind = "yarn"
    resourcemanagers: list[HttpUrl] = Field(min_length=1)
    applications_window: AppsWindow = Field(
        default=Duration.parse("1h"), description="failed and killed applications are counted over this"
    )
    max_running_applications: Annotated[
        int, Field(strict=True), _count_within(0, 100, "max_running_applications", "one series each")
    ] = Field(default=10, description="longest-running applications given their own series")
    max_queues: Annotated[
        int, Field(strict=True), _count_within(1, 2000, "max_queues", "two series each")
    ] = Field(default=200, description="queues with ended applications given their own series")


class SparkSource(ScrapedSource):
    alert_kind = "spark"
    url: HttpUrl
    max_applications: Annotated[
        int, Field(strict=True), _count_within(1, 1000, "max_applications", "about 20 series each")
    ] = 50
    lookback: Lookback = Duration.parse("1d")
    granularity: Literal["application", "executor"] = "executor"
    max_executors: Annotated[
        int,
        Field(strict=True),
        _count_within(1, 1000, "max_executors", "eight series each, per application"),
    ] = Field(default=50, description="executors (the driver first) given their own series per application")


GroupPattern = str  # a group name, or "re:<regex>"


class KafkaSource(HasAlerts):
    alert_kind = "kafka"
    name: Name
    service: Name
    bootstrap: str = Field(
        pattern=r"^[^\s,]+:\d+(,[^\s,]+:\d+)*$", description="host:port, comma-separated or as a list"
    )
    groups: list[GroupPattern] = ["re:.*"]
    exclude_groups: list[GroupPattern] = []
    topics: list[GroupPattern] = ["re:.*"]
    exclude_topics: list[GroupPattern] = []
    poll_interval: PollInterval = Duration.parse("30s")
    timeout: Timeout = Duration.parse("10s")
    granularity: Literal["partition", "topic"] = "partition"
    max_points: Annotated[
        int,
        Field(strict=True),
        _count_within(2, 1000, "max_points", "each partition keeps a lookup table of this many points"),
    ] = Field(default=60, description="lookup-table points kept per partition")
    status_window: int = Field(
        default=10, ge=2, description="polls Burrow's status evaluation looks back over"
    )
    sasl_username: Username | None = None
    sasl_password_env: EnvName | None = None

    @field_validator("bootstrap", mode="before")
    @classmethod
    def _bootstrap(cls, value: Any) -> Any:
        """Accept a list of host:port as well as the comma-separated string Kafka clients take."""
        if isinstance(value, str):
            hosts = value.split(",")
        elif isinstance(value, list) and all(isinstance(h, str) for h in value):
            hosts = value
        else:
            return value  # not text: pydantic's type error
        if not hosts or hosts == [""]:
            raise PydanticCustomError("bootstrap", "bootstrap is empty; give host:port, e.g. kafka1:9092")
        for host in hosts:
            if not re.fullmatch(r"[^\s,]+:\d+", host.strip()):
                raise PydanticCustomError(
                    "bootstrap",
                    "{host} has no port; bootstrap takes host:port, comma-separated or as a list "
                    "(bootstrap: [kafka1:9092, kafka2:9092])",
                    {"host": repr(host.strip())},
                )
        return ",".join(h.strip() for h in hosts)

    @field_validator("groups", "exclude_groups", "topics", "exclude_topics")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if pattern.startswith("re:"):
                try:
                    re.compile(pattern[3:])
                except re.error as exc:
                    raise ValueError(f"{pattern!r} is not a valid regex: {exc}") from None
        return value


class SqlQuery(Strict):
    """A query and its database: `url` (no password in it), or `url_env`/`url_file` naming where the whole
    URL is kept (an environment variable, or a file such as a mounted secret)."""

    url: DatabaseUrl | None = None
    url_env: EnvName | None = None
    url_file: str | None = Field(default=None, min_length=1)
    query: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_url(self) -> SqlQuery:
        return require_one(
            self,
            ("url", "url_env", "url_file"),
            "sql needs exactly one of url (no password in it), url_env or url_file",
        )


class FreshnessSql(SqlQuery):
    """The freshness query gives one value: the newest row's time, as a timestamp with a time zone or as
    Unix seconds. `count_query` gives one number: the rows of the last partition or day (row volume)."""

    assume_utc: bool = Field(
        default=False,
        description="read a timestamp without a time zone as UTC; otherwise it is a parse error",
    )
    count_query: str | None = Field(
        default=None,
        min_length=1,
        description="rows loaded in the last partition or day: a row-count gauge and a volume-drop alert",
    )


class AirflowRef(Strict):
    """A DAG through Airflow's stable REST API: `api_version` 1 is Airflow 2 (`/api/v1`, basic auth), 2 is
    Airflow 3 (`/api/v2`, a JWT from `POST /auth/token` for the basic auth's user, or a bearer token)."""

    url: HttpUrl
    dag_id: str = Field(min_length=1)
    api_version: Annotated[Literal[1, 2], NoBool] = 1
    auth: HttpAuth | None = None
    tls_verify: TlsVerify = True
    lookback: Annotated[Duration, bounded("1m", "30d", "lookback")] = Field(
        default=Duration.parse("1d"), description="failed runs are counted over runs ended this recently"
    )


class FileRef(Strict):
    """The newest mtime of a file, of a directory's entries, or of a glob's matches (`**` recurses)."""

    path: str = Field(min_length=1, description="a file (e.g. a _SUCCESS marker), a directory or a glob")


class GreatExpectationsRef(Strict):
    """Great Expectations 1.x results: read from `results_dir`, or pushed by `watchkeeper quality run`."""

    results_dir: str | None = Field(
        default=None,
        min_length=1,
        description="a directory of validation-result or checkpoint-result JSON files (searched recursively)",
    )
    pushed: bool = Field(
        default=False, description="results come from `watchkeeper quality run` through a Pushgateway"
    )

    @model_validator(mode="after")
    def _one_origin(self) -> GreatExpectationsRef:
        if (self.results_dir is not None) == self.pushed:
            raise ValueError(
                "great_expectations needs exactly one of results_dir (a directory of result JSON) or "
                "pushed: true (results pushed by `watchkeeper quality run`)"
            )
        return self


class PushRef(Strict):
    """Freshness a batch job pushes at its end (`watchkeeper push freshness DATASET`) to a Pushgateway.

    The exporter reads the pushed time back from `pushgateway` (so the source has `up` like any other);
    Prometheus may also scrape the Pushgateway (with `honor_labels: true`): the alerts read either."""

    pushgateway: HttpUrl
    job: str = Field(default="watchkeeper_batch", pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


FRESHNESS_PROBES = ("sql", "airflow", "file", "push")


class FreshnessSource(HasAlerts):
    alert_kind = "freshness"
    dataset: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
    service: Name
    max_age: MaxAge
    sql: FreshnessSql | None = None
    airflow: AirflowRef | None = None
    file: FileRef | None = None
    push: PushRef | None = None
    great_expectations: GreatExpectationsRef | None = None
    timeout: Timeout = DEFAULT_TIMEOUT
    min_interval: MinInterval = Field(
        default=Duration.parse("1s"),
        description="concurrent scrapes share one query (or request, or walk); a result younger than this "
        "is reused",
    )

    @model_validator(mode="after")
    def _one_probe(self) -> FreshnessSource:
        given = [k for k in FRESHNESS_PROBES if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "freshness needs exactly one of sql, airflow, file or push "
                f"(found: {', '.join(given) or 'none'})"
            )
        return self

    @property
    def probe(self) -> str:
        """Which of sql, airflow, file or push measures the dataset's freshness."""
        return next(k for k in FRESHNESS_PROBES if getattr(self, k) is not None)

    @property
    def name(self) -> str:
        return self.dataset


JsonStep = str | int
"""One step of an `expect_json_path`: a key of an object, or an index into a list (negative: from the end)."""
_JSON_STEP = re.compile(r"""(\.)?([A-Za-z_][A-Za-z0-9_-]*)|\[(-?[0-9]+)\]|\["([^"]*)"\]|\['([^']*)'\]""")
JSON_PATH_HELP = (
    "write the path from the response's root: keys as name or [\"any key\"], joined by '.', list items "
    "as [0] ([-1] for the last), optionally starting with '$' (e.g. predictions[0], $.outputs[0].scores, "
    "data[\"class.id\"]); '$' alone only checks that the response is JSON"
)


def json_path_steps(path: str) -> tuple[JsonStep, ...]:
    """Parse an `expect_json_path` into keys and list indices; ValueError (naming the position) otherwise.

    Grammar: `[$] step*`, where the first bare key may drop its dot (`predictions`, `.predictions` and
    `$.predictions` are the same) and every later one needs it; `[N]` indexes a list, `["k"]` or `['k']`
    names a key of any characters (no quotes inside).
    """
    if not path:
        raise ValueError(f"expect_json_path is empty; {JSON_PATH_HELP}")
    pos = 1 if path.startswith("$") else 0
    steps: list[JsonStep] = []
    while pos < len(path):
        found = _JSON_STEP.match(path, pos)
        if found is None or (found.group(2) and not found.group(1) and (steps or path.startswith("$"))):
            raise ValueError(
                f"expect_json_path {path!r} cannot be read at position {pos + 1} ({path[pos:]!r}); "
                + JSON_PATH_HELP
            )
        _, key, index, double, single = found.groups()
        steps.append(
            int(index) if index is not None else next(k for k in (key, double, single) if k is not None)
        )
        pos = found.end()
    return tuple(steps)


def _body_secret(value: Any) -> str | None:
    """What secret a request body holds (a credential key, a token-shaped string), or None."""
    if isinstance(value, str):
        shape = next((s for s in map(secret_shape, re.split(r"[\s\"',:;={}\[\]]+", value)) if s), None)
        return shape
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and credential_name(key):
                return f"the credential key {key!r}"
            found = _body_secret(item)
            if found:
                return found
    if isinstance(value, list):
        return next((f for f in map(_body_secret, value) if f), None)
    return None


class InferenceRequest(Strict):
    """The request each probe sends: `json` (a JSON body) or `body` (raw text), never both."""

    method: Literal["GET", "POST", "PUT"] = "POST"
    json_body: Any = Field(default=None, alias="json")
    body: str | None = None
    headers: HeaderMap = {}

    @field_validator("json_body", "body")
    @classmethod
    def _no_secret_in_body(cls, value: Any) -> Any:
        """A request body holding a credential key (`"api_key": ...`) or a token-shaped value is refused."""
        found = _body_secret(value)
        if found:
            raise PydanticCustomError(
                "inline_secret",
                "the request body holds {found}; secrets never go in the catalog: use the source's auth "
                "block with token_env instead",
                {"found": found},
            )
        return value

    @model_validator(mode="after")
    def _one_body(self) -> InferenceRequest:
        if self.json_body is not None and self.body is not None:
            raise ValueError("request takes json (a JSON body) or body (raw text), not both; keep one")
        return self


class InferenceSource(HttpSource):
    """A model endpoint probed in the background every `interval`, like a blackbox_exporter probe."""

    alert_kind = "inference"
    url: HttpUrl
    request: InferenceRequest = InferenceRequest()
    interval: ProbeInterval = Duration.parse("15s")
    expected_status: list[Annotated[int, Field(ge=100, le=599)]] = Field(default=[200], min_length=1)
    expect_json_path: str | None = Field(
        default=None, description="a JSON path the response must hold (not null), e.g. predictions[0]"
    )
    latency_target: LatencyTarget | None = None

    @field_validator("expect_json_path")
    @classmethod
    def _json_path(cls, value: str | None) -> str | None:
        if value is not None:
            json_path_steps(value)
        return value

    @model_validator(mode="after")
    def _timeout_within_interval(self) -> InferenceSource:
        if self.timeout > self.interval:
            raise ValueError(
                f"timeout {self.timeout} is longer than interval {self.interval}: a probe must end before "
                f"the next is due; shorten timeout or lengthen interval"
            )
        return self

    def json_path(self) -> tuple[JsonStep, ...] | None:
        """`expect_json_path` parsed (validated already), or None when the response shape is not checked."""
        return None if self.expect_json_path is None else json_path_steps(self.expect_json_path)


class Sources(Strict):
    hdfs: list[HdfsSource] = []
    yarn: list[YarnSource] = []
    spark: list[SparkSource] = []
    kafka: list[KafkaSource] = []
    freshness: list[FreshnessSource] = []
    inference: list[InferenceSource] = []


# --- drift -----------------------------------------------------------------------------------------


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
    thresholds: dict[str, Annotated[float, Field(gt=0, allow_inf_nan=False)]] = {}
    """Per column, the stattest's threshold (a p-value floor or a distance ceiling)."""

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


class Catalog(Strict):
    teams: list[Team] = []
    services: list[Service] = []
    slos: list[SLO] = []
    sources: Sources = Sources()
    drift: list[DriftMonitor] = []

    @cached_property
    def _team_index(self) -> dict[str, Team]:
        return {t.name: t for t in self.teams}

    @cached_property
    def _service_index(self) -> dict[str, Service]:
        return {s.name: s for s in self.services}

    def team(self, name: str) -> Team:
        return self._team_index[name]

    def service(self, name: str) -> Service:
        return self._service_index[name]

    def team_of(self, service: str) -> Team:
        return self.team(self.service(service).team)
