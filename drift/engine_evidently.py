"""The reference engine: Evidently 0.7's `DataDriftPreset`, imported lazily."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from drift.result import ColumnDrift, ColumnKind

if TYPE_CHECKING:
    import pandas as pd


def stattest_name(method: str) -> str:
    """Evidently reports an auto-chosen method by display name ("K-S p_value"): map it to the registry name."""
    from evidently.legacy.calculations.stattests.registry import _registered_stat_tests

    for name, by_type in _registered_stat_tests.items():
        if method == name or any(t.display_name == method for t in by_type.values()):
            return str(name)
    return method


def evidently_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: Sequence[str],
    *,
    drift_share: float = 0.5,
    stattests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> Any:
    """Run `DataDriftPreset` on `columns` (which must be testable) and return Evidently's snapshot.

    The snapshot has `save_html(path)` for the per-run HTML report.
    """
    from evidently import Report
    from evidently.presets import DataDriftPreset

    cols = list(columns)
    preset = DataDriftPreset(
        columns=cols,
        drift_share=drift_share,
        per_column_method={c: m for c, m in (stattests or {}).items() if c in cols} or None,
        per_column_threshold={c: t for c, t in (thresholds or {}).items() if c in cols} or None,
    )
    import warnings

    with warnings.catch_warnings():  # numpy's "invalid value" on +-inf input, which Evidently then drops
        warnings.simplefilter("ignore", RuntimeWarning)
        return Report([preset], include_tests=True).run(current[cols], reference[cols])


def columns_from_snapshot(snapshot: Any, kinds: Mapping[str, ColumnKind]) -> list[ColumnDrift]:
    """Per-column verdicts read from the snapshot: drift is the test status (FAIL), not the raw score."""
    data = snapshot.dict()
    status = {t["metric_config"]["metric_id"]: t["status"] for t in data["tests"] if t["id"] == "drift"}
    out: list[ColumnDrift] = []
    for metric in data["metrics"]:
        config = metric["config"]
        if not config["type"].endswith("ValueDrift"):
            continue
        column = config["column"]
        out.append(
            ColumnDrift(
                column=column,
                kind=kinds[column],
                stattest=stattest_name(config["method"]),
                score=float(metric["value"]),
                threshold=float(config["threshold"]),
                drift=status[metric["id"]] == "FAIL",
            )
        )
    return out


def evidently_columns(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: Sequence[str],
    kinds: Mapping[str, ColumnKind],
    *,
    drift_share: float,
    stattests: Mapping[str, str] | None,
    thresholds: Mapping[str, float] | None,
) -> tuple[list[ColumnDrift], Any]:
    """Evidently's verdicts for the testable `columns`, and the snapshot (for the HTML report)."""
    if not columns:
        return [], None
    snapshot = evidently_report(
        reference, current, columns, drift_share=drift_share, stattests=stattests, thresholds=thresholds
    )
    return columns_from_snapshot(snapshot, kinds), snapshot
