"""A team's overview: its SLOs, error budgets, burn rates and firing alerts, and the parts it owns
according to the catalog, each with its health. Each team has its own overview, so it has no `team`
variable: every query, title and link names the team."""

from __future__ import annotations

from catalog.links import HOME_DASHBOARD_UID, dashboard_url, service_dashboard_uid, team_dashboard_uid
from catalog.model import Catalog
from catalog.model.teams import Team
from dashboards import owned as o
from dashboards import promql as q
from dashboards.home import status_stats
from dashboards.panels import Grid, Link, Query, markdown_links, table, text, timeseries
from dashboards.parts import Part, parts
from dashboards.render import Board
from dashboards.service import claimable, part_link
from rules import names as r


def _slo_panels(grid: Grid, team: str) -> None:
    grid.row(f"SLOs and error budgets of {team}")
    status_stats(grid, team)
    grid.add(table("SLOs: status and budget remaining", q.status_and_budget(team)), 12, 9)
    grid.add(
        timeseries(
            "Error budget remaining",
            [Query(q.per_slo(r.PERIOD_BUDGET_REMAINING, team), "{{slo}}")],
            "percentunit",
        ),
        12,
        9,
    )
    grid.add(
        timeseries("Burn rate (5m)", [Query(q.per_slo(r.CURRENT_BURN_RATE, team), "{{slo}}")], "x"),
        12,
        8,
    )
    grid.add(
        table(
            "Firing alerts",
            [Query(q.firing(o.owner_of_team(team)), instant=True)],
            hidden=("Time", "Value", "__name__"),
        ),
        12,
        8,
    )


def _owned_panels(grid: Grid, team: str, mine: list[Part], catalog: Catalog) -> None:
    """The parts the team owns: shared sources' parts by claim (of the kinds its services claim, or hold
    the unclaimed rest of), the rest by catalog service."""
    claimed: set[str] = set()
    for service in (s for s in catalog.services if s.team == team):
        claimed |= claimable(service, [p for p in mine if p.service == service.name])
    who = o.owner_of_team(team)
    panels = [o.source_health("Sources", mine)] if mine else []
    panels += o.group_panels(who) if "kafka_group" in claimed else []
    panels += [o.topics_panel(who)] if "kafka_topic" in claimed else []
    panels += [o.queues_panel(who)] if "yarn_queue" in claimed else []
    panels += [o.spark_panel(who)] if "spark_app" in claimed else []
    panels += [o.datasets_panel(mine), o.models_panel(mine), o.drift_panel(mine)]
    if any(panel is not None for panel in panels):
        grid.row(f"Parts {team} owns")
    for panel in panels:
        if panel is not None:
            grid.add(panel, 12, 7)


def team_board(team: Team, catalog: Catalog) -> Board:
    """The overview of one team (its folder's landing page)."""
    mine = [p for p in parts(catalog) if catalog.service(p.service).team == team.name]
    grid = Grid()
    _slo_panels(grid, team.name)
    _owned_panels(grid, team.name, mine, catalog)
    if mine:
        links_text = markdown_links([part_link(p) for p in mine])
        grid.add(text(f"Component dashboards of {team.name}'s sources", links_text), 12, 7)
    services = [s for s in catalog.services if s.team == team.name]
    links = [Link("Platform home", dashboard_url("", HOME_DASHBOARD_UID), uid=HOME_DASHBOARD_UID)]
    links += [
        Link(
            f"Service {s.name}",
            dashboard_url("", service_dashboard_uid(s.name)),
            uid=service_dashboard_uid(s.name),
        )
        for s in services
    ]
    return Board(
        uid=team_dashboard_uid(team.name),
        title=f"Team {team.name}",
        folder=team.name,
        description=team.description or f"SLOs, alerts and owned parts of {team.name}",
        panels=grid.panels,
        tags=["watchkeeper", "team", f"team:{team.name}"],
        links=links,
    )
