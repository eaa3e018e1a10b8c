"""Loading a drift monitor's reference and current data: Parquet or CSV files (pyarrow) or a SQL query
(SQLAlchemy), only the monitor's columns.

A relative path is read from the catalog's directory. A requested column that the data lacks is not an
exception here: it is listed in `Loaded.missing` and the engine reports it per column (counted as
drifted). What makes loading impossible raises `DataError` naming the file or query and the fix: a
missing file, an unreadable format, a failed query. pyarrow, pandas and SQLAlchemy are imported on use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.model.drift import DataRef
from drift.errors import DriftInputError

if TYPE_CHECKING:
    import pandas as pd

SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


class DataError(DriftInputError):
    """The data could not be read at all; the message names the file or query and what to do."""


@dataclass
class Loaded:
    """One side of a run: the data, where it came from, and requested columns it lacks."""

    frame: pd.DataFrame
    source: str
    missing: list[str] = field(default_factory=list)
    available: list[str] = field(default_factory=list)

    def missing_message(self, side: str) -> str | None:
        if not self.missing:
            return None
        shown = ", ".join(repr(c) for c in self.available[:20]) + (" ..." if len(self.available) > 20 else "")
        return (
            f"the {side} data {self.source} has no column {', '.join(repr(c) for c in self.missing)} "
            f"(it has: {shown or 'no columns'}); fix the monitor's columns or the data"
        )


def resolve_path(path: str, base: Path) -> Path:
    """A catalog path: absolute, or relative to the catalog's directory."""
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else base / candidate


def load(ref: DataRef, columns: list[str], base: Path, where: str) -> Loaded:
    """Read `ref` (`columns` only; all when empty). Raises DataError when nothing can be read."""
    if ref.path is not None:
        return load_file(resolve_path(ref.path, base), columns, where)
    assert ref.sql is not None
    return load_sql(ref, columns, where)


def _format(path: Path, where: str) -> str:
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DataError(
            f"{where}: {path} is neither Parquet nor CSV: name it *.parquet, *.pq or *.csv "
            "(or point the monitor at a SQL query)"
        )
    return kind


def load_file(path: Path, columns: list[str], where: str) -> Loaded:
    """A Parquet or CSV file (or a directory of Parquet files), reading only the wanted columns."""
    kind = "parquet" if path.is_dir() else _format(path, where)
    if not path.exists():
        raise DataError(f"{where}: the file {path} does not exist: check the monitor's path")
    import pyarrow as pa  # type: ignore[import-untyped]

    try:
        if kind == "parquet":
            import pyarrow.dataset as ds  # type: ignore[import-untyped]

            dataset = ds.dataset(str(path), format="parquet")
            available = list(dataset.schema.names)
            wanted = [c for c in columns if c in available] if columns else available
            table = dataset.to_table(columns=wanted)
        else:
            from pyarrow import csv

            names = _csv_header(path, where)
            available = names
            wanted = [c for c in columns if c in available] if columns else available
            table = csv.read_csv(str(path), convert_options=csv.ConvertOptions(include_columns=wanted))
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise DataError(f"{where}: cannot read {path} as {kind}: {_first_line(exc)}") from None
    missing = [c for c in columns if c not in available]
    return Loaded(table.to_pandas(), str(path), missing, available)


def _csv_header(path: Path, where: str) -> list[str]:
    import csv as std_csv

    try:
        # utf-8-sig: a leading byte-order mark (Excel's CSV) is not part of the first column's name
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(std_csv.reader(handle), None)
    except UnicodeDecodeError:
        raise DataError(f"{where}: {path} is not UTF-8 text: save the CSV as UTF-8") from None
    except OSError as exc:
        raise DataError(f"{where}: cannot read {path}: {exc.strerror}") from None
    if not header:
        raise DataError(f"{where}: {path} is empty: a CSV needs a header line of column names")
    return header


def load_sql(ref: DataRef, columns: list[str], where: str) -> Loaded:
    """The rows of the monitor's query (read-only), keeping the wanted columns."""
    assert ref.sql is not None
    import pandas as pd
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    from exporters.errors import ConfigError
    from exporters.freshness_sql import postgres_driver, resolve_url

    try:
        url_text = postgres_driver(resolve_url(ref.sql, where))
    except ConfigError as exc:
        raise DataError(str(exc)) from None
    try:
        url = make_url(url_text)
        engine = create_engine(url)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise DataError(f"{where}: the database URL cannot be used: {_first_line(exc)}") from None
    shown = url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            frame = pd.read_sql_query(text(ref.sql.query), connection)
    except (SQLAlchemyError, pd.errors.DatabaseError) as exc:
        inner = exc.__cause__ if isinstance(exc.__cause__, SQLAlchemyError) else exc
        cause = getattr(inner, "orig", None) or inner
        raise DataError(f"{where}: the query on {shown} failed: {_first_line(cause)}") from None
    finally:
        engine.dispose()
    available = [str(c) for c in frame.columns]
    wanted = [c for c in columns if c in available] if columns else available
    missing = [c for c in columns if c not in available]
    return Loaded(frame[wanted], f"query on {shown}", missing, available)


def _first_line(exc: object) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
