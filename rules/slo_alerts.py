"""SLO alerts: multi-window multi-burn-rate page and ticket alerts, and an absent-data alert."""

from __future__ import annotations

from catalog.links import dashboard_url, runbook_url, service_dashboard_uid
from catalog.model import Catalog
from catalog.model.services import Tier
from catalog.model.slos import SLO
from rules import names
from rules.groups import Rule, RuleGroup
from rules.promql import go_float, number
from rules.slo_recordings import selector
from rules.windows import AlertWindow, alert_windows

SEVERITY = {"page": "critical", "ticket": "warning"}
DEFAULT_FOR = {"page": "2m", "ticket": "15m"}


def _condition(slo: SLO, window: AlertWindow) -> str:
    sel = selector(slo)
    threshold = f"({number(window.factor)} * {number(slo.error_budget_ratio)})"
    short = f"{names.sli_error_ratio(window.short)}{sel} > {threshold}"
    long = f"{names.sli_error_ratio(window.long)}{sel} > {threshold}"
    return f"(\n  ({short})\n  and\n  ({long})\n)"


def _low_traffic_guard(slo: SLO) -> str:
    """No page on a handful of requests: require enough events in the last hour."""
    minimum = slo.alerting.min_events_per_hour  # 0 turns the guard off
    if slo.sli.kind in {"freshness", "kafka_lag", "raw"} or minimum == 0:
        return ""
    return f"\nand on(slo, service)\n({names.SLI_TOTAL_RATE1H}{selector(slo)} * 3600 >= {number(minimum)})"


def _no_data_hint(slo: SLO) -> str:
    """For a latency SLI, name the bucket it reads: a histogram without it gives no data."""
    lat = slo.sli.latency
    if lat is None:
        return ""
    return (
        f' This latency SLI reads the bucket le="{go_float(lat.le)}" of {lat.histogram}: if the histogram '
        "has no such bucket, set le to one of its bucket bounds."
    )


def unreachable_windows(slo: SLO) -> list[AlertWindow]:
    """Windows whose threshold exceeds an error ratio of 1: they can never fire."""
    return [w for w in alert_windows(slo.window.period) if w.factor * slo.error_budget_ratio > 1]


def alert_group(slo: SLO, catalog: Catalog, grafana_url: str) -> RuleGroup:
    service = catalog.service(slo.service)
    base_labels = {
        **slo.alerting.labels,
        "slo": slo.name,
        "service": slo.service,
        "team": service.team,
        "tier": service.tier.value,
    }
    dashboard = dashboard_url(grafana_url, service_dashboard_uid(slo.service), slo=slo.name)
    common_annotations = {
        "runbook_url": runbook_url(grafana_url, service),
        "dashboard_url": dashboard,
    }
    name = slo.alerting.name or names.SLO_BURN_ALERT
    rules: list[Rule] = []
    windows = alert_windows(slo.window.period)
    for severity in ("page", "ticket"):
        spec = getattr(slo.alerting, severity)
        if not spec.enabled:
            continue
        chosen = [w for w in windows if w.severity == severity]
        expr = "\nor\n".join(_condition(slo, w) for w in chosen)
        if severity == "page":
            expr = f"(\n{expr}\n){_low_traffic_guard(slo)}"
        level = SEVERITY[severity]
        if severity == "page" and service.tier is Tier.low:
            level = "warning"  # low-tier services never page
        detail = ", ".join(f"{w.factor:g}x over {w.long}/{w.short}" for w in chosen)
        rules.append(
            Rule(
                alert=name,
                expr=expr,
                for_=str(spec.for_) if spec.for_ else DEFAULT_FOR[severity],
                labels={**base_labels, **spec.labels, "severity": level, "burn": severity},
                annotations={
                    "summary": slo.alerting.annotations.get("summary")
                    or f"SLO {slo.name} of {slo.service} is burning its error budget too fast",
                    "description": (
                        f"{slo.name} ({slo.objective:g}% over {slo.window}) is burning its error budget at "
                        "{{ $value | humanizePercentage }} errors; "
                        f"{severity} thresholds: {detail}."
                    ),
                    **{k: v for k, v in slo.alerting.annotations.items() if k != "summary"},
                    **spec.annotations,
                    **common_annotations,
                },
            )
        )
    rules.append(
        Rule(
            alert=names.SLO_NO_DATA_ALERT,
            expr=f"absent({names.SLI_TOTAL_RATE5M}{selector(slo)})",
            for_="15m",
            labels={**base_labels, "severity": "warning"},
            annotations={
                "summary": f"SLO {slo.name} has no SLI data",
                "description": f"No data for {slo.name} for 15 minutes: its SLI queries return nothing, "
                "so its burn-rate alerts cannot fire. Check the exporter and the SLI queries."
                + _no_data_hint(slo),
                **common_annotations,
            },
        )
    )
    return RuleGroup(f"watchkeeper-slo-alerts-{slo.name}", rules)
