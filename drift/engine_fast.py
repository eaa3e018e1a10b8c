"""The fast engine on pandas: Evidently's default tests column by column, on numpy arrays and counts.

Only one column's cleaned values (and its counts) are in memory beside the input frames at a time.
Stattests other than Evidently's defaults are delegated to Evidently's own function for that column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from drift import stattests_fast as st
from drift.errors import DriftInputError
from drift.result import ColumnDrift, ColumnKind

if TYPE_CHECKING:
    import pandas as pd

NUM_ONLY = {"ks", "wasserstein"}
CAT_ONLY = {"chisquare", "z"}


def clean(column: pd.Series) -> pd.Series:
    """Evidently's cleaning: inf and -inf become NaN, then NaN is dropped."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_float_dtype(column.dtype):
        values = column.to_numpy(dtype=float, na_value=np.nan)
        return pd.Series(values[np.isfinite(values)], copy=False)
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        return column.dropna()
    return column.replace([-np.inf, np.inf], np.nan).dropna()


def aligned_counts(reference: pd.Series, current: pd.Series) -> tuple[Any, Any, list[Any]]:
    """Counts of every value present in either sample, aligned on the same keys (NaN excluded)."""
    import pandas as pd

    ref_counts = reference.value_counts(sort=False)
    cur_counts = current.value_counts(sort=False)
    table = pd.concat([ref_counts, cur_counts], axis=1, keys=["ref", "cur"], sort=False).fillna(0)
    table = table[(table["ref"] > 0) | (table["cur"] > 0)]
    keys = list(table.index)
    return table["ref"].to_numpy(dtype=float), table["cur"].to_numpy(dtype=float), keys


def validate_stattests(kinds: Mapping[str, str], stattests: Mapping[str, str]) -> None:
    """Every chosen stattest exists and applies to its column's type, else DriftInputError (any engine)."""
    for column, name in stattests.items():
        kind = kinds.get(column)
        if kind is None:
            continue
        validate_stattest(column, kind, name)
        if name not in st.SPECS:
            from evidently.legacy.calculations.stattests.registry import get_registered_stattest

            try:
                get_registered_stattest(name, evidently_type(kind))
            except ValueError as exc:
                raise DriftInputError(f"column {column!r}: {exc}") from exc


def validate_stattest(column: str, kind: str, name: str) -> None:
    if (name in NUM_ONLY and kind != "num") or (name in CAT_ONLY and kind != "cat"):
        raise DriftInputError(
            f"stattest {name!r} for column {column!r} does not apply to a {kind} column "
            f"(ks and wasserstein are for numeric columns, chisquare and z for categorical ones)"
        )


def evidently_type(kind: str) -> Any:
    from evidently.legacy.core import ColumnType

    return {"num": ColumnType.Numerical, "cat": ColumnType.Categorical, "text": ColumnType.Text}[kind]


def delegated(
    column: str, kind: str, ref: pd.Series, cur: pd.Series, name: str | None, threshold: float | None
) -> ColumnDrift:
    """A stattest the fast engine does not reimplement: Evidently's own function on this column."""
    from evidently.legacy.calculations.stattests.registry import get_stattest

    try:
        test = get_stattest(ref, cur, evidently_type(kind), name)
    except ValueError as exc:
        raise DriftInputError(f"column {column!r}: {exc}") from exc
    try:
        result = test(ref, cur, evidently_type(kind), threshold)
    except Exception as exc:  # e.g. the text test on values with no words: not tested, counts as drifted
        return ColumnDrift(column, column_kind(kind), "none", None, 0.0, True, f"evidently: {exc}")
    return ColumnDrift(
        column,
        column_kind(kind),
        test.name,
        float(result.drift_score),
        result.actual_threshold,
        bool(result.drifted),
    )


def column_kind(kind: str) -> ColumnKind:
    return "num" if kind == "num" else "text" if kind == "text" else "cat"


def fast_column(
    column: str,
    kind: str,
    reference: pd.Series,
    current: pd.Series,
    name: str | None,
    threshold: float | None,
) -> ColumnDrift:
    """One column's test, as Evidently's `get_one_column_drift` would run it."""

    ref, cur = clean(reference), clean(current)
    if name is not None:
        validate_stattest(column, kind, name)
    if kind == "text" or (name is not None and name not in st.SPECS):
        return delegated(column, kind, ref, cur, name, threshold)
    numeric = kind == "num"
    counts = None
    if numeric:
        ref_values = ref.to_numpy(dtype=float)
        cur_values = cur.to_numpy(dtype=float)
        n_unique = joint_unique_at_least(ref_values, cur_values, 6)
    else:
        ref_values = cur_values = None
        counts = aligned_counts(ref, cur)
        n_unique = len(counts[2])
    test = name or st.default_stattest(kind, len(ref), n_unique)
    limit = st.SPECS[test].default_threshold if threshold is None else threshold
    score = run_test(test, numeric, ref, cur, ref_values, cur_values, counts)
    return ColumnDrift(column, column_kind(kind), test, score, limit, st.is_drift(test, score, limit))


def joint_unique_at_least(reference: Any, current: Any, cap: int) -> int:
    """The number of distinct values in both arrays, exact below `cap`; `cap` means "cap or more".

    Evidently only asks whether the count is <= 5 (or <= 20): a sample with `cap` distinct values settles it.
    """
    import numpy as np
    import pandas as pd

    sample = np.concatenate((reference[:2048], current[:2048]))
    if len(pd.unique(sample)) >= cap:
        return cap
    return min(len(np.union1d(pd.unique(reference), pd.unique(current))), cap)


def run_test(
    test: str, numeric: bool, ref: pd.Series, cur: pd.Series, ref_values: Any, cur_values: Any, counts: Any
) -> float:
    if test == "ks":
        return st.ks_pvalue(ref_values, cur_values)
    if test == "wasserstein":
        return st.wasserstein_norm(ref_values, cur_values)
    limit = st.JS_NUMERIC_BINNING_MIN_UNIQUE
    if (
        test == "jensenshannon"
        and numeric
        and joint_unique_at_least(ref_values, ref_values[:0], limit + 1) > limit
    ):
        return st.jensenshannon(*st.histogram_percents(ref_values, cur_values))
    ref_counts, cur_counts, keys = counts if counts is not None else aligned_counts(ref, cur)
    if test == "chisquare":
        return st.chisquare_pvalue(ref_counts, cur_counts)
    if test == "z":
        first = keys.index(sorted(keys)[0])
        return st.z_pvalue(ref_counts, cur_counts, first)
    return st.jensenshannon(ref_counts / len(ref), cur_counts / len(cur))


def fast_columns(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: Mapping[str, str],
    stattests: Mapping[str, str],
    thresholds: Mapping[str, float],
) -> list[ColumnDrift]:
    """Every testable column, one at a time."""
    return [
        fast_column(c, kind, reference[c], current[c], stattests.get(c), thresholds.get(c))
        for c, kind in kinds.items()
    ]
