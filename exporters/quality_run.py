"""Run a Great Expectations 1.x suite on a file or a SQL query, as a batch job (`watchkeeper quality run`).

great_expectations and pandas are imported here, inside the functions, and nowhere else: the exporter
and the rest of the CLI never pay for them. The result is GX's own validation-result JSON, which
`exporters.great_expectations` turns into metrics, exactly as it does for a checkpoint's stored results.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from exporters.freshness_sql import postgres_driver

DATA_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "json", ".jsonl": "jsonl"}


class QualityError(Exception):
    """The suite, the data or the database cannot be used; the message says which and how to fix it."""


def load_suite(path: Path) -> dict[str, Any]:
    """A GX 1.x expectation suite as JSON (`{"name": ..., "expectations": [{"type": ..., "kwargs": ...}]}`),
    as GX writes it to `gx/expectations/<suite>.json`."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise QualityError(f"cannot read the suite {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise QualityError(f"{path} is not JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str) or not doc["name"]:
        raise QualityError(f"{path}: a suite needs a name (GX 1.x suite JSON: name and expectations)")
    expectations = doc.get("expectations")
    if not isinstance(expectations, list) or not expectations:
        raise QualityError(f"{path}: the suite {doc['name']!r} has no expectations list")
    for index, item in enumerate(expectations):
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise QualityError(
                f"{path}: expectations[{index}] needs a type, e.g. expect_column_values_to_not_be_null"
            )
    return doc


def _frame(path: Path) -> Any:
    import pandas as pd  # type: ignore[import-untyped]

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
    import great_expectations as gx

    started = datetime.now(UTC)
    context = gx.get_context(mode="ephemeral")
    fields = {k: v for k, v in suite.items() if k in ("name", "expectations", "meta", "notes")}
    try:
        expectation_suite = context.suites.add(gx.ExpectationSuite(**fields))
    except Exception as exc:  # GX's own validation of the suite: its message names the bad expectation
        raise QualityError(
            f"the suite {suite['name']!r} is not valid for great_expectations: {exc}"
        ) from None
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
            source = context.data_sources.add_sql("watchkeeper", connection_string=postgres_driver(url))
            query_asset = source.add_query_asset("query", query=sql or "")
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


def write_result(doc: dict[str, Any], results_dir: Path) -> Path:
    """Store the result like a checkpoint does: `<dir>/<suite>/<run time>.json`."""
    stamp = datetime.fromisoformat(doc["meta"]["validation_time"]).strftime("%Y%m%dT%H%M%S.%fZ")
    path = results_dir / str(doc["suite_name"]) / f"{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, default=str), encoding="utf-8")
    return path
