"""`drift serve`'s plan: once at start, then on the schedule's epoch-aligned grid (hand-computed times)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from drift.schedule import Plan, next_on_grid

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z, a whole hour (500,000 h since the epoch)


def test_next_on_grid_hand_computed() -> None:
    assert next_on_grid(3600, T0) == T0 + 3600  # exactly on the grid: the next slot
    assert next_on_grid(3600, T0 + 1) == T0 + 3600
    # 6h = 21,600 s: 1,800,000,000 / 21,600 = 83,333.33 -> slot 83,334 at 1,800,014,400 (12:00Z)
    assert next_on_grid(21_600, T0) == 1_800_014_400
    assert next_on_grid(60, 59.5) == 60


def test_plan_runs_at_start_then_on_the_grid_skipping_missed_slots() -> None:
    plan = Plan.starting({"a": 3600, "b": 60}, T0 + 10)
    assert plan.due(T0 + 10) == ["a", "b"]
    assert plan.done("b", T0 + 20) == T0 + 60
    assert plan.done("a", T0 + 7300) == T0 + 3 * 3600  # a 2h-late finish skips the missed slot
    assert plan.due(T0 + 59) == [] and plan.wait(T0 + 59) == 1
    assert plan.upcoming() == [("b", T0 + 60), ("a", T0 + 3 * 3600)]
    waiting = Plan.starting({"a": 3600}, T0 + 10, run_now=False)
    assert waiting.due(T0 + 10) == [] and waiting.next_runs["a"] == T0 + 3600


@given(st.floats(min_value=60, max_value=7 * 86400), st.floats(min_value=0, max_value=4e9))
def test_next_on_grid_properties(every: float, after: float) -> None:
    slot = next_on_grid(every, after)
    assert after < slot <= after + every + 1e-6 * max(1.0, after)
