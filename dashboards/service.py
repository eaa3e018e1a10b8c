"""A service's dashboard (`wk-slo-<service>`, where every alert of the service links): its SLOs, chosen
with the `slo` variable, its firing alerts, and its sources with links to their component dashboards."""

from __future__ import annotations

from catalog.claims import SOURCE_KIND
from catalog.links import (
    component_dashboard_uid,
    dashboard_url,
    service_dashboard_uid,
    slo_dashboard_uid,
    team_dashboard_uid,
)
from catalog.model import Catalog
from catalog.model.services import Service
from dashboards import owned as o
from dashboards import promql as q
from dashboards.panels import Grid, Link, Query, markdown_links, table, text, timeseries
from dashboards.parts import TITLE, Part, parts, variable
from dashboards.render import Board, Variable
from rules import names as r
from rules.promql import quote


def part_link(part: Part) -> Link:
    """A link to the component dashboard of a part's kind, with the part selected."""
    uid = component_dashboard_uid(part.kind)
    return Link(
        f"{TITLE[part.kind]}: {part.name}",
        dashboard_url("", uid, **{variable(part.kind): part.name}),
        uid=uid,
    )


def claimable(service: Service, owned: list[Part]) -> set[str]:
    """Claim kinds the service may own parts of: those it claims, and every kind of its own shared
    sources (the parts nobody claims stay with the source's service)."""
    kinds: set[str] = {kind for kind, _, _, _ in service.claims.items()}
    for part in owned:
        kinds |= {kind for kind, section in SOURCE_KIND.items() if section == part.kind}
    return kinds


def service_board(service: Service, catalog: Catalog) -> Board:
    """The dashboard of one service."""
    slos = [s for s in catalog.slos if s.service == service.name]
    owned = [p for p in parts(catalog) if p.service == service.name]
    svc = f"service={quote(service.name)}"
    choose = f'{svc}, slo=~"$slo"'
    grid = Grid()
    if slos:
        grid.row(f"SLOs of {service.name}")
        grid.add(
            table(
                "SLOs",
                [
                    Query(
                        f"({q.status()}) and on(slo, service) {r.SLO_INFO}{{{choose}}}",
                        instant=True,
                        column="Status",
                        mappings=q.STATUS_MAPPINGS,
                    ),
                    Query(
                        f"max by (slo, service) ({r.PERIOD_BUDGET_REMAINING}{{{choose}}})",
                        instant=True,
                        column="Budget remaining",
                        unit="percentunit",
                    ),
                ],
            ),
            12,
            8,
        )
        grid.add(
            timeseries(
                "Burn rate (5m)",
                [Query(f"{r.CURRENT_BURN_RATE}{{{choose}}}", "{{slo}}")],
                "x",
            ),
            12,
            8,
        )
        grid.add(
            timeseries(
                "Error budget remaining",
                [Query(f"{r.PERIOD_BUDGET_REMAINING}{{{choose}}}", "{{slo}}")],
                "percentunit",
            ),
            12,
            8,
        )
    else:
        grid.row(f"{service.name} has no SLOs")
    grid.add(
        table("Firing alerts", [Query(q.firing(svc), instant=True)], hidden=("Time", "Value", "__name__")),
        12,
        8,
    )
    claimed = claimable(service, owned)
    if owned or claimed:
        grid.row(f"Parts {service.name} owns")
    if owned:
        grid.add(o.source_health(f"Sources of {service.name}", owned), 12, 6)
    who = o.owner_of_service(service.name)
    panels = o.group_panels(who) if "kafka_group" in claimed else []
    panels += [o.topics_panel(who)] if "kafka_topic" in claimed else []
    panels += [o.queues_panel(who)] if "yarn_queue" in claimed else []
    panels += [o.spark_panel(who)] if "spark_app" in claimed else []
    for panel in panels:
        grid.add(panel, 12, 6)
    links = [part_link(p) for p in owned]
    links += [
        Link(f"SLO {s.name}", dashboard_url("", slo_dashboard_uid(s.name)), uid=slo_dashboard_uid(s.name))
        for s in slos
    ]
    team_uid = team_dashboard_uid(service.team)
    links.append(Link(f"Team {service.team}", dashboard_url("", team_uid), uid=team_uid))
    if service.runbook:
        links.append(Link("Runbook", str(service.runbook)))
    grid.add(text("Links", markdown_links(links)), 12, 6)
    names = ",".join(s.name for s in slos)
    return Board(
        uid=service_dashboard_uid(service.name),
        title=f"Service {service.name}",
        folder=service.team,
        description=service.description or f"{service.name} ({service.tier.value} tier) of {service.team}",
        panels=grid.panels,
        tags=["watchkeeper", "service", f"team:{service.team}"],
        variables=[Variable("slo", "SLO", "custom", names, include_all=True, multi=True)] if slos else [],
        links=[link for link in links if link.uid is not None][:10],
    )
