"""`watchkeeper quality run` and `watchkeeper push freshness`: what a batch job (an Airflow task) runs at its end.

Both push to a Pushgateway into the group `job=<job>/dataset=<dataset>` (plus `suite` for quality
results). Only typer is imported at module level; great_expectations loads when `quality run` runs.
Exit codes: 0 done (and the suite passed), 1 the suite failed (its results were pushed), 2 a usage or
catalog error, 3 the data, the database or the Pushgateway could not be used.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from catalog.model.freshness import FreshnessSource

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_RUNTIME = 0, 1, 2, 3
DEFAULT_JOB = "watchkeeper_batch"

quality_app = typer.Typer(help="Run data-quality suites and push their results.", no_args_is_help=True)
push_app = typer.Typer(help="Push a batch job's results to a Pushgateway.", no_args_is_help=True)

CatalogOption = Annotated[
    Path | None,
    typer.Option(
        "--catalog",
        exists=True,
        readable=True,
        help="The catalog: checks the dataset and supplies its Pushgateway, job and database URL.",
        show_default=False,
    ),
]
PushgatewayOption = Annotated[
    str | None,
    typer.Option(
        "--pushgateway",
        help="Pushgateway URL, e.g. http://pushgateway:9091 (default: the dataset's push block).",
        show_default=False,
    ),
]
JobOption = Annotated[
    str | None,
    typer.Option(
        "--job",
        help=f"The push's job label (default: the dataset's, else {DEFAULT_JOB}).",
        show_default=False,
    ),
]


def _fail(message: str, code: int) -> NoReturn:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, highlight=False, emoji=False, soft_wrap=True).print(
        f"[bold red]error:[/] {escape(message)}"
    )
    raise typer.Exit(code)


def _dataset(catalog: Path | None, dataset: str) -> FreshnessSource | None:
    """The dataset's catalog entry (None without --catalog); exits 2 when the catalog lacks it."""
    if catalog is None:
        return None
    from catalog import CatalogError, load_catalog

    try:
        loaded = load_catalog(catalog).catalog
    except CatalogError as exc:
        _fail(
            f"the catalog {catalog} is invalid: run `watchkeeper validate {catalog}` ({len(exc.problems)} problem(s))",
            EXIT_USAGE,
        )
    for entry in loaded.sources.freshness:
        if entry.dataset == dataset:
            return entry
    known = ", ".join(e.dataset for e in loaded.sources.freshness) or "none"
    _fail(f"dataset {dataset!r} is not under sources.freshness in {catalog} (datasets: {known})", EXIT_USAGE)


def _target(entry: FreshnessSource | None, pushgateway: str | None, job: str | None) -> tuple[str, str]:
    ref = entry.push if entry is not None else None
    url = pushgateway or (ref.pushgateway if ref is not None else None)
    if not url:
        _fail(
            "no Pushgateway: give --pushgateway URL, or --catalog with a dataset that has a push block",
            EXIT_USAGE,
        )
    return _pushgateway_url(url), job or (ref.job if ref is not None else DEFAULT_JOB)


def _pushgateway_url(url: str) -> str:
    """An http(s) URL with a host and without credentials (never echoed: they may be a password)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if "@" in url.split("://", 1)[-1].split("/", 1)[0] or (parts is not None and parts.username):
        _fail(
            "--pushgateway must not hold credentials (user:password@): they would end up in shell "
            "history and logs; put the Pushgateway behind a proxy that authenticates instead",
            EXIT_USAGE,
        )
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or (port == 0):
        _fail(
            f"--pushgateway must be an http(s) URL such as http://pushgateway:9091, not {url!r}", EXIT_USAGE
        )
    return url.rstrip("/")


def _unix_time(text: str | None) -> float:
    """Now, Unix seconds, or ISO 8601 with a time zone; exits 2 otherwise."""
    if text is None:
        return time.time()
    try:
        value = float(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            _fail(
                f"--timestamp {text!r} is neither Unix seconds nor ISO 8601 (2024-05-01T06:00:00Z)",
                EXIT_USAGE,
            )
        if moment.tzinfo is None:
            _fail(f"--timestamp {text!r} has no time zone; add Z or +00:00", EXIT_USAGE)
        return _not_future(moment.timestamp(), text)
    if not math.isfinite(value) or value <= 0 or value > 1e11:
        _fail(f"--timestamp {text!r} is not a Unix time in seconds", EXIT_USAGE)
    return _not_future(value, text)


def _not_future(stamp: float, text: str) -> float:
    """The exporter's rule: newest data more than CLOCK_SKEW ahead of now is a time-zone or unit error."""
    from exporters.freshness import CLOCK_SKEW

    ahead = stamp - time.time()
    if ahead > CLOCK_SKEW:
        _fail(
            f"--timestamp {text!r} is {ahead:.0f}s in the future (more than {CLOCK_SKEW:.0f}s): a local time "
            "given as UTC, or milliseconds? the exporter would refuse it",
            EXIT_USAGE,
        )
    return stamp


