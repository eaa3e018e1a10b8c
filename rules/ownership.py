"""Alerts and ownership series follow the catalog's claims (catalog/claims.py).

A claimable component alert is written once, as a builder of a `Draft` for a `Part`: the share of the
source's parts (consumer groups, topics, queues, Spark applications) that one owner holds. `expand` turns it
into one rule per claim plus one for the unclaimed rest. The parts' selectors partition the label's values:
a claim selects what it covers minus what more specific claims win (`label!~`), the rest selects what no
claim covers. So a condition fires once, for the one owner, and each rule carries its owner's labels
statically (see docs/rules.md for why this beats a join with an info series).

`ownership_group` records `watchkeeper_part_ownership_info` for every part the exporter reports, for
dashboards and ad-hoc joins.
"""

from __future__ import annotations

import contextlib
import warnings
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

from catalog import claim_patterns as patterns
from catalog.claims import PART_LABEL, Claim, ClaimIndex, ClaimKind
from catalog.model import Catalog
from exporters import names as m
from rules.groups import Rule, RuleGroup
from rules.names import PART_OWNERSHIP_INFO
from rules.promql import matchers, quote
from rules.regex_example import matching

if TYPE_CHECKING:
    from rules.components.common import ComponentAlert, Draft

OWNERSHIP_FILE = "ownership.rules.yml"
OWNERSHIP_GROUP = "watchkeeper-ownership"
EXAMPLES: dict[ClaimKind, tuple[str, ...]] = {
    "kafka_group": ("orders-etl", "unclaimed-group", "x"),
    "kafka_topic": ("orders", "unclaimed-topic", "x"),
    "yarn_queue": ("root.etl", "root.unclaimed", "root.x"),
    "spark_app": ("nightly-etl", "unclaimed-app", "x"),
}
"""Names the generated tests use for the unclaimed part, first that no claim covers."""
PART_SERIES: dict[ClaimKind, tuple[str, str]] = {
    "kafka_group": (m.KAFKA_GROUP_MAX_LAG_SECONDS, m.KAFKA_CLUSTER_LABEL),
    "kafka_topic": (m.KAFKA_PARTITION_LATEST_OFFSET, m.KAFKA_CLUSTER_LABEL),
    "yarn_queue": (m.YARN_QUEUE_CAPACITY, m.SOURCE_LABEL),
    "spark_app": (m.SPARK_APP_RUNNING, m.SOURCE_LABEL),
}
"""The exported series whose label values are a kind's parts, and the label naming the source."""
SOURCE_KINDS: dict[str, tuple[ClaimKind, ...]] = {
    "kafka": ("kafka_group", "kafka_topic"),
    "yarn": ("yarn_queue",),
    "spark": ("spark_app",),
}


@dataclass(frozen=True)
class Part:
    """One owner's share of a source's parts: extra matchers on `label`, and a name only it selects."""

    kind: ClaimKind
    claim: Claim | None
    """The claim owning this share; None for what nobody claims (the source's own service)."""
    extra: tuple[str, ...]
    example: str

    @property
    def label(self) -> str:
        return PART_LABEL[self.kind]

    def select(self, base: dict[str, str]) -> str:
        """A selector: `base` as equality matchers plus this part's own (`{cluster="prod", group!~"..."}`)."""
        inner = matchers(base)[1:-1]
        return "{" + ", ".join([p for p in (inner, *self.extra) if p]) + "}"


@dataclass(frozen=True)
class Claimable:
    """A component alert about the parts of kind `kind`, built per owner by `build`."""

    kind: ClaimKind
    build: Callable[[Part], Draft]


def owned(kind: ClaimKind, build: Callable[[Part], Draft]) -> Claimable:
    """Mark an alert as claimable: `build(part)` writes it for one owner's share (use `part.select(...)` in
    its selectors and `part.example` in its scenario's series)."""
    return Claimable(kind, build)


def _alternation(regexes: Sequence[str]) -> str:
    """One regex matching what any of `regexes` matches. A piece with a `(?` is wrapped in `(?:...)`: a flag
    such as `(?i)` lasts to the end of its group, so bare `a|b` would let the first piece's flags change
    the others (Go's regexp, as Prometheus anchors it: `^(?:(?i)x|y)$` is case-insensitive for `y`)."""
    return "|".join(f"(?:{r})" if "(?" in r and len(regexes) > 1 else r for r in regexes)


def _matcher(label: str, claim: Claim) -> str:
    if claim.literal and claim.kind != "yarn_queue":
        return f"{label}={quote(claim.pattern)}"
    return f"{label}=~{quote(claim.regex)}"


