"""The exporter runtime's metric names, the registry every source kind's names module adds to, and the
per-source series (`<prefix>_up`, scrape duration, errors, dropped series) each kind registers.
"""

from __future__ import annotations

from exporters.registry import Registry, Section

REGISTRY = Registry()
"""Every exported metric, section by section in reference order (`exporters/names/__init__.py` imports the
kind modules in that order)."""

EXPORTER_JOB = "watchkeeper-exporter"
"""The Prometheus job name the generated alerts expect for `watchkeeper exporter` targets."""
SOURCE_LABEL = "source"
ERROR_KINDS = ("timeout", "connection", "http_status", "parse", "too_large", "auth", "not_found")
"""Why a source failed. `auth`: credentials refused (a database login); `not_found`: what the source points
at does not exist (a file or glob with no match, a table). HTTP answers, 401 and 404 included, are
`http_status`."""
_SRC = (SOURCE_LABEL,)

_runtime = REGISTRY.section(
    "Exporter runtime",
    "Series the runtime adds on every scrape. Each source kind below also has its `<prefix>_up`, "
    "`<prefix>_scrape_duration_seconds` and `<prefix>_scrape_errors_total` (and HDFS, YARN, Spark and "
    "freshness their `<prefix>_series_dropped_total`), listed in its section.",
    __name__,
)
OWNERSHIP_INFO = _runtime.metric(
    "watchkeeper_ownership_info",
    "gauge",
    ("service", "team", "tier"),
    "Owner of each catalog service: join with * on(service) group_left(team)",
)


def up(prefix: str) -> str:
    return f"{prefix}_up"


def scrape_duration(prefix: str) -> str:
    return f"{prefix}_scrape_duration_seconds"


def scrape_errors(prefix: str) -> str:
    """A counter; exposed with the `_total` suffix."""
    return f"{prefix}_scrape_errors"


def series_dropped(prefix: str) -> str:
    """A counter (exposed with `_total`): series past the source's `max_series`, over its collections."""
    return f"{prefix}_series_dropped"


def source_series(section: Section, prefix: str, kind: str, capped: bool = False) -> str:
    """Register a kind's per-source series; `capped` kinds (collected on scrape, with `max_series`) also
    count the series they drop."""
    section.metric(up(prefix), "gauge", _SRC, f"1 if the last scrape of every {kind} endpoint succeeded")
    section.metric(scrape_duration(prefix), "gauge", _SRC, f"Seconds the last {kind} scrape took")
    section.metric(
        scrape_errors(prefix),
        "counter",
        (SOURCE_LABEL, "kind"),
        f"{kind} scrape errors by kind: {', '.join(ERROR_KINDS)}",
    )
    if capped:
        section.metric(
            series_dropped(prefix),
            "counter",
            _SRC,
            f"{kind} series not exported because a collection gave more than the source's max_series",
        )
    return prefix
