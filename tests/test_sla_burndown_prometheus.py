"""The HTML burn-down on a REAL Prometheus (a week backfilled with `promtool tsdb create-blocks-from
openmetrics`): a rolling window at a sub-second report time, and a correction that does not line up with
the window's steps.

Report time AT = E + 0.7 s (E: yesterday 00:00 UTC), window `7d` = [AT - 7 d, AT]: 48 steps of
S = 3.5 h ending at t_k = O + k S with O = E - 7 d (the start floored to a whole second), k = 1..48.
Data: 10 events/s for two SLOs (objective 98%, budget 2%), one sample a minute at :30 from O - 1 h to E + 1 h.
- `fixed`: error ratio 0.01, except 1.0 during the outage [t_17 - 30 m, t_17 + 30 m); its catalog
  correction [t_17 - 1 h, t_17 + 1 h) starts 2.5 h into step 17 and ends 1 h into step 18.
- `plain`: error ratio 0, except 0.5 during [t_30 - 1 h, t_30) (step 30); no correction.

By hand, bad minutes per step: `fixed` 0.01 x 210 = 2.1, but 0.01 x (210 - 60) = 1.5 in steps 17 and 18
(their uncorrected hours hold only 0.01 errors); `plain` 0.5 x 60 = 30 in step 30. Cumulative raw_k:
2.1 k (k <= 16); 35.1, 36.6 (k = 17, 18); 36.6 + 2.1 (k - 18) for 19 <= k <= 29; + 30 from k = 30; 129.6
at k = 48. The report: `fixed` e = 0.01 over 10,080 - 120 covered minutes: 99.6 consumed of 199.2;
`plain` 30 bad minutes of a 0.02 x 10,080 = 201.6 budget. The team consumed 129.6 of 400.8, so
left_k = 1 - raw_k / 400.8.

The old shape differed twice: the range start sent (rounded) never matched the fractional step times,
so the curve stayed at 100% and fell at the last point; and errors were taken as even within step 17
and 18, so the outage's 30 bad minutes in each, pro-rated to the 150 uncorrected ones, added ~21 each."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from api.app import create_app
from api.service_state import ServiceSettings, ServiceState
from catalog.model import Catalog
from rules import names
from sla import burndown
from sla.queries import connect
from sla.store.engine import make_engine, resolve_url
from sla.store.migrate import upgrade
from tests.conftest import require_binary
from tests.prometheus_stack import backfill, get_json, prometheus, wait_for
from tests.sla_service import TOKEN

NOW = datetime.now(UTC)
E = datetime(NOW.year, NOW.month, NOW.day, tzinfo=UTC) - timedelta(days=1)
AT = E + timedelta(seconds=0.7)
ORIGIN = E - timedelta(days=7)  # O above
S = timedelta(hours=3.5)
T17, T30 = ORIGIN + 17 * S, ORIGIN + 30 * S
OUTAGE = (T17 - timedelta(minutes=30), T17 + timedelta(minutes=30))
CORRECTION = (T17 - timedelta(hours=1), T17 + timedelta(hours=1))
PLAIN_BAD = (T30 - timedelta(hours=1), T30)
RATE = 10.0


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


SLI = {
    "events": {
        "errors": 'sum(rate(raw_total{code="500"}[{{window}}]))',
        "total": "sum(rate(raw_total[{{window}}]))",
    }
}
CATALOG = Catalog.model_validate(
    {
        "teams": [{"name": "ops", "owners": ["o@example.com"]}],
        "services": [{"name": "shop", "team": "ops"}],
        "slos": [
            {
                "name": "fixed",
                "service": "shop",
                "objective": 98,
                "sli": SLI,
                "corrections": [
                    {
                        "start": _iso(CORRECTION[0]),
                        "end": _iso(CORRECTION[1]),
                        "reason": "mid-step maintenance",
                    }
                ],
            },
            {"name": "plain", "service": "shop", "objective": 98, "sli": SLI},
        ],
    }
)


def _inside(t: int, span: tuple[datetime, datetime]) -> bool:
    return span[0].timestamp() < t < span[1].timestamp()


def ratio(slo: str, t: int) -> float:
    if slo == "fixed":
        return 1.0 if _inside(t, OUTAGE) else 0.01
    return 0.5 if _inside(t, PLAIN_BAD) else 0.0


def openmetrics() -> str:
    lines = []
    first, last = (
        int((ORIGIN - timedelta(hours=1)).timestamp()) + 30,
        int((E + timedelta(hours=1)).timestamp()),
    )
    for slo in ("fixed", "plain"):
        labels = f'service="shop",slo="{slo}"'
        for t in range(first, last + 1, 60):
            lines.append(f"{names.SLI_ERRORS_RATE5M}{{{labels}}} {RATE * ratio(slo, t)!r} {t}")
            lines.append(f"{names.SLI_TOTAL_RATE5M}{{{labels}}} {RATE} {t}")
    return "\n".join(lines) + "\n# EOF\n"


@pytest.fixture(scope="module")
def burn_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus holding the backfill above (no rules: the burn-down reads the 5m recordings)."""
    binary = require_binary("prometheus")
    work = tmp_path_factory.mktemp("sla-burndown")
    backfill(openmetrics(), work)
    with prometheus(binary, [], work, extra_flags=("--storage.tsdb.retention.time=400d",)) as url:
        query = f"{url}/api/v1/query?query=count(count_over_time({names.SLI_TOTAL_RATE5M}[14d]))"
        wait_for(lambda: get_json(query)["data"]["result"], 30, "the backfilled blocks")
        yield url


