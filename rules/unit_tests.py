"""`promtool test rules` cases proving that every generated alert fires when it should and only then.

SLO alerts: error ratios above and below each burn threshold, a low-traffic case, a spike over the
fastest page window and a no-data case. The inputs are the RAW series an application exposes
(rules/sli_inputs.py: counters selected by the SLI's own queries, histogram buckets), so the SLI
translation is tested too; freshness and Kafka-lag SLIs get their exporter gauges. Only an SLI whose
PromQL cannot be synthesised is fed the recorded 5m rates, and the test file says so in a comment.
Expected alerts come from rules/slo_simulation.py and the catalog, never from the generated rule text
(only the annotation templates are taken from the rules, rendered with the simulated value).
Component alerts: each alert's own firing and silent scenario; the owners' shares of a split alert
together (one case for all, so a team's promtool run grows linearly with its claims).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from catalog.durations import Duration
from catalog.model import Catalog
from catalog.model.services import Tier
from catalog.model.slos import SLO
from catalog.yaml_dump import dump_yaml
from exporters.names import FRESHNESS_AGE_SECONDS, KAFKA_GROUP_MAX_LAG_SECONDS
from rules import names
from rules.components import ComponentAlert, Series
from rules.groups import Rule
from rules.humanize import render
from rules.query_reads import read_names, yields_without_input
from rules.sli_series import RawFeed
from rules.slo_alerts import DEFAULT_FOR
from rules.slo_cases import SLOCase, feed_of, inputs, slo_cases
from rules.slo_recordings import slo_labels
from rules.slo_simulation import Simulation

Test = dict[str, object]


def _series(series: list[Series]) -> list[dict[str, str]]:
    return [{"series": s.text(), "values": s.values} for s in series]


def _expected(rule: Rule, out_labels: dict[str, str], value: float | None) -> dict[str, object]:
    labels = {**out_labels, **rule.labels}
    return {
        "exp_labels": dict(sorted(labels.items())),
        "exp_annotations": {k: render(v, value, labels) for k, v in rule.annotations.items()},
    }


def _burn_labels(slo: SLO, catalog: Catalog, severity: str) -> dict[str, str]:
    """The burn alert's labels from the catalog: page is critical unless the service is low tier."""
    service = catalog.service(slo.service)
    level = "critical" if severity == "page" and service.tier is not Tier.low else "warning"
    rule = {
        **slo.alerting.labels,
        "slo": slo.name,
        "service": slo.service,
        "team": service.team,
        "tier": service.tier.value,
        **getattr(slo.alerting, severity).labels,
        "severity": level,
        "burn": severity,
    }
    return dict(sorted({**slo_labels(slo), **rule}.items()))


def _annotations(
    alerts: list[Rule], alertname: str, severity: str, value: float, labels: dict[str, str]
) -> dict[str, str]:
    rule = next((r for r in alerts if r.alert == alertname and r.labels.get("burn") == severity), None)
    templates = rule.annotations if rule is not None else {}
    return {k: render(v, value, labels) for k, v in templates.items()}


def _queries(slo: SLO) -> list[str]:
    sli = slo.sli
    if sli.events is not None:
        return [q for q in (sli.events.errors, sli.events.good, sli.events.total) if q is not None]
    return [sli.raw.error_ratio] if sli.raw is not None else []


def _reads(slo: SLO) -> set[str] | None:
    """The metric names an SLO's rules read (None: not known, e.g. a selector without a metric name)."""
    sli = slo.sli
    if sli.latency is not None:
        return {f"{sli.latency.histogram}_{suffix}" for suffix in ("bucket", "count", "sum")}
    if sli.freshness is not None:
        return {FRESHNESS_AGE_SECONDS}
    if sli.kafka_lag is not None:
        return {KAFKA_GROUP_MAX_LAG_SECONDS}
    return read_names(_queries(slo))


@dataclass(frozen=True)
class Peer:
    """Another SLO of the same rule file, with its burn alerts: it may read the series a test feeds."""

    slo: SLO
    alerts: list[Rule]


