"""`promtool test rules` cases proving that every generated alert fires when it should and only then.

SLO alerts: constant synthetic error ratios above and below each burn threshold, a low-traffic case and
a no-data case. Component alerts: each alert's own firing and silent scenario. Inputs are the series the
rules read: the recorded 5m SLI rates for ratio and latency SLIs (their raw queries are free-form), and
the exporter series themselves for freshness, Kafka lag and component alerts.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.durations import Duration
from catalog.model import SLO
from exporters.names import FRESHNESS_AGE_SECONDS, KAFKA_GROUP_MAX_LAG_SECONDS
from rules import names
from rules.component_alerts import ComponentAlert, Series
from rules.groups import Rule
from rules.humanize import render
from rules.promql import number
from rules.slo_alerts import DEFAULT_MIN_EVENTS_PER_HOUR
from rules.slo_recordings import slo_labels
from rules.windows import alert_windows

Test = dict[str, object]


def _check_times(alerts: list[Rule]) -> list[Duration]:
    """Just before the shortest `for` elapses, then just after each alert's `for`."""
    minute = 60_000
    fors = sorted({Duration.parse(r.for_).ms if r.for_ else 0 for r in alerts})
    times = {max(0, fors[0] - minute)} | {f + minute for f in fors}
    return [Duration(t) for t in sorted(times)]


@dataclass(frozen=True)
class SLOCase:
    name: str
    ratio: float
    total: float
    inputs: list[Series]


def _series(series: list[Series]) -> list[dict[str, str]]:
    return [{"series": s.text(), "values": s.values} for s in series]


def _expected(rule: Rule, out_labels: dict[str, str], value: float | None) -> dict[str, object]:
    labels = {**out_labels, **rule.labels}
    return {
        "exp_labels": dict(sorted(labels.items())),
        "exp_annotations": {k: render(v, value, labels) for k, v in rule.annotations.items()},
    }


def _slo_cases(slo: SLO, minutes: int) -> list[SLOCase]:
    labels = slo_labels(slo)
    span = f"x{minutes}"
    sli = slo.sli
    if sli.freshness is not None:
        age, limit = {"dataset": sli.freshness.dataset}, sli.freshness.max_age.seconds
        return [
            SLOCase("stale", 1.0, 1.0, [Series(FRESHNESS_AGE_SECONDS, age, f"{number(limit * 2)}{span}")]),
            SLOCase("fresh", 0.0, 1.0, [Series(FRESHNESS_AGE_SECONDS, age, f"{number(limit / 2)}{span}")]),
        ]
    if sli.kafka_lag is not None:
        lag = {"cluster": sli.kafka_lag.cluster, "group": sli.kafka_lag.group}
        limit = sli.kafka_lag.max_lag_seconds
        metric = KAFKA_GROUP_MAX_LAG_SECONDS
        return [
            SLOCase("lagging", 1.0, 1.0, [Series(metric, lag, f"{number(limit * 2)}{span}")]),
            SLOCase("keeping up", 0.0, 1.0, [Series(metric, lag, f"{number(limit / 2)}{span}")]),
        ]
    budget = slo.error_budget_ratio
    windows = alert_windows(slo.window.period)
    page = [w.factor for w in windows if w.severity == "page"]
    ticket = [w.factor for w in windows if w.severity == "ticket"]
    minimum = slo.alerting.min_events_per_hour or DEFAULT_MIN_EVENTS_PER_HOUR
    busy, quiet = max(1.0, 2 * minimum / 3600), minimum / 3600 / 4

    def case(name: str, ratio: float, total: float) -> SLOCase:
        ratio = min(1.0, round(ratio, 9))
        inputs = [
            Series(names.SLI_ERRORS_RATE5M, labels, f"{number(ratio * total)}{span}"),
            Series(names.SLI_TOTAL_RATE5M, labels, f"{number(total)}{span}"),
        ]
        return SLOCase(name, ratio, total, inputs)

    return [
        case("burning fast", 2 * max(page) * budget, busy),
        case("burning just under the page thresholds", 0.9 * min(page) * budget, busy),
        case("burning just under the ticket thresholds", 0.9 * min(ticket) * budget, busy),
        case("burning fast on too little traffic to page", 2 * max(page) * budget, quiet),
    ]


@dataclass(frozen=True)
class _BurnRule:
    """A burn-rate alert rule with what decides when it fires, computed once per SLO."""

    rule: Rule
    thresholds: list[float]
    for_ms: int
    guarded: bool
    """Subject to the low-traffic guard (page alerts of event-counting SLIs)."""


