"""Freshness sources: one per dataset, measured by a SQL query, an Airflow DAG, a file or a push,
with optional Great Expectations results."""

from __future__ import annotations

from pydantic import Field, model_validator

from catalog.addresses import HttpUrl
from catalog.durations import Duration
from catalog.fields import MaxAge, Name
from catalog.model.alerts import HasAlerts
from catalog.model.connections import AirflowRef, SqlQuery
from catalog.model.source_base import DEFAULT_TIMEOUT, MinInterval, Timeout
from catalog.model.strict import Strict


class FreshnessSql(SqlQuery):
    """The freshness query gives one value: the newest row's time, as a timestamp with a time zone or as
    Unix seconds. `count_query` gives one number: the rows of the last partition or day (row volume)."""

    assume_utc: bool = Field(
        default=False,
        description="read a timestamp without a time zone as UTC; otherwise it is a parse error",
    )
    count_query: str | None = Field(
        default=None,
        min_length=1,
        description="rows loaded in the last partition or day: a row-count gauge and a volume-drop alert",
    )


class FileRef(Strict):
    """The newest mtime of a file, of a directory's entries, or of a glob's matches (`**` recurses)."""

    path: str = Field(min_length=1, description="a file (e.g. a _SUCCESS marker), a directory or a glob")


class GreatExpectationsRef(Strict):
    """Great Expectations 1.x results: read from `results_dir`, or pushed by `watchkeeper quality run`."""

    results_dir: str | None = Field(
        default=None,
        min_length=1,
        description="a directory of validation-result or checkpoint-result JSON files (searched recursively)",
    )
    pushed: bool = Field(
        default=False, description="results come from `watchkeeper quality run` through a Pushgateway"
    )

    @model_validator(mode="after")
    def _one_origin(self) -> GreatExpectationsRef:
        if (self.results_dir is not None) == self.pushed:
            raise ValueError(
                "great_expectations needs exactly one of results_dir (a directory of result JSON) or "
                "pushed: true (results pushed by `watchkeeper quality run`)"
            )
        return self


class PushRef(Strict):
    """Freshness a batch job pushes at its end (`watchkeeper push freshness DATASET`) to a Pushgateway.

    The exporter reads the pushed time back from `pushgateway` (so the source has `up` like any other);
    Prometheus may also scrape the Pushgateway (with `honor_labels: true`): the alerts read either."""

    pushgateway: HttpUrl
    job: str = Field(default="watchkeeper_batch", pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


FRESHNESS_PROBES = ("sql", "airflow", "file", "push")


class FreshnessSource(HasAlerts):
    alert_kind = "freshness"
    dataset: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
    service: Name
    max_age: MaxAge
    sql: FreshnessSql | None = None
    airflow: AirflowRef | None = None
    file: FileRef | None = None
    push: PushRef | None = None
    great_expectations: GreatExpectationsRef | None = None
    timeout: Timeout = DEFAULT_TIMEOUT
    min_interval: MinInterval = Field(
        default=Duration.parse("1s"),
        description="concurrent scrapes share one query (or request, or walk); a result younger than this "
        "is reused",
    )

    @model_validator(mode="after")
    def _one_probe(self) -> FreshnessSource:
        given = [k for k in FRESHNESS_PROBES if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "freshness needs exactly one of sql, airflow, file or push "
                f"(found: {', '.join(given) or 'none'})"
            )
        return self

    @property
    def probe(self) -> str:
        """Which of sql, airflow, file or push measures the dataset's freshness."""
        return next(k for k in FRESHNESS_PROBES if getattr(self, k) is not None)

    @property
    def name(self) -> str:
        return self.dataset
