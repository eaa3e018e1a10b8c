"""Draw a dashboard's panel layout (titles, types, positions and sizes from its `gridPos`) as an SVG image.

No Grafana server runs here, so this is the visual check of what a dashboard holds; docs/dashboards.md
shows the example catalog's platform team overview. Regenerate it with:

    .venv/bin/python -m dashboards.layout_image [CATALOG] [--team platform] [--out docs/images/...svg]
"""

from __future__ import annotations

import argparse
import json
from html import escape
from pathlib import Path
from typing import Any

COLUMN, ROW_HEIGHT, MARGIN = 40, 30, 4
"""Pixels per grid column (24 columns), per grid row (Grafana's 30 px), and between panels."""
COLORS = {
    "row": "#d9dde3",
    "stat": "#e3f2e1",
    "timeseries": "#e1ecf7",
    "table": "#f7f0de",
    "text": "#efe4f4",
}
DEFAULT_OUT = Path("docs/images/team-overview-layout.svg")


def layout_svg(dashboard: dict[str, Any]) -> str:
    """The panels of `dashboard` (Grafana JSON) as boxes on the 24-column grid, with title and type."""
    panels = dashboard["panels"]
    height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels) * ROW_HEIGHT + 40
    width = 24 * COLUMN
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="8" y="24" font-size="16" font-weight="bold">{escape(dashboard["title"])} '
        f"({escape(dashboard['uid'])})</text>",
    ]
    for panel in panels:
        pos = panel["gridPos"]
        x, y = pos["x"] * COLUMN + MARGIN / 2, pos["y"] * ROW_HEIGHT + 36 + MARGIN / 2
        w, h = pos["w"] * COLUMN - MARGIN, pos["h"] * ROW_HEIGHT - MARGIN
        kind = panel["type"]
        fill = COLORS.get(kind, "#eeeeee")
        out.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="3" fill="{fill}" stroke="#8a94a3"/>')
        title = escape(panel.get("title", ""))
        if kind == "row":
            out.append(f'<text x="{x + 6}" y="{y + h - 8}" font-size="13" font-weight="bold">{title}</text>')
            continue
        out.append(f'<text x="{x + 6}" y="{y + 17}" font-size="12" font-weight="bold">{title}</text>')
        out.append(
            f'<text x="{x + 6}" y="{y + 32}" font-size="11" fill="#555555">{escape(kind)} · '
            f"{pos['w']}x{pos['h']} at ({pos['x']}, {pos['y']})</text>"
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    from catalog import load_catalog
    from catalog.links import team_dashboard_uid
    from dashboards.generate import dashboard_files

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("catalog", nargs="?", default="examples/catalog", type=Path)
    parser.add_argument("--team", default="platform")
    parser.add_argument("--out", default=DEFAULT_OUT, type=Path)
    args = parser.parse_args()
    files = dashboard_files(load_catalog(args.catalog).catalog)
    dashboard = json.loads(files[f"{args.team}/{team_dashboard_uid(args.team)}.json"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(layout_svg(dashboard), encoding="utf-8")
    print(f"wrote {args.out}")  # noqa: T201


if __name__ == "__main__":
    main()
