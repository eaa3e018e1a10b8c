"""The per-run Evidently HTML report, for humans: `<reports>/<monitor>/<UTC time>.html`, newest `keep` kept.

The evidently engine's own snapshot is saved as it is. After the fast engine, Evidently's
`DataDriftPreset` runs on the tested columns (Evidently is imported here, on use). Beyond `max_rows` rows a
side is sampled (a fixed seed) for the report only: the verdict and the metrics come from the whole data.

Evidently's page shows its own verdict on what it was given, which can differ from the published one (a
sample; problem columns it never saw). So every report starts with a Watchkeeper banner (a `div` injected
after `<body>`, all text HTML-escaped): the published verdict per column, the run's problems with "NO
CLEAN VERDICT" when there are any, and the sampling note when the report saw a sample.
"""

from __future__ import annotations

import html
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
    problems: list[str] | None = None,
) -> Path | None:
    """Write this run's report (with the banner) and prune the monitor's older ones; None when no column
    could be tested. `problems`: the run's problems (a run with any has no clean verdict)."""
    snapshot = result.report
    sampled: tuple[int, int] | None = None
    if snapshot is None:
        columns = [c.column for c in result.columns if c.problem is None]
        if not columns:
            return None
        from drift.engine_evidently import evidently_report

        if len(reference) > max_rows or len(current) > max_rows:
            sampled = (min(len(reference), max_rows), min(len(current), max_rows))
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
    page = partial.read_text(encoding="utf-8")
    partial.write_text(inject_banner(page, banner(result, problems or [], sampled)), encoding="utf-8")
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


def banner(result: DriftResult, problems: list[str], sampled: tuple[int, int] | None) -> str:
    """The Watchkeeper header of a report: the published verdict, problems, the sampling note (escaped)."""
    e = html.escape
    if problems:
        verdict = "NO CLEAN VERDICT: the run failed (its input has problems; no retraining was triggered)"
        color = "#b00020"
    elif result.dataset_drift:
        verdict = f"DATASET DRIFT: {result.drifted} of {len(result.columns)} columns drifted"
        color = "#b00020"
    else:
        verdict = f"no dataset drift: {result.drifted} of {len(result.columns)} columns drifted"
        color = "#1b5e20"
    share = f"share {result.drift_share:.3f}, threshold {result.drift_share_threshold:g}"
    parts = [
        f'<div id="watchkeeper-verdict" style="font-family:sans-serif;border:3px solid {color};'
        'padding:12px;margin:12px;background:#fff">',
        f'<h2 style="color:{color};margin:0 0 8px 0">Watchkeeper published verdict: {e(verdict)}</h2>',
        f"<p>{e(share)}; engine {e(result.engine)}, {result.reference_rows} reference / "
        f"{result.current_rows} current rows.</p>",
    ]
    if problems:
        parts.append(
            "<p><b>Problems</b> (these columns count as drifted and are not in the report below):</p>"
        )
        parts.append("<ul>" + "".join(f"<li>{e(p)}</li>" for p in problems) + "</ul>")
    if sampled is not None:
        parts.append(
            f"<p><b>The report below was computed on a sample of {sampled[0]} reference / {sampled[1]} current "
            f"rows; the verdict comes from the full data (engine {e(result.engine)}).</b> Where they differ, "
            "this banner is right.</p>"
        )
    rows = "".join(
        f"<tr><td>{e(c.column)}</td><td>{e(c.stattest)}</td>"
        f"<td>{'—' if c.score is None else e(f'{c.score:.6g}')}</td>"
        f"<td>{'—' if c.problem else e(f'{c.threshold:g}')}</td>"
        f"<td>{e('problem: ' + c.problem) if c.problem else ('drift' if c.drift else 'ok')}</td></tr>"
        for c in result.columns
    )
    parts.append(
        '<table style="border-collapse:collapse" border="1" cellpadding="4"><tr><th>column</th><th>test</th>'
        f"<th>score</th><th>threshold</th><th>published verdict</th></tr>{rows}</table></div>"
    )
    return "".join(parts)


_BODY = re.compile(r"<body[^>]*>", re.IGNORECASE)


def inject_banner(page: str, banner_html: str) -> str:
    """`page` with `banner_html` right after its `<body>` tag (at the start when it has none)."""
    match = _BODY.search(page)
    at = match.end() if match else 0
    return page[:at] + banner_html + page[at:]
