"""The printable HTML report page, opened in a REAL headless browser (Debian's chromium).

The page comes from the app on the real Prometheus of tests/test_sla_corrections.py (last week's
backfill: `maint` has its outage corrected, `plain` does not). Expected numbers are that module's hand
computations. The screenshot is decoded by the small PNG reader below (zlib + the five PNG filters, a
reference independent of the browser) and must show the chart's exact bar colours over the bars' area.

Screenshot command (also in docs/sla.md):
    chromium --headless --no-sandbox --disable-gpu --user-data-dir=$(mktemp -d) \
        --screenshot=report.png --window-size=1280,1000 file://$PWD/report.html
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.report_html import BURN_LINE, CONSUMED_FILL, REMAINING_FILL
from api.service_state import ServiceSettings, ServiceState
from sla.store.engine import make_engine, resolve_url
from sla.store.migrate import upgrade
from tests import test_sla_corrections as week
from tests.conftest import require_binary
from tests.sla_service import TOKEN

week_prometheus = week.week_prometheus
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HOSTILE = "<script>alert('x')</script> & \"quotes\""
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)
BAR_PIXELS = 480 * 18  # api/report_html.py's BAR_WIDTH x BAR_HEIGHT, typed out


@pytest.fixture(scope="module")
def page(week_prometheus: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("html")
    engine = make_engine(resolve_url(f"sqlite:///{tmp / 'ledger.db'}"))
    upgrade(engine)
    state = ServiceState(
        engine,
        ServiceSettings(SecretStr(TOKEN), prometheus_url=week_prometheus),
        {"shop": "ops"},
        catalog=week.CATALOG,
    )
    api = TestClient(create_app(state), raise_server_exceptions=False)
    # A correction elsewhere in the window (a minute, no bad sample in it) whose reason is hostile HTML.
    start = week.T0 + timedelta(days=1)
    body = {
        "slo": "plain",
        "start": week._iso(start),
        "end": week._iso(start + timedelta(minutes=1)),
        "reason": HOSTILE,
    }
    assert api.post("/api/v1/corrections", json=body, headers=AUTH).status_code == 201
    response = api.get(
        "/api/v1/reports/team/ops", params={"window": "previous-week", "format": "html"}, headers=AUTH
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    as_browser = api.get(
        "/api/v1/reports/team/ops",
        params={"window": "previous-week"},
        headers={**AUTH, "Accept": "text/html"},
    )
    assert as_browser.headers["content-type"].startswith("text/html")
    engine.dispose()
    text: str = response.text
    return text


def test_the_page_holds_the_hand_computed_numbers(page: str) -> None:
    # maint: attainment 1.0, budget 0.001 x 10,000 = 10.0 min, all left.
    # plain, with one more corrected minute (S, S + 1 m] (one good sample, no 5-minute step in it):
    # 60 bad of 10,079 samples, e = 60 / 10,079; covered still 2,016 steps = 10,080 min; consumed
    # e x 10,080 = 60.006 -> 60.0 of 0.001 x 10,079 = 10.079 -> 10.1; left -49.927 -> -49.9;
    # attainment 1 - e = 99.40470% -> 99.405%. The team, weighted by covered minutes:
    # (10,000 x 1 + 10,080 x (1 - e)) / 20,080 = 99.701%.
    for text in ("100.000%", "99.405%", "99.900%", "10.0", "10.1", "60.0", "-49.9", "Exhausted", "Healthy"):
        assert text in page, text
    assert "99.701%" in page
    assert "database upgrade" in page and "previous-week" in page


def test_the_burn_down_follows_the_outage(page: str) -> None:
    # previous-week = 168 h in 48 steps of 3.5 h, points at W0 + 3.5 h x k (k = 1..48), each summing
    # (t - 3.5 h, t]. The outage [T0, T0 + 1 h) with T0 = W0 + 58 h lies in step k = 17 (56 h, 59.5 h]:
    # the team's budget is untouched (100%) for k <= 16, then at its end-of-window figure from k = 17:
    # 1 - 60.006 / (10.0 + 10.079) with plain's consumed 10,080 x 60 / 10,079 = 60.00595:
    # 1 - 60.00595 / 20.079 = -1.98849 -> "-1.9885" (maint's outage is corrected: it adds nothing at the end).
    import re

    points = re.findall(r'data-at="([^"]+)" data-remaining="([^"]+)"', page)
    assert len(points) == 48
    assert points[0][0] == (week.W0 + timedelta(hours=3.5)).isoformat()
    assert points[-1][0] == week.W1.isoformat()
    assert [v for _, v in points] == ["1.0000"] * 16 + ["-1.9885"] * 32
    assert 'id="burndown-line"' in page and 'id="budget-chart"' in page  # the per-SLO bars stay


def test_everything_is_escaped_and_nothing_is_loaded(page: str) -> None:
    assert HOSTILE not in page and "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quotes&quot;" in page
    # Nothing from the network: the only URL is the SVG namespace (the burn-down's and the bars').
    assert page.count("http") == page.count('xmlns="http://www.w3.org/2000/svg"') == 2
    assert " src=" not in page and "<link" not in page


def _png(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, RGB(A) rows) of an 8-bit RGB or RGBA non-interlaced PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line) if bpp == 3 else bytes(v for j, v in enumerate(line) if j % 4 != 3))
        previous = line
    return width, height, rows


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


@pytest.fixture(scope="module")
def chromium() -> Iterator[str]:
    yield require_binary("chromium")


def test_chromium_renders_the_chart_and_the_table(page: str, chromium: str, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    html.write_text(page, encoding="utf-8")
    shot = tmp_path / "report.png"
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--screenshot={shot}",
                "--window-size=1280,1000",
                html.as_uri(),
            ],
            capture_output=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0 and shot.exists(), done.stderr.decode(errors="replace")[-2000:]
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", html.as_uri()],
            capture_output=True,
            check=False,
            timeout=120,
            text=True,
        ).stdout
    # The browser parsed the table: a header row and team, service, two SLO rows.
    table = dom[dom.index('id="slo-table"') :]
    assert table.count("<tr>") == 5 and "99.405%" in table
    width, height, rows = _png(shot)
    if (keep := os.environ.get("WATCHKEEPER_KEEP_SCREENSHOT")) is not None:
        shutil.copy(shot, keep)
    assert (width, height) == (1280, 1000)
    pixels = Counter(row[i : i + 3] for row in rows for i in range(0, len(row), 3))
    assert len(pixels) > 50, "the screenshot is (nearly) blank"
    white = pixels[bytes((255, 255, 255))]
    assert white < 0.97 * width * height
    # plain's bar: all spent (overspent), maint's: all left; each 480 x 18 px of its exact colour
    # (antialiasing may take the edge pixels).
    assert pixels[bytes(_rgb(CONSUMED_FILL))] >= 0.9 * BAR_PIXELS
    assert pixels[bytes(_rgb(REMAINING_FILL))] >= 0.9 * BAR_PIXELS
    # The burn-down line (3 px wide): 100% for 16/48 of the 940 px plot, then below 0% for the rest:
    # at least two full rows of its exact colour along ~920 px of horizontal runs.
    assert pixels[bytes(_rgb(BURN_LINE))] >= 2 * 900
