"""Shared test helpers: fixture paths and an in-process CLI runner."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
EXAMPLE_CATALOG = ROOT / "examples" / "catalog"
IN_CI = os.environ.get("CI", "").lower() == "true"


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(*args: str) -> CliResult:
    """Run `watchkeeper ARGS` in-process with a wide terminal so messages are not wrapped."""
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "400", "NO_COLOR": "1"})
    return CliResult(result.exit_code, result.stdout, result.stderr)


def require_binary(name: str) -> str:
    """The path of a real tool; skip without it locally, but fail under CI where scripts install it."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (scripts/bootstrap.sh installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def write_catalog(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write {filename: yaml text} into a catalog directory and return its path."""

    def write(files: dict[str, str]) -> Path:
        root = tmp_path / "catalog"
        root.mkdir(exist_ok=True)
        for name, text in files.items():
            (root / name).write_text(text, encoding="utf-8")
        return root

    return write