def raw(k: int) -> float:
    """Cumulative bad minutes at t_k, by hand (module docstring)."""
    if k <= 16:
        return 2.1 * k
    if k == 17:
        return 35.1
    total = 36.6 + 2.1 * (min(k, 29) - 18)
    if k >= 30:
        total = 36.6 + 2.1 * 11 + 32.1 + 2.1 * (k - 30)
    return total


EXPECTED = [1 - raw(k) / 400.8 for k in range(1, 49)]
STAMPS = [ORIGIN + k * S for k in range(1, 49)]


class Counting:
    """A real client that records the range queries it sends."""

    def __init__(self, url: str) -> None:
        self.client: Any = connect(url)
        self.sent: list[tuple[str, datetime, datetime, str]] = []
        self.points: dict[str, int] = {}
        """Points answered per step (all series)."""

    def custom_query_range(self, query: str, start_time: datetime, end_time: datetime, step: str) -> Any:
        self.sent.append((query, start_time, end_time, step))
        answer = self.client.custom_query_range(query, start_time=start_time, end_time=end_time, step=step)
        self.points[step] = self.points.get(step, 0) + sum(len(series["values"]) for series in answer)
        return answer


def test_hand_raw_is_consistent() -> None:
    # The closed form above, step by step: 2.1 a step, 1.5 in steps 17-18, 30 more in step 30.
    steps = [2.1 + (30 if k == 30 else 0) - (0.6 if k in (17, 18) else 0) for k in range(1, 49)]
    assert [round(raw(k), 9) for k in range(1, 49)] == [round(sum(steps[:k]), 9) for k in range(1, 49)]
    assert raw(48) == pytest.approx(129.6)


def test_a_rolling_window_at_a_sub_second_time_follows_the_data(burn_prometheus: str) -> None:
    client = Counting(burn_prometheus)
    spans = {"fixed": [(CORRECTION[0].timestamp(), CORRECTION[1].timestamp())]}
    points = burndown.fetch(client, ["fixed", "plain"], AT - timedelta(days=7), AT, 129.6, 400.8, spans)
    assert [p.at for p in points] == STAMPS
    assert [p.remaining_ratio for p in points] == pytest.approx(EXPECTED, abs=1e-9)
    # Two coarse queries from t_1 every 3.5 h; two fine ones for `fixed` only, every 5 minutes over steps
    # 17 and 18, whole seconds throughout.
    coarse = [s for s in client.sent if s[3] == "12600"]
    fine = [s for s in client.sent if s[3] == "300"]
    assert len(client.sent) == 4 and len(coarse) == len(fine) == 2
    assert {(s[1], s[2]) for s in coarse} == {(STAMPS[0], STAMPS[-1])}
    assert {(s[1], s[2]) for s in fine} == {(ORIGIN + 16 * S + timedelta(minutes=5), ORIGIN + 18 * S)}
    assert all('slo=~"fixed"' in s[0] for s in fine)
    # Each fine query answers the 2 x 42 sub-steps of steps 17 and 18 for its one series, nothing more.
    assert client.points["300"] == 2 * 2 * 42


