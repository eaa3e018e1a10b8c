"""Inference: probe latency quantiles, errors by kind and the last probe's result per model endpoint."""

from __future__ import annotations

from catalog.model import Catalog
from dashboards.components.common import component_board, health_row, selected, source_variable
from dashboards.panels import Grid, Query, table, timeseries
from dashboards.render import Board
from exporters import names as m

RATE = "5m"


def inference_board(catalog: Catalog) -> Board:
    sel = selected("inference")
    grid = Grid()
    health_row(grid, "inference")
    grid.row("Latency")
    buckets = f"rate({m.INFERENCE_PROBE_DURATION_SECONDS}_bucket{{{sel}}}[{RATE}])"
    grid.add(
        timeseries(
            f"Probe latency ({RATE})",
            [
                Query(f"histogram_quantile(0.5, sum by (source, le) ({buckets}))", "{{source}} p50"),
                Query(f"histogram_quantile(0.99, sum by (source, le) ({buckets}))", "{{source}} p99"),
            ],
            "s",
        ),
        12,
        8,
    )
    grid.add(
        timeseries(
            "Last probe duration",
            [Query(f"{m.INFERENCE_PROBE_LAST_DURATION_SECONDS}{{{sel}}}", "{{source}}")],
            "s",
        ),
        12,
        8,
    )
    grid.row("Errors")
    errors = f"sum by (source) (rate({m.INFERENCE_PROBE_ERRORS}_total{{{sel}}}[{RATE}]))"
    probes = f"sum by (source) (rate({m.INFERENCE_PROBES}_total{{{sel}}}[{RATE}]))"
    grid.add(
        timeseries(
            f"Failed probes ({RATE})",
            [Query(f"({errors} or 0 * {probes}) / {probes}", "{{source}}")],
            "percentunit",
        ),
        12,
        8,
    )
    grid.add(
        table(
            "Endpoints: last probe and status code",
            [
                Query(
                    f"{m.INFERENCE_PROBE_SUCCESS}{{{sel}}}",
                    instant=True,
                    column="Last probe",
                    mappings=((0, "Failed", "red"), (1, "OK", "green")),
                ),
                Query(
                    f"{m.INFERENCE_PROBE_STATUS_CODE}{{{sel}}}",
                    instant=True,
                    column="Status code",
                    unit="none",
                ),
            ],
            hidden=("Time", "__name__"),
        ),
        12,
        8,
    )
    return component_board("inference", catalog, grid, [source_variable("inference", "Endpoint")])
