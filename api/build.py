"""Generate every artifact of a catalog into one output directory (the main job)."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from catalog.model import Catalog


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def build_all(catalog: Catalog, out: Path, console: Console) -> list[Path]:
    """Write the resolved catalog, its JSON schema and every generated artifact; return the paths."""
    written = [
        write_text(out / "catalog.json", catalog.model_dump_json(indent=2, by_alias=True) + "\n"),
        write_text(
            out / "catalog.schema.json", json.dumps(Catalog.model_json_schema(by_alias=True), indent=2) + "\n"
        ),
    ]
    for path in written:
        console.print(f"  wrote {path}")
    return written
