"""Load a catalog file or directory, validate every entry and cross-reference, and merge into one model."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError

from catalog.claims import check_claims
from catalog.errors import MAX_DETAILED, CatalogError, Problem, did_you_mean
from catalog.fields import NAME_RE
from catalog.files import display_path, find_files
from catalog.gc_pause import gc_paused
from catalog.hints import TYPE_FIXES, surrogate_problems, type_fix
from catalog.model import (
    SLO,
    SOURCE_KINDS,
    TOP_LEVEL_KEYS,
    Catalog,
    DriftMonitor,
    FreshnessSource,
    HdfsSource,
    InferenceSource,
    KafkaSource,
    Service,
    Sources,
    SparkSource,
    Team,
    YarnSource,
)
from catalog.suggest import NameIndex, misspelt_required
from catalog.yaml_source import PathKey, YamlDocument, read_yaml

ENTRY_MODELS: dict[str, type[BaseModel]] = {
    "teams": Team,
    "services": Service,
    "slos": SLO,
    "drift": DriftMonitor,
}
MIN_PLAUSIBLE_LE = 1e-6
"""A latency bound below a microsecond is almost surely in the wrong unit: warned about."""
SOURCE_MODELS: dict[str, type[BaseModel]] = {
    "hdfs": HdfsSource,
    "yarn": YarnSource,
    "spark": SparkSource,
    "kafka": KafkaSource,
    "freshness": FreshnessSource,
    "inference": InferenceSource,
}


@dataclass
class Origin:
    """Where a validated entry came from, for cross-reference errors."""

    doc: YamlDocument
    key: PathKey
    label: str

    def problem(
        self, message: str, sub: PathKey = (), level: Literal["error", "warning"] = "error"
    ) -> Problem:
        path = self.label + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in sub)
        return Problem(self.doc.file, path, message, line=self.doc.line_of((*self.key, *sub)), level=level)


@dataclass
class _Collected:
    entries: dict[str, list[tuple[Any, Origin]]] = field(default_factory=dict)
    raw: dict[str, list[tuple[dict[str, Any], Origin]]] = field(default_factory=dict)
    name_index: dict[str, NameIndex] = field(default_factory=dict)
    kafka_index: dict[str, KafkaSource] | None = None

    def add(self, section: str, entry: Any, origin: Origin) -> None:
        self.entries.setdefault(section, []).append((entry, origin))

    def get(self, section: str) -> list[tuple[Any, Origin]]:
        return self.entries.get(section, [])

    def raw_entries(self, section: str) -> list[tuple[dict[str, Any], Origin]]:
        """Every mapping entry of a section, valid or not, so one bad entry does not hide others' errors."""
        return self.raw.get(section, [])

    def names(self, section: str) -> NameIndex:
        """The names defined in a section (built once: the cross-check asks for them per entry)."""
        if section not in self.name_index:
            key = "dataset" if section == "sources.freshness" else "name"
            self.name_index[section] = NameIndex(
                r[key] for r, _ in self.raw_entries(section) if isinstance(r.get(key), str)
            )
        return self.name_index[section]

    def kafka_sources(self) -> dict[str, KafkaSource]:
        """The valid kafka sources by name (built once)."""
        if self.kafka_index is None:
            self.kafka_index = {k.name: k for k, _ in self.get("sources.kafka")}
        return self.kafka_index


@dataclass
class LoadResult:
    catalog: Catalog
    warnings: list[Problem]
    files: list[str]


def catalog_files(root: Path) -> list[Path]:
    """The YAML files making up a catalog path; `catalog.files.find_files` also says what it skipped and why."""
    return find_files(root)[0]


def load_catalog(root: str | Path) -> LoadResult:
    """Load and validate a catalog; raise CatalogError listing every problem found."""
    root = Path(root)
    if not root.exists():
        raise CatalogError(
            [Problem(str(root), "", "no such file or directory; give a catalog file or directory")]
        )
    files, problems = find_files(root)
    if not files and not any(p.level == "error" for p in problems):
        raise CatalogError([*problems, Problem(str(root), "", "directory holds no .yaml or .yml files")])
    collected = _Collected()
    with gc_paused():
        for path in files:
            doc, read_problems = read_yaml(path, _display(path))
            problems.extend(read_problems)
            if doc is not None:
                _collect_document(doc, collected, problems)
    problems.extend(_cross_check(collected))
    problems.sort(key=lambda p: (p.file, p.line or 0))
    errors = [p for p in problems if p.level == "error"]
    if errors:
        raise CatalogError(problems)
    catalog = Catalog.model_construct(
        teams=[e for e, _ in collected.get("teams")],
        services=[e for e, _ in collected.get("services")],
        slos=[e for e, _ in collected.get("slos")],
        drift=[e for e, _ in collected.get("drift")],
        sources=Sources.model_construct(
            hdfs=[e for e, _ in collected.get("sources.hdfs")],
            yarn=[e for e, _ in collected.get("sources.yarn")],
            spark=[e for e, _ in collected.get("sources.spark")],
            kafka=[e for e, _ in collected.get("sources.kafka")],
            freshness=[e for e, _ in collected.get("sources.freshness")],
            inference=[e for e, _ in collected.get("sources.inference")],
        ),
    )
    return LoadResult(catalog, problems, [_display(p) for p in files])