def _expectations(
    slo: SLO, catalog: Catalog, alerts: list[Rule], sim: Simulation, at: int
) -> tuple[list[dict[str, object]], bool]:
    """The SLO's burn alerts firing at minute `at`, and whether every outcome is decided."""
    severities = [s for s in ("page", "ticket") if getattr(slo.alerting, s).enabled]
    alertname = slo.alerting.name or names.SLO_BURN_ALERT
    expected: list[dict[str, object]] = []
    decided = True
    for severity in severities:
        for_ = getattr(slo.alerting, severity).for_ or Duration.parse(DEFAULT_FOR[severity])
        state, value = sim.firing(severity, int(for_.seconds // 60), at)
        decided = decided and state is not None
        if state and value is not None:
            labels = _burn_labels(slo, catalog, severity)
            annotations = _annotations(alerts, alertname, severity, value, labels)
            expected.append({"exp_labels": labels, "exp_annotations": annotations})
    return expected, decided


def _peer_simulations(
    slo: SLO, peers: list[Peer], feed: RawFeed | str, case: SLOCase, minutes: int, series: list[Series]
) -> list[tuple[Peer, Simulation]] | None:
    """Simulations of the peers fed exactly the same series (they fire too); None if a peer reads some of
    the series but not the same ones, whose alerts this test cannot predict."""
    alertname = slo.alerting.name or names.SLO_BURN_ALERT
    fed = {s.metric for s in series}
    texts = sorted(s.text() for s in series)
    out = []
    for peer in peers:
        if (peer.slo.alerting.name or names.SLO_BURN_ALERT) != alertname:
            continue
        reads = _reads(peer.slo)
        if reads is not None and not reads & fed:
            continue  # it reads none of these series: it has no data and stays silent
        peer_feed = _feed(peer.slo)
        if isinstance(feed, str) or isinstance(peer_feed, str):
            return None
        peer_series, errors5m, total5m = inputs(peer.slo, peer_feed, case, minutes)
        if sorted(s.text() for s in peer_series) != texts or _values(peer_series) != _values(series):
            return None
        guarded = peer.slo.sli.kind in {"events", "latency"}
        out.append((peer, Simulation(peer.slo, errors5m, total5m, guarded)))
    return out


def _values(series: list[Series]) -> list[tuple[str, str]]:
    return sorted((s.text(), s.values) for s in series)


def _feed(slo: SLO) -> RawFeed | str:
    return feed_of(slo) if slo.sli.kind in {"events", "latency", "raw"} else RawFeed()


def slo_tests(
    slo: SLO, catalog: Catalog, alerts: list[Rule], peers: list[Peer] | None = None
) -> tuple[list[Test], str | None]:
    """Test groups for one SLO's burn-rate alerts, and a note when its SLI is not fed raw series. `peers`
    are the other SLOs of the rule file: one reading the very same series is expected to fire too; a
    case whose series another SLO reads only in part is left out (the note says so)."""
    feed = _feed(slo)
    if slo.sli.kind == "raw" and isinstance(feed, str):
        return [], f"SLO {slo.name}: no test, its raw SLI cannot be synthesised: {feed}"
    if isinstance(feed, str) and any(map(yields_without_input, _queries(slo))):
        return [], (
            f"SLO {slo.name}: no test, its SLI cannot be synthesised ({feed}) and a query gives samples "
            "without any input series (such as vector(0)), so its recorded rates cannot be fed beside it"
        )
    note = None
    if isinstance(feed, str):
        note = (
            f"SLO {slo.name}: fed the recorded 5m rates ({names.SLI_ERRORS_RATE5M}, {names.SLI_TOTAL_RATE5M}), "
            f"not raw series, so its SLI queries are not tested: {feed}"
        )
    severities = [s for s in ("page", "ticket") if getattr(slo.alerting, s).enabled]
    fors = {
        s: int((getattr(slo.alerting, s).for_ or Duration.parse(DEFAULT_FOR[s])).seconds // 60)
        for s in severities
    }
    ordered = sorted(set(fors.values()))
    after_for = sorted({max(1, ordered[0] - 1)} | {f + 1 for f in ordered}) if ordered else [1]
    alertname = slo.alerting.name or names.SLO_BURN_ALERT
    guarded = slo.sli.kind in {"events", "latency"}
    tests: list[Test] = []
    skipped: list[str] = []
    for case in slo_cases(slo, after_for):
        times = [case.last_start + t for t in case.check_after_start]
        minutes = max(times) + 5
        series, errors5m, total5m = inputs(slo, feed, case, minutes)
        sim = Simulation(slo, errors5m, total5m, guarded)
        others = _peer_simulations(slo, peers or [], feed, case, minutes, series)
        if others is None:
            skipped.append(case.name)
            continue
        checks = []
        for at in times:
            expected, decided = _expectations(slo, catalog, alerts, sim, at)
            for peer, peer_sim in others:
                more, sure = _expectations(peer.slo, catalog, peer.alerts, peer_sim, at)
                expected, decided = expected + more, decided and sure
            if decided:  # a check whose outcome hinges on rounding at a threshold is left out
                checks.append({"eval_time": f"{at}m", "alertname": alertname, "exp_alerts": expected})
        if checks:
            tests.append(
                {
                    "name": f"SLO {slo.name}: {case.name}",
                    "interval": "1m",
                    "input_series": _series(series),
                    "alert_rule_test": checks,
                }
            )
    if skipped:
        note = (f"{note}; " if note else "") + (
            f"SLO {slo.name}: cases left out because another SLO of this file reads some of their series: "
            + ", ".join(skipped)
        )
    return tests, note


def no_data_test(slos: list[SLO], catalog: Catalog, alerts: list[Rule]) -> list[Test]:
    """With no SLI data at all, every SLO whose SLI can go missing reports it (labels from the catalog)."""
    expected = []
    for slo in slos:
        service = catalog.service(slo.service)
        labels = {
            **slo.alerting.labels,
            "slo": slo.name,
            "service": slo.service,
            "team": service.team,
            "tier": service.tier.value,
            "severity": "warning",
        }
        rule = next(
            (r for r in alerts if r.alert == names.SLO_NO_DATA_ALERT and r.labels.get("slo") == slo.name),
            None,
        )
        annotations = {k: render(v, None, labels) for k, v in (rule.annotations if rule else {}).items()}
        expected.append({"exp_labels": dict(sorted(labels.items())), "exp_annotations": annotations})
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


_RUN = re.compile(r"^(?P<head>.*?)(?P<last>[^ ]+)x(?P<count>\d+)$")


def _samples(values: str) -> int:
    """How many samples promtool's notation gives (`a+bxn` and `axn` give n+1, a single value one)."""
    return sum(int(term.rpartition("x")[2]) + 1 if "x" in term else 1 for term in values.split())


def _covering(series: list[Series], minutes: int) -> list[Series]:
    """Each series with its last run lengthened to reach `minutes` (one sample a minute), so a long `for`
    is evaluated on fresh samples rather than on series gone stale (Prometheus drops them after 5m)."""
    out = []
    for one in series:
        missing = minutes + 1 - _samples(one.values)
        match = _RUN.match(one.values)
        if missing > 0 and match and not match["last"].startswith("_"):
            count = int(match["count"]) + missing
            one = Series(one.metric, one.labels, f"{match['head']}{match['last']}x{count}")  # noqa: PLW2901
        out.append(one)
    return out


def _where(alert: ComponentAlert) -> tuple[str | None, str | None]:
    return alert.rule.labels.get("component"), alert.rule.labels.get("source")


_Taken = set[tuple[str, frozenset[tuple[str, str]]]]
"""The series (metric, labels) and the expected alerts ("", labels) of a test batch."""


def _batches(alerts: list[ComponentAlert]) -> list[list[ComponentAlert]]:
    """The alerts grouped into test batches: the owners' shares of one split alert (rules/ownership.py: same
    name, component, source and check time) share a batch, tested in one firing and one silent group with
    every share's inputs at once. An alert whose series or expected labels collide with a batch's starts
    another batch, so no batch feeds one series twice or expects one alert twice.

    One group per share made a team's `promtool test rules` quadratic: N groups, each evaluating the N
    rules of the file for the whole scenario (3,025 claims in one team had not finished after 15 min)."""
    batches: dict[tuple[str, tuple[str | None, str | None], int], list[tuple[_Taken, list[ComponentAlert]]]]
    batches = {}
    order: list[list[ComponentAlert]] = []
    for alert in alerts:
        taken = {
            (s.metric, frozenset(s.labels.items())) for s in (*alert.scenario.firing, *alert.scenario.silent)
        }
        taken.add(("", frozenset({**alert.scenario.out_labels, **alert.rule.labels}.items())))
        slots = batches.setdefault((alert.rule.alert or "", _where(alert), alert.eval_time.ms), [])
        slot = next((s for s in slots if not s[0] & taken), None)
        if slot is None:
            slot = (set(), [])
            slots.append(slot)
            order.append(slot[1])
        slot[0].update(taken)
        slot[1].append(alert)
    return order


def _inputs(series: list[Series]) -> list[dict[str, str]]:
    """`input_series` with each series once, the first kept: promtool cannot be fed one series twice."""
    seen: dict[tuple[str, frozenset[tuple[str, str]]], dict[str, str]] = {}
    for one in series:
        key = (one.metric, frozenset(one.labels.items()))
        if key not in seen:
            seen[key] = {"series": one.text(), "values": one.values}
    return list(seen.values())


def component_tests(alerts: list[ComponentAlert]) -> list[Test]:
    """A firing and a silent test group per component alert, or per split alert: all the shares of one
    claimable alert in this file fire together, each exactly once with its own owner's labels (`_batches`).
    A share whose selector misses its part, or takes another's, or whose labels name the wrong owner,
    fails the group, as does a share missing from the rule file."""
    tests: list[Test] = []
    # Silent inputs by alert name and (component, source), gathered once: scanning every alert per alert
    # was quadratic in a team's claims (one alert per claim on one source; issue 11 review, 6,050 claims).
    quiet: dict[str, dict[tuple[str | None, str | None], list[Series]]] = {}
    for a in alerts:
        quiet.setdefault(a.rule.alert or "", {}).setdefault(_where(a), []).extend(a.scenario.silent)
    for batch in _batches(alerts):
        first = batch[0]
        name = first.rule.alert or ""
        # Alerts sharing this name (the same alert for other sources) are kept quiet with their own
        # silent inputs, so only the alerts under test may fire.
        # Owners' shares of one source's alert (rules/ownership.py) select disjoint parts: none needed.
        where_ = _where(first)
        others = [s for at_, series in quiet[name].items() if at_ != where_ for s in series]
        at = str(first.eval_time)
        minutes = -(-first.eval_time.ms // 60_000)
        firing = _covering([s for a in batch for s in a.scenario.firing], minutes)
        silent = _covering([s for a in batch for s in a.scenario.silent], minutes)
        others = _covering(others, minutes)
        where = " ".join(v for k, v in first.rule.labels.items() if k in {"component", "source"})
        label = f"{name} ({where})" if where else name
        if len(batch) > 1:
            label = f"{label}, its {len(batch)} shares here at once"
        tests.append(
            {
                "name": f"{label} fires",
                "interval": "1m",
                "input_series": _inputs(firing + others),
                "alert_rule_test": [
                    {
                        "eval_time": at,
                        "alertname": name,
                        "exp_alerts": [
                            _expected(a.rule, a.scenario.out_labels, a.scenario.value) for a in batch
                        ],
                    }
                ],
            }
        )
        tests.append(
            {
                "name": f"{label} stays silent",
                "interval": "1m",
                "input_series": _inputs(silent + others),
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


def test_file_text(rule_file: str, tests: list[Test], group_order: list[str], notes: list[str]) -> str:
    """The test file as YAML, with a comment for each SLO not fed raw series (`notes`)."""
    comment = "".join(f"# {line}\n" for note in notes for line in _wrap(note))
    return comment + dump_yaml(test_file(rule_file, tests, group_order))


def _wrap(text: str, width: int = 110) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line]
