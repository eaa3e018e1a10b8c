"""Claims: a service owns parts of a shared source (Kafka groups and topics, YARN queues, Spark applications).

A claim is a literal name or a `re:` pattern (YARN queues: a full path, covering its children). When several
claims on one source match a name, the most specific wins (`rank`): a literal beats any pattern; between
patterns the longer literal prefix wins, then the longer pattern text, then the claim listed first. Between
queue paths the longest path wins. Names nobody claims stay with the source's own service.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from catalog import claim_patterns as patterns
from catalog.errors import Problem

if TYPE_CHECKING:
    from catalog.model import Catalog

ClaimKind = Literal["kafka_group", "kafka_topic", "yarn_queue", "spark_app"]
CLAIM_KINDS: tuple[ClaimKind, ...] = ("kafka_group", "kafka_topic", "yarn_queue", "spark_app")
SOURCE_KIND: dict[ClaimKind, str] = {
    "kafka_group": "kafka",
    "kafka_topic": "kafka",
    "yarn_queue": "yarn",
    "spark_app": "spark",
}
"""The `sources:` section a claim kind's `source` names."""
CLAIM_FIELD: dict[ClaimKind, tuple[str, str]] = {
    "kafka_group": ("kafka", "groups"),
    "kafka_topic": ("kafka", "topics"),
    "yarn_queue": ("yarn", "queues"),
    "spark_app": ("spark", "applications"),
}
"""Where a claim kind is written under a service's `claims:`: (section, list key)."""
PART_LABEL: dict[ClaimKind, str] = {
    "kafka_group": "group",
    "kafka_topic": "topic",
    "yarn_queue": "queue",
    "spark_app": "app_name",
}
"""The exporter label that names a claimed part."""

Pattern = str
"""A literal name or `re:<regex>`, checked by `check_claims` (not here: one bad entry must not hide the
cross-checks of its service's other claims)."""
QueuePath = str
"""A full queue path, checked by `check_claims` like `Pattern`."""
SourceName = Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class KafkaClaim(_Strict):
    """Consumer groups and topics of one Kafka cluster (`source`: its name under sources.kafka)."""

    source: SourceName
    groups: list[Pattern] = []
    topics: list[Pattern] = []

    @model_validator(mode="after")
    def _something(self) -> KafkaClaim:
        if not self.groups and not self.topics:
            raise ValueError("a kafka claim needs groups or topics (or both), e.g. groups: [orders-etl]")
        return self


class YarnClaim(_Strict):
    """Queues of one YARN cluster by full path; a queue's claim covers its children."""

    source: SourceName
    queues: list[QueuePath] = Field(min_length=1)


class SparkClaim(_Strict):
    """Applications of one Spark source by name or `re:` pattern."""

    source: SourceName
    applications: list[Pattern] = Field(min_length=1)


class Claims(_Strict):
    """What a service claims inside shared sources owned by another service."""

    kafka: list[KafkaClaim] = []
    yarn: list[YarnClaim] = []
    spark: list[SparkClaim] = []

    def items(self) -> Iterator[tuple[ClaimKind, str, str, tuple[str | int, ...]]]:
        """(kind, source, pattern, path under `claims`) for every claimed name or pattern."""
        for kind in CLAIM_KINDS:
            section, key = CLAIM_FIELD[kind]
            for i, entry in enumerate(getattr(self, section)):
                for j, pattern in enumerate(getattr(entry, key, [])):
                    yield kind, entry.source, pattern, (section, i, key, j)


@dataclass(frozen=True)
class Claim:
    """One claimed name or pattern, with its owner and its position in the catalog (for ties)."""

    kind: ClaimKind
    source: str
    pattern: str
    service: str
    order: int

    @cached_property
    def literal(self) -> bool:
        return self.kind == "yarn_queue" or not self.pattern.startswith("re:")

    @cached_property
    def prefix(self) -> str:
        """The literal text every name this claim covers starts with."""
        return self.pattern if self.literal else literal_prefix(self.pattern[3:])

    @property
    def regex(self) -> str:
        """The regex (as Prometheus anchors it) selecting the names this claim covers."""
        if self.kind == "yarn_queue":
            return patterns.quote_meta(self.pattern) + r"(?:\..+)?"
        return self.pattern[3:] if self.pattern.startswith("re:") else patterns.quote_meta(self.pattern)

    def covers(self, name: str) -> bool:
        """True if the claim matches `name` (whether or not a more specific claim wins it)."""
        if self.kind == "yarn_queue":
            return name == self.pattern or name.startswith(self.pattern + ".")
        if self.literal:
            return name == self.pattern
        return patterns.fullmatch(self.pattern[3:], name)

    @property
    def rank(self) -> tuple[int, int, int, int]:
        """Higher is more specific (see the module docstring); the last item breaks ties by catalog order."""
        if self.kind == "yarn_queue":
            return (2, self.pattern.count("."), len(self.pattern), -self.order)
        if self.literal:
            return (2, len(self.pattern), len(self.pattern), -self.order)
        return (1, len(self.prefix), len(self.pattern), -self.order)

    def __str__(self) -> str:
        return f"{self.kind} {self.pattern} on {self.source} ({self.service})"


