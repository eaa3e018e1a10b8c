"""Durations and windows: parsing, rendering and the errors users see."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.durations import Duration, Window
from tests.conftest import require_binary

FUZZ_EXAMPLES = int(os.environ.get("WATCHKEEPER_FUZZ_EXAMPLES", "300"))


@pytest.mark.parametrize(
    ("text", "seconds", "rendered"),
    [
        ("30s", 30, "30s"),
        ("5m", 300, "5m"),
        ("2h", 7200, "2h"),
        ("30d", 2592000, "30d"),
        ("1h30m", 5400, "1h30m"),
        ("2w", 1209600, "14d"),
        ("250ms", 0.25, "250ms"),
        ("26h", 93600, "1d2h"),
    ],
)
def test_parse_and_render(text: str, seconds: float, rendered: str) -> None:
    duration = Duration.parse(text)
    assert duration.seconds == seconds
    assert str(duration) == rendered
    assert Duration.parse(str(duration)) == duration


@pytest.mark.parametrize("text", ["", "5", "5 m", "m5", "1.5h", "-1h", "0s", "5M", "1h 30m", "30x"])
def test_bad_durations_explain_the_syntax(text: str) -> None:
    with pytest.raises(ValueError, match="30s, 5m, 2h"):
        Duration.parse(text)


def test_durations_compare_by_length() -> None:
    assert Duration.parse("90m") > Duration.parse("1h") > Duration.parse("59m")


@pytest.mark.parametrize(
    ("text", "calendar", "days"),
    [
        ("month", True, 30),
        ("week", True, 7),
        ("quarter", True, 90),
        ("28d", False, 28),
        ("30d", False, 30),
        ("7d", False, 7),
    ],
)
def test_windows(text: str, calendar: bool, days: int) -> None:
    window = Window.parse(text)
    assert window.is_calendar is calendar
    assert window.period.seconds == days * 86400
    assert str(window) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1h", "use 7d, 28d or 30d"),
        ("500d", "use 7d, 28d or 30d"),
        ("monthly", "not a window"),
        ("year", "not a window"),
    ],
)
def test_bad_windows(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Window.parse(text)


# --- properties -------------------------------------------------------------------------------------
# The reference values below are written out by hand, not taken from catalog/durations.py: Prometheus'
# units (a year is 365 days), its duration grammar (prometheus/common model.ParseDuration), and its
# upper bound (time.Duration is int64 nanoseconds, so at most 9223372036854 ms; promtool says "duration
# out of range" beyond it, which test_acceptance_matches_promtool checks on the real tool).
UNIT_MS = {"y": 365 * 86_400_000, "w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000}
UNIT_MS |= {"s": 1000, "ms": 1}
MAX_MS = (2**63 - 1) // 1_000_000
PROMETHEUS_GRAMMAR = re.compile(
    r"^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$"
)
ROLLING_WINDOWS_MS = {7 * 86_400_000: "7d", 28 * 86_400_000: "28d", 30 * 86_400_000: "30d"}
SUPPORTED_LIST = "use 7d, 28d or 30d, or a calendar window (week, month, quarter)"


def canonical(ms: int) -> str:
    """Reference rendering: days, hours, minutes, seconds, milliseconds; zero parts omitted."""
    out = ""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        count, ms = divmod(ms, size)
        out += f"{count}{unit}" if count else ""
    return out


@st.composite
def duration_texts(draw: st.DrawFn) -> tuple[str, int]:
    """Well-formed Prometheus duration text (units in order, optional leading zeros) and its length in ms."""
    text, total = "", 0
    for unit in UNIT_MS:
        if draw(st.booleans()):
            count = draw(st.integers(0, 400) | st.integers(0, 10**15))
            text += "0" * draw(st.integers(0, 2)) + f"{count}{unit}"
            total += count * UNIT_MS[unit]
    if not text:
        count = draw(st.integers(1, 10**6))
        text, total = f"{count}s", count * 1000
    return text, total


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(duration_texts())
def test_well_formed_durations_round_trip_to_their_canonical_form(case: tuple[str, int]) -> None:
    text, total = case
    if not 0 < total <= MAX_MS:
        with pytest.raises(ValueError, match=r"zero|out of range"):
            Duration.parse(text)
        return
    duration = Duration.parse(text)
    assert duration.ms == total
    assert str(duration) == canonical(total)
    assert Duration.parse(str(duration)) == duration


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(duration_texts(), duration_texts())
def test_durations_order_by_length(a: tuple[str, int], b: tuple[str, int]) -> None:
    if not (0 < a[1] <= MAX_MS and 0 < b[1] <= MAX_MS):
        return
    da, db = Duration.parse(a[0]), Duration.parse(b[0])
    assert (da < db) == (a[1] < b[1])
    assert (da == db) == (a[1] == b[1])
    assert sorted([da, db]) == ([da, db] if a[1] <= b[1] else [db, da])


GARBAGE = st.text() | st.text(alphabet="0123456789ywdhms \t.-+_:\u0665\u0a6d\u00b2")


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(GARBAGE)
def test_any_text_parses_or_raises_value_error(text: str) -> None:
    try:
        duration = Duration.parse(text)
    except ValueError as exc:
        assert "duration" in str(exc)
        return
    # Accepted text is Prometheus syntax: ASCII digits, units in order, in range.
    assert PROMETHEUS_GRAMMAR.match(text.strip()), text
    assert 0 < duration.ms <= MAX_MS


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.none() | st.integers() | st.floats() | st.binary() | st.lists(st.text()) | st.booleans())
def test_non_text_raises_value_error(value: object) -> None:
    with pytest.raises(ValueError):
        Duration.parse(value)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Window.parse(value)  # type: ignore[arg-type]


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(duration_texts())
def test_only_the_closed_list_of_rolling_windows_is_accepted(case: tuple[str, int]) -> None:
    text, total = case
    if total in ROLLING_WINDOWS_MS:
        window = Window.parse(text)
        assert str(window) == ROLLING_WINDOWS_MS[total]
        assert not window.is_calendar
        assert window.period.ms == total
    else:
        with pytest.raises(ValueError, match=re.escape(SUPPORTED_LIST)):
            Window.parse(text)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(GARBAGE | st.sampled_from(["week", "month", "quarter", "calendar-month", "7d", "28d", "30d"]))
def test_any_window_text_is_in_the_closed_list_or_refused_with_it(text: str) -> None:
    try:
        window = Window.parse(text)
    except ValueError as exc:
        assert SUPPORTED_LIST in str(exc)
        return
    assert str(window) in {"7d", "28d", "30d", "week", "month", "quarter"}


@pytest.mark.promtool
def test_acceptance_matches_promtool(tmp_path: Path) -> None:
    """Whatever Duration.parse accepts, promtool accepts as a `for:` duration, and the other way round
    (except zero, which Watchkeeper refuses on purpose)."""
    promtool = require_binary("promtool")
    cases = [
        "292y", "293y", "106751d", "106752d", "9223372036854ms", "9223372036855ms", "9223372037s",
        "1y1w1d1h1m1s1ms", "05m", "0d5m", "\u0665m", "5m1h", "1.5h", "5M", "2w", "1h30m",
    ]  # fmt: skip
    for text in cases:
        path = tmp_path / "r.yml"
        path.write_text(
            f"groups:\n- name: g\n  rules:\n  - alert: A\n    expr: vector(1)\n    for: '{text}'\n"
        )
        check = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, check=False)
        try:
            Duration.parse(text)
            accepted = True
        except ValueError:
            accepted = False
        assert accepted == (check.returncode == 0), (text, check.stdout, check.stderr)
