"""Load a catalog file or directory: read each file, validate every entry on its own (its errors explained
by catalog/explain.py), cross-check them all (catalog/cross_check.py), and merge them into one model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from catalog.collected import Collected, Origin
from catalog.cross_check import cross_check
from catalog.errors import MAX_DETAILED, CatalogError, Problem, did_you_mean
from catalog.explain import explain
from catalog.files import display_path, find_files
from catalog.gc_pause import gc_paused
from catalog.hints import surrogate_problems
from catalog.model import TOP_LEVEL_KEYS, Catalog
from catalog.model.drift import DriftMonitor
from catalog.model.freshness import FreshnessSource
from catalog.model.hdfs import HdfsSource
from catalog.model.inference import InferenceSource
from catalog.model.kafka import KafkaSource
from catalog.model.services import Service
from catalog.model.slos import SLO
from catalog.model.sources import SOURCE_KINDS, Sources
from catalog.model.spark import SparkSource
from catalog.model.teams import Team
from catalog.model.yarn import YarnSource
from catalog.yaml_source import PathKey, YamlDocument, read_yaml

ENTRY_MODELS: dict[str, type[BaseModel]] = {
    "teams": Team,
    "services": Service,
    "slos": SLO,
    "drift": DriftMonitor,
}
SOURCE_MODELS: dict[str, type[BaseModel]] = {
    "hdfs": HdfsSource,
    "yarn": YarnSource,
    "spark": SparkSource,
    "kafka": KafkaSource,
    "freshness": FreshnessSource,
    "inference": InferenceSource,
}


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
    collected = Collected()
    with gc_paused():
        for path in files:
            doc, read_problems = read_yaml(path, _display(path))
            problems.extend(read_problems)
            if doc is not None:
                _collect_document(doc, collected, problems)
    problems.extend(cross_check(collected))
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


def _collect_document(doc: YamlDocument, out: Collected, problems: list[Problem]) -> None:
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


def _collect_sources(doc: YamlDocument, value: Any, out: Collected, problems: list[Problem]) -> None:
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
    out: Collected,
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
            problems.extend(explain(exc, model, origin, detailed=MAX_DETAILED - len(problems)))
            continue
        out.add(section, entry, origin)
