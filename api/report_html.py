"""A report as one printable HTML page: a summary, an inline SVG chart of each SLO's error budget
(consumed and remaining) and attainment, the table of rows, and the corrections and breaches applied.
Server-side only: no script, no font, nothing loaded from anywhere. Every text is escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING

from api.report_models import ReportOut, ReportRow

if TYPE_CHECKING:
    from sla.burndown import Point

COLOURS = {"Healthy": "#1a7f37", "At risk": "#b35900", "Exhausted": "#c62828", "No data": "#6e7781"}
REMAINING_FILL = "#2e9e4f"
"""Chart colours, exact so a screenshot test can find them: the budget left, the budget spent."""
CONSUMED_FILL = "#d93025"
NO_DATA_FILL = "#c8ccd1"
CHART_WIDTH, LABEL_WIDTH, BAR_WIDTH, BAR_HEIGHT, ROW_HEIGHT = 1040, 220, 480, 18, 30


def pct(value: float | None, digits: int = 3) -> str:
    """0.99405 -> '99.405%'; None -> '-'."""
    return "-" if value is None else f"{value * 100:.{digits}f}%"


def num(value: float | None, fmt: str = ".1f") -> str:
    return "-" if value is None else format(value, fmt)


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def chart(rows: list[ReportRow]) -> str:
    """One bar per SLO: the budget total's width, red for what is spent, green for what is left; grey
    when there is no data. Attainment against objective written beside it."""
    slos = [r for r in rows if r.level == "slo"]
    height = 40 + ROW_HEIGHT * max(len(slos), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" id="budget-chart" width="{CHART_WIDTH}" '
        f'height="{height}" viewBox="0 0 {CHART_WIDTH} {height}" font-family="sans-serif" font-size="13">',
        "<title>Error budget per SLO: spent (red) and remaining (green)</title>",
        f'<text x="{LABEL_WIDTH}" y="20" fill="#333">error budget: spent | remaining</text>',
    ]
    for i, r in enumerate(slos):
        y = 32 + i * ROW_HEIGHT
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 14}" text-anchor="end">{_e(r.name)}</text>')
        if r.attainment is None:
            parts.append(
                f'<rect class="nodata" x="{LABEL_WIDTH}" y="{y}" width="{BAR_WIDTH}" height="{BAR_HEIGHT}" '
                f'fill="{NO_DATA_FILL}"/>'
            )
            label = "no data"
        else:
            spent = min(max(r.budget_consumed_ratio, 0.0), 1.0)
            spent_w = round(BAR_WIDTH * spent, 1)
            parts.append(
                f'<rect class="spent" x="{LABEL_WIDTH}" y="{y}" width="{spent_w}" height="{BAR_HEIGHT}" '
                f'fill="{CONSUMED_FILL}"><title>{_e(r.name)}: {pct(r.budget_consumed_ratio, 1)} of the '
                "budget spent</title></rect>"
            )
            parts.append(
                f'<rect class="left" x="{LABEL_WIDTH + spent_w}" y="{y}" width="{round(BAR_WIDTH - spent_w, 1)}" '
                f'height="{BAR_HEIGHT}" fill="{REMAINING_FILL}"/>'
            )
            label = f"{pct(r.attainment)} of {pct(r.objective)}, {pct(r.budget_remaining_ratio, 1)} left"
        parts.append(f'<text x="{LABEL_WIDTH + BAR_WIDTH + 8}" y="{y + 14}">{_e(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


BURN_LINE = "#0b5cad"
"""The burn-down line's colour (exact, for the screenshot test)."""
BURN_WIDTH, BURN_HEIGHT, BURN_LEFT, BURN_TOP, BURN_PLOT_W, BURN_PLOT_H = 1040, 240, 60, 16, 940, 190


