"""Durations and windows: parsing, rendering and the errors users see."""

from __future__ import annotations

import pytest

from catalog.durations import Duration, Window


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
        ("90d", False, 90),
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
        ("1h", "between 1d and 400d"),
        ("500d", "between 1d and 400d"),
        ("monthly", "not a window"),
        ("year", "not a window"),
    ],
)
def test_bad_windows(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Window.parse(text)
