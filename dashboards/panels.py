"""Small panel helpers on top of grafanalib, and a grid that places panels left to right in rows of 24.

Every builder module makes its panels here, so units, thresholds, links and layout look the same on every
dashboard. Queries are plain PromQL strings built from the names modules (`dashboards/promql.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from grafanalib import core as g

GRID_WIDTH = 24
"""Grafana's grid is 24 columns wide."""


@dataclass(frozen=True)
class Query:
    """One PromQL target: `instant` queries feed tables and stats; `legend` names each series. In a table,
    `column` names the query's value column, shown with its own `unit` and value `mappings`."""

    expr: str
    legend: str = ""
    instant: bool = False
    column: str = ""
    unit: str = ""
    mappings: tuple[tuple[int, str, str], ...] = ()


@dataclass(frozen=True)
class Line:
    """A threshold drawn as a line (burn-rate page and ticket thresholds, an objective)."""

    value: float
    color: str
    label: str


@dataclass(frozen=True)
class Link:
    """A panel or dashboard link: to another generated dashboard (`uid`, optional `panel` id) or a URL."""

    title: str
    url: str
    uid: str | None = None
    panel: int | None = None


def _targets(queries: Sequence[Query]) -> list[g.Target]:
    return [
        g.Target(
            expr=q.expr,
            legendFormat=q.legend,
            refId=chr(ord("A") + i),
            instant=q.instant,
            format="table" if q.instant else "time_series",
        )
        for i, q in enumerate(queries)
    ]


def _links(links: Sequence[Link]) -> list[dict[str, object]]:
    return [{"title": link.title, "url": link.url, "targetBlank": link.uid is None} for link in links]


def timeseries(
    title: str,
    queries: Sequence[Query],
    unit: str = "short",
    lines: Sequence[Line] = (),
    description: str = "",
    links: Sequence[Link] = (),
    time_from: str | None = None,
    min_value: float | None = None,
) -> g.Panel:
    """A time series panel; `lines` become thresholds drawn as dashed lines."""
    ordered = sorted(lines, key=lambda line: line.value)
    steps = [g.Threshold("transparent", 0, 0.0)] if lines else []
    steps += [g.Threshold(line.color, i + 1, float(line.value)) for i, line in enumerate(ordered)]
    return g.TimeSeries(
        title=title,
        description=description or None,
        targets=_targets(queries),
        unit=unit,
        thresholds=steps,
        thresholdType="absolute",
        thresholdsStyleMode="dashed" if lines else "off",
        links=_links(links),
        timeFrom=time_from,
        valueMin=min_value,
        legendDisplayMode="table" if lines else "list",
    )


def stat(
    title: str,
    query: Query,
    unit: str = "short",
    steps: Sequence[tuple[float, str]] = (),
    mappings: Sequence[tuple[int, str, str]] = (),
    description: str = "",
    links: Sequence[Link] = (),
    base: str = "green",
) -> g.Panel:
    """A single-value panel coloured `base`, then by `steps` (value, colour; from that value up), and with
    `mappings` (value, text, colour)."""
    thresholds = [g.Threshold(base, 0, 0.0)] + [
        g.Threshold(color, i + 1, float(value)) for i, (value, color) in enumerate(sorted(steps))
    ]
    return g.Stat(
        title=title,
        description=description or None,
        targets=_targets([query]),
        format=unit,
        thresholds=thresholds,
        mappings=[_value_map(m) for m in mappings],
        graphMode="none",
        reduceCalc="lastNotNull",
        links=_links(links),
    )


def table(
    title: str,
    queries: Sequence[Query],
    unit: str = "short",
    mappings: Sequence[tuple[int, str, str]] = (),
    description: str = "",
    hidden: Sequence[str] = ("Time",),
    links: Sequence[Link] = (),
) -> g.Panel:
    """A table of instant queries, merged on their labels; `hidden` columns are left out. `unit` and
    `mappings` apply to every column; a query's own `column`, `unit` and `mappings` to its value column."""
    merge: list[dict[str, object]] = [{"id": "merge", "options": {}}] if len(queries) > 1 else []
    rename = {value_column(queries, i): q.column for i, q in enumerate(queries) if q.column}
    options: dict[str, object] = {"excludeByName": {name: True for name in hidden}}
    if rename:
        options["renameByName"] = rename
    overrides = [_override(q.column or value_column(queries, i), q) for i, q in enumerate(queries)]
    return g.Table(
        title=title,
        description=description or None,
        targets=_targets(queries),
        unit=unit,
        mappings=[_value_map(m) for m in mappings],
        transformations=[*merge, {"id": "organize", "options": options}],
        overrides=[o for o in overrides if o["properties"]],
        links=_links(links),
    )


def value_column(queries: Sequence[Query], index: int) -> str:
    """The name Grafana gives query `index`'s value column in a table: `Value`, or `Value #A`, `Value #B`
    when several queries are merged."""
    return "Value" if len(queries) == 1 else f"Value #{chr(ord('A') + index)}"


def _override(name: str, query: Query) -> dict[str, object]:
    """Field overrides of one value column (matched by its name after the organize transformation)."""
    properties: list[dict[str, object]] = []
    if query.unit:
        properties.append({"id": "unit", "value": query.unit})
    if query.mappings:
        properties.append({"id": "mappings", "value": [_value_map(m) for m in query.mappings]})
    return {"matcher": {"id": "byName", "options": name}, "properties": properties}


def text(title: str, markdown: str) -> g.Panel:
    """A markdown panel (links to other dashboards and runbooks)."""
    return g.Text(title=title, content=markdown, mode="markdown")


def _value_map(mapping: tuple[int, str, str]) -> dict[str, object]:
    value, label, color = mapping
    return {"type": "value", "options": {str(value): {"text": label, "color": color, "index": value}}}


@dataclass
class Grid:
    """Places panels left to right, wrapping at 24 columns; `row` starts a titled full-width row."""

    panels: list[g.Panel] = field(default_factory=list)
    x: int = 0
    y: int = 0
    height: int = 0

    def add(self, panel: g.Panel, width: int = 12, height: int = 8) -> int:
        """Place `panel`; return its panel id (1, 2, ... in order: stable for links)."""
        if self.x + width > GRID_WIDTH:
            self._newline()
        panel_id = len(self.panels) + 1
        panel.gridPos = g.GridPos(h=height, w=width, x=self.x, y=self.y)
        panel.id = panel_id
        self.panels.append(panel)
        self.x += width
        self.height = max(self.height, height)
        return panel_id

    def row(self, title: str) -> int:
        self._newline()
        panel_id = self.add(g.RowPanel(title=title), GRID_WIDTH, 1)
        self._newline()
        return panel_id

    def _newline(self) -> None:
        if self.x:
            self.y += self.height
        self.x, self.height = 0, 0


def markdown_links(links: Sequence[Link]) -> str:
    """A markdown list of links: targets percent-encode what ends or splits a markdown link target
    (spaces, parentheses, angle brackets), titles escape brackets."""
    return "\n".join(f"- [{_md_title(link.title)}]({md_target(link.url)})" for link in links)


_TARGET_ESCAPES = {" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E", "\\": "%5C"}
_TITLE_ESCAPES = {"\\": "\\\\", "[": "\\[", "]": "\\]"}


def md_target(url: str) -> str:
    """`url` as a markdown link target."""
    return "".join(_TARGET_ESCAPES.get(c, c) for c in url)


def _md_title(title: str) -> str:
    return "".join(_TITLE_ESCAPES.get(c, c) for c in title)
