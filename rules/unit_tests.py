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


@dataclass(frozen=True)
class SLOCase:
    """Synthetic SLI input: per-minute error ratios (segments of constant ratio) at a constant total rate."""

    name: str
    segments: list[tuple[int, float]]
    """(minutes, error ratio) in order; the last segment's ratio continues to the end of the test."""
    total: float
    check_after_start: list[int]
    """Check times, in minutes after the last segment began."""

    def samples(self, minutes: int) -> list[float]:
        out: list[float] = []
        for length, ratio in self.segments:
            out += [ratio] * length
        return (out + [self.segments[-1][1]] * minutes)[:minutes]

    @property
    def last_start(self) -> int:
        return sum(length for length, _ in self.segments[:-1])


def _series(series: list[Series]) -> list[dict[str, str]]:
    return [{"series": s.text(), "values": s.values} for s in series]


def _expected(rule: Rule, out_labels: dict[str, str], value: float | None) -> dict[str, object]:
    labels = {**out_labels, **rule.labels}
    return {
        "exp_labels": dict(sorted(labels.items())),
        "exp_annotations": {k: render(v, value, labels) for k, v in rule.annotations.items()},
    }


def _values(samples: list[float], scale: float = 1.0) -> str:
    """promtool's expanding notation for a piecewise-constant series: `0x299 0.02x61`."""
    runs: list[tuple[float, int]] = []
    for value in samples:
        if runs and runs[-1][0] == value:
            runs[-1] = (value, runs[-1][1] + 1)
        else:
            runs.append((value, 1))
    return " ".join(f"{number(v * scale)}x{n - 1}" for v, n in runs)


