"""Claims: a service owns parts of a shared source (Kafka groups and topics, YARN queues, Spark applications).

A claim is a literal name or a `re:` pattern (YARN queues: a full path, covering its children). When several
claims on one source match a name, the most specific wins (`rank`): a literal beats any pattern; between
patterns the longer literal prefix wins, then the longer pattern text, then the claim listed first. Between
queue paths the longest path wins. Names nobody claims stay with the source's own service.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

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

_RE2_UNSUPPORTED = re.compile(r"\(\?(?:[=!>]|<[=!]|P=)|\\[1-9]|\\Z|[*+?}]\+")
"""Python regex features Prometheus' RE2 refuses: lookaround, atomic groups, backreferences, `\\Z`,
possessive quantifiers."""
_QUEUE_RE = re.compile(r"root(\.[^.\s]+)*")
_META = set(".^$*+?()[]{}|\\")
_GO_META = set("\\.+*?()|[]{}^$")


def _pattern(value: str) -> str:
    """A literal name, or `re:` and a regex that both Python and Prometheus (RE2) read the same way."""
    if not value or value.strip() != value or any(ord(c) < 32 for c in value):
        raise ValueError(
            f"{value!r} is not a name: give the exact name (no surrounding spaces or control characters) "
            "or re:<regex>"
        )
    if value.startswith("re:"):
        body = value[3:]
        if not body:
            raise ValueError("'re:' has no regex after it; write re:<regex>, e.g. re:^orders-.*")
        try:
            re.compile(body)
        except re.error as exc:
            raise ValueError(f"{value!r} is not a valid regex: {exc}; fix the regex") from None
        found = _RE2_UNSUPPORTED.search(body)
        if found:
            raise ValueError(
                f"{value!r} uses {found.group(0)!r}, which Prometheus' RE2 regexes do not support (no "
                "lookaround, backreferences or possessive quantifiers); rewrite it without"
            )
    return value


def _queue(value: str) -> str:
    if not _QUEUE_RE.fullmatch(value):
        hint = f" (did you mean 'root.{value}'?)" if "." not in value and value != "root" else ""
        raise ValueError(
            f"{value!r} is not a full queue path: write it from root with '.' between levels, e.g. "
            f"root.analytics (a claim covers the queue and its children; no patterns){hint}"
        )
    return value


Pattern = Annotated[str, AfterValidator(_pattern)]
QueuePath = Annotated[str, AfterValidator(_queue)]
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

    @cached_property
    def _compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern[3:])

    @property
    def regex(self) -> str:
        """The regex (as Prometheus anchors it) selecting the names this claim covers."""
        if self.kind == "yarn_queue":
            return quote_meta(self.pattern) + r"(?:\..+)?"
        return self.pattern[3:] if self.pattern.startswith("re:") else quote_meta(self.pattern)

    def covers(self, name: str) -> bool:
        """True if the claim matches `name` (whether or not a more specific claim wins it)."""
        if self.kind == "yarn_queue":
            return name == self.pattern or name.startswith(self.pattern + ".")
        if self.literal:
            return name == self.pattern
        return self._compiled.fullmatch(name) is not None

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


def quote_meta(text: str) -> str:
    """`text` as a regex matching exactly it, escaping what Go's `regexp.QuoteMeta` escapes."""
    return "".join("\\" + c if c in _GO_META else c for c in text)


def literal_prefix(regex: str) -> str:
    """The text every name the regex matches starts with, read off its leading literal characters.

    `^orders-eu-.*` → `orders-eu-`; `orders-?x` → `orders` (the '-' is optional); a regex with an
    alternation anywhere → '' (conservative)."""
    if "|" in regex.replace("\\|", ""):
        return ""
    i, out = (1 if regex.startswith("^") else 0), []
    while i < len(regex):
        char = regex[i]
        if char == "\\":
            if i + 1 < len(regex) and not regex[i + 1].isalnum():
                out.append(regex[i + 1])
                i += 2
                continue
            break
        if char in _META:
            break
        out.append(char)
        i += 1
    if i < len(regex) and regex[i] in "?*{" and out:
        out.pop()  # the last literal character is optional
    return "".join(out)


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
        for claim in claims:
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
        hi = bisect.bisect_left(names, (claim.prefix + "\U0010ffff", -1)) if claim.prefix else len(names)
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


def _listed(patterns: list[str], name: str) -> bool:
    return any(re.fullmatch(p[3:], name) if p.startswith("re:") else p == name for p in patterns)


def _uncollected(source: Any, kind: ClaimKind, name: str) -> bool:
    """True when a Kafka source's groups/topics filters leave out a literally claimed name."""
    if kind == "kafka_group":
        return not _listed(source.groups, name) or _listed(source.exclude_groups, name)
    if kind == "kafka_topic":
        return not _listed(source.topics, name) or _listed(source.exclude_topics, name)
    return False


def check_claims(
    services: list[tuple[Any, Any]], sources: dict[str, Any], kafka: dict[str, Any] | None = None
) -> Iterator[Problem]:
    """Cross-checks of every service's claims: the source exists; no two services claim the same literal
    name (or the same pattern) on one source; a name listed twice by one service is a warning.

    `services` holds (Service, loader Origin) pairs; `sources` maps kafka/yarn/spark to the NameIndex of
    the names defined there; `kafka` the valid Kafka sources by name (a literal name they do not collect
    is a warning)."""
    first: dict[tuple[ClaimKind, str, str], tuple[str, str]] = {}
    for service, origin in services:
        for kind, source, pattern, path in service.claims.items():
            sub = ("claims", *path)
            section = SOURCE_KIND[kind]
            known = sources[section]
            if source not in known:
                yield origin.problem(
                    f"unknown {section} source {source!r}: a claim names a source defined under "
                    f"sources.{section}; define it there or fix the name{known.hint(source)}",
                    ("claims", *path[:2], "source"),
                )
                continue
            cluster = (kafka or {}).get(source) if section == "kafka" else None
            if cluster is not None and not pattern.startswith("re:") and _uncollected(cluster, kind, pattern):
                yield origin.problem(
                    f"kafka source {source!r} does not collect {PART_LABEL[kind]} {pattern!r} (its "
                    f"{PART_LABEL[kind]}s filters leave it out), so no alert about it can fire; add it to "
                    "that source's filters or drop the claim",
                    sub,
                    level="warning",
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