def _display(path: Path) -> str:
    return display_path(path)


def _collect_document(doc: YamlDocument, out: _Collected, problems: list[Problem]) -> None:
    for text, value, line, column in doc.base60:
        message = (
            f"{text} is a YAML 1.1 base-60 number, read as {value}, not {text}; write the number itself, "
            f"or quote it ('{text}') if it is text"
        )
        problems.append(Problem(doc.file, "", message, line=line, column=column))
    data = doc.data
    if data is None or data == {}:
        return
    if not isinstance(data, dict):
        problems.append(
            Problem(
                doc.file,
                "",
                f"a catalog file must be a mapping with keys {', '.join(TOP_LEVEL_KEYS)}",
                line=1,
            )
        )
        return
    for key, value in data.items():
        if key not in TOP_LEVEL_KEYS:
            problems.append(
                Problem(
                    doc.file,
                    str(key),
                    f"unknown top-level key {key!r}{did_you_mean(str(key), TOP_LEVEL_KEYS)} "
                    f"(the top-level keys are {', '.join(TOP_LEVEL_KEYS)})",
                    line=doc.line_of((key,)),
                )
            )
        elif key == "sources":
            _collect_sources(doc, value, out, problems)
        else:
            _collect_list(doc, (key,), key, key, ENTRY_MODELS[key], value, out, problems)


def _collect_sources(doc: YamlDocument, value: Any, out: _Collected, problems: list[Problem]) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        problems.append(
            Problem(
                doc.file,
                "sources",
                f"sources must be a mapping of {', '.join(SOURCE_KINDS)} to lists",
                line=doc.line_of(("sources",)),
            )
        )
        return
    for kind, entries in value.items():
        if kind not in SOURCE_MODELS:
            problems.append(
                Problem(
                    doc.file,
                    f"sources.{kind}",
                    f"unknown source kind {kind!r}{did_you_mean(str(kind), SOURCE_KINDS)} "
                    f"(the kinds are {', '.join(SOURCE_KINDS)})",
                    line=doc.line_of(("sources", kind)),
                )
            )
            continue
        section = f"sources.{kind}"
        _collect_list(doc, ("sources", kind), section, section, SOURCE_MODELS[kind], entries, out, problems)


def _entry_name(raw: Any, model: type[BaseModel]) -> str | None:
    if isinstance(raw, dict):
        name = raw.get("dataset" if model is FreshnessSource else "name")
        if isinstance(name, str):
            return name
    return None


def _collect_list(
    doc: YamlDocument,
    key: PathKey,
    label: str,
    section: str,
    model: type[BaseModel],
    value: Any,
    out: _Collected,
    problems: list[Problem],
) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        problems.append(
            Problem(
                doc.file,
                label,
                f"{label} must be a list of entries (each starting with '- ')",
                line=doc.line_of(key),
            )
        )
        return
    adapter = TypeAdapter(model)
    for index, raw in enumerate(value):
        name = _entry_name(raw, model)
        entry_label = f"{label}[{index}]" + (f' "{name}"' if name else "")
        origin = Origin(doc, (*key, index), entry_label)
        if not isinstance(raw, dict):
            problems.append(origin.problem(f"each entry of {label} must be a mapping of keys to values"))
            continue
        out.raw.setdefault(section, []).append((raw, origin))
        if not doc.surrogate_free:  # only text PyYAML read can hold them: skip the walk for the rest
            problems.extend(origin.problem(message, sub) for sub, message in surrogate_problems(raw))
        try:
            entry = adapter.validate_python(raw)
        except ValidationError as exc:
            problems.extend(_explain(exc, model, origin, detailed=MAX_DETAILED - len(problems)))
            continue
        out.add(section, entry, origin)


