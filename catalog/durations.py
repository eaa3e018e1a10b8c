"""Prometheus-style durations (`30s`, `5m`, `2h`, `30d`, `1h30m`) and SLO windows."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

_UNITS: tuple[tuple[str, int], ...] = (
    ("y", 365 * 86400 * 1000),
    ("w", 7 * 86400 * 1000),
    ("d", 86400 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
)
# ASCII digits only ([0-9], not \\d, which also matches other scripts' digits): Prometheus' own grammar.
_DURATION_RE = re.compile(
    r"^(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?$"
)
DURATION_HELP = "write a duration like 30s, 5m, 2h, 30d or 1h30m (units: ms, s, m, h, d, w, y)"
MAX_DURATION_MS = (2**63 - 1) // 1_000_000
"""Prometheus holds durations as int64 nanoseconds: about 292 years; promtool refuses anything longer."""

CalendarName = Literal["week", "month", "quarter"]
CALENDAR_WINDOWS: tuple[str, ...] = ("week", "month", "quarter")
_CALENDAR_ALIASES = {"1w-calendar": "week", "calendar-month": "month", "calendar-week": "week"}
ROLLING_WINDOWS: tuple[str, ...] = ("7d", "28d", "30d")
"""The rolling SLO periods with a burn-rate table (rules/windows.yaml); no other period is sound."""
SUPPORTED_WINDOWS: tuple[str, ...] = (*ROLLING_WINDOWS, *CALENDAR_WINDOWS)
WINDOW_HELP = (
    "use 7d, 28d or 30d, or a calendar window (week, month, quarter): only these periods have a "
    "burn-rate alert table (docs/rules.md); for about 90 days use quarter"
)


def _text_schema(cls: type, parse: Callable[[str], Any], error_type: str) -> core_schema.CoreSchema:
    """A pydantic schema that parses text into `cls` and serialises back with str()."""

    def validate(value: Any) -> Any:
        if isinstance(value, cls):
            return value
        try:
            return parse(value)
        except ValueError as exc:
            raise PydanticCustomError(error_type, str(exc)) from None

    return core_schema.no_info_plain_validator_function(
        validate, serialization=core_schema.plain_serializer_function_ser_schema(str)
    )


@lru_cache(maxsize=4096)
def _format_ms(ms: int) -> str:
    rest, parts = ms, []
    for name, unit in _UNITS:
        if name in {"y", "w"}:  # Prometheus users read 30d and 90d, not 4w2d.
            continue
        if rest >= unit:
            parts.append(f"{rest // unit}{name}")
            rest %= unit
    return "".join(parts) or "0s"


@dataclass(frozen=True, order=True)
class Duration:
    """A non-negative duration held in milliseconds, rendered in Prometheus syntax."""

    ms: int

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse `1h30m`-style text; raise ValueError with the accepted syntax."""
        if not isinstance(text, str):
            raise ValueError(
                f"expected a duration string, got {type(text).__name__} {text!r}; {DURATION_HELP}"
            )
        match = _DURATION_RE.match(text.strip())
        if not text.strip() or match is None:
            raise ValueError(f"{text!r} is not a duration; {DURATION_HELP}")
        if any(len(g) > 20 for g in match.groups() if g):  # no 10^20 of any unit fits; keep int() cheap
            raise ValueError(f"{text[:40]!r} is out of range; Prometheus durations are at most 292y")
        total = sum(int(g) * unit for g, (_, unit) in zip(match.groups(), _UNITS, strict=True) if g)
        if total <= 0:
            raise ValueError(f"{text!r} is zero; durations must be positive ({DURATION_HELP})")
        if total > MAX_DURATION_MS:
            raise ValueError(f"{text!r} is out of range; Prometheus durations are at most 292y")
        return cls(total)

    @classmethod
    def of_seconds(cls, seconds: float) -> Duration:
        return cls(round(seconds * 1000))

    @property
    def seconds(self) -> float:
        return self.ms / 1000

    def __str__(self) -> str:
        return _format_ms(self.ms)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return _text_schema(cls, cls.parse, "duration")

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "pattern": _DURATION_RE.pattern, "examples": ["30s", "5m", "2h", "30d"]}


@dataclass(frozen=True)
class Window:
    """An SLO window: rolling (7d, 28d or 30d) or calendar-aligned (week, month, quarter).

    The list is closed: each window has a burn-rate table in rules/windows.yaml, and a period without
    one would alert at burn rates that mean nothing for it (a 1d SLO would page while meeting its
    objective). A rolling duration equal to a supported one (`4w`, `720h`) is that window.
    """

    rolling: Duration | None = None
    calendar: CalendarName | None = None

    @classmethod
    def parse(cls, text: str) -> Window:
        if not isinstance(text, str):
            raise ValueError(f"expected a window such as 30d or month, got {text!r}; {WINDOW_HELP}")
        name = _CALENDAR_ALIASES.get(text.strip(), text.strip())
        if name in CALENDAR_WINDOWS:
            return cls(calendar=name)  # type: ignore[arg-type]
        try:
            rolling = Duration.parse(name)
        except ValueError:
            raise ValueError(f"{text!r} is not a window; {WINDOW_HELP}") from None
        if str(rolling) not in ROLLING_WINDOWS:
            raise ValueError(f"rolling window {text!r} is not supported; {WINDOW_HELP}")
        return cls(rolling=rolling)

    @property
    def is_calendar(self) -> bool:
        return self.calendar is not None

    @property
    def period(self) -> Duration:
        """The nominal length used to scale burn-rate factors (calendar: its usual length)."""
        if self.rolling is not None:
            return self.rolling
        days = {"week": 7, "month": 30, "quarter": 90}[self.calendar or "month"]
        return Duration(days * 86400 * 1000)

    def __str__(self) -> str:
        return self.calendar if self.calendar else str(self.rolling)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return _text_schema(cls, cls.parse, "window")

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "enum": list(SUPPORTED_WINDOWS),
            "description": "SLO period: " + WINDOW_HELP,
            "examples": ["28d", "30d", "month"],
        }
