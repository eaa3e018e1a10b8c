"""Fit an import into an existing catalog: keep out what it already defines, and validate them together."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from catalog.errors import CatalogError, Problem, did_you_mean
from catalog.importers.common import ImportResult, SpecImportError, slug
from catalog.loader import catalog_files, load_catalog
from catalog.model import Catalog

IMPORTED_NAME = "imported.yaml"


def join_existing(result: ImportResult, existing: Catalog, team: str | None = None) -> None:
    """Drop the teams and services the catalog already defines; the imported SLOs join those.

    `team` (the `--team` option) must name a team of the catalog: a misspelt one would otherwise become a
    new team with placeholder owners, silently. SpecImportError says which team was meant."""
    services = {s.name: s for s in existing.services}
    teams = {t.name for t in existing.teams}
    if team is not None and slug(team) not in teams:
        hint = did_you_mean(slug(team), teams)
        raise SpecImportError(
            f"--team {team!r} is not a team of the catalog{hint or ''}"
            + ("" if hint else f" (its teams: {', '.join(sorted(teams)) or 'none'})")
            + "; to add a new team, define it in the catalog with its owners first, then import"
        )
    for name in list(result.services):
        if name in services:
            result.notes.append(
                f"service {name!r} is already defined in the catalog (team {services[name].team}); "
                "its imported SLOs join it"
            )
            del result.services[name]
    needed = {str(s["team"]) for s in result.services.values()}
    for name in list(result.teams):
        if name in teams and name in needed:
            result.notes.append(f"team {name!r} is already defined in the catalog; it is not written again")
        if name in teams or name not in needed:
            del result.teams[name]
        else:  # from the spec's owner label: new to the catalog, so say so, with the closest existing team
            result.notes.append(
                f"team {name!r} (from the spec) is not in the catalog{did_you_mean(name, teams)}; it is written "
                "as a new team with placeholder owners: pass --team to join an existing team"
            )


def looks_like_catalog(directory: Path, out: Path) -> bool:
    """True if `directory` holds YAML files besides `out` (so writing `out` there adds to a catalog)."""
    if not directory.is_dir():
        return False
    target = out.resolve()
    return any(p.resolve() != target for p in catalog_files(directory))


def load_existing(catalog: Path, out: Path | None) -> Catalog:
    """The catalog the import joins, without `out` (the file the import replaces); CatalogError if invalid."""
    with _staged(catalog, out, None) as (root, _):
        try:
            return load_catalog(root).catalog
        except CatalogError as exc:
            problems = [*exc.problems, *exc.warnings]
            raise CatalogError([_relocate(p, root, catalog, None, "") for p in problems]) from None


def validate_import(text: str, catalog: Path | None, out: Path | None) -> list[Problem]:
    """Every problem of the imported YAML loaded together with `catalog` (minus `out`, which it replaces).

    Problems in the imported text are reported against `imported_name(out)`, the others against the
    catalog's own files.
    """
    with _staged(catalog, out, text) as (root, imported):
        try:
            load_catalog(root)
        except CatalogError as exc:
            return [_relocate(p, root, catalog, imported, imported_name(out)) for p in exc.problems]
    return []


def imported_name(out: Path | None) -> str:
    """How problems in the imported YAML name their file."""
    return str(out) if out is not None else IMPORTED_NAME


@contextmanager
def _staged(catalog: Path | None, out: Path | None, text: str | None) -> Iterator[tuple[Path, Path | None]]:
    """A temporary copy of the catalog's files without `out`, plus the imported text when given."""
    replaced = out.resolve() if out is not None else None
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "catalog"
        root.mkdir()
        if catalog is not None:
            base = catalog if catalog.is_dir() else catalog.parent
            for path in catalog_files(catalog):
                if path.resolve() != replaced:
                    copy = root / path.relative_to(base)
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, copy)
        imported = None
        if text is not None:
            # Loaded last (files load in sorted order, "~" after letters), so a clash is reported
            # against the imported entry, "first defined" in the catalog's own file.
            imported = root / "~import" / (out.name if out is not None else IMPORTED_NAME)
            imported.parent.mkdir()
            imported.write_text(text, encoding="utf-8")
        yield root, imported


def _relocate(
    problem: Problem, tmp_root: Path, catalog: Path | None, tmp_import: Path | None, shown: str
) -> Problem:
    """The problem with temporary paths replaced by the ones the user knows."""
    swaps = [(form, shown) for form in _forms(tmp_import)] if tmp_import is not None else []
    if catalog is not None:
        real = str(catalog if catalog.is_dir() else catalog.parent)
        swaps += [(form, real) for form in _forms(tmp_root)]
    swaps.sort(key=lambda pair: -len(pair[0]))  # longest first: a relative form is inside the absolute one

    def fix(text: str) -> str:
        for old, new in swaps:
            text = text.replace(old, new)
        return text

    return dataclasses.replace(problem, file=fix(problem.file), message=fix(problem.message))


def _forms(path: Path) -> list[str]:
    """The ways the loader may display `path`: absolute, resolved, or relative to the working directory."""
    resolved = path.resolve()
    forms = {str(path), str(resolved)}
    with suppress(ValueError):
        forms.add(str(resolved.relative_to(Path.cwd())))
    return list(forms)
