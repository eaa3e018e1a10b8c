"""Pydantic models of the catalog: teams, services, SLOs, sources and drift monitors."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from catalog.alert_defaults import COMPONENT_ALERTS, Severity
from catalog.durations import Duration, Window
from catalog.errors import did_you_mean
from catalog.fields import (
    DatabaseUrl,
    EnvName,
    HttpUrl,
    MetricName,
    Name,
    PromQLTemplate,
    Selector,
)

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
    """Base for every catalog entry: unknown keys are errors, and inline secrets are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

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
        return data


# --- teams -----------------------------------------------------------------------------------------


class SlackChannel(Strict):
    channel: str = Field(pattern=r"^[#@][\w.-]+$")
    api_url_env: EnvName | None = None
    api_url_file: str | None = None

    @model_validator(mode="after")
    def _one_ref(self) -> SlackChannel:
        return require_one(
            self,
            ("api_url_env", "api_url_file"),
            "slack needs exactly one of api_url_env or api_url_file (the webhook URL is a secret)",
        )


class PagerDutyChannel(Strict):
    routing_key_env: EnvName | None = None
    routing_key_file: str | None = None

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
    token_file: str | None = None


class EmailChannel(Strict):
    to: list[str] = Field(min_length=1)

    @field_validator("to")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address:
                raise ValueError(f"{address!r} is not an e-mail address")
        return value


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
    tier: Tier = Tier.medium
    runbook: HttpUrl | None = None
    description: str = ""
    labels: dict[str, str] = {}


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
    """Latency SLI from histogram buckets: requests slower than `le` seconds are errors."""

    histogram: MetricName
    le: float = Field(gt=0)
    selector: Selector = "{}"

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
    max_age: Duration


class KafkaLagSLI(Strict):
    """Kafka lag SLI: the share of time a group's lag in seconds stays under its limit."""

    cluster: Name
    group: str = Field(min_length=1)
    max_lag_seconds: float = Field(gt=0)


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


RESERVED_LABELS = frozenset({"severity", "team", "service", "slo", "tier"})


def _no_reserved_labels(value: dict[str, str]) -> dict[str, str]:
    reserved = RESERVED_LABELS & value.keys()
    if reserved:
        raise ValueError(
            f"labels {sorted(reserved)} are set by Watchkeeper from the catalog; remove them "
            "(severity comes from the alert, team/service/tier from the service, slo from the SLO)"
        )
    return value


ExtraLabels = Annotated[dict[str, str], AfterValidator(_no_reserved_labels)]


class AlertSpec(Strict):
    """One burn-rate alert (page or ticket); `page: false` is shorthand for `page: {enabled: false}`."""

    enabled: bool = True
    for_: Duration | None = Field(
        default=None, alias="for", description="how long the burn must last (default: page 2m, ticket 15m)"
    )
    labels: ExtraLabels = {}
    annotations: dict[str, str] = {}

    @model_validator(mode="before")
    @classmethod
    def _from_bool(cls, data: Any) -> Any:
        return {"enabled": data} if isinstance(data, bool) else data


class Alerting(Strict):
    """How an SLO alerts: the page and ticket burn-rate alerts, extra labels and annotations."""

    name: str | None = Field(default=None, pattern=r"^[A-Z][A-Za-z0-9]*$")
    page: AlertSpec = AlertSpec()
    ticket: AlertSpec = AlertSpec()
    labels: ExtraLabels = {}
    annotations: dict[str, str] = {}
    min_events_per_hour: float = Field(
        default=0.0, ge=0, description="low-traffic guard: no page unless this many events in the last hour"
    )


class SLO(Strict):
    name: Name
    service: Name
    objective: float = Field(description="target in percent, strictly between 0 and 100")
    window: Window = Window.parse("30d")
    description: str = ""
    sli: SLI
    alerting: Alerting = Alerting()
    labels: ExtraLabels = {}

    @field_validator("objective")
    @classmethod
    def _percent(cls, value: float) -> float:
        if not 0 < value < 100:
            hint = f" (did you mean {value * 100:g}?)" if 0 < value < 1 else ""
            raise ValueError(f"objective {value:g} must be a percentage strictly between 0 and 100{hint}")
        return value

    @property
    def target_ratio(self) -> float:
        return self.objective / 100

    @property
    def error_budget_ratio(self) -> float:
        return 1 - self.objective / 100


# --- sources ---------------------------------------------------------------------------------------


class BasicAuth(Strict):
    username: str
    password_env: EnvName | None = None
    password_file: str | None = None

    @model_validator(mode="after")
    def _one_ref(self) -> BasicAuth:
        return require_one(
            self,
            ("password_env", "password_file"),
            "basic auth needs exactly one of password_env or password_file",
        )


