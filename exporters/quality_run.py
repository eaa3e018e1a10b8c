"""Run a Great Expectations 1.x suite on a file or a SQL query, as a batch job (`watchkeeper quality run`).

great_expectations and pandas are imported here, inside the functions, and nowhere else: the exporter
and the rest of the CLI never pay for them. The result is GX's own validation-result JSON, which
`exporters.great_expectations` turns into metrics, exactly as it does for a checkpoint's stored results.
"""

from __future__ import annotations

import json
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from exporters.freshness_sql import postgres_driver

DATA_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "json", ".jsonl": "jsonl"}


class QualityError(Exception):
    """The suite, the data or the database cannot be used; the message says which and how to fix it."""


class SuiteError(QualityError):
    """The suite itself is wrong (not JSON, empty, an unknown expectation type): a usage error, found before
    anything runs."""


def load_suite(path: Path) -> dict[str, Any]:
    """A GX 1.x expectation suite as JSON (`{"name": ..., "expectations": [{"type": ..., "kwargs": ...}]}`),
    as GX writes it to `gx/expectations/<suite>.json`."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SuiteError(f"cannot read the suite {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise SuiteError(f"{path} is not JSON (truncated?): {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str) or not doc["name"]:
        raise SuiteError(f"{path}: a suite needs a name (GX 1.x suite JSON: name and expectations)")
    expectations = doc.get("expectations")
    if not isinstance(expectations, list):
        raise SuiteError(f"{path}: the suite {doc['name']!r} has no expectations list")
    if not expectations:
        raise SuiteError(f"{path}: the suite {doc['name']!r} is empty: its expectations list has none")
    for index, item in enumerate(expectations):
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise SuiteError(
                f"{path}: expectations[{index}] needs a type, e.g. expect_column_values_to_not_be_null"
            )
    return doc


def _import_gx() -> Any:
    """great_expectations, without the FutureWarning pyspark prints when GX imports it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark(\..*)?")
        warnings.filterwarnings(
            "ignore", message=r"PySpark does not yet fully support", category=FutureWarning
        )
        import great_expectations as gx
    return gx


def check_expectations(suite: dict[str, Any]) -> None:
    """Build each expectation with GX before anything runs: an unknown type or bad kwargs is a SuiteError
    naming the expectation (GX itself only logs them and validates what is left: a typo would pass)."""
    _import_gx()
    from great_expectations.exceptions.exceptions import ExpectationNotFoundError
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    for index, item in enumerate(suite["expectations"]):
        kind = item.get("type")
        where = f"the suite {suite['name']!r}: expectations[{index}] ({kind})"
        try:
            ExpectationConfiguration(**item).to_domain_obj()
        except ExpectationNotFoundError:
            raise SuiteError(
                f"{where}: great_expectations has no expectation type {kind!r}; see "
                "https://greatexpectations.io/expectations for the names"
            ) from None
        except Exception as exc:  # GX's own checks of the kwargs (pydantic, InvalidExpectationConfiguration)
            raise SuiteError(f"{where} is not valid: {_gx_message(exc)}") from None


def _quiet_gx_log() -> None:
    """GX logs each failed metric with its traceback; `quality run` prints one line per unmet expectation
    instead (`failures`), and the stored result keeps GX's full exception_info."""
    import logging

    gx_log = logging.getLogger("great_expectations")
    if not any(isinstance(h, logging.NullHandler) for h in gx_log.handlers):
        gx_log.addHandler(logging.NullHandler())
    gx_log.propagate = False


