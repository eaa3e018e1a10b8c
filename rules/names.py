"""Recording-rule and alert names produced by the generated rules: the contract other packages import."""

from __future__ import annotations

from catalog.durations import Duration

# Per-SLO recordings; every series carries the labels `slo` and `service`.
SLI_ERRORS_RATE5M = "slo:sli_errors:rate5m"
"""Bad events per second over 5m (for time-based SLIs: 1 while the SLI is bad, else 0)."""
SLI_TOTAL_RATE5M = "slo:sli_total:rate5m"
"""All events per second over 5m (for time-based SLIs: 1 while the SLI has data)."""
SLI_TOTAL_RATE1H = "slo:sli_total:rate1h"
"""All events per second over 1h, chained from the 5m recording; used by the low-traffic guard."""
OBJECTIVE = "slo:objective:ratio"
ERROR_BUDGET = "slo:error_budget:ratio"
PERIOD_DAYS = "slo:time_period:days"
CURRENT_BURN_RATE = "slo:current_burn_rate:ratio"
PERIOD_BURN_RATE = "slo:period_burn_rate:ratio"
PERIOD_BUDGET_REMAINING = "slo:period_error_budget_remaining:ratio"
CALENDAR_ERROR_RATIO = "slo:sli_error:ratio_calendar"
"""Error ratio since the start of the calendar period (month, week or quarter), UTC."""
CALENDAR_BUDGET_REMAINING = "slo:calendar_error_budget_remaining:ratio"
SLO_INFO = "watchkeeper_slo_info"
"""Static info series (value 1) joining an SLO to its service, team, tier, objective and window."""

ALERT_PREFIX = "Watchkeeper"
SLO_BURN_ALERT = "WatchkeeperSLOErrorBudgetBurn"
SLO_NO_DATA_ALERT = "WatchkeeperSLONoData"
EXPORTER_DOWN_ALERT = "WatchkeeperExporterDown"
WATCHDOG_ALERT = "Watchdog"
"""Always firing: the dead-man's switch that proves the alerting pipeline works end to end."""


def sli_error_ratio(window: Duration) -> str:
    """`slo:sli_error:ratio_rate<window>`, e.g. ratio_rate5m or ratio_rate30d."""
    return f"slo:sli_error:ratio_rate{window}"