class BearerAuth(Strict):
    token_env: EnvName | None = None
    token_file: str | None = None

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


class AlertOverride(Strict):
    """Overrides one component alert's defaults; `false` is shorthand for `{enabled: false}`."""

    enabled: bool = True
    threshold: float | None = None
    for_: Duration | None = Field(default=None, alias="for")
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
        for key in value:
            if key not in known:
                raise ValueError(
                    f"unknown {cls.alert_kind} alert {key!r}{did_you_mean(key, known)}; "
                    f"known: {', '.join(known)}"
                )
        return value


class HttpSource(HasAlerts):
    """Fields shared by sources scraped over HTTP."""

    name: Name
    service: Name
    timeout: Duration = DEFAULT_TIMEOUT
    auth: HttpAuth | None = None
    tls_verify: bool | str = True


class HdfsSource(HttpSource):
    alert_kind = "hdfs"
    namenodes: list[HttpUrl] = Field(min_length=1)
    datanodes: list[HttpUrl] = []


class YarnSource(HttpSource):
    alert_kind = "yarn"
    resourcemanagers: list[HttpUrl] = Field(min_length=1)


class SparkSource(HttpSource):
    alert_kind = "spark"
    url: HttpUrl
    max_applications: int = Field(default=50, ge=1)
    lookback: Duration = Duration.parse("1d")


GroupPattern = str  # a group name, or "re:<regex>"


class KafkaSource(HasAlerts):
    alert_kind = "kafka"
    name: Name
    service: Name
    bootstrap: str = Field(pattern=r"^[^\s,]+:\d+(,[^\s,]+:\d+)*$")
    groups: list[GroupPattern] = ["re:.*"]
    exclude_groups: list[GroupPattern] = []
    topics: list[GroupPattern] = ["re:.*"]
    exclude_topics: list[GroupPattern] = []
    poll_interval: Duration = Duration.parse("30s")
    timeout: Duration = Duration.parse("10s")
    granularity: Literal["partition", "topic"] = "partition"
    max_points: int = Field(default=60, ge=2, description="lookup-table points kept per partition")
    status_window: int = Field(
        default=10, ge=2, description="polls Burrow's status evaluation looks back over"
    )
    sasl_username: str | None = None
    sasl_password_env: EnvName | None = None

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
    url: DatabaseUrl | None = None
    url_env: EnvName | None = None
    query: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_url(self) -> SqlQuery:
        return require_one(
            self, ("url", "url_env"), "sql needs exactly one of url (no password in it) or url_env"
        )


class AirflowRef(Strict):
    url: HttpUrl
    dag_id: str = Field(min_length=1)
    api_version: Literal[1, 2] = 1
    auth: HttpAuth | None = None


class FileRef(Strict):
    path: str = Field(min_length=1)


class GreatExpectationsRef(Strict):
    results_dir: str = Field(min_length=1, description="a directory of validation-result JSON files")


class FreshnessSource(HasAlerts):
    alert_kind = "freshness"
    dataset: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
    service: Name
    max_age: Duration
    sql: SqlQuery | None = None
    airflow: AirflowRef | None = None
    file: FileRef | None = None
    great_expectations: GreatExpectationsRef | None = None
    timeout: Duration = DEFAULT_TIMEOUT

    @model_validator(mode="after")
    def _one_probe(self) -> FreshnessSource:
        given = [k for k in ("sql", "airflow", "file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"freshness needs exactly one of sql, airflow or file (found: {', '.join(given) or 'none'})"
            )
        return self

    @property
    def name(self) -> str:
        return self.dataset


class InferenceRequest(Strict):
    method: Literal["GET", "POST", "PUT"] = "POST"
    json_body: Any = Field(default=None, alias="json")
    body: str | None = None
    headers: dict[str, str] = {}

    @field_validator("headers")
    @classmethod
    def _no_auth_header(cls, value: dict[str, str]) -> dict[str, str]:
        if any(key.lower() in {"authorization", "x-api-key", "api-key"} for key in value):
            raise ValueError(
                "credential headers are secrets; use the source's auth block with token_env instead"
            )
        return value


class InferenceSource(HttpSource):
    alert_kind = "inference"
    url: HttpUrl
    request: InferenceRequest = InferenceRequest()
    interval: Duration = Duration.parse("15s")
    expected_status: list[int] = [200]
    latency_target: Duration | None = None


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
    cooldown: Duration = Duration.parse("24h")

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
    schedule: Duration = Duration.parse("1h")
    retrain: Retrain | None = None


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