def _slo_cases(slo: SLO, after_for: list[int]) -> list[SLOCase]:
    sli = slo.sli
    if sli.kind in {"freshness", "kafka_lag"}:
        return [SLOCase("bad", [(1, 1.0)], 1.0, after_for), SLOCase("good", [(1, 0.0)], 1.0, after_for)]
    budget = slo.error_budget_ratio
    windows = alert_windows(slo.window.period)
    page = [w for w in windows if w.severity == "page"]
    ticket = [w.factor for w in windows if w.severity == "ticket"]
    minimum = slo.alerting.min_events_per_hour or DEFAULT_MIN_EVENTS_PER_HOUR
    busy, quiet = max(1.0, 2 * minimum / 3600), minimum / 3600 / 4
    fastest = page[0]
    spike_minutes = int(fastest.long.seconds // 60) + 2
    calm_minutes = int(max(w.long.seconds for w in page) // 60)

    def clamp(ratio: float) -> float:
        return min(1.0, round(ratio, 9))

    page_factors = [w.factor for w in page]
    return [
        SLOCase("burning fast", [(1, clamp(2 * max(page_factors) * budget))], busy, after_for),
        SLOCase(
            "burning just under the page thresholds",
            [(1, clamp(0.9 * min(page_factors) * budget))],
            busy,
            after_for,
        ),
        SLOCase(
            "burning just under the ticket thresholds",
            [(1, clamp(0.9 * min(ticket) * budget))],
            busy,
            after_for,
        ),
        SLOCase(
            "burning fast on too little traffic to page",
            [(1, clamp(2 * max(page_factors) * budget))],
            quiet,
            after_for,
        ),
        # Quiet for the slowest page window, then a spike over the fastest one only: proves that window's
        # own threshold (its long window is over it; the slower page windows are not).
        SLOCase(
            f"a spike over the last {fastest.long} only",
            [(calm_minutes, 0.0), (spike_minutes, clamp(1.4 * fastest.factor * budget))],
            busy,
            [spike_minutes],
        ),
    ]


class _Simulation:
    """Expected alert states from per-minute samples, evaluated as Prometheus does every minute."""

    def __init__(self, slo: SLO, samples: list[float], total: float) -> None:
        self.slo, self.samples, self.total = slo, samples, total
        self.windows = alert_windows(slo.window.period)
        self.prefix = [0.0]
        for value in samples:
            self.prefix.append(self.prefix[-1] + value)
        self._memo: dict[tuple[str, int], float | None] = {}

    def ratio(self, window: Duration, t: int) -> float:
        minutes = int(window.seconds // 60)
        if minutes <= 5:
            return self.samples[t]  # the 5m ratio is the recorded 5m rates' own ratio
        start = max(0, t - minutes)  # the range covers [t - w, t], both ends included
        return (self.prefix[t + 1] - self.prefix[start]) / (t + 1 - start)

    def condition(self, severity: str, t: int) -> float | None:
        """The alert's value (its first true window's short ratio) if it is active at minute t."""
        key = (severity, t)
        if key not in self._memo:
            self._memo[key] = self._condition(severity, t)
        return self._memo[key]

    def _condition(self, severity: str, t: int) -> float | None:
        budget = self.slo.error_budget_ratio
        if severity == "page" and self.slo.sli.kind in {"events", "latency"}:
            minimum = self.slo.alerting.min_events_per_hour or DEFAULT_MIN_EVENTS_PER_HOUR
            if self.total * 3600 < minimum:
                return None
        for w in (w for w in self.windows if w.severity == severity):
            short, long = self.ratio(w.short, t), self.ratio(w.long, t)
            if short > w.factor * budget and long > w.factor * budget:
                return short
        return None

    def firing(self, severity: str, for_minutes: int, at: int) -> float | None:
        """Firing at `at` means active at every evaluation of the last `for` (Prometheus' ActiveAt rule)."""
        if at - for_minutes < 0:
            return None
        if all(self.condition(severity, t) is not None for t in range(at - for_minutes, at + 1)):
            return self.condition(severity, at)
        return None


def slo_tests(slo: SLO, alerts: list[Rule]) -> list[Test]:
    """Test groups for one SLO's burn-rate alerts; none for raw SLIs (their query is opaque)."""
    if slo.sli.kind == "raw":
        return []
    burn = [r for r in alerts if r.alert != names.SLO_NO_DATA_ALERT]
    fors = sorted({int(Duration.parse(r.for_).seconds // 60) if r.for_ else 0 for r in burn})
    after_for = sorted({max(0, fors[0] - 1)} | {f + 1 for f in fors})
    alertnames = sorted({r.alert for r in burn if r.alert})
    labels = slo_labels(slo)
    tests: list[Test] = []
    for case in _slo_cases(slo, after_for):
        times = [case.last_start + t for t in case.check_after_start]
        minutes = max(times) + 5
        samples = case.samples(minutes)
        sim = _Simulation(slo, samples, case.total)
        checks = []
        for at in times:
            for alertname in alertnames:
                expected = []
                for rule in (r for r in burn if r.alert == alertname):
                    for_minutes = int(Duration.parse(rule.for_).seconds // 60) if rule.for_ else 0
                    value = sim.firing(rule.labels["burn"], for_minutes, at)
                    if value is not None:
                        expected.append(_expected(rule, labels, value))
                checks.append({"eval_time": f"{at}m", "alertname": alertname, "exp_alerts": expected})
        tests.append(
            {
                "name": f"SLO {slo.name}: {case.name}",
                "interval": "1m",
                "input_series": _series(_inputs(slo, samples, case.total)),
                "alert_rule_test": checks,
            }
        )
    return tests


def _inputs(slo: SLO, samples: list[float], total: float) -> list[Series]:
    """The series the rules read: exporter series for freshness and Kafka lag, else the recorded 5m rates."""
    sli = slo.sli
    if sli.freshness is not None:
        limit = sli.freshness.max_age.seconds  # bad: twice the limit; good: half of it
        ages = [limit * 2 if bad else limit / 2 for bad in samples]
        return [Series(FRESHNESS_AGE_SECONDS, {"dataset": sli.freshness.dataset}, _values(ages))]
    if sli.kafka_lag is not None:
        limit = sli.kafka_lag.max_lag_seconds
        lags = [limit * 2 if bad else limit / 2 for bad in samples]
        group = {"cluster": sli.kafka_lag.cluster, "group": sli.kafka_lag.group}
        return [Series(KAFKA_GROUP_MAX_LAG_SECONDS, group, _values(lags))]
    labels = slo_labels(slo)
    return [
        Series(names.SLI_ERRORS_RATE5M, labels, _values(samples, total)),
        Series(names.SLI_TOTAL_RATE5M, labels, _values([total] * len(samples))),
    ]


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


def test_file(rule_file: str, tests: list[Test], group_order: list[str]) -> dict[str, object]:
    """A promtool test file. Groups run in file order (SLI, then metadata, then alerts), so an alert reads
    the recordings of the same evaluation; promtool's default order among groups is not defined."""
    return {
        "rule_files": [rule_file],
        "evaluation_interval": "1m",
        "group_eval_order": group_order,
        "tests": tests,
    }
