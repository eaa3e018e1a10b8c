"""The verdict of one drift run: what both engines return and what publishing, reports and triggers read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ColumnKind = Literal["num", "cat", "text"]  # "text": Evidently infers Text (strings, mostly unique)
Engine = Literal["fast", "evidently", "spark"]  # "spark": the fast engine run on Spark DataFrames


@dataclass(frozen=True)
class ColumnDrift:
    """One column's test: score and threshold as Evidently reports them (p-value or distance)."""

    column: str
    kind: ColumnKind
    stattest: str
    score: float | None
    threshold: float
    drift: bool
    problem: str | None = None  # schema drift, all-NaN, ...: the column was not tested and counts as drifted


@dataclass(frozen=True)
class DriftResult:
    """Per-column verdicts and the dataset verdict (drifted share >= the monitor's drift_share)."""

    engine: Engine
    columns: list[ColumnDrift]
    drift_share_threshold: float
    reference_rows: int
    current_rows: int
    problems: list[str] = field(default_factory=list)
    report: Any = field(default=None, repr=False, compare=False)  # Evidently snapshot (engine="evidently")

    @property
    def drifted(self) -> int:
        return sum(1 for c in self.columns if c.drift)

    @property
    def drift_share(self) -> float:
        return self.drifted / len(self.columns) if self.columns else 0.0

    @property
    def dataset_drift(self) -> bool:
        return bool(self.columns) and self.drift_share >= self.drift_share_threshold
