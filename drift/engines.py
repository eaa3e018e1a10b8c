"""`compute_drift`: one entry point for every engine; checks columns so problems never look healthy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from drift.column_types import ColumnCheck, check_column
from drift.errors import DriftInputError
from drift.result import ColumnDrift, DriftResult, Engine

if TYPE_CHECKING:
    import pandas as pd

PROBLEM_STATTEST = "none"  # a problem column was not tested: stattest "none", score None, threshold 0


def is_spark_frame(frame: Any) -> bool:
    return type(frame).__module__.startswith("pyspark.")


def compute_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: Sequence[str],
    *,
    engine: Engine = "fast",
    drift_share: float = 0.5,
    stattests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> DriftResult:
    """Per-column drift of `current` against `reference`, and the dataset verdict.

    `columns` empty means every column of the reference. `stattests` and `thresholds` map a column to an
    Evidently stattest name ("ks", "psi", ...) and its threshold. Spark DataFrames run the fast engine in
    Spark. Raises DriftInputError for an empty window or an unusable stattest; per-column problems
    (missing, schema drift, all-NaN, untestable type) are reported on the column, which counts as drifted.
    """
    if is_spark_frame(reference) or is_spark_frame(current):
        if engine == "evidently":
            raise DriftInputError(
                "the evidently engine needs pandas DataFrames; Spark DataFrames run the fast engine"
            )
        from drift.engine_spark import compute_drift_spark

        return compute_drift_spark(
            reference, current, columns, drift_share=drift_share, stattests=stattests, thresholds=thresholds
        )
    if engine not in ("fast", "evidently"):
        raise DriftInputError(f"unknown engine {engine!r}: use fast or evidently")
    check_inputs(reference, current, drift_share)
    names = list(columns) or list(reference.columns)
    checks = [check_column(c, reference, current) for c in names]
    kinds = {c.column: c.kind for c in checks if c.problem is None}
    stattests, thresholds = dict(stattests or {}), dict(thresholds or {})
    from drift.engine_fast import validate_stattests

    validate_stattests(kinds, stattests)
    snapshot = None
    if engine == "fast":
        from drift.engine_fast import fast_columns

        tested = fast_columns(reference, current, kinds, stattests, thresholds)
    else:
        tested, snapshot = run_evidently(reference, current, kinds, drift_share, stattests, thresholds)
    return assemble(engine, checks, tested, drift_share, len(reference), len(current), snapshot)


def check_inputs(reference: Any, current: Any, drift_share: float) -> None:
    if not 0 < drift_share <= 1:
        raise DriftInputError(f"drift_share must be in (0, 1], got {drift_share}")
    for label, frame in (("reference", reference), ("current", current)):
        if not hasattr(frame, "columns"):
            raise DriftInputError(f"the {label} data must be a DataFrame, got {type(frame).__name__}")
        if len(frame) == 0:
            raise DriftInputError(f"the {label} window is empty (0 rows): no drift verdict is possible")


def problem_column(check: ColumnCheck) -> ColumnDrift:
    from drift.engine_fast import column_kind

    return ColumnDrift(
        check.column, column_kind(check.kind), PROBLEM_STATTEST, None, 0.0, True, check.problem
    )


def assemble(
    engine: Engine,
    checks: list[ColumnCheck],
    tested: list[ColumnDrift],
    drift_share: float,
    reference_rows: int,
    current_rows: int,
    snapshot: Any = None,
) -> DriftResult:
    """Columns in the requested order; problem columns count as drifted and are listed in `problems`."""
    by_name = {c.column: c for c in tested}
    out = [by_name.get(c.column) or problem_column(c) for c in checks]
    return DriftResult(
        engine=engine,
        columns=out,
        drift_share_threshold=drift_share,
        reference_rows=reference_rows,
        current_rows=current_rows,
        problems=[c.problem for c in out if c.problem],
        report=snapshot,
    )


def run_evidently(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: Mapping[str, str],
    drift_share: float,
    stattests: Mapping[str, str],
    thresholds: Mapping[str, float],
) -> tuple[list[ColumnDrift], Any]:
    """All testable columns in one preset; if Evidently fails, column by column so one bad column is named."""
    from drift.engine_evidently import evidently_columns
    from drift.engine_fast import column_kind

    col_kinds = {c: column_kind(k) for c, k in kinds.items()}
    try:
        return evidently_columns(
            reference,
            current,
            list(kinds),
            col_kinds,
            drift_share=drift_share,
            stattests=stattests,
            thresholds=thresholds,
        )
    except Exception:  # Evidently raises bare ValueErrors: find the column that caused it
        out: list[ColumnDrift] = []
        for column in kinds:
            try:
                out += evidently_columns(
                    reference,
                    current,
                    [column],
                    col_kinds,
                    drift_share=drift_share,
                    stattests=stattests,
                    thresholds=thresholds,
                )[0]
            except Exception as exc:
                if column in stattests:
                    raise DriftInputError(
                        f"column {column!r}, stattest {stattests[column]!r}: {exc}"
                    ) from exc
                out.append(
                    ColumnDrift(
                        column, col_kinds[column], PROBLEM_STATTEST, None, 0.0, True, f"evidently: {exc}"
                    )
                )
        return out, None