_PARTS: weakref.WeakKeyDictionary[ClaimIndex, dict[tuple[ClaimKind, str], list[Part]]] = (
    weakref.WeakKeyDictionary()
)


def parts(index: ClaimIndex, kind: ClaimKind, source: str) -> list[Part]:
    """The shares of one source's parts: one per claim (most specific first), then the unclaimed rest.
    Computed once per index and source (every claimable alert of the source shares them)."""
    memo = _PARTS.setdefault(index, {})
    found = memo.get((kind, source))
    if found is None:
        found = memo[(kind, source)] = _parts(index, kind, source)
    return found


def _parts(index: ClaimIndex, kind: ClaimKind, source: str) -> list[Part]:
    label = PART_LABEL[kind]
    claims = index.on(kind, source)
    out: list[Part] = []
    for claim in claims:
        extra = [_matcher(label, claim)]
        beaten = index.outranking(claim)
        if beaten:
            extra.append(f"{label}!~{quote(_alternation([c.regex for c in beaten]))}")
        out.append(Part(kind, claim, tuple(extra), _claim_example(index, claim)))
    rest = tuple([f"{label}!~{quote(_alternation([c.regex for c in claims]))}"] if claims else [])
    tries = [*_candidates(EXAMPLES[kind]), *(e for c in claims if not c.literal for e in _unlike(c))]
    example = next((e for e in tries if index.resolve(kind, source, e) is None), None)
    out.append(Part(kind, None, rest, example or NO_EXAMPLE))
    return out


NO_EXAMPLE = "watchkeeper-no-example-found"
"""The example of a share no name was found for (a claim that wins nothing, a rest `re:.*` leaves empty):
its rule is kept, its generated tests are skipped with a warning (`untestable`)."""


def untestable(alert: ComponentAlert) -> bool:
    """True when the alert is a share with no example name (its scenario cannot be written)."""
    return any(NO_EXAMPLE in s.labels.values() for s in alert.scenario.firing)


def _candidates(seeds: Sequence[str]) -> list[str]:
    return [*seeds, *(f"{seeds[-1]}{i}" for i in range(50))]


def _unlike(claim: Claim) -> list[str]:
    """Names just outside a pattern's prefix or case (a rest example when the usual ones are claimed)."""
    prefix = claim.prefix
    return [prefix[:-1] + "~" if prefix else "~", prefix.swapcase() + "~"]


def regex_examples(regex: str) -> list[str]:
    """Non-empty names Prometheus' matcher `=~regex` selects, checked with RE2 (not Python's `re`)."""
    seeds = [patterns.possible_low(regex), patterns.literal_prefix(regex)]
    with contextlib.suppress(Exception), warnings.catch_warnings():  # Python's reading of an RE2 regex
        warnings.simplefilter("ignore")  # may fail or warn ("possible nested set"); RE2 checks what it gives
        seeds.append(matching(regex) or "")
    out: list[str] = []
    for seed in seeds:
        for suffix in ("", "x", "0", "a", "-x", "_0", "X"):
            name = seed + suffix
            if name and name not in out and patterns.fullmatch(regex, name):
                out.append(name)
    return out


def _claim_example(index: ClaimIndex, claim: Claim) -> str:
    """A name `claim` wins (for the generated tests); `NO_EXAMPLE` when none is found."""
    if claim.literal:
        return claim.pattern
    won = (
        t for t in regex_examples(claim.pattern[3:]) if index.resolve(claim.kind, claim.source, t) is claim
    )
    return next(won, NO_EXAMPLE)


Item = Union["Draft", Claimable]


def expand(items: Sequence[Item], index: ClaimIndex, source: str, service: str) -> list[tuple[Draft, str]]:
    """Each draft with the service owning it: a plain draft stays with the source's `service`; a claimable
    one becomes one draft per claim on `source` (its claiming service) and one for the unclaimed rest."""
    out: list[tuple[Draft, str]] = []
    for item in items:
        if isinstance(item, Claimable):
            for part in parts(index, item.kind, source):
                out.append((item.build(part), part.claim.service if part.claim else service))
        else:
            out.append((item, service))
    return out


