"""Grafana's own dashboard types as a JSON schema, generated from the npm package `@grafana/schema` (brief
section 8): `ts-json-schema-generator` turns its TypeScript `Dashboard` type into JSON schema. The packages
are pinned in tests/grafana_schema/package-lock.json and installed by scripts/bootstrap.sh."""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

PACKAGE_DIR = Path(__file__).resolve().parent / "grafana_schema"
TYPES = PACKAGE_DIR / "node_modules/@grafana/schema/dist/types/raw/dashboard/x/types.gen.d.ts"
GENERATOR = PACKAGE_DIR / "node_modules/.bin/ts-json-schema-generator"
SCHEMA = PACKAGE_DIR / "node_modules/.dashboard.schema.json"


def _missing(message: str) -> None:
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@cache
def dashboard_schema() -> dict[str, Any]:
    """The `Dashboard` schema (generated once, then read from node_modules)."""
    if shutil.which("node") is None:
        _missing("node is not installed (Debian's nodejs package)")
    if not TYPES.exists() or not GENERATOR.exists():
        _missing(
            "@grafana/schema is not installed: run scripts/bootstrap.sh (npm ci in tests/grafana_schema)"
        )
    if not SCHEMA.exists():
        partial = SCHEMA.with_suffix(".partial")
        command = [
            str(GENERATOR),
            "--path",
            str(TYPES),
            "--type",
            "Dashboard",
            "--no-type-check",
            "-o",
            str(partial),
        ]
        subprocess.run(command, check=True, cwd=PACKAGE_DIR, capture_output=True, timeout=300)
        partial.replace(SCHEMA)
    schema: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return schema


def strip_nulls(value: Any) -> Any:
    """The generated schema is stricter than Grafana about `null` (brief section 8): drop them first."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value