def test_no_correction_costs_no_fine_query(burn_prometheus: str) -> None:
    client = Counting(burn_prometheus)
    points = burndown.fetch(client, ["plain"], AT - timedelta(days=7), AT, 30.0, 201.6)
    # plain alone: 100% left until step 30, then 1 - 30 / 201.6.
    assert [p.remaining_ratio for p in points] == pytest.approx([1.0] * 29 + [1 - 30 / 201.6] * 19, abs=1e-9)
    assert len(client.sent) == 2


def test_a_long_window_with_corrections_at_both_ends_stays_within_prometheus_points_limit(
    burn_prometheus: str,
) -> None:
    # 90 days: steps of 45 h, sub-steps of 720 s (7,776,000 / 11,000 = 707 s, rounded up to a divisor of
    # 162,000 s); corrections in the first and the last step: the fine queries span the whole window.
    end = AT
    start = end - timedelta(days=90)
    first, last = start.timestamp(), end.timestamp()
    spans = {"plain": [(first + 60, first + 120), (last - 7200, last - 3600)]}
    client = Counting(burn_prometheus)
    points = burndown.fetch(client, ["plain"], start, end, 30.0, 201.6, spans)
    fine = [s for s in client.sent if s[3] == "720"]
    assert len(fine) == 2 and (fine[0][2] - fine[0][1]).total_seconds() / 720 <= burndown.MAX_POINTS
    # Only the first and the last step come back (225 sub-steps each); the data covers the last 7 days
    # only, so only the last step's have points: 225 per query (a whole week's would be 840).
    assert client.points["720"] == 2 * 225
    assert len(points) == 48 and points[-1].remaining_ratio == pytest.approx(1 - 30 / 201.6)


@given(span=st.integers(48 * 300, 400 * 86400))
def test_the_sub_step_divides_the_step_and_respects_the_limits(span: int) -> None:
    step = max(span // 48, 300)
    sub = burndown.fine_step_of(span, step)
    assert step % sub == 0 and sub >= 300 and span / sub <= burndown.MAX_POINTS
    # Never needlessly coarse: no shorter whole-second divisor of the step would do.
    shortest = max(300, -(-span // burndown.MAX_POINTS))
    assert not any(
        step % parts == 0 and shortest <= step // parts < sub for parts in range(2, step // 300 + 1)
    )


def test_the_team_page_draws_the_hand_computed_curve(burn_prometheus: str, tmp_path: Any) -> None:
    engine = make_engine(resolve_url(f"sqlite:///{tmp_path / 'ledger.db'}"))
    upgrade(engine)
    state = ServiceState(
        engine,
        ServiceSettings(SecretStr(TOKEN), prometheus_url=burn_prometheus),
        {"shop": "ops"},
        catalog=CATALOG,
    )
    api = TestClient(create_app(state), raise_server_exceptions=False)
    response = api.get(
        "/api/v1/reports/team/ops",
        params={"window": "7d", "at": AT.isoformat(), "format": "html"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    engine.dispose()
    assert response.status_code == 200, response.text
    points = re.findall(r'data-at="([^"]+)" data-remaining="([^"]+)"', response.text)
    assert [at for at, _ in points] == [s.isoformat() for s in STAMPS]
    assert [float(v) for _, v in points] == pytest.approx(EXPECTED, abs=5.1e-5)