def burndown_chart(points: list[Point] | None, why: str = "") -> str:
    """The share of the budget left over the window: a line from 100% (window start) to what the report
    says at its end; the axis spans 100% to 0%, or lower when the budget is overspent. Each point also
    carries its time and value as data attributes."""
    if not points:
        reason = why or "no data in the window"
        return f"<p id=burndown-missing>No burn-down: {_e(reason)}.</p>"
    values = [1.0, *(p.remaining_ratio for p in points)]
    low = min(0.0, *values)
    span = 1.0 - low or 1.0
    t0 = points[0].at.timestamp() - (
        points[1].at.timestamp() - points[0].at.timestamp() if len(points) > 1 else 1
    )
    t_span = (points[-1].at.timestamp() - t0) or 1.0

    def xy(t: float, v: float) -> str:
        x = BURN_LEFT + (t - t0) / t_span * BURN_PLOT_W
        y = BURN_TOP + (1.0 - v) / span * BURN_PLOT_H
        return f"{x:.1f},{y:.1f}"

    coords = [xy(t0, 1.0), *(xy(p.at.timestamp(), p.remaining_ratio) for p in points)]
    zero_y = BURN_TOP + 1.0 / span * BURN_PLOT_H
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" id="burndown-chart" width="{BURN_WIDTH}" '
        f'height="{BURN_HEIGHT}" viewBox="0 0 {BURN_WIDTH} {BURN_HEIGHT}" font-family="sans-serif" '
        'font-size="12">',
        "<title>Error budget left over the window (shape from the uncorrected series, ending on the "
        "report's figure)</title>",
        f'<line x1="{BURN_LEFT}" y1="{BURN_TOP}" x2="{BURN_LEFT + BURN_PLOT_W}" y2="{BURN_TOP}" stroke="#d0d7de"/>',
        f'<line x1="{BURN_LEFT}" y1="{zero_y:.1f}" x2="{BURN_LEFT + BURN_PLOT_W}" y2="{zero_y:.1f}" '
        'stroke="#57606a"/>',
        f'<text x="{BURN_LEFT - 6}" y="{BURN_TOP + 4}" text-anchor="end">100%</text>',
        f'<text x="{BURN_LEFT - 6}" y="{zero_y + 4:.1f}" text-anchor="end">0%</text>',
        f'<polyline id="burndown-line" fill="none" stroke="{BURN_LINE}" stroke-width="3" '
        f'points="{" ".join(coords)}"/>',
    ]
    for p in points:
        parts.append(
            f'<circle class="burn-point" cx="{xy(p.at.timestamp(), p.remaining_ratio).split(",")[0]}" '
            f'cy="{xy(p.at.timestamp(), p.remaining_ratio).split(",")[1]}" r="2" fill="{BURN_LINE}" '
            f'data-at="{_e(p.at.isoformat())}" data-remaining="{p.remaining_ratio:.4f}"/>'
        )
    start, end = datetime.fromtimestamp(t0, UTC), points[-1].at
    parts.append(
        f'<text x="{BURN_LEFT}" y="{BURN_HEIGHT - 8}">{_e(start.isoformat())}</text>'
        f'<text x="{BURN_LEFT + BURN_PLOT_W}" y="{BURN_HEIGHT - 8}" text-anchor="end">{_e(end.isoformat())}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


CSS = """
body { font-family: sans-serif; margin: 24px; color: #1f2328; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 24px 0 8px; }
.meta { color: #57606a; margin-bottom: 16px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: right; }
th { background: #f6f8fa; } td.name, th.name, td.level { text-align: left; }
.status { font-weight: bold; }
@media print { body { margin: 0; } }
"""


def _table(rows: list[ReportRow]) -> str:
    head = (
        "level", "name", "objective", "attainment", "budget (min)", "spent (min)", "left (min)", "left",
        "burn 1h", "burn 6h", "exhausted in (h)", "excluded (min)", "status", "breaches",
    )  # fmt: skip
    out = ["<table id='slo-table'><thead><tr>"]
    out += [f"<th{' class=name' if h in {'level', 'name'} else ''}>{_e(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for r in rows:
        hours = None if r.minutes_to_exhaustion is None else r.minutes_to_exhaustion / 60
        cells = [
            f"<td class=level>{_e(r.level)}</td>",
            f"<td class=name>{_e(r.name)}</td>",
            *(
                f"<td>{_e(v)}</td>"
                for v in (
                    pct(r.objective),
                    pct(r.attainment),
                    num(r.budget_total_minutes),
                    num(r.budget_consumed_minutes),
                    num(r.budget_remaining_minutes),
                    pct(r.budget_remaining_ratio, 1),
                    num(r.burn_rate_1h, ".2f"),
                    num(r.burn_rate_6h, ".2f"),
                    num(hours),
                    num(r.excluded_minutes),
                )
            ),
            f"<td class=status style='color:{COLOURS[r.status.value]}'>{_e(r.status.value)}</td>",
            f"<td>{r.breach_count}</td>",
        ]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _lists(report: ReportOut) -> str:
    top = report.rows[0]
    out = ["<h2>Corrections (planned maintenance, not counted)</h2>"]
    if top.corrections:
        out.append("<ul>")
        for c in top.corrections:
            out.append(
                f"<li>{_e(c.scope)} {_e(c.name)}: {_e(c.start.isoformat())} to {_e(c.end.isoformat())}, "
                f"{_e(c.reason)} ({_e(c.source)})</li>"
            )
        out.append("</ul>")
    else:
        out.append("<p>None.</p>")
    out.append("<h2>Breaches</h2>")
    if top.breaches:
        out.append("<ul>")
        for b in top.breaches:
            end = "still firing" if b.ends_at is None else f"to {b.ends_at.isoformat()}"
            minutes = "" if b.duration_seconds is None else f" ({b.duration_seconds / 60:.0f} min)"
            out.append(
                f"<li>{_e(b.alertname)} {_e(b.slo or '')}: {_e(b.starts_at.isoformat())} {_e(end)}{_e(minutes)}</li>"
            )
        out.append("</ul>")
    else:
        out.append("<p>None.</p>")
    return "".join(out)


def render(report: ReportOut, burndown: list[Point] | None = None, why: str = "") -> str:
    """The whole page; `burndown` (sla/burndown.py) drawn above the bars, else `why` it is missing."""
    w, top = report.window, report.rows[0]
    title = f"SLA report: {report.level} {report.name}"
    return "".join(
        [
            "<!doctype html><html lang=en><head><meta charset=utf-8>",
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
            f"<h1>{_e(title)}</h1>",
            f"<div class=meta>window {_e(w.name)}: {_e(w.start.isoformat())} to {_e(w.end.isoformat())}; "
            f"generated {_e(report.generated_at.isoformat())}</div>",
            f"<p id=summary>Status <span class=status style='color:{COLOURS[top.status.value]}'>"
            f"{_e(top.status.value)}</span>: attainment {_e(pct(top.attainment))} against "
            f"{_e(pct(top.objective))}; {_e(num(top.budget_remaining_minutes))} of "
            f"{_e(num(top.budget_total_minutes))} budget minutes left.</p>",
            "<h2>Error budget left over the window</h2>",
            burndown_chart(burndown, why),
            "<h2>Error budget per SLO</h2>",
            chart(report.rows),
            "<h2>SLOs</h2>",
            _table(report.rows),
            _lists(report),
            "</body></html>",
        ]
    )
