"""Catalog problems: each names the file, the entry's path, what is wrong and how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Problem:
    """One catalog problem, located as precisely as the input allows."""

    file: str
    path: str
    message: str
    line: int | None = None
    column: int | None = None
    level: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "level": self.level,
            "message": self.message,
        }


MAX_SHOWN = 100
"""Problems printed as text; the rest are counted ("...and N more"), so 200,000 errors print in a blink."""
MAX_SHOWN_JSON = 1000
"""Problems in `validate --format json`; the output says how many were omitted."""
MAX_DETAILED = 1000
"""Problems given a full explanation (suggestions, allowed keys); later ones get a plain message, so
collecting 200,000 of them stays fast. Only the first MAX_SHOWN_JSON are ever shown."""


def more(count: int, kind: str = "error") -> str:
    """`...and 12 more errors`."""
    return f"…and {count} more {kind}{'s' if count != 1 else ''}"


class CatalogError(Exception):
    """Raised when a catalog is invalid; holds every problem found in one run."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = [p for p in problems if p.level == "error"]
        self.warnings = [p for p in problems if p.level == "warning"]
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems[:MAX_SHOWN])
        if count > MAX_SHOWN:
            lines += f"\n  {more(count - MAX_SHOWN)}"
        super().__init__(f"catalog has {count} error{'s' if count != 1 else ''}:\n{lines}")


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """Return ` (did you mean 'x'?)` for the closest candidate, or an empty string."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {matches[0]!r}?" if matches else ""
