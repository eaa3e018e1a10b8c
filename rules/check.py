"""Check generated rules with the real `promtool check rules` before anything is written."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from rules.groups import RuleGroup
from rules.render import rule_file


class RuleCheckError(Exception):
    """promtool rejected a generated rule; the message carries promtool's explanation."""


def promtool_path() -> str | None:
    return shutil.which("promtool")


def check_rules(files: dict[str, list[RuleGroup]]) -> None:
    """Raise RuleCheckError with promtool's messages if any generated rule is invalid."""
    promtool = promtool_path()
    if promtool is None:
        raise RuleCheckError("promtool is not installed; run scripts/bootstrap.sh (or pass --no-check)")
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, groups in files.items():
            path = Path(tmp) / name
            path.write_text(rule_file(groups), encoding="utf-8")
            paths.append(str(path))
        command = [promtool, "check", "rules", *paths]  # our own binary path and temp files
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        lines = [
            ln.replace(tmp + "/", "") for ln in (result.stderr + result.stdout).splitlines() if ln.strip()
        ]
        problems = [
            ln.strip() for ln in lines if "FAILED" not in ln and "Checking" not in ln and "SUCCESS" not in ln
        ]
        raise RuleCheckError("promtool rejected the generated rules:\n  " + "\n  ".join(problems))
