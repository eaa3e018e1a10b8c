"""The exporter's self-monitoring: whether Prometheus reaches it, and per source `up`, scrape duration,
errors by kind and dropped series."""

from __future__ import annotations

from catalog.links import EXPORTER_DASHBOARD_UID, HOME_DASHBOARD_UID, dashboard_url
from catalog.model import Catalog
from dashboards.home import FOLDER
from dashboards.panels import Grid, Link, Query, stat, table, timeseries
from dashboards.parts import PREFIX, kinds_present
from dashboards.render import Board
from exporters import names as m

RATE = "5m"
CAPPED = ("hdfs", "yarn", "spark")
"""Kinds collected on scrape, which count the series they drop past `max_series`."""


def _each(kinds: list[str], series: str) -> str:
    """`series` (a format with {prefix}) of every kind, labelled with its kind, joined with `or`."""
    return " or ".join(
        f'label_replace({series.format(prefix=PREFIX[k])}, "component", "{k}", "", "")' for k in kinds
    )


def exporter_board(catalog: Catalog) -> Board:
    kinds = [k for k in kinds_present(catalog) if k in PREFIX]
    job = f'job="{m.EXPORTER_JOB}"'
    grid = Grid()
    grid.row("Exporter")
    targets_up = Query(f"sum(up{{{job}}}) or vector(0)", instant=True)
    grid.add(stat("Exporter targets up", targets_up, steps=[(1, "green")], base="red"), 6, 5)
    if kinds:  # without sources there is nothing to be down: no panel (and no empty `count(())`)
        down = Query(f"count(({_each(kinds, m.up('{prefix}'))}) == 0) or vector(0)", instant=True)
        grid.add(stat("Sources down", down, steps=[(1, "red")]), 6, 5)
    grid.add(
        timeseries(
            "Scrape duration of the exporter",
            [Query(f"scrape_duration_seconds{{{job}}}", "{{instance}}")],
            "s",
        ),
        12,
        5,
    )
    if kinds:
        grid.row("Sources")
        grid.add(
            table(
                "Up by source",
                [
                    Query(
                        _each(kinds, m.up("{prefix}")),
                        instant=True,
                        column="Up",
                        mappings=((0, "Down", "red"), (1, "Up", "green")),
                    )
                ],
            ),
            12,
            9,
        )
        grid.add(
            timeseries(
                "Scrape duration by source",
                [Query(_each(kinds, m.scrape_duration("{prefix}")), "{{component}} {{source}}")],
                "s",
            ),
            12,
            9,
        )
        errors = f"sum by (source, kind) (rate({m.scrape_errors('{prefix}')}_total[{RATE}]))"
        grid.add(
            timeseries(
                f"Scrape errors by kind ({RATE})",
                [Query(_each(kinds, errors), "{{component}} {{source}} {{kind}}")],
                "ops",
            ),
            12,
            8,
        )
        capped = [k for k in kinds if k in CAPPED]
        if capped:
            dropped = f"sum by (source) (rate({m.series_dropped('{prefix}')}_total[{RATE}]))"
            grid.add(
                timeseries(
                    f"Series dropped past max_series ({RATE})",
                    [Query(_each(capped, dropped), "{{component}} {{source}}")],
                    "ops",
                ),
                12,
                8,
            )
    return Board(
        uid=EXPORTER_DASHBOARD_UID,
        title="Watchkeeper: exporter",
        folder=FOLDER,
        description="Self-monitoring of `watchkeeper exporter`: up, scrape duration and errors per source",
        panels=grid.panels,
        tags=["watchkeeper", "exporter"],
        links=[Link("Platform home", dashboard_url("", HOME_DASHBOARD_UID), uid=HOME_DASHBOARD_UID)],
    )
