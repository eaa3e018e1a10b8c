"""The per-run Evidently HTML report, for humans: `<reports>/<monitor>/<UTC time>.html`, newest `keep` kept.

The evidently engine's own snapshot is saved as it is. After the fast engine, Evidently's
`DataDriftPreset` runs on the tested columns (Evidently is imported here, on use). Beyond `max_rows` rows a
side is sampled (a fixed seed) for the report only: the verdict and the metrics come from the whole data.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from drift.result import DriftResult

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_KEEP = 20
DEFAULT_MAX_ROWS = 50_000
_STAMP = re.compile(r"^\d{8}T\d{6}(\d{6})?Z(-\d+)?\.html$")


def report_path(reports: Path, monitor: str, started: float) -> Path:
    """A new report's path; the name sorts by time (microseconds; a counter if two runs collide)."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(started)) + f"{int(started % 1 * 1e6):06d}Z"
    folder = reports / monitor
    path = folder / f"{stamp}.html"
    counter = 1
    while path.exists():
        path = folder / f"{stamp}-{counter}.html"
        counter += 1
    return path


def _sample(frame: pd.DataFrame, max_rows: int) -> pd.DataFrame:
    return frame if len(frame) <= max_rows else frame.sample(n=max_rows, random_state=0)


def write_report(
    reports: Path,
    monitor: str,
    result: DriftResult,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    started: float,
    keep: int = DEFAULT_KEEP,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> Path | None:
    """Write this run's report and prune the monitor's older ones; None when no column could be tested."""
    snapshot = result.report
    if snapshot is None:
        columns = [c.column for c in result.columns if c.problem is None]
        if not columns:
            return None
        from drift.engine_evidently import evidently_report

        snapshot = evidently_report(
            _sample(reference, max_rows),
            _sample(current, max_rows),
            columns,
            drift_share=result.drift_share_threshold,
        )
    path = report_path(reports, monitor, started)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".html.partial")
    snapshot.save_html(str(partial))
    partial.replace(path)
    prune(path.parent, keep)
    return path


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` reports in `folder` (only files named like reports); the deleted."""
    reports = sorted(p for p in folder.iterdir() if p.is_file() and _STAMP.match(p.name))
    doomed = reports[: max(0, len(reports) - keep)]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed
