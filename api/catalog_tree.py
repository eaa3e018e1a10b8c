"""Render the catalog's ownership tree (teams, services, SLOs, sources, drift) with rich."""

from __future__ import annotations

from rich.markup import escape
from rich.tree import Tree

from catalog.claims import ClaimIndex
from catalog.model import Catalog
from catalog.model.sources import SOURCE_KINDS

_TIER_STYLE = {"critical": "bold red", "high": "yellow", "medium": "cyan", "low": "dim"}


def ownership_tree(catalog: Catalog) -> Tree:
    """A tree: team → service → SLOs, sources and drift monitors."""
    root = Tree("[bold]catalog[/]")
    claims = ClaimIndex.of(catalog)
    for team in catalog.teams:
        channels = [k for k in ("pagerduty", "slack", "webhook", "email") if getattr(team.channels, k)]
        node = root.add(
            f"[bold]{escape(team.name)}[/] [dim]owners: {escape(', '.join(team.owners))}"
            f" · channels: {', '.join(channels) or 'none'}[/]"
        )
        for service in (s for s in catalog.services if s.team == team.name):
            style = _TIER_STYLE[service.tier.value]
            svc = node.add(f"[{style}]{escape(service.name)}[/] [dim]({service.tier.value})[/]")
            for slo in (s for s in catalog.slos if s.service == service.name):
                alerts = [k for k in ("page", "ticket") if getattr(slo.alerting, k).enabled]
                svc.add(
                    f"SLO [green]{escape(slo.name)}[/] {slo.objective:g}% over {slo.window} "
                    f"[dim]{slo.sli.kind} · alerts: {', '.join(alerts) or 'off'}[/]"
                )
            for kind in SOURCE_KINDS:
                for source in getattr(catalog.sources, kind):
                    if source.service == service.name:
                        svc.add(f"source [blue]{kind}[/]:{escape(source.name)}")
            for claim in (c for c in claims.claims if c.service == service.name):
                beaten = claims.outranking(claim)
                lost = (
                    f" [dim]except what more specific claims win: {escape(', '.join(f'{c.pattern} ({c.service})' for c in beaten))}[/]"
                    if beaten
                    else ""
                )
                svc.add(
                    f"claims [blue]{claim.kind}[/] {escape(claim.pattern)} on {escape(claim.source)}{lost}"
                )
            for monitor in (d for d in catalog.drift if d.service == service.name):
                svc.add(f"drift [magenta]{escape(monitor.name)}[/] [dim]share {monitor.drift_share:g}[/]")
    return root