def _burn_rules(slo: SLO, rules: list[Rule]) -> list[_BurnRule]:
    windows = alert_windows(slo.window.period)
    out = []
    for rule in rules:
        severity = rule.labels["burn"]
        thresholds = [w.factor * slo.error_budget_ratio for w in windows if w.severity == severity]
        for_ms = Duration.parse(rule.for_).ms if rule.for_ else 0
        guarded = severity == "page" and slo.sli.kind in {"events", "latency"}
        out.append(_BurnRule(rule, thresholds, for_ms, guarded))
    return out


def _slo_fires(burn: _BurnRule, case: SLOCase, at: Duration, minimum: float) -> bool:
    over = any(case.ratio > t for t in burn.thresholds)
    if burn.guarded:
        over = over and case.total * 3600 >= minimum
    return over and at.ms >= burn.for_ms


def slo_tests(slo: SLO, alerts: list[Rule]) -> list[Test]:
    """Test groups for one SLO's burn-rate alerts; none for raw SLIs (their query is opaque)."""
    if slo.sli.kind == "raw":
        return []
    burn = _burn_rules(slo, [r for r in alerts if r.alert != names.SLO_NO_DATA_ALERT])
    alertnames = sorted({b.rule.alert for b in burn if b.rule.alert})
    minimum = slo.alerting.min_events_per_hour or DEFAULT_MIN_EVENTS_PER_HOUR
    tests: list[Test] = []
    times = _check_times([b.rule for b in burn])
    labels = slo_labels(slo)
    for case in _slo_cases(slo, times[-1].ms // 60_000 + 5):
        checks = []
        for at in times:
            for alertname in alertnames:
                firing = [
                    b.rule for b in burn if b.rule.alert == alertname and _slo_fires(b, case, at, minimum)
                ]
                checks.append(
                    {
                        "eval_time": str(at),
                        "alertname": alertname,
                        "exp_alerts": [_expected(r, labels, case.ratio) for r in firing],
                    }
                )
        tests.append(
            {
                "name": f"SLO {slo.name}: {case.name} (error ratio {case.ratio:g})",
                "interval": "1m",
                "input_series": _series(case.inputs),
                "alert_rule_test": checks,
            }
        )
    return tests


def no_data_test(slos: list[SLO], alerts: list[Rule]) -> list[Test]:
    """With no SLI data at all, every SLO whose SLI can go missing reports it."""
    expected = []
    for slo in slos:
        if slo.sli.kind == "raw":
            continue  # a raw SLI's total is vector(1): never absent
        rule = next(r for r in alerts if r.alert == names.SLO_NO_DATA_ALERT and r.labels["slo"] == slo.name)
        expected.append(_expected(rule, {"slo": slo.name, "service": slo.service}, None))
    if not expected:
        return []
    return [
        {
            "name": "no SLI data: every SLO says so after 15m",
            "interval": "1m",
            "input_series": [],
            "alert_rule_test": [
                {"eval_time": "10m", "alertname": names.SLO_NO_DATA_ALERT, "exp_alerts": []},
                {"eval_time": "20m", "alertname": names.SLO_NO_DATA_ALERT, "exp_alerts": expected},
            ],
        }
    ]


def component_tests(alerts: list[ComponentAlert]) -> list[Test]:
    """A firing and a silent test group per component alert."""
    tests: list[Test] = []
    for alert in alerts:
        name = alert.rule.alert or ""
        # Alerts sharing this name (the same alert for other sources) are kept quiet with their own
        # silent inputs, so only the alert under test may fire.
        others = [s for a in alerts if a is not alert and a.rule.alert == name for s in a.scenario.silent]
        sc, at = alert.scenario, str(alert.eval_time)
        where = " ".join(v for k, v in alert.rule.labels.items() if k in {"component", "source"})
        label = f"{name} ({where})" if where else name
        tests.append(
            {
                "name": f"{label} fires",
                "interval": "1m",
                "input_series": _series(sc.firing + others),
                "alert_rule_test": [
                    {
                        "eval_time": at,
                        "alertname": name,
                        "exp_alerts": [_expected(alert.rule, sc.out_labels, sc.value)],
                    }
                ],
            }
        )
        tests.append(
            {
                "name": f"{label} stays silent",
                "interval": "1m",
                "input_series": _series(sc.silent + others),
                "alert_rule_test": [{"eval_time": at, "alertname": name, "exp_alerts": []}],
            }
        )
    return tests


def test_file(rule_file: str, tests: list[Test]) -> dict[str, object]:
    return {"rule_files": [rule_file], "evaluation_interval": "1m", "tests": tests}
