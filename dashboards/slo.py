"""SLO detail, one dashboard per SLO: SLI against objective, burn rate per alert window with the page and
ticket thresholds as lines, the budget burn-down over the period, alert state and links."""

from __future__ import annotations

from catalog.durations import Duration
from catalog.links import (
    dashboard_url,
    report_url,
    runbook_url,
    service_dashboard_uid,
    slo_dashboard_uid,
    team_dashboard_uid,
)
from catalog.model import Catalog
from catalog.model.slos import SLO
from dashboards import promql as q
from dashboards.panels import Grid, Line, Link, Query, markdown_links, stat, table, text, timeseries
from dashboards.render import Board
from rules import names as r
from rules.promql import quote
from rules.slo_recordings import selector
from rules.windows import alert_windows

PAGE_COLOR, TICKET_COLOR = "red", "orange"


def slo_links(slo: SLO, catalog: Catalog, watchkeeper_url: str) -> list[Link]:
    """Where an SLO's dashboards point: its service and team dashboards, the runbook and the SLA report."""
    service = catalog.service(slo.service)
    service_uid, team_uid = service_dashboard_uid(slo.service), team_dashboard_uid(service.team)
    runbook = (
        Link("Runbook", str(service.runbook))
        if service.runbook
        else Link("Runbook (none: the service dashboard)", runbook_url("", service), uid=service_uid)
    )
    return [
        Link(f"Service {slo.service}", dashboard_url("", service_uid, slo=slo.name), uid=service_uid),
        Link(f"Team {service.team}", dashboard_url("", team_uid), uid=team_uid),
        runbook,
        Link("SLA report", report_url(watchkeeper_url, "slo", slo.name)),
    ]


def _burn(window: str, sel: str) -> str:
    return f"{window}{sel} / on(slo, service) group_left() {r.ERROR_BUDGET}{sel}"


def slo_board(slo: SLO, catalog: Catalog, watchkeeper_url: str) -> Board:
    """The detail dashboard of one SLO."""
    service = catalog.service(slo.service)
    sel = selector(slo)
    period = slo.window.period
    # A calendar SLO (month, week, quarter) is judged on the budget of its calendar period.
    remaining = r.PERIOD_BUDGET_REMAINING if slo.window.calendar is None else r.CALENDAR_BUDGET_REMAINING
    grid = Grid()
    grid.row("Objective")
    grid.add(stat("Objective", Query(f"{r.OBJECTIVE}{sel}", instant=True), "percentunit"), 6, 4)
    grid.add(
        stat(
            "Error budget remaining",
            Query(f"{remaining}{sel}", instant=True),
            "percentunit",
            steps=[(0, "orange"), (q.AT_RISK_REMAINING, "green")],
            base="red",
        ),
        6,
        4,
    )
    grid.add(
        stat(
            "Status",
            Query(q.status(slo=slo.name, remaining=remaining), instant=True),
            mappings=q.STATUS_MAPPINGS,
            base="text",
        ),
        6,
        4,
    )
    grid.add(
        stat(
            "Firing alerts", Query(q.firing_count(f"slo={quote(slo.name)}"), instant=True), steps=[(1, "red")]
        ),
        6,
        4,
    )
    grid.add(
        timeseries(
            "SLI against the objective",
            [
                Query(f"1 - {r.sli_error_ratio(Duration.parse('5m'))}{sel}", "SLI over 5m"),
                Query(f"1 - {r.sli_error_ratio(period)}{sel}", f"SLI over {period}"),
                Query(f"{r.OBJECTIVE}{sel}", "objective"),
            ],
            "percentunit",
            description=slo.description or f"{slo.name}: the share of good events against {slo.objective:g}%",
        ),
        24,
        8,
    )
    grid.row("Burn rate per alert window")
    for window in alert_windows(period):
        spec = getattr(slo.alerting, window.severity)
        state = "" if spec.enabled else " (disabled)"
        grid.add(
            timeseries(
                f"{window.severity.capitalize()}{state}: burn rate over {window.long} and {window.short}",
                [
                    Query(_burn(r.sli_error_ratio(window.long), sel), f"over {window.long}"),
                    Query(_burn(r.sli_error_ratio(window.short), sel), f"over {window.short}"),
                ],
                "x",
                lines=[
                    Line(
                        window.factor,
                        PAGE_COLOR if window.severity == "page" else TICKET_COLOR,
                        f"{window.severity} at {window.factor:g}x",
                    )
                ],
                description=f"Fires ({window.severity}) when both windows burn faster than {window.factor:g}x "
                f"the error budget: {window.budget_percent:g}% of the {period} budget in {window.long}.",
            ),
            12,
            7,
        )
    grid.row("Error budget")
    burn_down = [Query(f"{r.PERIOD_BUDGET_REMAINING}{sel}", f"remaining over the last {period}")]
    if slo.window.calendar is not None:
        burn_down.append(
            Query(f"{r.CALENDAR_BUDGET_REMAINING}{sel}", f"remaining this {slo.window.calendar}")
        )
    grid.add(
        timeseries(
            "Error budget burn-down",
            burn_down,
            "percentunit",
            lines=[Line(q.AT_RISK_REMAINING, "orange", "at risk"), Line(0, "red", "exhausted")],
            time_from=str(period),
        ),
        16,
        8,
    )
    grid.add(
        table(
            "Alerts",
            [Query(q.firing(f"slo={quote(slo.name)}"), instant=True)],
            hidden=("Time", "Value", "__name__"),
        ),
        8,
        8,
    )
    links = slo_links(slo, catalog, watchkeeper_url)
    grid.add(text("Links", markdown_links(links)), 24, 4)
    return Board(
        uid=slo_dashboard_uid(slo.name),
        title=f"SLO {slo.name}",
        folder=service.team,
        description=f"{slo.name} of {slo.service}: {slo.objective:g}% over {slo.window}",
        panels=grid.panels,
        tags=["watchkeeper", "slo", f"team:{service.team}"],
        links=links,
        time_from=f"now-{period}",
    )
