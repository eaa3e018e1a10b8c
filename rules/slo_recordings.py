"""SLO recording rules: SLI event rates, window error ratios, calendar ratios and budget metadata."""

from __future__ import annotations

from catalog.durations import Duration
from catalog.model import Catalog
from catalog.model.slos import SLO
from rules import names
from rules.groups import Rule, RuleGroup
from rules.promql import matchers, number
from rules.sli import sli_expressions
from rules.windows import sli_windows

# For the calendar ratio: a UTC period index of the hour tile ending at `t` (so 00:00 belongs to the
# previous period), compared with the index at the evaluation time (`@ end()`).
_CALENDAR = {
    "month": ("31d", "month({t} - 1)"),
    "week": ("7d", "floor(({t} - 1 - 345600) / 604800)"),  # ISO weeks start Monday; 1970-01-01 was a Thursday
    "quarter": ("92d", "floor((month({t} - 1) - 1) / 3)"),
}


def slo_labels(slo: SLO) -> dict[str, str]:
    """The identity of every SLO series: stable when ownership changes (owners live in SLO_INFO)."""
    return {**slo.labels, "slo": slo.name, "service": slo.service}


def selector(slo: SLO) -> str:
    return matchers({"slo": slo.name, "service": slo.service})


def sli_group(slo: SLO) -> RuleGroup:
    """Recorded 5m totals, then every window's error ratio chained from them (no raw long ranges)."""
    expr = sli_expressions(slo)
    labels = slo_labels(slo)
    sel = selector(slo)
    errors5m, total5m = names.SLI_ERRORS_RATE5M, names.SLI_TOTAL_RATE5M
    note = f"{expr.note}\n" if expr.note else ""
    rules = [
        # An absent error series (no 5xx yet) would hide the whole SLO: fall back to 0 x total. Where the
        # total is absent too (its input series are missing), both stay absent: no data, never 0% errors.
        Rule(record=errors5m, expr=f"{note}({expr.errors})\nor\n(0 * ({expr.total}))", labels=labels),
        Rule(record=total5m, expr=f"{note}{expr.total}", labels=labels),
        Rule(record=names.SLI_TOTAL_RATE1H, expr=f"avg_over_time({total5m}{sel}[1h])", labels=labels),
        Rule(
            record=names.sli_error_ratio(Duration.parse("5m")),
            expr=f"{errors5m}{sel}\n/\n{total5m}{sel}",
            labels=labels,
        ),
    ]
    period = slo.window.period
    for window in [w for w in sli_windows(period) if str(w) != "5m"] + [period]:
        rules.append(
            Rule(
                record=names.sli_error_ratio(window),
                expr=f"sum_over_time({errors5m}{sel}[{window}])\n/\nsum_over_time({total5m}{sel}[{window}])",
                labels=labels,
            )
        )
    return RuleGroup(f"watchkeeper-slo-sli-{slo.name}", _dedupe(rules))


def _dedupe(rules: list[Rule]) -> list[Rule]:
    seen: set[str | None] = set()
    out = []
    for rule in rules:
        if rule.record not in seen:
            seen.add(rule.record)
            out.append(rule)
    return out


def meta_group(slo: SLO, catalog: Catalog) -> RuleGroup:
    """Objective, budget, burn rates, budget remaining, the calendar ratio and the info series."""
    labels = slo_labels(slo)
    sel = selector(slo)
    period = slo.window.period
    service = catalog.service(slo.service)
    burn = f"/ on(slo, service) group_left\n{names.ERROR_BUDGET}{sel}"
    rules = [
        Rule(record=names.OBJECTIVE, expr=f"vector({number(slo.target_ratio)})", labels=labels),
        Rule(record=names.ERROR_BUDGET, expr=f"vector({number(slo.error_budget_ratio)})", labels=labels),
        Rule(record=names.PERIOD_DAYS, expr=f"vector({number(period.seconds / 86400)})", labels=labels),
        Rule(
            record=names.CURRENT_BURN_RATE,
            expr=f"{names.sli_error_ratio(Duration.parse('5m'))}{sel}\n{burn}",
            labels=labels,
        ),
        Rule(
            record=names.PERIOD_BURN_RATE, expr=f"{names.sli_error_ratio(period)}{sel}\n{burn}", labels=labels
        ),
        Rule(record=names.PERIOD_BUDGET_REMAINING, expr=f"1 - {names.PERIOD_BURN_RATE}{sel}", labels=labels),
    ]
    if slo.window.calendar is not None:
        rules += _calendar_rules(slo, sel, labels)
    info = {
        **labels,
        "team": service.team,
        "tier": service.tier.value,
        "objective": f"{slo.objective:g}",
        "window": str(slo.window),
        "sli": slo.sli.kind,
    }
    rules.append(Rule(record=names.SLO_INFO, expr="vector(1)", labels=info))
    return RuleGroup(f"watchkeeper-slo-meta-{slo.name}", rules)


def _calendar_rules(slo: SLO, sel: str, labels: dict[str, str]) -> list[Rule]:
    """Error ratio since the calendar period began, from hourly tiles of the recorded 5m rates."""
    assert slo.window.calendar is not None
    span, index = _CALENDAR[slo.window.calendar]

    def to_date(series: str) -> str:
        hourly = f"avg_over_time({series}{sel}[1h])"
        same_period = f"{index.format(t=f'timestamp({hourly})')} == on() {index.format(t=f'timestamp({series}{sel} @ end())')}"
        return f"sum_over_time(({hourly} and on() ({same_period}))[{span}:1h])"

    ratio = f"{to_date(names.SLI_ERRORS_RATE5M)}\n/\n{to_date(names.SLI_TOTAL_RATE5M)}"
    remaining = (
        f"1 - ({names.CALENDAR_ERROR_RATIO}{sel}\n/ on(slo, service) group_left\n{names.ERROR_BUDGET}{sel})"
    )
    return [
        Rule(
            record=names.CALENDAR_ERROR_RATIO,
            expr=ratio,
            labels={**labels, "calendar": str(slo.window.calendar)},
        ),
        Rule(record=names.CALENDAR_BUDGET_REMAINING, expr=remaining, labels=labels),
    ]
