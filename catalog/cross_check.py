"""The second pass over all files: duplicate names, references to teams, services, datasets and Kafka
clusters and groups, claims, and warnings (implausible units, teams without services or channels).

It uses every entry that has a name, valid or not, so one bad entry causes no spurious "unknown" errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from catalog.claims import check_claims
from catalog.collected import Collected, Origin
from catalog.errors import Problem
from catalog.model.kafka import group_selected
from catalog.model.slos import SLO
from catalog.model.sources import SOURCE_KINDS
from catalog.suggest import NameIndex

MIN_PLAUSIBLE_LE = 1e-6
"""A latency bound below a microsecond is almost surely in the wrong unit: warned about."""


def cross_check(c: Collected) -> list[Problem]:
    problems: list[Problem] = []
    sections = ("teams", "services", "slos", "drift", *(f"sources.{k}" for k in SOURCE_KINDS))
    for section in sections:
        problems.extend(_duplicates(section, c.raw_entries(section)))

    teams = c.names("teams")
    services = c.names("services")

    def check_ref(section: str, key: str, known: NameIndex, fix: str) -> None:
        for raw, origin in c.raw_entries(section):
            value = raw.get(key)
            if isinstance(value, str) and value not in known:
                problems.append(origin.problem(f"unknown {key} {value!r}: {fix}{known.hint(value)}", (key,)))

    check_ref("services", "team", teams, "define it under teams or fix the name")
    service_fix = "define it under services or fix the name"
    check_ref("slos", "service", services, "an SLO is owned through its service; " + service_fix)
    for section in ("drift", *(f"sources.{k}" for k in SOURCE_KINDS)):
        check_ref(section, "service", services, service_fix)
    for slo, origin in c.get("slos"):
        problems.extend(_check_sli_refs(slo, origin, c))
        latency = slo.sli.latency
        if latency is not None and latency.le < MIN_PLAUSIBLE_LE:
            problems.append(
                origin.problem(
                    f"le {latency.le:g} is below a microsecond; le is in seconds (a histogram bucket bound "
                    "such as 0.3): check the unit",
                    ("sli", "latency", "le"),
                    level="warning",
                )
            )
        if slo.objective < 1:
            problems.append(
                origin.problem(
                    f"objective {slo.objective:g} is a percentage below 1%; did you mean {slo.objective * 100:g}?",
                    ("objective",),
                    level="warning",
                )
            )

    problems.extend(
        check_claims(
            c.get("services"),
            {k: c.names(f"sources.{k}") for k in ("kafka", "yarn", "spark")},
            c.kafka_sources(),
        )
    )
    owned = {r.get("team") for r, _ in c.raw_entries("services")}
    for team, origin in c.get("teams"):
        if team.name not in owned:
            problems.append(
                origin.problem("team owns no service; nothing will be routed to it", level="warning")
            )
        if not any(getattr(team.channels, k) for k in ("slack", "pagerduty", "webhook", "email")):
            problems.append(
                origin.problem(
                    "team has no channels; its alerts will only reach the default receiver",
                    ("channels",),
                    level="warning",
                )
            )
    return sorted(problems, key=lambda p: (p.file, p.line or 0))


def _duplicates(section: str, entries: list[tuple[dict[str, Any], Origin]]) -> Iterator[Problem]:
    key = "dataset" if section == "sources.freshness" else "name"
    first: dict[str, Origin] = {}
    for raw, origin in entries:
        name = raw.get(key)
        if not isinstance(name, str):
            continue
        if name in first:
            seen = first[name]
            where = f"{seen.doc.file}:{seen.doc.line_of(seen.key)}"
            yield origin.problem(
                f"duplicate {key} {name!r} in {section} (first defined at {where}); rename one"
            )
        else:
            first[name] = origin


def _check_sli_refs(slo: SLO, origin: Origin, c: Collected) -> Iterator[Problem]:
    sli = slo.sli
    if sli.freshness is not None:
        datasets = c.names("sources.freshness")
        if sli.freshness.dataset not in datasets:
            yield origin.problem(
                f"dataset {sli.freshness.dataset!r} is not monitored: add it under sources.freshness so its age "
                f"is exported{datasets.hint(sli.freshness.dataset)}",
                ("sli", "freshness", "dataset"),
            )
    if sli.kafka_lag is not None:
        clusters = c.kafka_sources()
        lag = sli.kafka_lag
        known = c.names("sources.kafka")
        if lag.cluster not in known:
            yield origin.problem(
                f"kafka cluster {lag.cluster!r} is not defined: add it under sources.kafka{known.hint(lag.cluster)}",
                ("sli", "kafka_lag", "cluster"),
            )
        elif lag.cluster in clusters and not group_selected(clusters[lag.cluster], lag.group):
            yield origin.problem(
                f"group {lag.group!r} is not collected by kafka source {lag.cluster!r}; add it to that source's "
                "groups (or stop excluding it)",
                ("sli", "kafka_lag", "group"),
            )
