"""Column checks and Evidently 0.7's column-type rules, shared by every engine.

`infer_kind` mirrors `evidently.core.datasets.infer_column_type` (the type comes from the *current*
column, as in `ValueDriftCalculation`); `check_column` turns missing columns, schema drift and all-NaN
columns into a problem string instead of an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

EvidentlyType = Literal["num", "cat", "text", "datetime", "list", "unknown"]
INTEGER_CARDINALITY_LIMIT = 10  # evidently.core.datasets.INTEGER_CARDINALITY_LIMIT


def infer_kind(column: pd.Series) -> EvidentlyType:
    """Evidently's `infer_column_type` on one column (NaN excluded from nunique, as pandas does)."""
    name = column.dtype.name
    if name.startswith("float"):
        return "num"
    if name.startswith("int") or name.startswith("uint"):
        # evidently checks name.startswith("int"); uint columns fall through to Unknown there
        if name.startswith("uint"):
            return "unknown"
        return "cat" if column.nunique() <= INTEGER_CARDINALITY_LIMIT else "num"
    if name in ("string", "str"):
        return "text" if column.nunique() > column.count() * 0.5 else "cat"
    if name == "object":
        without_na = column.dropna()
        if without_na.count() == 0:
            return "unknown"
        first, last = without_na.iloc[0], without_na.iloc[-1]
        if isinstance(first, str) and isinstance(last, str):
            return "text" if column.nunique() > column.count() * 0.5 else "cat"
        if isinstance(first, (list, tuple)) and isinstance(last, (list, tuple)):
            return "list"
        return "unknown"
    if name in ("bool", "category"):
        return "cat"
    if name.startswith("datetime"):
        return "datetime"
    return "unknown"


def storage_kind(column: pd.Series) -> str:
    """The broad kind of a column's storage, for schema-drift checks (int and float are both numeric)."""
    import pandas as pd

    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        dtype = dtype.categories.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_string_dtype(dtype) or dtype.kind == "O":
        # an object column holding numbers only is numeric data read without a schema
        sample = column.dropna()
        if len(sample) and not any(isinstance(v, str) for v in sample.iloc[:1000]):
            return "numeric" if all(isinstance(v, (int, float)) for v in sample.iloc[:1000]) else "object"
        return "string"
    return str(dtype.name)


@dataclass(frozen=True)
class ColumnCheck:
    """The outcome of checking one column before testing it."""

    column: str
    problem: str | None
    kind: EvidentlyType = "unknown"


def missing_problem(name: str, in_reference: bool, in_current: bool) -> str | None:
    if not in_reference and not in_current:
        return f"column {name!r} is missing from both reference and current data"
    if not in_reference:
        return f"column {name!r} is missing from the reference data"
    if not in_current:
        return f"column {name!r} is missing from the current data"
    return None


def schema_problem(name: str, reference: pd.Series, current: pd.Series) -> str | None:
    ref_kind, cur_kind = storage_kind(reference), storage_kind(current)
    if ref_kind != cur_kind and reference.notna().any() and current.notna().any():
        return (
            f"schema drift: column {name!r} is {ref_kind} ({reference.dtype}) in the reference "
            f"but {cur_kind} ({current.dtype}) in the current data"
        )
    return None


def check_column(name: str, reference: pd.DataFrame, current: pd.DataFrame) -> ColumnCheck:
    """Missing column, schema drift, unsupported type, all-NaN: a problem string; else the Evidently type."""
    problem = missing_problem(name, name in reference.columns, name in current.columns)
    if problem:
        return ColumnCheck(name, problem)
    ref, cur = reference[name], current[name]
    problem = schema_problem(name, ref, cur)
    if problem:
        return ColumnCheck(name, problem)
    ref_valid, cur_valid = valid_count(ref), valid_count(cur)
    if ref_valid == 0:
        return ColumnCheck(name, f"column {name!r} has no values (all NaN/inf) in the reference data")
    if cur_valid == 0:
        return ColumnCheck(name, f"column {name!r} has no values (all NaN/inf) in the current data")
    kind = infer_kind(cur)
    if kind in ("datetime", "list", "unknown"):
        return ColumnCheck(name, f"column {name!r} has type {kind} ({cur.dtype}): drift is not tested", kind)
    return ColumnCheck(name, None, kind)


def valid_count(column: pd.Series) -> int:
    """Values left after Evidently's cleaning: inf and -inf become NaN, NaN is dropped."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_float_dtype(column.dtype) and not isinstance(column.dtype, pd.CategoricalDtype):
        values = column.to_numpy(dtype=float, na_value=np.nan)
        return int(np.isfinite(values).sum())
    return int(column.replace([-np.inf, np.inf], np.nan).notna().sum())
