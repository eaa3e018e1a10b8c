"""A dashboard's model (`Board`) and its JSON: grafanalib's output, brought up to Grafana's current schema.

grafanalib 0.7.1 writes `schemaVersion` 12 and keys Grafana dropped long ago (`span`, `rows`, a target's
`query` copy...). `board_json` removes exactly those (an explicit list, so anything else unexpected still
fails the schema test), drops `null`s, sets a modern `schemaVersion` and gives every query datasource as
`{type, uid}`. Output is sorted and indented: an unchanged catalog gives byte-identical files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from grafanalib import core as g

from dashboards.panels import Link

SCHEMA_VERSION = 39
"""Grafana 10.4/11's dashboard schema version: what Grafana would migrate a saved dashboard to."""
DATASOURCE_TYPE = "prometheus"
_LEGACY_DASHBOARD = (
    "__inputs",
    "hideControls",
    "rows",
    "sharedCrosshair",
    "style",
    "gnetId",
    "id",
    "version",
)
_LEGACY_PANEL = ("editable", "error", "height", "minSpan", "span", "dataSource")
_LEGACY_TARGET = ("query", "target", "metric", "step", "intervalFactor", "hide", "interval")
_LEGACY_TABLE = ("color", "columns", "fontSize")


@dataclass
class Variable:
    """A template variable: `query` (a `label_values(...)` query) or `custom` (comma-separated values)."""

    name: str
    label: str
    kind: str
    query: str
    current: str = ""
    include_all: bool = False
    multi: bool = False
    hidden: bool = False


@dataclass
class Board:
    """One dashboard before rendering: where it goes, what it shows and where it links."""

    uid: str
    title: str
    folder: str
    description: str
    panels: list[g.Panel]
    tags: list[str] = field(default_factory=list)
    variables: list[Variable] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    time_from: str = "now-6h"


def _no_nulls(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return {k: v for k, v in pairs if v is not None}


def _plain(dashboard: g.Dashboard) -> dict[str, Any]:
    """grafanalib objects as plain JSON data (what its `DashboardEncoder` does), without `null`s: one pass
    of json's C encoder and decoder, faster than walking the objects in Python."""
    text = json.dumps(dashboard, default=lambda obj: obj.to_json_data())
    data: dict[str, Any] = json.loads(text, object_pairs_hook=_no_nulls)
    return data


def _variable(var: Variable, datasource: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": var.name,
        "label": var.label,
        "type": var.kind,
        "query": var.query,
        "includeAll": var.include_all,
        "multi": var.multi,
        "hide": 2 if var.hidden else 0,
    }
    if var.kind == "query":
        out |= {"datasource": datasource, "refresh": 2, "sort": 1}
    else:
        values = [v for v in var.query.split(",") if v]
        out["options"] = [{"text": v, "value": v, "selected": v == var.current} for v in values]
    if var.current:
        out["current"] = {"text": var.current, "value": var.current}
    elif var.include_all:
        out["current"] = {"text": "All", "value": "$__all"}
    return out


def _thresholds(defaults: dict[str, Any]) -> None:
    """Steps as Grafana saves them: colour and value only, the base step's value `null` (-Infinity)."""
    steps = defaults.get("thresholds", {}).get("steps") or []  # grafanalib's Stat writes "" for none
    defaults["thresholds"] = {
        "mode": "absolute",
        "steps": [
            {"color": s["color"], "value": None if i == 0 else s["value"]} for i, s in enumerate(steps)
        ],
    }


def _panel(panel: dict[str, Any], datasource: dict[str, str]) -> dict[str, Any]:
    for key in _LEGACY_PANEL:
        panel.pop(key, None)
    if panel.get("type") == "row":
        return {k: panel[k] for k in ("collapsed", "gridPos", "id", "panels", "title", "type")}
    if panel.get("type") == "text":
        for key in ("targets", "fieldConfig"):
            panel.pop(key, None)
        return panel
    if panel.get("type") == "table":
        for key in _LEGACY_TABLE:
            panel.pop(key, None)
        panel["fieldConfig"]["defaults"]["mappings"] = panel.pop("mappings", [])
    if not panel.get("repeat"):
        panel.pop("repeatDirection", None)
    _thresholds(panel["fieldConfig"]["defaults"])
    panel["datasource"] = datasource
    for target in panel.get("targets", []):
        for key in _LEGACY_TARGET:
            target.pop(key, None)
        target["datasource"] = datasource
    return panel


def board_json(board: Board, datasource_uid: str) -> dict[str, Any]:
    """The dashboard as Grafana's JSON model (schema version 39), every query on `datasource_uid`."""
    datasource = {"type": DATASOURCE_TYPE, "uid": datasource_uid}
    dashboard = g.Dashboard(
        title=board.title,
        uid=board.uid,
        description=board.description,
        tags=board.tags,
        panels=board.panels,
        editable=False,
        timezone="utc",
        time=g.Time(board.time_from, "now"),
        links=[
            g.DashboardLink(title=link.title, uri=link.url, type="link", keepTime=link.uid is not None)
            for link in board.links
        ],
    )
    data = _plain(dashboard)
    for key in _LEGACY_DASHBOARD:
        data.pop(key, None)
    data["schemaVersion"] = SCHEMA_VERSION
    data["timepicker"] = {"refresh_intervals": data["timepicker"]["refresh_intervals"]}
    data["panels"] = [_panel(p, datasource) for p in data["panels"]]
    data["templating"] = {"list": [_variable(v, datasource) for v in board.variables]}
    data["refresh"] = "1m"
    return dict(data)


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, allow_nan=False)


def dump(data: dict[str, Any]) -> str:
    """Stable text: sorted keys, one top-level key per line and one panel per line (readable diffs, and
    json's fast C encoder instead of its slow indenting one), ASCII only, a final newline."""
    lines = []
    for key in sorted(data):
        value = data[key]
        if key == "panels" and value:
            inner = ",\n".join(f"    {_compact(panel)}" for panel in value)
            lines.append(f"  {_compact(key)}: [\n{inner}\n  ]")
        else:
            lines.append(f"  {_compact(key)}: {_compact(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"
