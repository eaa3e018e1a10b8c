"""Shared pieces of the importers: the result, the error, and catalog assembly."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from catalog.model.labels import RESERVED_LABELS
from catalog.yaml_dump import dump_yaml


class SpecImportError(Exception):
    """An input that cannot be converted; the message says why and what to do."""


@dataclass
class ImportResult:
    """Catalog data built from a foreign spec, plus notes on what was changed or dropped."""

    teams: dict[str, dict[str, Any]] = field(default_factory=dict)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    slos: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add_service(self, name: str, team: str, tier: str = "medium") -> None:
        self.teams.setdefault(team, {"name": team, "owners": [f"@{team}"]})
        self.services.setdefault(name, {"name": name, "team": team, "tier": tier})

    def catalog(self) -> dict[str, Any]:
        """The catalog sections, leaving out empty ones (teams and services may all exist already)."""
        sections = {"teams": list(self.teams.values()), "services": list(self.services.values())}
        return {**{k: v for k, v in sections.items() if v}, "slos": self.slos}

    def to_yaml(self, source: str) -> str:
        header = [f"# Imported by `watchkeeper import` from {source}."]
        if self.teams:
            header.append(
                "# Review before committing: team owners are placeholders (@team); replace them with on-call "
                "contacts."
            )
        header += [f"# note: {n}" for n in self.notes]
        return "\n".join(header) + "\n" + dump_yaml(self.catalog())


def read_documents(path: Path) -> list[dict[str, Any]]:
    """All YAML documents of an input file, each a mapping."""
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise SpecImportError(f"{where}: YAML syntax error: {exc.problem}") from None
    except OSError as exc:
        raise SpecImportError(f"{path}: cannot read: {exc}") from None
    if not docs:
        raise SpecImportError(f"{path}: file holds no YAML document")
    for index, doc in enumerate(docs):
        if not isinstance(doc, dict):
            raise SpecImportError(f"{path}: document {index + 1} is not a mapping")
    return docs


def slug(text: str) -> str:
    """A catalog name from free text: lower-case, hyphens, at most 63 characters."""
    value = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")
    return value[:63].rstrip("-._") or "unnamed"


def split_labels(
    labels: dict[str, Any], result: ImportResult, where: str, mapped: dict[str, str] | None = None
) -> dict[str, str]:
    """Drop labels Watchkeeper sets itself, noting each one: as mapped (`mapped` says to what, e.g. the
    service's tier) or as dropped."""
    kept: dict[str, str] = {}
    for key, value in (labels or {}).items():
        if mapped and key in mapped:
            result.notes.append(f"{where}: label {key}={value!r} {mapped[key]}")
        elif key in RESERVED_LABELS or key == "owner":
            result.notes.append(
                f"{where}: label {key}={value!r} dropped; Watchkeeper sets it from the catalog"
            )
        else:
            kept[str(key)] = str(value)
    return kept
