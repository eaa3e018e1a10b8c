"""The report maths and windows against hand computations, and their invariants (hypothesis)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.report_math import Figures, Measured, Span, Status, rollup, slo_figures
from sla.report_windows import UnknownWindowError, report_window

EXAMPLES = int(os.environ.get("WATCHKEEPER_FUZZ_EXAMPLES", "200"))
MONTH = Span(43200, 43200, rolling=True)  # 30 days = 43,200 minutes


def test_rolling_30d_half_the_budget_spent() -> None:
    # 99.9%: budget 0.001 x 43,200 min = 43.2 min. Error ratio 0.0005 over 43,200 covered minutes
    # consumes 21.6 min = 50%; period burn 0.0005 / 0.001 = 0.5. At a 1h burn of 2 the remaining
    # 21.6 min last 21.6 / (2 x 0.001) = 10,800 min (7.5 d), within the 30d horizon: At risk.
    f = slo_figures(0.999, Measured(0.0005, 43200, burn_rate_1h=2.0, burn_rate_6h=1.5), MONTH)
    assert f.attainment == pytest.approx(0.9995)
    assert f.budget_total_minutes == pytest.approx(43.2)
    assert f.budget_consumed_minutes == pytest.approx(21.6)
    assert f.budget_remaining_minutes == pytest.approx(21.6)
    assert f.budget_consumed_ratio == pytest.approx(0.5)
    assert f.period_burn_rate == pytest.approx(0.5)
    assert f.minutes_to_exhaustion == pytest.approx(10800)
    assert f.burn_rate_6h == 1.5
    assert f.status is Status.AT_RISK


def test_slow_burn_is_healthy() -> None:
    # Same budget; 1h burn 0.4: 21.6 / (0.4 x 0.001) = 54,000 min > 43,200: Healthy, 50% left.
    f = slo_figures(0.999, Measured(0.0005, 43200, burn_rate_1h=0.4), MONTH)
    assert f.minutes_to_exhaustion == pytest.approx(54000)
    assert f.status is Status.HEALTHY


def test_less_than_a_quarter_left_is_at_risk_even_without_burn() -> None:
    # 0.0008 x 43,200 = 34.56 of 43.2 min consumed: 20% left (< 25%), no current burn.
    f = slo_figures(0.999, Measured(0.0008, 43200, burn_rate_1h=0.0), MONTH)
    assert f.budget_remaining_ratio == pytest.approx(0.2)
    assert f.minutes_to_exhaustion is None
    assert f.status is Status.AT_RISK


def test_exhausted() -> None:
    # 0.002 x 43,200 = 86.4 min consumed of 43.2: remaining -43.2 (ratio -1), nothing left to burn.
    f = slo_figures(0.999, Measured(0.002, 43200, burn_rate_1h=5.0), MONTH)
    assert f.budget_remaining_minutes == pytest.approx(-43.2)
    assert f.budget_remaining_ratio == pytest.approx(-1.0)
    assert f.minutes_to_exhaustion == 0.0
    assert f.status is Status.EXHAUSTED


def test_no_data() -> None:
    f = slo_figures(0.99, Measured(None, 0, burn_rate_1h=None), MONTH)
    assert (f.attainment, f.period_burn_rate, f.budget_consumed_minutes) == (None, None, 0.0)
    assert f.budget_total_minutes == pytest.approx(432)  # 0.01 x 43,200
    assert f.status is Status.NO_DATA


def test_month_to_date_budget_is_the_whole_month() -> None:
    # 99%, November (30 d = 43,200 min), 21 days elapsed (30,240 min) at error ratio 0.005:
    # total 0.01 x 43,200 = 432 min, consumed 0.005 x 30,240 = 151.2, remaining 280.8 (65%).
    # 1h burn 1: 280.8 / (1 x 0.01) = 28,080 min, beyond the 12,960 min left in the month: Healthy.
    # 1h burn 3: 9,360 min, before the month ends: At risk.
    span = Span(43200, 30240, rolling=False)
    f = slo_figures(0.99, Measured(0.005, 30240, burn_rate_1h=1.0), span)
    assert f.budget_total_minutes == pytest.approx(432)
    assert f.budget_consumed_minutes == pytest.approx(151.2)
    assert f.budget_remaining_ratio == pytest.approx(0.65)
    assert f.minutes_to_exhaustion == pytest.approx(28080)
    assert f.status is Status.HEALTHY
    fast = slo_figures(0.99, Measured(0.005, 30240, burn_rate_1h=3.0), span)
    assert fast.minutes_to_exhaustion == pytest.approx(9360)
    assert fast.status is Status.AT_RISK


def test_closed_window_projects_nothing() -> None:
    f = slo_figures(0.99, Measured(0.005, 43200, burn_rate_1h=50.0), Span(43200, 43200, rolling=False))
    assert f.minutes_to_exhaustion is None
    assert f.status is Status.HEALTHY  # 0.005 x 43,200 = 216 of 432 min: 50% left


def test_rollup_is_time_weighted() -> None:
    # A: 99.9% objective, attainment 0.999 over 1,000 min; B: 99%, attainment 0.99 over 3,000 min.
    # attainment (0.999 x 1000 + 0.99 x 3000) / 4000 = 3969 / 4000 = 0.99225
    # objective  (0.999 x 1000 + 0.99 x 3000) / 4000 = 0.99225 too; budgets sum.
    a = slo_figures(0.999, Measured(0.001, 1000, burn_rate_1h=1.0), MONTH)
    b = slo_figures(0.99, Measured(0.01, 3000, burn_rate_1h=4.0), MONTH)
    none = slo_figures(0.95, Measured(None, 0), MONTH)
    g = rollup([a, b, none])
    assert g.attainment == pytest.approx(0.99225)
    assert g.objective == pytest.approx(0.99225)
    # totals: 43.2 + 432 = 475.2 (the No-data member's 0.05 x 43,200 = 2,160 left out, as from the
    # attainment); consumed 0.001 x 1000 + 0.01 x 3000 = 31
    assert g.budget_total_minutes == pytest.approx(475.2)
    assert g.budget_consumed_minutes == pytest.approx(31)
    assert g.burn_rate_1h == 4.0
    assert g.covered_minutes == 4000
    # B: 432 - 30 = 402 min left at a 1h burn of 4: 402 / (4 x 0.01) = 10,050 min < 43,200: At risk,
    # the worst member (A burns at 1, sustainable: Healthy although 42.2 / 0.001 = 42,200 < 43,200).
    assert a.status is Status.HEALTHY
    assert g.minutes_to_exhaustion == pytest.approx(10050)
    assert g.status is Status.AT_RISK
    assert rollup([none]).status is Status.NO_DATA
    assert rollup([a, slo_figures(0.999, Measured(0.01, 43200), MONTH)]).status is Status.EXHAUSTED


def test_windows_by_hand() -> None:
    at = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    month = report_window("month", at)
    assert (month.start, month.end, month.period_end) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        at,
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    # 21.5 days elapsed = 30,960 min of November's 43,200.
    assert (month.span.elapsed_minutes, month.span.length_minutes) == (30960, 43200)
    prev = report_window("previous-month", at)
    assert (prev.start, prev.end) == (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
    assert prev.span.horizon_minutes == 0
    quarter = report_window("quarter", at)
    assert (quarter.start, quarter.period_end) == (
        datetime(2026, 10, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    january = report_window("previous-month", datetime(2027, 1, 15, tzinfo=UTC))
    assert january.start == datetime(2026, 12, 1, tzinfo=UTC)
    assert report_window("7d", at).seconds == 7 * 86400
    with pytest.raises(UnknownWindowError, match="use one of 7d"):
        report_window("90x", at)


ratios = st.floats(0, 1, allow_nan=False)
objectives = st.floats(0.5, 0.99999, allow_nan=False)
burns = st.none() | st.floats(0, 1000, allow_nan=False)
spans = st.tuples(st.floats(60, 1e6), st.floats(0, 1)).map(lambda t: Span(t[0], t[0] * t[1], rolling=False))


def _invariants(f: Figures, slo: bool = True) -> None:
    assert f.budget_consumed_minutes + f.budget_remaining_minutes == pytest.approx(f.budget_total_minutes)
    assert f.budget_consumed_ratio + f.budget_remaining_ratio == pytest.approx(1)
    if slo and f.status is Status.EXHAUSTED:  # a rollup takes its worst member's status
        assert f.budget_remaining_minutes <= 0


@settings(max_examples=EXAMPLES, deadline=None)
@given(objectives, ratios, ratios, burns, spans)
def test_more_errors_never_leave_more_budget(
    objective: float, e1: float, e2: float, burn: float | None, span: Span
) -> None:
    low, high = sorted((e1, e2))
    covered = span.elapsed_minutes
    a = slo_figures(objective, Measured(low, covered, burn_rate_1h=burn), span)
    b = slo_figures(objective, Measured(high, covered, burn_rate_1h=burn), span)
    _invariants(a)
    _invariants(b)
    assert b.budget_remaining_minutes <= a.budget_remaining_minutes + 1e-9
    assert (b.attainment or 0) <= (a.attainment or 0) + 1e-12
    order = [Status.HEALTHY, Status.AT_RISK, Status.EXHAUSTED]
    assert order.index(b.status) >= order.index(a.status)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.tuples(objectives, st.none() | ratios, st.floats(0, 1e5)), min_size=1, max_size=8))
def test_rollup_attainment_lies_between_its_members(members: list[tuple[float, float | None, float]]) -> None:
    figures = [slo_figures(o, Measured(e, c), MONTH) for o, e, c in members]
    g = rollup(figures)
    _invariants(g, slo=False)
    present = [f.attainment for f in figures if f.attainment is not None and f.covered_minutes > 0]
    if present:
        assert g.attainment is not None
        assert min(present) - 1e-9 <= g.attainment <= max(present) + 1e-9
    else:
        assert g.attainment is None


def test_a_rollup_without_covered_minutes_is_no_data() -> None:
    # Two SLOs whose events are younger than the first 5-minute step: each has an attainment (0.99 and
    # 1.0) but 0 covered minutes. Nothing to weigh by: the rollup is No data (it used to say Healthy
    # with no attainment), its objective the plain mean (0.999 + 0.99) / 2 = 0.9945.
    fresh = [
        slo_figures(0.999, Measured(0.01, 0.0, burn_rate_1h=0.5), MONTH),
        slo_figures(0.99, Measured(0.0, 0.0), MONTH),
    ]
    assert [f.status for f in fresh] == [Status.HEALTHY, Status.HEALTHY]
    up = rollup(fresh)
    assert (up.status, up.attainment, up.covered_minutes) == (Status.NO_DATA, None, 0)
    assert up.objective == pytest.approx(0.9945)
    assert up.budget_total_minutes == 0  # no member with data: nothing in the budget sums


def test_no_data_members_stay_out_of_the_rollup_budget() -> None:
    # The reviewer's team: one SLO exhausted (99.9%, error ratio 0.01 over 30 days: 432 bad minutes of a
    # 43.2 min budget) and one 95% SLO without data (budget 0.05 x 43,200 = 2,160 min, untouched).
    # Summing both said 1 - 432 / 2,203.2 = 80% left while Exhausted. Only the member with data counts:
    # 43.2 total, 432 consumed, remaining -388.8 min = 1 - 432 / 43.2 = -9 (-900%).
    spent = slo_figures(0.999, Measured(0.01, 43200), MONTH)
    none = slo_figures(0.95, Measured(None, 0), MONTH)
    team = rollup([spent, none])
    assert team.status is Status.EXHAUSTED
    assert team.budget_total_minutes == pytest.approx(43.2)
    assert team.budget_consumed_minutes == pytest.approx(432)
    assert team.budget_remaining_minutes == pytest.approx(-388.8)
    assert team.budget_remaining_ratio == pytest.approx(-9)


def test_excluded_minutes_leave_the_budget_total() -> None:
    # 99.9% over 30 d with 600 corrected minutes: budget 0.001 x (43,200 - 600) = 42.6 min; error ratio
    # 0.0005 over the 42,600 covered minutes left: 21.3 consumed, exactly half.
    f = slo_figures(0.999, Measured(0.0005, 42600), MONTH, excluded_minutes=600)
    assert f.budget_total_minutes == pytest.approx(42.6)
    assert f.budget_consumed_minutes == pytest.approx(21.3)
    assert f.budget_remaining_ratio == pytest.approx(0.5)
    assert f.excluded_minutes == 600


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [
        # 2026-11-22 is a Sunday: ISO week from Monday Nov 16; the previous one Nov 9 to 16.
        ("week", datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 22, 12, tzinfo=UTC)),
        ("previous-week", datetime(2026, 11, 9, tzinfo=UTC), datetime(2026, 11, 16, tzinfo=UTC)),
        ("previous-quarter", datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)),
        ("90d", datetime(2026, 8, 24, 12, tzinfo=UTC), datetime(2026, 11, 22, 12, tzinfo=UTC)),
    ],
)
def test_calendar_periods_of_the_catalog(name: str, start: datetime, end: datetime) -> None:
    w = report_window(name, datetime(2026, 11, 22, 12, tzinfo=UTC))
    assert (w.start, w.end) == (start, end)
    assert w.closed == name.startswith("previous-")
