"""Corrections, pure: planned maintenance windows excluded from SLO budgets. They come from the catalog
(a team's, service's or SLO's `corrections`) and from the API (the store); each applies to every SLO in
its scope. Per SLO and report window they are merged into disjoint intervals clipped to the window."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from catalog.model import Catalog
from sla.queries import SloKey

Scope = Literal["slo", "service", "team"]
SCOPES: tuple[Scope, ...] = ("slo", "service", "team")
Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Correction:
    """[start, end) excluded from the budget of the SLOs of `scope` `name`."""

    scope: Scope
    name: str
    start: datetime
    end: datetime
    reason: str
    source: Literal["catalog", "api"]
    id: int | None = None


def from_catalog(catalog: Catalog) -> list[Correction]:
    """Every correction declared in the catalog (teams, services, then SLOs)."""
    out: list[Correction] = []
    scoped: list[tuple[Scope, Iterable[object]]] = [
        ("team", catalog.teams),
        ("service", catalog.services),
        ("slo", catalog.slos),
    ]
    for scope, entries in scoped:
        for entry in entries:
            for c in getattr(entry, "corrections", ()):
                out.append(Correction(scope, entry.name, c.start, c.end, c.reason, "catalog"))  # type: ignore[attr-defined]
    return out


def scope_members(catalog: Catalog) -> dict[tuple[Scope, str], list[SloKey]]:
    """(scope, name) -> the SLOs it covers."""
    team_of = {s.name: s.team for s in catalog.services}
    members: dict[tuple[Scope, str], list[SloKey]] = defaultdict(list)
    for slo in catalog.slos:
        key = (slo.service, slo.name)
        members[("slo", slo.name)].append(key)
        members[("service", slo.service)].append(key)
        if slo.service in team_of:
            members[("team", team_of[slo.service])].append(key)
    return members


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Disjoint, sorted intervals covering the same time (touching ones are joined)."""
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def clip(intervals: Sequence[Interval], lo: datetime, hi: datetime) -> list[Interval]:
    """The parts of `intervals` inside [lo, hi]."""
    return [(max(s, lo), min(e, hi)) for s, e in intervals if min(e, hi) > max(s, lo)]


def minutes(intervals: Sequence[Interval]) -> float:
    return sum((e - s).total_seconds() for s, e in intervals) / 60


@dataclass(frozen=True)
class Applied:
    """The corrections applying to one SLO in one window, and their merged time inside the window."""

    corrections: tuple[Correction, ...]
    period: tuple[Interval, ...]
    """Merged, clipped to [start, period_end]: excluded from the budget total."""
    measured: tuple[Interval, ...]
    """Merged, clipped to [start, end]: subtracted from what Prometheus measured."""


def per_slo(
    catalog: Catalog,
    corrections: Sequence[Correction],
    start: datetime,
    end: datetime,
    period_end: datetime,
    only: Collection[SloKey] | None = None,
) -> dict[SloKey, Applied]:
    """The corrections overlapping [start, period_end], per SLO they cover (SLOs without any left out;
    with `only`, every SLO not in it too)."""
    members = scope_members(catalog)
    found: dict[SloKey, list[Correction]] = defaultdict(list)
    for c in corrections:
        if c.end > start and c.start < period_end:
            for key in members.get((c.scope, c.name), []):
                if only is None or key in only:
                    found[key].append(c)
    out: dict[SloKey, Applied] = {}
    for key, cs in found.items():
        merged = merge((c.start, c.end) for c in cs)
        out[key] = Applied(
            tuple(sorted(cs, key=lambda c: (c.start, c.end))),
            tuple(clip(merged, start, period_end)),
            tuple(clip(merged, start, end)),
        )
    return out


def scopes_of(catalog: Catalog, keys: Collection[SloKey]) -> set[tuple[Scope, str]]:
    """The (scope, name) pairs whose corrections apply to any of `keys`."""
    return {scope for scope, covered in scope_members(catalog).items() if any(k in keys for k in covered)}


def groups_to_query(applied: Mapping[SloKey, Applied]) -> dict[tuple[Interval, ...], list[SloKey]]:
    """SLOs grouped by their merged measured intervals: each group is queried once (in batches)."""
    groups: dict[tuple[Interval, ...], list[SloKey]] = defaultdict(list)
    for key, a in applied.items():
        if a.measured:
            groups[a.measured].append(key)
    return dict(groups)
