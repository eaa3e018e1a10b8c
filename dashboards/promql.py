"""PromQL the dashboards share: SLO status, budgets, burn rates and alerts, joined to their owners.

Every metric and recording-rule name comes from the names modules; label values are quoted with
`rules.promql.quote`. A team is selected by name (each team has its own overview), never by regex.
"""

from __future__ import annotations

from dashboards.panels import Query
from rules import names as r
from rules.promql import number, quote

ALERTS = "ALERTS"
"""Prometheus' own series of pending and firing alerts (not a Watchkeeper name)."""
STATUS_TEXT = {
    0: ("Healthy", "green"),
    1: ("At risk", "orange"),
    2: ("Exhausted", "red"),
    3: ("No data", "blue"),
}
"""An SLO's status, as the status queries give it and the panels' value mappings show it."""
AT_RISK_REMAINING = 0.25
"""Below this share of its error budget left, an SLO is at risk (as it is while a burn alert fires)."""
STATUS_MAPPINGS = tuple((value, text, color) for value, (text, color) in STATUS_TEXT.items())
_KEY = "slo, service"


def info(team: str | None = None, slo: str | None = None) -> str:
    """The SLO info series of one team, of one SLO, or (neither given) of every SLO."""
    if slo is not None:
        return f"{r.SLO_INFO}{{slo={quote(slo)}}}"
    return f"{r.SLO_INFO}{{team={quote(team)}}}" if team is not None else r.SLO_INFO


def owned(expr: str, team: str | None = None, slo: str | None = None) -> str:
    """`expr` (one series per SLO) restricted to one team's SLOs (or one SLO, or none), with `team`."""
    return f"({expr}) * on({_KEY}) group_left(team) group by ({_KEY}, team) ({info(team, slo)})"


def per_slo(metric: str, team: str | None = None) -> str:
    """A per-SLO recording, one series per SLO (its extra catalog labels dropped), with its team."""
    return owned(f"max by ({_KEY}) ({metric})", team)


def status(
    team: str | None = None, slo: str | None = None, remaining: str = r.PERIOD_BUDGET_REMAINING
) -> str:
    """Per SLO: 3 no data, 2 budget exhausted, 1 at risk (budget low or a burn alert firing), 0 healthy,
    judged on the `remaining` budget recording (a calendar SLO's own)."""
    chain = " or ".join(
        [
            f"(group by ({_KEY}) ({remaining} <= 0) * 2)",
            f"(group by ({_KEY}) ({remaining} < {number(AT_RISK_REMAINING)}))",
            f"(group by ({_KEY}) ({firing_burn()}))",
            f"(group by ({_KEY}) ({remaining}) * 0)",
            f"(group by ({_KEY}) ({info(team, slo)}) * 3)",
        ]
    )
    return owned(chain, team, slo)


def firing_burn(slo: str | None = None) -> str:
    """Firing burn-rate alerts (page or ticket: they carry a `burn` label), of one SLO or of all."""
    extra = f", slo={quote(slo)}" if slo is not None else ""
    return f'{ALERTS}{{alertstate="firing", burn!=""{extra}}}'


def firing(matchers: str = "") -> str:
    """Firing alerts whose labels match `matchers` (PromQL matchers without braces, already quoted)."""
    extra = f", {matchers}" if matchers else ""
    return f'{ALERTS}{{alertstate="firing"{extra}}}'


def firing_count(matchers: str, by: str = "") -> str:
    """How many alerts fire (0 when none does, so the panel always has a value)."""
    grouping = f" by ({by})" if by else ""
    zero = "vector(0)" if not by else f"0 * count{grouping} ({info()})"
    return f"count{grouping} ({firing(matchers)}) or {zero}"


def status_and_budget(team: str | None = None) -> list[Query]:
    """A table's queries: each SLO's status (shown as text) and the share of its budget left."""
    return [
        Query(status(team), instant=True, column="Status", mappings=STATUS_MAPPINGS),
        Query(
            per_slo(r.PERIOD_BUDGET_REMAINING, team),
            instant=True,
            column="Budget remaining",
            unit="percentunit",
        ),
    ]