@push_app.command("freshness")
def push_freshness(
    dataset: Annotated[str, typer.Argument(help="The dataset the job just refreshed.", show_default=False)],
    catalog: CatalogOption = None,
    pushgateway: PushgatewayOption = None,
    job: JobOption = None,
    timestamp: Annotated[
        str | None,
        typer.Option(
            "--timestamp",
            help="Time of the newest data: Unix seconds or ISO 8601 (default: now).",
            show_default=False,
        ),
    ] = None,
    rows: Annotated[
        int | None,
        typer.Option(
            "--rows", min=0, help="Rows the job loaded: feeds the volume-drop alert.", show_default=False
        ),
    ] = None,
) -> None:
    """Push a dataset's freshness (the time of its newest data) at the end of a batch job."""
    from exporters.pushgateway import PushError, freshness_metrics, push

    entry = _dataset(catalog, dataset)
    url, job_name = _target(entry, pushgateway, job)
    stamp = _unix_time(timestamp)
    try:
        path = push(url, job_name, {"dataset": dataset}, freshness_metrics(dataset, stamp, rows))
    except PushError as exc:
        _fail(str(exc), EXIT_RUNTIME)
    typer.echo(
        f"pushed the freshness of {dataset} ({datetime.fromtimestamp(stamp).astimezone().isoformat()}) to {url}{path}"
    )


@quality_app.command("run")
def quality_run(
    suite: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="A GX 1.x expectation suite (JSON).",
            show_default=False,
        ),
    ],
    dataset: Annotated[
        str, typer.Option("--dataset", help="The dataset the results are labelled with.", show_default=False)
    ],
    data: Annotated[
        Path | None,
        typer.Option("--data", help="A .csv, .parquet or .json file to validate.", show_default=False),
    ] = None,
    sql: Annotated[
        str | None, typer.Option("--sql", help="A query whose rows are validated.", show_default=False)
    ] = None,
    url_env: Annotated[
        str | None,
        typer.Option("--url-env", help="Environment variable holding the database URL.", show_default=False),
    ] = None,
    url_file: Annotated[
        Path | None, typer.Option("--url-file", help="File holding the database URL.", show_default=False)
    ] = None,
    catalog: CatalogOption = None,
    pushgateway: PushgatewayOption = None,
    job: JobOption = None,
    results_dir: Annotated[
        Path | None,
        typer.Option(
            "--results-dir",
            help="Also store the validation result JSON here (<suite>/<time>.json).",
            show_default=False,
        ),
    ] = None,
    no_push: Annotated[bool, typer.Option("--no-push", help="Do not push (with --results-dir).")] = False,
) -> None:
    """Run a Great Expectations suite on a file or a query and push its results; exit 1 if it failed."""
    from catalog.model.connections import SqlQuery
    from exporters.errors import ConfigError
    from exporters.freshness_sql import resolve_url
    from exporters.great_expectations import parse_validation, validation_metrics
    from exporters.metric_set import MetricSet
    from exporters.pushgateway import PushError, push
    from exporters.quality_run import QualityError, SuiteError, failures, load_suite, run_suite, write_result

    if (data is None) == (sql is None):
        _fail("give exactly one of --data PATH or --sql QUERY", EXIT_USAGE)
    if no_push and results_dir is None:
        _fail("--no-push needs --results-dir, or the results would go nowhere", EXIT_USAGE)
    entry = _dataset(catalog, dataset)
    target = None if no_push else _target(entry, pushgateway, job)
    url = None
    if sql is not None:
        try:
            if url_env or url_file:
                url = resolve_url(
                    SqlQuery(url_env=url_env, url_file=str(url_file) if url_file else None, query=sql),
                    "--sql",
                )
            elif entry is not None and entry.sql is not None:
                url = resolve_url(entry.sql, f"dataset {dataset}")
        except ConfigError as exc:
            _fail(str(exc), EXIT_USAGE)
        except ValueError as exc:  # the catalog model's checks on --url-env/--url-file
            _fail(str(exc).splitlines()[-1] if str(exc) else "bad --url-env/--url-file", EXIT_USAGE)
        if url is None:
            _fail(
                "--sql needs a database URL: --url-env, --url-file, or --catalog with the dataset's sql block",
                EXIT_USAGE,
            )
    try:
        doc = run_suite(load_suite(suite), data=data, sql=sql, url=url)
    except SuiteError as exc:  # the suite or the query is wrong: nothing ran, nothing was pushed
        _fail(str(exc), EXIT_USAGE)
    except QualityError as exc:
        _fail(str(exc), EXIT_RUNTIME)
    validation = parse_validation(doc, str(suite))
    if results_dir is not None:
        typer.echo(f"wrote {write_result(doc, results_dir)}", err=True)
    if target is not None:
        metrics = MetricSet()
        validation_metrics(validation, dataset, metrics)
        try:
            push(target[0], target[1], {"dataset": dataset, "suite": validation.suite}, metrics)
        except PushError as exc:
            _fail(str(exc), EXIT_RUNTIME)
    verdict = "passed" if validation.success else "FAILED"
    where = f"; pushed to {target[0]}" if target is not None else ""
    typer.echo(
        f"suite {validation.suite} on {dataset} {verdict}: {validation.failed:g} of {validation.evaluated:g} "
        f"expectations unmet{where}"
    )
    for line in failures(doc):
        typer.echo(f"  unmet: {line}")
    raise typer.Exit(EXIT_OK if validation.success else EXIT_FAILED)
