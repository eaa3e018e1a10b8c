"""Report numbers from a REAL Prometheus: 5m recordings with known error ratios backfilled with
`promtool tsdb create-blocks-from openmetrics` (Oct 28 to now, one sample a minute at :30), the generated
rules loaded (they record the 1h and 6h ratios live), every field compared with a hand computation.

The reference sums below are plain loops over the samples this test wrote (Prometheus' closed range
[end - range, end]); the comments give the closed forms for the main figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from catalog.durations import Duration
from catalog.model import Catalog
from rules import names
from rules.generate import generate_rules
from rules.render import write_rules
from sla.queries import connect
from sla.report import Report, Row
from sla.report_math import Status
from sla.report_run import make_report
from sla.report_windows import report_window
from tests.conftest import require_binary
from tests.prometheus_stack import backfill, get_json, prometheus, wait_for

START = int(datetime(2026, 10, 28, tzinfo=UTC).timestamp()) + 30
NOV1 = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
RATE = 10.0  # events per second, every SLO

CATALOG = Catalog.model_validate(
    {
        "teams": [
            {"name": "payments", "owners": ["p@example.com"]},
            {"name": "search", "owners": ["s@x.io"]},
        ],
        "services": [
            {"name": "checkout", "team": "payments", "tier": "high"},
            {"name": "finder", "team": "search", "tier": "high"},
        ],
        "slos": [
            {
                "name": f"{n}",
                "service": svc,
                "objective": obj,
                "sli": {
                    "events": {
                        "errors": f'sum(rate(raw_{n.replace("-", "_")}_total{{code="500"}}[{{{{window}}}}]))',
                        "total": f"sum(rate(raw_{n.replace('-', '_')}_total[{{{{window}}}}]))",
                    }
                },
            }
            for n, svc, obj in (
                ("pay", "checkout", 99.9),
                ("find", "finder", 99.0),
                ("ghost", "finder", 99.5),
            )
        ],
    }
)


def ratio_pay(t: int, end: int) -> float:
    """pay: 0.0005 in October, 0.0002 in November, 0.02 over the last 120 samples (a fast burn)."""
    if t > end - 120 * 60:
        return 0.02
    return 0.0005 if t < NOV1 else 0.0002


def ratio_find(t: int, end: int) -> float:
    """find: 0.001, and a full outage (ratio 0.5) from 6h to 5h before the end."""
    return 0.5 if end - 6 * 3600 < t <= end - 5 * 3600 else 0.001


PROFILES: dict[str, Callable[[int, int], float]] = {"pay": ratio_pay, "find": ratio_find}
SERVICE = {"pay": "checkout", "find": "finder"}


def samples(end: int) -> list[int]:
    return list(range(START, end + 1, 60))


def openmetrics(end: int) -> str:
    lines = []
    for slo, profile in PROFILES.items():
        labels = f'service="{SERVICE[slo]}",slo="{slo}"'
        for t in samples(end):
            lines.append(f"{names.SLI_ERRORS_RATE5M}{{{labels}}} {RATE * profile(t, end)!r} {t}")
            lines.append(f"{names.SLI_TOTAL_RATE5M}{{{labels}}} {RATE} {t}")
    return "\n".join(lines) + "\n# EOF\n"


def reference(slo: str, start: int, end: int, data_end: int) -> tuple[float | None, float]:
    """(error ratio, covered minutes) over [start, end] from the written samples, by plain loops."""
    inside = [t for t in samples(data_end) if start <= t <= end]
    if not inside:
        return None, 0.0
    ratio = sum(RATE * PROFILES[slo](t, data_end) for t in inside) / (RATE * len(inside))
    have = set(samples(data_end))
    steps = [s for s in range(start - start % 300 + (300 if start % 300 else 0), end + 1, 300)]
    # A 5m step has data when a sample (at :30 of a minute) lies in [step - 5m, step].
    covered = sum(1 for s in steps if any(t in have for t in range(s - 300 + 30, s + 1, 60)))
    return ratio, covered * 5.0


ONE_HOUR = names.sli_error_ratio(Duration.parse("1h"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, int]]:
    binary = require_binary("prometheus")
    work = tmp_path_factory.mktemp("sla-prom")
    now = int(time.time())
    data_end = now - (now % 60) + 30 - (60 if now % 60 < 30 else 0)  # the last :30 before now
    backfill(openmetrics(data_end), work)
    files = write_rules(generate_rules(CATALOG, with_tests=False).files, work / "rules")
    # The default 15d retention would drop the October blocks.
    with prometheus(binary, files, work, extra_flags=("--storage.tsdb.retention.time=400d",)) as url:
        wait_for(
            lambda: len(get_json(f"{url}/api/v1/query?query={ONE_HOUR}")["data"]["result"]) == 2, 30, "1h"
        )
        # The report time: seconds 8..20 of a minute, so no :30 sample sits on any window edge, even for
        # the 1h/6h ratios Prometheus recorded (every second) just before it; after their first records.
        time.sleep(3)
        while not 9 <= int(time.time()) % 60 <= 20:
            time.sleep(0.3)
        at = int(time.time()) - 1
        yield url, at, data_end


@pytest.fixture(scope="module")
def reports(stack: tuple[str, int, int]) -> dict[str, Report]:
    url, at, _ = stack
    client = connect(url, timeout_seconds=10)
    when = datetime.fromtimestamp(at, UTC)
    return {
        w: make_report(CATALOG, client, w, when) for w in ("7d", "30d", "month", "previous-month", "quarter")
    }


def _slo(report: Report, name: str) -> Row:
    return next(r for r in report.rows["slo"] if r.name == name)


@pytest.mark.parametrize("window", ["7d", "30d", "month", "previous-month", "quarter"])
def test_every_field_matches_the_hand_computation(
    window: str, stack: tuple[str, int, int], reports: dict[str, Report]
) -> None:
    _, at, data_end = stack
    w = report_window(window, datetime.fromtimestamp(at, UTC))
    start, end = int(w.start.timestamp()), int(w.end.timestamp())
    length = (w.period_end - w.start).total_seconds() / 60
    for slo, objective in (("pay", 0.999), ("find", 0.99)):
        ratio, covered = reference(slo, start, end, data_end)
        assert ratio is not None
        row = _slo(reports[window], slo).figures
        budget = 1 - objective
        assert row.attainment == pytest.approx(1 - ratio, abs=1e-12)
        assert row.covered_minutes == pytest.approx(covered)
        assert row.budget_total_minutes == pytest.approx(budget * length)
        assert row.budget_consumed_minutes == pytest.approx(ratio * covered)
        assert row.budget_remaining_minutes == pytest.approx(budget * length - ratio * covered)
        assert row.period_burn_rate == pytest.approx(ratio / budget)
        # Burn rates at the report time from the live 1h/6h recordings. With the last sample right at
        # the report time: pay 0.02 / 0.001 = 20 over 1h; 6h (120 x 0.02 + 240 x 0.0002) / 360 = 0.0068
        # -> 6.8. find 0.001 / 0.01 = 0.1; 6h (60 x 0.5 + 300 x 0.001) / 360 = 0.08417 -> 8.417. The
        # minutes Prometheus took to start shorten both windows' data: the loops count them.
        burn_1h = (reference(slo, at - 3600, at, data_end)[0] or 0) / budget
        burn_6h = (reference(slo, at - 6 * 3600, at, data_end)[0] or 0) / budget
        assert burn_1h == pytest.approx(20.0 if slo == "pay" else 0.1)
        assert row.burn_rate_1h == pytest.approx(burn_1h)
        assert row.burn_rate_6h == pytest.approx(burn_6h)
        remaining = budget * length - ratio * covered
        closed = window == "previous-month"
        if closed:
            assert row.minutes_to_exhaustion is None
        elif remaining <= 0:
            assert row.minutes_to_exhaustion == 0
        else:
            assert row.minutes_to_exhaustion == pytest.approx(remaining / (burn_1h * budget))
    ghost = _slo(reports[window], "ghost").figures
    assert (ghost.status, ghost.attainment, ghost.burn_rate_1h) == (Status.NO_DATA, None, None)
    assert ghost.budget_total_minutes == pytest.approx(0.005 * length)


def test_month_to_date_crosses_the_month_boundary(
    reports: dict[str, Report], stack: tuple[str, int, int]
) -> None:
    _, _at, data_end = stack
    # November only: pay's October samples (0.0005) are out. Minutes since Nov 1 00:00 up to the last
    # sample: n = (data_end - NOV1 - 30) / 60 + 1 samples, 120 of them at 0.02, the rest at 0.0002.
    n = (data_end - NOV1 - 30) // 60 + 1
    expected = (120 * 0.02 + (n - 120) * 0.0002) / n
    assert _slo(reports["month"], "pay").figures.attainment == pytest.approx(1 - expected)
    # Previous month: Oct 28 00:00:30 .. Oct 31 23:59:30 = 5,760 samples at 0.0005, 1,152 5m steps covered
    # = 5,760 min; budget 0.001 x 31 d x 1,440 = 44.64 min; consumed 0.0005 x 5,760 = 2.88 min.
    prev = _slo(reports["previous-month"], "pay").figures
    assert prev.attainment == pytest.approx(0.9995)
    assert prev.covered_minutes == 5760
    assert prev.budget_total_minutes == pytest.approx(44.64)
    assert prev.budget_consumed_minutes == pytest.approx(2.88)
    assert prev.status is Status.HEALTHY


def test_statuses(reports: dict[str, Report], stack: tuple[str, int, int]) -> None:
    _, at, data_end = stack
    # m = samples in the 7d window: the :30 minutes from at - 7d to the last sample (about 10,080);
    # C = covered minutes (10,080 when the data reaches the report time). consumed = e x C with
    # pay's e = (120 x 0.02 + (m - 120) x 0.0002) / m (at m = C = 10,080: 4.392 of 10.08 min, 56% left,
    # yet a 1h burn of 20 empties the rest in 5.688 / 0.02 = 284.4 min < 7 d: At risk).
    first = at - 7 * 86400 + (30 - (at - 7 * 86400)) % 60
    m = (data_end - first) // 60 + 1
    pay7 = _slo(reports["7d"], "pay").figures
    c = pay7.covered_minutes
    assert 10080 - 10 <= m <= 10080
    assert c == pytest.approx(5 * -(-(data_end - first + 1) // 300), abs=10)
    consumed = (120 * 0.02 + (m - 120) * 0.0002) / m * c
    assert pay7.budget_consumed_minutes == pytest.approx(consumed)
    assert pay7.minutes_to_exhaustion == pytest.approx((10.08 - consumed) / 0.02)
    assert pay7.status is Status.AT_RISK
    # find: 60 outage samples at 0.5 + (m - 60) at 0.001 -> about 40 of 0.01 x 10,080 = 100.8 min:
    # 60% left, 1h burn 0.1: Healthy.
    find7 = _slo(reports["7d"], "find").figures
    assert find7.budget_consumed_minutes == pytest.approx((60 * 0.5 + (m - 60) * 0.001) / m * c)
    assert find7.status is Status.HEALTHY
    team = next(r for r in reports["7d"].rows["team"] if r.name == "search")
    assert team.figures.status is Status.HEALTHY  # find Healthy, ghost No data
    assert reports["7d"].rows["platform"][0].figures.status is Status.AT_RISK
    # Time-weighted platform attainment over 7d: both cover 10,080 min, so the plain mean.
    assert reports["7d"].rows["platform"][0].figures.attainment == pytest.approx(
        ((1 - pay7.budget_consumed_minutes / c) + (1 - find7.budget_consumed_minutes / c)) / 2
    )
