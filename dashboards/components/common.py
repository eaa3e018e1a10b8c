"""What every component dashboard shares: its uid and folder, the source variable and the health row."""

from __future__ import annotations

from catalog.links import HOME_DASHBOARD_UID, component_dashboard_uid, dashboard_url
from catalog.model import Catalog
from dashboards.home import FOLDER
from dashboards.panels import Grid, Link, Query, stat, timeseries
from dashboards.parts import PREFIX, TITLE, variable
from dashboards.render import Board, Variable
from exporters import names as m

UP_MAPPINGS = ((0, "Down", "red"), (1, "Up", "green"))


def source_variable(kind: str, label: str = "Source") -> Variable:
    """The variable choosing one or more sources of a kind, from its `up` series."""
    name = variable(kind)
    return Variable(
        name, label, "query", f"label_values({m.up(PREFIX[kind])}, source)", include_all=True, multi=True
    )


def selected(kind: str, label: str = "source") -> str:
    """Matchers for the chosen sources of a kind: `source=~"$source"` (or the kind's own variable)."""
    return f'{label}=~"${variable(kind)}"'


def health_row(grid: Grid, kind: str) -> None:
    """`up` and scrape duration of the chosen sources."""
    prefix, sel = PREFIX[kind], selected(kind)
    grid.row("Collection")
    grid.add(stat("Up", Query(f"min({m.up(prefix)}{{{sel}}})", instant=True), mappings=UP_MAPPINGS), 6, 5)
    grid.add(
        timeseries("Scrape duration", [Query(f"{m.scrape_duration(prefix)}{{{sel}}}", "{{source}}")], "s"),
        18,
        5,
    )


def component_board(kind: str, catalog: Catalog, grid: Grid, variables: list[Variable]) -> Board:
    """The component dashboard of `kind`, in the shared folder."""
    del catalog
    home = Link("Platform home", dashboard_url("", HOME_DASHBOARD_UID), uid=HOME_DASHBOARD_UID)
    return Board(
        uid=component_dashboard_uid(kind),
        title=f"Component: {TITLE[kind]}",
        folder=FOLDER,
        description=f"{TITLE[kind]} across the catalog's sources",
        panels=grid.panels,
        tags=["watchkeeper", "component", kind],
        variables=variables,
        links=[home],
    )
