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
_DURATION_RE = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
DURATION_HELP = "write a duration like 30s, 5m, 2h, 30d or 1h30m (units: ms, s, m, h, d, w, y)"

CalendarName = Literal["week", "month", "quarter"]
CALENDAR_WINDOWS: tuple[str, ...] = ("week", "month", "quarter")
_CALENDAR_ALIASES = {"1w-calendar": "week", "calendar-month": "month", "calendar-week": "week"}


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
        total = sum(int(g) * unit for g, (_, unit) in zip(match.groups(), _UNITS, strict=True) if g)
        if total <= 0:
            raise ValueError(f"{text!r} is zero; durations must be positive ({DURATION_HELP})")
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
    """An SLO window: rolling (a Duration) or calendar-aligned (week, month, quarter)."""

    rolling: Duration | None = None
    calendar: CalendarName | None = None

    MIN_ROLLING = Duration(86400 * 1000)
    MAX_ROLLING = Duration(400 * 86400 * 1000)

    @classmethod
    def parse(cls, text: str) -> Window:
        if not isinstance(text, str):
            raise ValueError(f"expected a window such as 30d or month, got {text!r}")
        name = _CALENDAR_ALIASES.get(text.strip(), text.strip())
        if name in CALENDAR_WINDOWS:
            return cls(calendar=name)  # type: ignore[arg-type]
        try:
            rolling = Duration.parse(name)
        except ValueError:
            raise ValueError(
                f"{text!r} is not a window; use a rolling duration (7d, 28d, 30d, 90d) "
                f"or a calendar window ({', '.join(CALENDAR_WINDOWS)})"
            ) from None
        if not cls.MIN_ROLLING <= rolling <= cls.MAX_ROLLING:
            raise ValueError(f"rolling window {text!r} must be between 1d and 400d; 28d or 30d is usual")
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
            "anyOf": [{"type": "string", "pattern": _DURATION_RE.pattern}, {"enum": list(CALENDAR_WINDOWS)}],
            "examples": ["28d", "30d", "month"],
        }
