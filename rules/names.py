"""Recording-rule and alert names produced by the generated rules: the contract other packages import."""

from __future__ import annotations

from catalog.durations import Duration
from exporters.registry import Registry

REGISTRY = Registry()
"""The recordings with type, labels and help, for the metrics reference (`api/metrics_reference.py`)."""
_SLO = ("slo", "service")
_slo = REGISTRY.section(
    "SLO recording rules",
    "Recorded by the generated rules (`watchkeeper generate rules`), one series per SLO. Besides the "
    "labels listed, each carries the SLO's own `labels:` from the catalog. `<window>` is each window of "
    "the alert-window table (`rules/windows.yaml`) and the SLO's period, such as `5m` or `30d`.",
)
SLI_ERRORS_RATE5M = _slo.metric(
    "slo:sli_errors:rate5m",
    "gauge",
    _SLO,
    "Bad events per second over 5m (for time-based SLIs: 1 while the SLI is bad, else 0)",
)
SLI_TOTAL_RATE5M = _slo.metric(
    "slo:sli_total:rate5m",
    "gauge",
    _SLO,
    "All events per second over 5m (for time-based SLIs: 1 while the SLI has data)",
)
SLI_TOTAL_RATE1H = _slo.metric(
    "slo:sli_total:rate1h",
    "gauge",
    _SLO,
    "All events per second over 1h, chained from the 5m recording; used by the low-traffic guard",
)
_SLI_ERROR_RATIO = _slo.metric(
    "slo:sli_error:ratio_rate<window>", "gauge", _SLO, "Error ratio (bad over all events) over the window"
)
OBJECTIVE = _slo.metric("slo:objective:ratio", "gauge", _SLO, "The SLO's objective, 0..1")
ERROR_BUDGET = _slo.metric("slo:error_budget:ratio", "gauge", _SLO, "The error budget: 1 - objective")
PERIOD_DAYS = _slo.metric("slo:time_period:days", "gauge", _SLO, "The SLO's period in days")
CURRENT_BURN_RATE = _slo.metric(
    "slo:current_burn_rate:ratio", "gauge", _SLO, "Error ratio over 5m divided by the error budget"
)
PERIOD_BURN_RATE = _slo.metric(
    "slo:period_burn_rate:ratio", "gauge", _SLO, "Error ratio over the period divided by the error budget"
)
PERIOD_BUDGET_REMAINING = _slo.metric(
    "slo:period_error_budget_remaining:ratio", "gauge", _SLO, "Share of the period's error budget left"
)
CALENDAR_ERROR_RATIO = _slo.metric(
    "slo:sli_error:ratio_calendar",
    "gauge",
    (*_SLO, "calendar"),
    "Error ratio since the start of the calendar period (month, week or quarter), UTC",
)
CALENDAR_BUDGET_REMAINING = _slo.metric(
    "slo:calendar_error_budget_remaining:ratio",
    "gauge",
    _SLO,
    "Share of the calendar period's error budget left",
)
SLO_INFO = _slo.metric(
    "watchkeeper_slo_info",
    "gauge",
    (*_SLO, "team", "tier", "objective", "window", "sli"),
    "Static info series (value 1) joining an SLO to its service, team, tier, objective and window",
)

_ownership = REGISTRY.section(
    "Ownership recording rules",
    "Recorded in `ownership.rules.yml` from the services' `claims:` (rules/ownership.py): one series per "
    "part of a shared source that the exporter reports, naming the one service that owns it (the most "
    "specific claim, or the source's own service when nobody claims it). Join with "
    "`* on(cluster, group) group_left(team, service)`. The part's labels depend on `kind`: `kafka_group` "
    "has cluster and group, `kafka_topic` cluster and topic, `yarn_queue` source and queue, `spark_app` "
    "source and app_name.",
)
PART_OWNERSHIP_INFO = _ownership.metric(
    "watchkeeper_part_ownership_info",
    "gauge",
    ("kind", "team", "service", "tier", "claim"),
    "1 per claimable part (consumer group, topic, queue, Spark application; its labels as exported) with "
    "its owner; claim is the matched claim, absent when unclaimed",
)

_freshness = REGISTRY.section(
    "Freshness recording rules",
    "Recorded in a team's components file for each dataset with a row count (`count_query`, or pushed "
    "with `--rows`); the volume-drop alert compares the current count with it.",
)
ROWS_WEEK_AGO = _freshness.metric(
    "dataset:watchkeeper_freshness_rows:offset1w",
    "gauge",
    ("dataset",),
    "The dataset's row count at the same time one week earlier",
)

ALERT_PREFIX = "Watchkeeper"
SLO_BURN_ALERT = "WatchkeeperSLOErrorBudgetBurn"
SLO_NO_DATA_ALERT = "WatchkeeperSLONoData"
EXPORTER_DOWN_ALERT = "WatchkeeperExporterDown"
WATCHDOG_ALERT = "Watchdog"
"""Always firing: the dead-man's switch that proves the alerting pipeline works end to end."""


def sli_error_ratio(window: Duration) -> str:
    """`slo:sli_error:ratio_rate<window>`, e.g. ratio_rate5m or ratio_rate30d."""
    return f"slo:sli_error:ratio_rate{window}"
