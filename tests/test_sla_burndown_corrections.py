"""The HTML burn-down leaves each SLO's corrected time out of its shape, not only out of its end point.

Before, the shape came from the uncorrected series and was scaled to the corrected total: a corrected
outage early in the window showed as budget spent early. Hand-made series, hand-computed curves; the
span arithmetic is checked against a brute-force count over whole seconds."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from sla.burndown import curve, raw_bad_minutes, uncovered_seconds

HOUR = 3600.0
STEP = timedelta(hours=1)
STAMPS = [HOUR * k for k in (1, 2, 3, 4)]  # steps (0, 1h], (1h, 2h], (2h, 3h], (3h, 4h]


def _series(values: dict[float, float]) -> dict[float, float]:
    return {t: values.get(t, 0.0) for t in STAMPS}


# SLO a: every event bad in step 1 (an outage, corrected); SLO b: half bad in step 3 (not corrected).
TOTAL = {("svc", "a"): _series({t: 10.0 for t in STAMPS}), ("svc", "b"): _series({t: 10.0 for t in STAMPS})}
ERRORS = {("svc", "a"): _series({HOUR: 10.0}), ("svc", "b"): _series({3 * HOUR: 5.0})}


def test_a_corrected_outage_leaves_no_mark_on_the_curve() -> None:
    uncorrected = raw_bad_minutes(ERRORS, TOTAL, STAMPS, STEP)
    assert uncorrected == [60.0, 60.0, 90.0, 90.0]
    corrected = raw_bad_minutes(ERRORS, TOTAL, STAMPS, STEP, {"a": [(0.0, HOUR)]})
    assert corrected == [0.0, 0.0, 30.0, 30.0]
    # The report's consumed minutes are b's 30; budget 60 minutes: 100% left until step 3, then 50%.
    left = [p.remaining_ratio for p in curve(STAMPS, corrected, 30.0, 60.0)]
    assert left == [1.0, 1.0, 0.5, 0.5]
    # The old shape, scaled to the same end, spent two thirds of it in step 1.
    old = [round(p.remaining_ratio, 6) for p in curve(STAMPS, uncorrected, 30.0, 60.0)]
    assert old == [round(1 - 20 / 60, 6), round(1 - 20 / 60, 6), 0.5, 0.5]


def test_a_partial_correction_leaves_the_uncovered_part() -> None:
    # The first 45 minutes of a's outage corrected: 15 bad minutes stay in step 1; b's 30 in step 3.
    got = raw_bad_minutes(ERRORS, TOTAL, STAMPS, STEP, {"a": [(0.0, 45 * 60.0)]})
    assert got == [15.0, 15.0, 45.0, 45.0]
    # A correction of another SLO, or outside the step, changes nothing.
    assert raw_bad_minutes(ERRORS, TOTAL, STAMPS, STEP, {"b": [(0.0, HOUR)]}) == [60.0, 60.0, 90.0, 90.0]
    assert raw_bad_minutes(ERRORS, TOTAL, STAMPS, STEP, {"a": [(HOUR, 2 * HOUR)]}) == [60.0, 60.0, 90.0, 90.0]


def test_overlapping_corrections_are_not_counted_twice() -> None:
    spans = [(0.0, 1800.0), (900.0, 2700.0), (600.0, 1200.0)]  # together [0, 45 min)
    assert raw_bad_minutes(ERRORS, TOTAL, STAMPS, STEP, {"a": spans})[0] == 15.0


def _brute(start: int, end: int, spans: list[tuple[int, int]]) -> int:
    return sum(1 for s in range(start, end) if not any(a <= s < b for a, b in spans))


@given(
    start=st.integers(0, 200),
    length=st.integers(0, 200),
    spans=st.lists(st.tuples(st.integers(-50, 450), st.integers(0, 120)), max_size=6),
)
def test_uncovered_seconds_matches_a_count_of_whole_seconds(
    start: int, length: int, spans: list[tuple[int, int]]
) -> None:
    intervals = [(a, a + width) for a, width in spans]
    expected = _brute(start, start + length, intervals)
    got = uncovered_seconds(float(start), float(start + length), [(float(a), float(b)) for a, b in intervals])
    assert got == expected