def _gx_message(exc: BaseException) -> str:
    """GX's or pydantic's message, shortened: a pydantic ValidationError's errors, not its header."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            found = errors()
        except Exception:  # not a pydantic error after all
            found = None
        if isinstance(found, list) and found:
            return "; ".join(
                f"{'.'.join(str(p) for p in e.get('loc', ()) if p != '__root__') or 'value'}: {e.get('msg')}"
                for e in found[:3]
                if isinstance(e, dict)
            )
    return str(getattr(exc, "message", None) or _first_line(exc))


def _frame(path: Path) -> Any:
    import pandas as pd

    kind = DATA_FORMATS.get(path.suffix.lower())
    if kind is None:
        raise QualityError(
            f"{path}: cannot read {path.suffix or 'a file without a suffix'}; use .csv, .parquet or .json"
        )
    try:
        if kind == "csv":
            return pd.read_csv(path)
        if kind == "parquet":
            return pd.read_parquet(path)
        return pd.read_json(path, lines=kind == "jsonl")
    except FileNotFoundError:
        raise QualityError(f"{path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise QualityError(f"cannot read {path}: {exc}") from None


def run_suite(
    suite: dict[str, Any], *, data: Path | None = None, sql: str | None = None, url: str | None = None
) -> dict[str, Any]:
    """Validate the suite on a file (`data`) or on a query's rows (`sql` on `url`) with the real library;
    return the validation result as GX's JSON, its run time in `meta.validation_time`."""
    if (data is None) == (sql is None):
        raise QualityError("give exactly one of a data file or a SQL query")
    gx = _import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    check_expectations(suite)
    _quiet_gx_log()
    started = datetime.now(UTC)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    fields = {k: v for k, v in suite.items() if k in ("name", "expectations", "meta", "notes")}
    try:
        expectation_suite = context.suites.add(gx.ExpectationSuite(**fields))
    except Exception as exc:  # GX's own validation of the suite: its message names the bad expectation
        raise SuiteError(
            f"the suite {suite['name']!r} is not valid for great_expectations: {_gx_message(exc)}"
        ) from None
    if len(expectation_suite.expectations) != len(suite["expectations"]):  # never validate part of it
        raise SuiteError(f"great_expectations refused some expectations of the suite {suite['name']!r}")
    batch: Any
    if data is not None:
        frame = _frame(data)
        pandas_asset = context.data_sources.add_pandas("watchkeeper").add_dataframe_asset(data.stem or "data")
        definition = pandas_asset.add_batch_definition_whole_dataframe("all")
        batch = definition.get_batch(batch_parameters={"dataframe": frame})
    else:
        if not url:
            raise QualityError(
                "--sql needs a database URL: --url-env, --url-file, or the dataset's sql block"
            )
        try:
            with (
                warnings.catch_warnings()
            ):  # GX suggests its SQLite/PostgreSQL classes: the generic one works
                warnings.filterwarnings("ignore", message=r"You are using a generic SQLDatasource")
                source = context.data_sources.add_sql("watchkeeper", connection_string=postgres_driver(url))
        except Exception as exc:  # a URL GX cannot use: never echoed (it may hold a password)
            raise QualityError(f"cannot use the database URL: {type(exc).__name__}") from None
        try:
            query_asset = source.add_query_asset("query", query=sql or "")
        except Exception as exc:  # GX checks the query before running it (pydantic): e.g. not a SELECT
            raise SuiteError(f"--sql is not a query great_expectations accepts: {_gx_message(exc)}") from None
        try:
            batch = query_asset.add_batch_definition_whole_table("all").get_batch()
        except Exception as exc:  # connection, credentials, SQL errors: GX wraps the driver's message
            raise QualityError(f"cannot run the query: {_first_line(exc)}") from None
    result = batch.validate(expectation_suite)
    doc: dict[str, Any] = result.to_json_dict()
    doc.setdefault("meta", {})["validation_time"] = started.isoformat()
    doc["meta"]["watchkeeper_seconds"] = round(time.time() - started.timestamp(), 3)
    return doc


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else type(exc).__name__


def failures(doc: dict[str, Any], limit: int = 10) -> list[str]:
    """One line per unmet expectation of a validation result: its type, column and why (an exception, such
    as a missing column, or how many values were unexpected)."""
    lines: list[str] = []
    results: Any = doc.get("results")
    for item in results if isinstance(results, list) else []:
        if not isinstance(item, dict) or item.get("success") is not False:
            continue
        config = item.get("expectation_config") or {}
        kwargs = config.get("kwargs") or {} if isinstance(config, dict) else {}
        kind = config.get("type", "?") if isinstance(config, dict) else "?"
        column = kwargs.get("column") if isinstance(kwargs, dict) else None
        what = f"{kind}" + (f" on column {column!r}" if isinstance(column, str) else "")
        raised = _exception_message(item.get("exception_info"))
        found: Any = item.get("result")
        result: dict[str, Any] = found if isinstance(found, dict) else {}
        if raised is not None:
            why = raised
        elif isinstance(result.get("unexpected_count"), int | float):
            why = f"{result['unexpected_count']:g} unexpected value(s)"
            if isinstance(result.get("element_count"), int | float):
                why += f" of {result['element_count']:g}"
        elif "observed_value" in result:
            why = f"observed {str(result['observed_value'])[:80]}"
        else:
            why = "not met"
        lines.append(f"{what}: {why}")
    if len(lines) > limit:
        lines = [*lines[:limit], f"... and {len(lines) - limit} more"]
    return lines


def _exception_message(info: Any) -> str | None:
    """The first line of the exception GX caught for an expectation (e.g. a missing column), or None.
    GX 1.x keys `exception_info` by metric, each with `raised_exception` and `exception_message`."""
    if not isinstance(info, dict):
        return None
    for entry in [info, *info.values()]:
        if isinstance(entry, dict) and entry.get("raised_exception"):
            lines = str(entry.get("exception_message") or "an exception").strip().splitlines()
            return lines[0][:200] if lines else "an exception"
    return None


def write_result(doc: dict[str, Any], results_dir: Path) -> Path:
    """Store the result like a checkpoint does: `<dir>/<suite>/<run time>.json`."""
    stamp = datetime.fromisoformat(doc["meta"]["validation_time"]).strftime("%Y%m%dT%H%M%S.%fZ")
    path = results_dir / str(doc["suite_name"]) / f"{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, default=str), encoding="utf-8")
    return path
