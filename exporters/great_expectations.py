"""Great Expectations 1.x validation results as metrics: per suite, and per expectation type and column.

Reads the validation-result JSON a checkpoint run stores (`gx/uncommitted/validations/<suite>/.../*.json`)
or that `watchkeeper quality run` writes; the great_expectations library is not needed to read them. Labels
name the suite, the expectation type and the column, never a row value: `partial_unexpected_list` and
its kin are ignored.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from exporters import names as m
from exporters.errors import ScrapeError, shown
from exporters.metric_set import MetricSet, number

MAX_RESULT_BYTES = 50 * 1024 * 1024
"""A larger result file is refused (`too_large`): with `result_format: COMPLETE` GX can write huge lists."""


@dataclass
class ExpectationTally:
    """The expectations of one type on one column in a validation: all passed, and their unexpected values."""

    success: bool = True
    unexpected: float | None = None


@dataclass
class Validation:
    """One validation result, reduced to what is exported."""

    suite: str
    success: bool
    evaluated: float
    failed: float
    time: float | None
    expectations: dict[tuple[str, str], ExpectationTally] = field(default_factory=dict)


def _column(kwargs: dict[str, Any]) -> str:
    """The column(s) an expectation is about: a schema name, never a value; "" for table-level ones."""
    if isinstance(kwargs.get("column"), str):
        return str(kwargs["column"])
    pair = [kwargs[k] for k in ("column_A", "column_B") if isinstance(kwargs.get(k), str)]
    if pair:
        return ",".join(pair)
    columns = kwargs.get("column_list")
    if isinstance(columns, list) and all(isinstance(c, str) for c in columns):
        return ",".join(columns)
    return ""


def _time(meta: dict[str, Any]) -> float | None:
    run_id = meta.get("run_id")
    candidates = [meta.get("validation_time"), run_id.get("run_time") if isinstance(run_id, dict) else None]
    for text in candidates:
        if isinstance(text, str):
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                continue
            if moment.tzinfo is not None:
                return moment.timestamp()
    return None


def parse_validation(doc: Any, where: str) -> Validation:
    """A GX 1.x validation result (ExpectationSuiteValidationResult as JSON); ScrapeError("parse") if not."""
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise ScrapeError("parse", f"{where}: not a Great Expectations validation result (no results list)")
    suite = doc.get("suite_name")
    if not isinstance(suite, str) or not suite:
        raise ScrapeError("parse", f"{where}: the validation result has no suite_name")
    success = doc.get("success")
    if not isinstance(success, bool):
        raise ScrapeError("parse", f"{where}: success is {shown(success)}, not true or false")
    tallies: dict[tuple[str, str], ExpectationTally] = {}
    failed = 0
    for item in doc["results"]:
        config = item.get("expectation_config") if isinstance(item, dict) else None
        kind = config.get("type") or config.get("expectation_type") if isinstance(config, dict) else None
        if not isinstance(kind, str) or not isinstance(item.get("success"), bool):
            raise ScrapeError("parse", f"{where}: a result without an expectation type or success flag")
        kwargs = config.get("kwargs") if isinstance(config, dict) else None
        tally = tallies.setdefault(
            (kind, _column(kwargs if isinstance(kwargs, dict) else {})), ExpectationTally()
        )
        tally.success = tally.success and item["success"]
        failed += not item["success"]
        result = item.get("result")
        count = number(result.get("unexpected_count")) if isinstance(result, dict) else None
        if count is not None:
            tally.unexpected = (tally.unexpected or 0.0) + count
    stats = doc["statistics"] if isinstance(doc.get("statistics"), dict) else {}
    evaluated = number(stats.get("evaluated_expectations"))
    unsuccessful = number(stats.get("unsuccessful_expectations"))
    meta = doc["meta"] if isinstance(doc.get("meta"), dict) else {}
    return Validation(
        suite=suite,
        success=success,
        evaluated=evaluated if evaluated is not None else float(len(doc["results"])),
        failed=unsuccessful if unsuccessful is not None else float(failed),
        time=_time(meta),
        expectations=tallies,
    )


def validation_metrics(validation: Validation, dataset: str, out: MetricSet) -> None:
    """Add one validation's series for `dataset`."""
    suite = {"dataset": dataset, "suite": validation.suite}
    out.gauge(m.GE_VALIDATION_SUCCESS, "", suite, 1.0 if validation.success else 0.0)
    out.gauge(m.GE_EVALUATED_EXPECTATIONS, "", suite, validation.evaluated)
    out.gauge(m.GE_FAILED_EXPECTATIONS, "", suite, validation.failed)
    out.gauge(m.GE_VALIDATION_TIMESTAMP_SECONDS, "", suite, validation.time)
    for (kind, column), tally in validation.expectations.items():
        labels = {**suite, "expectation": kind, "column": column}
        out.gauge(m.GE_EXPECTATION_SUCCESS, "", labels, 1.0 if tally.success else 0.0)
        out.gauge(m.GE_UNEXPECTED_COUNT, "", labels, tally.unexpected)


@dataclass
class _Seen:
    stamp: tuple[int, int]
    validation: Validation


class ResultsDir:
    """The latest validation per suite in a directory tree of result JSON files.

    Each file is parsed once (until its mtime or size changes), so a tree holding a long GX history costs
    a directory walk per scrape, not a parse of every file. The latest is the newest validation time; a
    file without one is dated by its mtime.
    """

    def __init__(self, root: str) -> None:
        self.root = Path(root)
        self._seen: dict[str, _Seen] = {}

    def latest(self) -> list[Validation]:
        """The newest validation of each suite, sorted by suite; ScrapeError when none can be read."""
        if not self.root.is_dir():
            raise ScrapeError("not_found", f"Great Expectations results_dir {self.root} is not a directory")
        found = self._walk()
        for gone in set(self._seen) - set(found):
            del self._seen[gone]
        newest: dict[str, Validation] = {}
        for path, stat in found.items():
            seen = self._seen.get(path)
            stamp = (stat.st_mtime_ns, stat.st_size)
            if seen is None or seen.stamp != stamp:
                validation = self._read(Path(path), stat)
                seen = self._seen[path] = _Seen(stamp, validation)
            current = newest.get(seen.validation.suite)
            if current is None or (seen.validation.time or 0) > (current.time or 0):
                newest[seen.validation.suite] = seen.validation
        if not newest:
            raise ScrapeError("not_found", f"no validation-result JSON under {self.root}")
        return [newest[s] for s in sorted(newest)]

    def _walk(self) -> dict[str, os.stat_result]:
        out: dict[str, os.stat_result] = {}
        for folder, _dirs, files in os.walk(self.root):
            for name in files:
                if name.endswith(".json"):
                    path = os.path.join(folder, name)
                    try:
                        out[path] = os.stat(path)
                    except FileNotFoundError:  # removed while walking
                        continue
        return out

    @staticmethod
    def _read(path: Path, stat: os.stat_result) -> Validation:
        if stat.st_size > MAX_RESULT_BYTES:
            raise ScrapeError("too_large", f"{path} is {stat.st_size} bytes (limit {MAX_RESULT_BYTES})")
        try:
            doc = json.loads(path.read_bytes())
        except OSError as exc:
            raise ScrapeError("not_found", f"cannot read {path}: {exc.strerror}") from None
        except ValueError as exc:
            raise ScrapeError("parse", f"{path}: malformed or truncated JSON: {exc}") from None
        validation = parse_validation(doc, str(path))
        if validation.time is None:
            validation.time = stat.st_mtime
        return validation
