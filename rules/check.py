"""Check generated rules with the real `promtool check rules` before anything is written.

Each file is rendered once; the text is checked, then returned for writing. promtool starts on a
batch of files as soon as they are rendered, with up to one process per CPU, so checking overlaps
rendering and uses every core (it is most of the time `generate rules` takes on a large catalog).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from catalog.gc_pause import gc_paused
from rules.groups import RuleGroup
from rules.render import rule_file

# promtool is a short-lived Go process that parses every rule: a less eager garbage collector saves a
# fifth of its CPU for a few tens of MB of memory (benchmarks/rules_bench.py).
PROMTOOL_ENV = {"GOGC": "400"}
MIN_BATCH_BYTES = 256 * 1024
"""Files are checked in about 2 batches per CPU, each at least this much YAML: enough batches to start
checking while rendering goes on and keep every CPU busy, few enough that promtool's start-up (a
large static binary) does not add up."""


class RuleCheckError(Exception):
    """promtool rejected a generated rule; the message carries promtool's explanation."""


def promtool_path() -> str | None:
    return shutil.which("promtool")


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **PROMTOOL_ENV}
    return subprocess.run(command, capture_output=True, text=True, check=False, env=env)  # noqa: S603


def check_rules(files: dict[str, list[RuleGroup]]) -> dict[str, str]:
    """Render and check every rule file; return {filename: text}. Raise RuleCheckError with promtool's
    messages if any generated rule is invalid."""
    promtool = promtool_path()
    if promtool is None:
        raise RuleCheckError("promtool is not installed; run scripts/bootstrap.sh (or pass --no-check)")
    texts: dict[str, str] = {}
    workers = os.cpu_count() or 1
    total_rules = sum(len(g.rules) for groups in files.values() for g in groups)
    target = 0.0  # bytes per batch: about a (2 x CPUs)th of the whole, estimated from the first file
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=workers) as pool:
        runs: list[Future[subprocess.CompletedProcess[str]]] = []
        batch: list[str] = []
        size = 0
        for index, (name, groups) in enumerate(files.items()):
            path = Path(tmp) / name
            with gc_paused():
                texts[name] = rule_file(groups)
            path.write_text(texts[name], encoding="utf-8")
            if not target:
                per_rule = len(texts[name]) / max(1, sum(len(g.rules) for g in groups))
                target = max(MIN_BATCH_BYTES, per_rule * total_rules / (2 * workers))
            batch.append(str(path))
            size += len(texts[name])
            if size >= target or index == len(files) - 1:
                # our own binary path and temp files
                runs.append(pool.submit(_run, [promtool, "check", "rules", *batch]))
                batch, size = [], 0
        results = [run.result() for run in runs]
    failed = [r for r in results if r.returncode != 0]
    if failed:
        lines = [
            ln.replace(tmp + "/", "")
            for r in failed
            for ln in (r.stderr + r.stdout).splitlines()
            if ln.strip()
        ]
        problems = [
            ln.strip() for ln in lines if "FAILED" not in ln and "Checking" not in ln and "SUCCESS" not in ln
        ]
        raise RuleCheckError("promtool rejected the generated rules:\n  " + "\n  ".join(problems))
    return texts
