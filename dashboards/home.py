"""The platform home: every team's SLOs with status and budget, firing alerts by team, links everywhere."""

from __future__ import annotations

from catalog.links import (
    EXPORTER_DASHBOARD_UID,
    HOME_DASHBOARD_UID,
    component_dashboard_uid,
    dashboard_url,
    team_dashboard_uid,
)
from catalog.model import Catalog
from dashboards import promql as q
from dashboards.panels import Grid, Link, Query, markdown_links, stat, table, text, timeseries
from dashboards.parts import TITLE, kinds_present
from dashboards.render import Board

FOLDER = "Watchkeeper"
"""The folder of the dashboards that belong to no one team: home, components and the exporter."""


def home_links(catalog: Catalog) -> list[Link]:
    """Team overviews, component dashboards and the exporter's, as links."""
    links = [
        Link(f"Team {t.name}", dashboard_url("", team_dashboard_uid(t.name)), uid=team_dashboard_uid(t.name))
        for t in catalog.teams
    ]
    links += [
        Link(TITLE[k], dashboard_url("", component_dashboard_uid(k)), uid=component_dashboard_uid(k))
        for k in kinds_present(catalog)
    ]
    links.append(Link("Exporter", dashboard_url("", EXPORTER_DASHBOARD_UID), uid=EXPORTER_DASHBOARD_UID))
    return links


STAT_COLORS = {0: ("green", "green"), 1: ("green", "orange"), 2: ("green", "red"), 3: ("text", "blue")}
"""Per status: the colour of its count at 0 and from 1 up (SLOs without data are not good news)."""


def status_stats(grid: Grid, team: str | None = None) -> None:
    """One stat per SLO status: how many of the team's SLOs (every SLO's) have it."""
    for value, (label, _) in q.STATUS_TEXT.items():
        base, some = STAT_COLORS[value]
        query = Query(f"count(({q.status(team)}) == {value}) or vector(0)", instant=True)
        grid.add(stat(label, query, steps=[(1, some)], base=base), 6, 4)


def home_board(catalog: Catalog) -> Board:
    """The platform home dashboard."""
    grid = Grid()
    grid.row("Every SLO")
    status_stats(grid)
    grid.add(table("SLOs by team: status and budget remaining", q.status_and_budget()), 16, 10)
    grid.add(
        table("Firing alerts by team", [Query(q.firing_count("", by="team"), instant=True)]),
        8,
        10,
    )
    grid.add(
        timeseries("Firing alerts by team", [Query(q.firing_count("", by="team"), "{{team}}")]),
        12,
        8,
    )
    links = home_links(catalog)
    grid.add(text("Teams and components", markdown_links(links)), 12, 8)
    return Board(
        uid=HOME_DASHBOARD_UID,
        title="Watchkeeper: platform home",
        folder=FOLDER,
        description="Every team's SLOs, budgets and firing alerts",
        panels=grid.panels,
        tags=["watchkeeper", "home"],
        links=links,
    )