quote_meta = patterns.quote_meta


def literal_prefix(regex: str) -> str:
    """The text every name the regex matches starts with, as RE2 parses it (see `claim_patterns`)."""
    return patterns.literal_prefix(regex)


def literal_prefix_length(regex: str) -> int:
    """len(literal_prefix(regex)): the pattern tie-break of `Claim.rank`."""
    return len(literal_prefix(regex))


_LAST: dict[str, tuple[Catalog, ClaimIndex]] = {}


class ClaimIndex:
    """Every claim of a catalog by (kind, source), most specific first; resolves a name to its claim."""

    def __init__(self, claims: list[Claim]) -> None:
        self.claims = claims
        self._by: dict[tuple[ClaimKind, str], list[Claim]] = {}
        self._sorted: dict[tuple[ClaimKind, str], list[tuple[str, int]]] = {}
        self._literals: dict[tuple[ClaimKind, str], dict[str, Claim]] = {}
        seen: set[tuple[ClaimKind, str, str]] = set()
        for claim in claims:
            if (claim.kind, claim.source, claim.pattern) in seen:
                continue  # listed twice (validate warns): one rule, or the name's alert would fire twice
            seen.add((claim.kind, claim.source, claim.pattern))
            self._by.setdefault((claim.kind, claim.source), []).append(claim)
        for found in self._by.values():
            found.sort(key=lambda c: c.rank, reverse=True)

    @classmethod
    def of(cls, catalog: Catalog) -> ClaimIndex:
        """The catalog's index, built once per catalog object (the last one asked for is kept)."""
        cached = _LAST.get("index")
        if cached is not None and cached[0] is catalog:
            return cached[1]
        index = cls(catalog_claims(catalog))
        _LAST["index"] = (catalog, index)
        return index

    def on(self, kind: ClaimKind, source: str) -> list[Claim]:
        """The claims on one source, most specific first."""
        return self._by.get((kind, source), [])

    def sources(self) -> list[tuple[ClaimKind, str]]:
        return list(self._by)

    def resolve(self, kind: ClaimKind, source: str, name: str) -> Claim | None:
        """The claim that owns `name` on `source`, or None when nobody claims it (the source's owner)."""
        key = (kind, source)
        exact = self._exact(key)
        if kind == "yarn_queue":  # the deepest claimed ancestor (or the queue itself)
            path = name
            while True:
                if path in exact:
                    return exact[path]
                if "." not in path:
                    return None
                path = path.rsplit(".", 1)[0]
        if name in exact:
            return exact[name]  # a literal beats every pattern
        return next((c for c in self.on(*key) if not c.literal and c.covers(name)), None)

    def _exact(self, key: tuple[ClaimKind, str]) -> dict[str, Claim]:
        """A source's literal claims (and queue paths) by name; the first listed when repeated."""
        found = self._literals.get(key)
        if found is None:
            found = self._literals[key] = {}
            for c in reversed(self.on(*key)):
                if c.literal:
                    found[c.pattern] = c
        return found

    def outranking(self, claim: Claim) -> list[Claim]:
        """The claims on the same source that win some of `claim`'s names: more specific and overlapping
        (literals and queues that `claim` covers; more specific patterns whose literal prefixes allow a
        common name). A literal name is outranked by nothing; a queue by its claimed descendants."""
        key = (claim.kind, claim.source)
        if claim.kind == "yarn_queue":
            paths = self._paths(key)
            lo = bisect.bisect_left(paths, (claim.pattern + ".", -1))
            hi = bisect.bisect_left(paths, (claim.pattern + "/", -1))  # '/' sorts right after '.'
            return [self.on(*key)[i] for _, i in paths[lo:hi]]
        if claim.literal:
            return []
        names = self._paths(key)  # sorted literal names: only those starting with the prefix can match
        lo = bisect.bisect_left(names, (claim.prefix, -1))
        hi = lo
        while hi < len(names) and names[hi][0].startswith(claim.prefix):  # no sentinel bound: any
            hi += 1  # character, U+10FFFF included, may follow the prefix
        claims = self.on(*key)
        out = [claims[i] for name, i in names[lo:hi] if claims[i].literal and claim.covers(name)]
        for other in claims:
            if other is claim:
                break
            if not other.literal and _may_overlap(claim, other):
                out.append(other)
        return out

    def _paths(self, key: tuple[ClaimKind, str]) -> list[tuple[str, int]]:
        """A source's literal claims (names, queue paths) sorted, with their position in `on`."""
        found = self._sorted.get(key)
        if found is None:
            found = self._sorted[key] = sorted(
                (c.pattern, i) for i, c in enumerate(self.on(*key)) if c.literal
            )
        return found


def _may_overlap(a: Claim, b: Claim) -> bool:
    """False when two patterns cannot match one name: their literal prefixes differ before either ends
    (every name a pattern matches starts with its prefix). True otherwise, undecided overlap included."""
    return a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)