def _explain(
    exc: ValidationError, model: type[BaseModel], origin: Origin, detailed: int = MAX_DETAILED
) -> Iterator[Problem]:
    """The problems of one entry; past the first `detailed` of them an unknown key gets no suggestion.
    A misspelt required key (`objectiv`) is one error, not an unknown key plus a missing one."""
    errors = exc.errors(include_url=False)
    misspelt = misspelt_required(
        [_loc(e) for e in errors if e["type"] == "extra_forbidden"],
        [_loc(e) for e in errors if e["type"] == "missing"],
    )
    for index, err in enumerate(errors):
        loc = _loc(err)
        kind = err["type"]
        if kind == "missing" and loc in misspelt.values():
            continue  # reported with the misspelt key
        if kind == "extra_forbidden":
            key = str(err["loc"][-1])  # unfiltered: an unknown key may itself hold "[" (found by fuzzing)
            if loc in misspelt:
                meant = str(misspelt[loc][-1])
                message = (
                    f"unknown key {key!r}; did you mean {meant!r}? (required here: rename {key} to {meant})"
                )
                yield origin.problem(message, loc)
                continue
            if index >= detailed:
                yield origin.problem(f"unknown key {key!r}", loc)
                continue
            fields = _fields_at(model, loc[:-1] if loc and loc[-1] == err["loc"][-1] else loc)
            message = f"unknown key {key!r}{did_you_mean(key, fields)}"
            if fields:
                message += f" (allowed here: {', '.join(sorted(fields))})"
        elif kind == "missing":
            key = str(loc[-1])
            message = f"missing required key {key!r}"
            if model is SLO and loc == ("service",):
                message += "; every SLO needs an owner: add service: <a service from services>"
            elif model is Service and loc == ("team",):
                message += "; every service needs an owning team: add team: <a team from teams>"
            elif model is Team and loc == ("owners",):
                message += "; list the on-call contacts, e.g. owners: [oncall@example.com]"
        elif kind == "string_pattern_mismatch" and (err.get("ctx") or {}).get("pattern") == NAME_RE:
            # Only fields typed Name get this hint: other patterns (alert names, datasets) have their own.
            message = (
                f"{err['input']!r} is not a valid name; use lower-case letters, digits, '-', '.' or '_' "
                "(at most 63 characters, starting and ending with a letter or digit)"
            )
        elif kind in TYPE_FIXES:
            message = type_fix(kind, str(loc[-1]) if loc else "value", err["input"], _clean(err["msg"]))
        elif kind in {"enum", "literal_error"}:
            expected = str((err.get("ctx") or {}).get("expected", ""))
            options = re.findall(r"'([^']*)'", expected) or re.findall(r"[\w.-]+", expected)
            message = f"{err['input']!r} is not allowed{did_you_mean(str(err['input']), options)} (choose {expected})"
        elif kind == "too_short" and isinstance(err.get("input"), list):
            message = f"{loc[-1] if loc else 'list'} must not be empty"
        else:
            message = _clean(err["msg"])
        yield origin.problem(message, loc)


def _loc(err: Any) -> tuple[Any, ...]:
    """An error's location without pydantic's union and validator steps."""
    return tuple(
        p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))
    )


def _clean(message: str) -> str:
    return re.sub(r"^(Value error|Assertion failed), ", "", message)


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> set[str]:
    """The keys a mapping at `loc` inside `model` may hold."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            current = _unwrap(current, list_item=True)
            continue
        current = _unwrap(current)
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return set()
        info = current.model_fields.get(str(part)) or next(
            (f for f in current.model_fields.values() if f.alias == part), None
        )
        if info is None:
            return set()
        current = info.annotation
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return {f.alias or n for n, f in current.model_fields.items()}
    return set()


def _unwrap(annotation: Any, list_item: bool = False) -> Any:
    """Strip Optional, Annotated and (when indexing) list[...] to reach the model class."""
    for _ in range(5):
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is typing.Annotated:
            annotation = args[0]
        elif origin in (typing.Union, types.UnionType):
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = models[0] if models else next((a for a in args if a is not type(None)), annotation)
        elif origin is list and list_item:
            annotation, list_item = args[0], False
        else:
            break
    return annotation


def _cross_check(c: _Collected) -> list[Problem]:
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


def _check_sli_refs(slo: SLO, origin: Origin, c: _Collected) -> Iterator[Problem]:
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


def matches(patterns: list[str], value: str) -> bool:
    """True if value equals a plain pattern or fully matches a `re:` pattern."""
    return any(
        re.fullmatch(p[3:], value) is not None if p.startswith("re:") else p == value for p in patterns
    )


def group_selected(source: KafkaSource, group: str) -> bool:
    return matches(source.groups, group) and not matches(source.exclude_groups, group)


def topic_selected(source: KafkaSource, topic: str) -> bool:
    return matches(source.topics, topic) and not matches(source.exclude_topics, topic)