def ownership_group(catalog: Catalog, index: ClaimIndex | None = None) -> RuleGroup | None:
    """`watchkeeper_part_ownership_info` per claimable part the exporter reports, or None without sources."""
    index = index or ClaimIndex.of(catalog)
    rules: list[Rule] = []
    for section, kinds in SOURCE_KINDS.items():
        for src in getattr(catalog.sources, section):
            owner = catalog.service(src.service)
            for kind in kinds:
                metric, source_label = PART_SERIES[kind]
                by = f"{source_label}, {PART_LABEL[kind]}"
                for part in parts(index, kind, src.name):
                    svc = catalog.service(part.claim.service) if part.claim else owner
                    rules.append(
                        Rule(
                            record=PART_OWNERSHIP_INFO,
                            expr=f"group by ({by}) ({metric}{part.select({source_label: src.name})})",
                            labels={
                                "kind": kind,
                                "team": svc.team,
                                "service": svc.name,
                                "tier": svc.tier.value,
                                "claim": part.claim.pattern if part.claim else "",  # "": no label
                            },
                        )
                    )
    return RuleGroup(OWNERSHIP_GROUP, rules) if rules else None


def ownership_tests(
    catalog: Catalog, group: RuleGroup, index: ClaimIndex | None = None
) -> list[dict[str, object]]:
    """A promtool test: one series per part's example; each gets exactly one owner, the expected one.

    The expected owner is `ClaimIndex.resolve` (the specificity rule in Python) of the example, so the test
    checks that the PromQL partition agrees with it."""
    index = index or ClaimIndex.of(catalog)
    series: list[dict[str, str]] = []
    samples: list[dict[str, object]] = []
    for section, kinds in SOURCE_KINDS.items():
        for src in getattr(catalog.sources, section):
            for kind in kinds:
                metric, source_label = PART_SERIES[kind]
                for part in parts(index, kind, src.name):
                    if part.example == NO_EXAMPLE:
                        continue  # no name found for this share: nothing to feed (warned at generate)
                    labels = {source_label: src.name, PART_LABEL[kind]: part.example}
                    series.append({"series": metric + matchers(labels), "values": "1x5"})
                    claim = index.resolve(kind, src.name, part.example)
                    svc = catalog.service(claim.service if claim else src.service)
                    out = {
                        **labels,
                        "kind": kind,
                        "team": svc.team,
                        "service": svc.name,
                        "tier": svc.tier.value,
                        **({"claim": claim.pattern} if claim else {}),
                    }
                    samples.append({"labels": PART_OWNERSHIP_INFO + matchers(out), "value": 1})
    if not group.rules:
        return []
    unique = {s["series"]: s for s in series}
    expected = {str(s["labels"]): s for s in samples}
    return [
        {
            "name": "every claimable part has exactly one owner",
            "interval": "1m",
            "input_series": list(unique.values()),
            "promql_expr_test": [
                {"expr": PART_OWNERSHIP_INFO, "eval_time": "2m", "exp_samples": list(expected.values())}
            ],
        }
    ]


def partition_tests(team: str, everyone: dict[str, list[ComponentAlert]]) -> list[dict[str, object]]:
    """Tests for one team's components file proving that the owners' rules partition each claimable alert:
    with the firing inputs of every owner's share at once (this team's and the others'), this file's rules
    fire exactly for this team's shares, once each, with their owners' labels. A selector overlapping
    another owner's share fails here, even though that share's rule lives in another file."""
    from rules.humanize import render

    mine = {id(a) for a in everyone.get(team, [])}
    tests: list[dict[str, object]] = []
    for (alertname, _, source), split in _splits(everyone).items():
        variants = [v for v in split if not untestable(v)]
        if not any(id(v) in mine for v in variants):
            continue
        expected = []
        for v in (v for v in variants if id(v) in mine):
            labels = {**v.scenario.out_labels, **v.rule.labels}
            expected.append(
                {
                    "exp_labels": dict(sorted(labels.items())),
                    "exp_annotations": {
                        k: render(t, v.scenario.value, labels) for k, t in v.rule.annotations.items()
                    },
                }
            )
        tests.append(
            {
                "name": f"{alertname} ({source}): every owner's share firing at once, only {team}'s fire here",
                "interval": "1m",
                "input_series": [
                    {"series": s.text(), "values": s.values} for v in variants for s in v.scenario.firing
                ],
                "alert_rule_test": [
                    {"eval_time": str(variants[0].eval_time), "alertname": alertname, "exp_alerts": expected}
                ],
            }
        )
    return tests


def _splits(everyone: dict[str, list[ComponentAlert]]) -> dict[tuple[str, str, str], list[ComponentAlert]]:
    """Component alerts split between owners: those sharing an alert name, component and source."""
    found: dict[tuple[str, str, str], list[ComponentAlert]] = {}
    for alerts in everyone.values():
        for alert in alerts:
            key = (
                alert.rule.alert or "",
                alert.rule.labels.get("component", ""),
                alert.rule.labels.get(m.SOURCE_LABEL, ""),
            )
            found.setdefault(key, []).append(alert)
    return {k: v for k, v in found.items() if len(v) > 1}