def catalog_claims(catalog: Catalog) -> list[Claim]:
    """Every claim of every service, in catalog order."""
    out: list[Claim] = []
    for service in catalog.services:
        for kind, source, pattern, _ in service.claims.items():
            out.append(Claim(kind, source, pattern, service.name, len(out)))
    return out


def _elsewhere(sources: dict[str, Any], section: str, source: str) -> str:
    """A hint for a source name defined in another section (a Kafka claim naming a YARN source), else
    the closest name of the right section."""
    other = [s for s in sources if s != section and source in sources[s]]
    if other:
        return (
            f" ({source!r} is a {other[0]} source; a {section} claim names a sources.{section} entry, a "
            f"{other[0]} claim goes under claims.{other[0]})"
        )
    hint: str = sources[section].hint(source)
    return hint


def _dead_twin(pattern: str, earlier: str, where: str) -> str:
    """The warning for two patterns selecting the same names: the rank rule gives one of them every name."""
    loser = pattern if len(pattern) <= len(earlier) else earlier  # equal length: the first listed wins
    winner = earlier if loser == pattern else pattern
    return (
        f"{pattern!r} selects exactly the names {earlier!r} (at {where}) selects (Prometheus anchors every "
        f"regex, so ^ and $ change nothing); {winner!r} wins every one of them and {loser!r} none, so its "
        "alerts can never fire: keep one of the two"
    )


def check_claims(
    services: list[tuple[Any, Any]], sources: dict[str, Any], kafka: dict[str, Any] | None = None
) -> Iterator[Problem]:
    """Cross-checks of every service's claims: the source exists; no two services claim the same literal
    name (or the same pattern) on one source; a name listed twice by one service is a warning.

    `services` holds (Service, loader Origin) pairs; `sources` maps kafka/yarn/spark to the NameIndex of
    the names defined there; `kafka` the valid Kafka sources by name (a literal name they do not collect
    is a warning)."""
    first: dict[tuple[ClaimKind, str, str], tuple[str, str]] = {}
    same: dict[tuple[ClaimKind, str, str], tuple[str, str]] = {}
    for service, origin in services:
        told: set[tuple[str | int, ...]] = set()
        for kind, source, pattern, path in service.claims.items():
            sub = ("claims", *path)
            section = SOURCE_KIND[kind]
            try:
                patterns.check_queue(pattern) if kind == "yarn_queue" else patterns.check_pattern(pattern)
            except ValueError as exc:
                yield origin.problem(str(exc), sub)
                continue
            known = sources[section]
            if source not in known:
                if path[:2] not in told:  # once per claim entry, not once per name it lists
                    told.add(path[:2])
                    yield origin.problem(
                        f"unknown {section} source {source!r}: a claim names a source defined under "
                        f"sources.{section}; define it there or fix the name{_elsewhere(sources, section, source)}",
                        ("claims", *path[:2], "source"),
                    )
                continue
            cluster = (kafka or {}).get(source) if section == "kafka" else None
            if cluster is not None and patterns.uncollected(cluster, kind, pattern):
                what = "any name pattern" if pattern.startswith("re:") else PART_LABEL[kind]
                yield origin.problem(
                    f"kafka source {source!r} does not collect {what} {pattern!r} (its "
                    f"{PART_LABEL[kind]}s filters leave it out), so no alert about it can fire; add it to "
                    "that source's filters or drop the claim",
                    sub,
                    level="warning",
                )
            if pattern.startswith("re:") and patterns.same_names(pattern[3:]) in patterns.EVERYTHING:
                yield origin.problem(
                    f"{pattern!r} claims every {PART_LABEL[kind]} of {section} source {source!r}: nothing is "
                    f"left unclaimed for the source's own service (whose unclaimed-part alerts can never "
                    "fire); if that is meant, make this service the source's service instead",
                    sub,
                    level="warning",
                )
            if pattern.startswith("re:"):
                twin = (kind, source, "re:" + patterns.same_names(pattern[3:]))
                if twin in same and same[twin][0] != pattern:
                    yield origin.problem(_dead_twin(pattern, *same[twin]), sub, level="warning")
                same.setdefault(
                    twin, (pattern, f"{origin.doc.file}:{origin.doc.line_of((*origin.key, *sub))}")
                )
            key = (kind, source, pattern)
            where = f"{origin.doc.file}:{origin.doc.line_of((*origin.key, *sub))}"
            if key in first:
                other, other_where = first[key]
                if other == service.name:
                    yield origin.problem(
                        f"{pattern!r} is claimed twice by this service (first at {other_where}); remove one",
                        sub,
                        level="warning",
                    )
                else:
                    what = "pattern" if pattern.startswith("re:") else "name"
                    yield origin.problem(
                        f"{SOURCE_KIND[kind]} {PART_LABEL[kind]} {what} {pattern!r} on {source!r} is claimed "
                        f"by both service {other!r} (at {other_where}) and service {service.name!r}: one "
                        f"owner per name; remove it from one of them",
                        sub,
                    )
            else:
                first[key] = (service.name, where)
