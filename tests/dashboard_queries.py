"""Every PromQL expression of a generated dashboard, with its template variables substituted as Grafana
would, ready to run against a real Prometheus (tests/test_dashboards_prometheus.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LABEL_VALUES = re.compile(r"label_values\((?P<selector>.*),\s*(?P<label>[a-zA-Z_][a-zA-Z0-9_]*)\)", re.S)


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    expr: str
    instant: bool
    index: int = 0
    """The query's place among its panel's targets."""


def label_values_query(query: str) -> tuple[str, str]:
    """`label_values(SELECTOR, LABEL)` as the instant query giving the same values, and the label."""
    match = LABEL_VALUES.fullmatch(query.strip())
    assert match is not None, f"not a label_values() query: {query}"
    return f"group by ({match['label']}) ({match['selector']})", match["label"]


def regex_of(values: list[str]) -> str:
    """A multi-value (or All) selection as Grafana formats it for Prometheus: `(a|b)`, regex-escaped."""
    return "(" + "|".join(re.escape(v).replace("\\", "\\\\") for v in values) + ")"


def substitute(text: str, values: dict[str, str]) -> str:
    for name in sorted(values, key=len, reverse=True):
        text = text.replace("${" + name + "}", values[name]).replace("$" + name, values[name])
    return text


def choices(dashboard: dict[str, Any]) -> list[dict[str, str]]:
    """The selections to try: each option of a single-value custom variable (the team overview's `team`),
    all at once for the others; one empty selection when there is no such variable."""
    tried: list[dict[str, str]] = [{}]
    for var in dashboard["templating"]["list"]:
        if var["type"] == "custom" and not var["multi"]:
            tried = [{**t, var["name"]: o["value"]} for t in tried for o in var["options"]]
    return tried


def variable_values(
    dashboard: dict[str, Any],
    run: Callable[[str], list[dict[str, Any]]],
    chosen: dict[str, str] | None = None,
) -> tuple[dict[str, str], list[PanelQuery]]:
    """Each variable's substitution (`chosen`, else its current value, else All), running query variables'
    queries with `run` (an instant query returning the result vector), in order, as Grafana resolves
    chained ones."""
    values: dict[str, str] = {}
    queries = []
    for var in dashboard["templating"]["list"]:
        if var["name"] in (chosen or {}):
            values[var["name"]] = (chosen or {})[var["name"]]
            continue
        if var["type"] == "custom":
            current = var.get("current", {}).get("value")
            options = [o["value"] for o in var["options"]]
            values[var["name"]] = current if current and current != "$__all" else regex_of(options)
            continue
        expr, label = label_values_query(substitute(var["query"], values))
        queries.append(PanelQuery(dashboard["uid"], f"variable {var['name']}", expr, True))
        found = sorted({series["metric"].get(label, "") for series in run(expr)} - {""})
        values[var["name"]] = regex_of(found) if found else "(__none__)"
    return values, queries


def panel_queries(dashboard: dict[str, Any], values: dict[str, str]) -> list[PanelQuery]:
    """Every target of every panel, variables substituted."""
    out = []
    for panel in dashboard["panels"]:
        for i, target in enumerate(panel.get("targets", [])):
            expr = substitute(target["expr"], values)
            out.append(PanelQuery(dashboard["uid"], panel["title"], expr, bool(target.get("instant")), i))
    return out
