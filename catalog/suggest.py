"""'Did you mean' over a set of names that may be huge, at a bounded cost per question.

`catalog.errors.did_you_mean` compares the word with every candidate (difflib, about 10 µs each when the
names look alike): fine for a model's keys, but 10,000 misspelt services checked against 200,000 defined
ones would take hours. `NameIndex` sorts the names once (forwards, and each name reversed) and gives difflib
only the names next to the word in either order: a single typo leaves either the first half or the last
half of a name intact, so the intended name sorts beside the word in one of the two orders.
"""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Iterable

SMALL = 1000
"""Up to this many names, every one is compared, exactly as `did_you_mean` does."""
WINDOW = 48
"""Names taken on each side of the word's place in each sort order."""
KEEP = 24
"""Of those, the ones sharing the longest start plus end with the word go on to difflib."""


class NameIndex:
    """A set of names that answers membership, and suggests the closest name for one that is not in it."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = set(names)
        self._forward: list[str] | None = None
        self._backward: list[str] | None = None

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def near(self, word: str) -> list[str]:
        """The candidates worth comparing with `word`."""
        if len(self.names) <= SMALL:
            return sorted(self.names)
        if self._forward is None or self._backward is None:  # sorted on the first question only
            self._forward = sorted(self.names)
            self._backward = sorted(name[::-1] for name in self.names)
        found: set[str] = set()
        at = bisect.bisect_left(self._forward, word)
        found.update(self._forward[max(0, at - WINDOW) : at + WINDOW])
        at = bisect.bisect_left(self._backward, word[::-1])
        found.update(name[::-1] for name in self._backward[max(0, at - WINDOW) : at + WINDOW])
        return sorted(found, key=lambda name: (-_shared_ends(name, word), name))[:KEEP]

    def hint(self, word: str) -> str:
        """`; did you mean 'x'?` for the closest name, or an empty string."""
        matches = difflib.get_close_matches(word, self.near(word), n=1, cutoff=0.6)
        return f"; did you mean {matches[0]!r}?" if matches else ""


def _shared_ends(name: str, word: str) -> int:
    """How many characters `name` and `word` share at their start plus at their end."""
    limit = min(len(name), len(word))
    start = 0
    while start < limit and name[start] == word[start]:
        start += 1
    end = 0
    while end < limit - start and name[-1 - end] == word[-1 - end]:
        end += 1
    return start + end


Loc = tuple[object, ...]


def misspelt_required(unknown: Iterable[Loc], missing: Iterable[Loc]) -> dict[Loc, Loc]:
    """Pair each unknown key with the missing required key it misspells at the same place (`objectiv`
    for `objective`), so the two are reported as one error: {unknown key's loc: missing key's loc}.
    Each missing key pairs with at most one unknown key, the first close enough (difflib, as elsewhere)."""
    left: dict[Loc, list[str]] = {}
    for loc in missing:
        left.setdefault(loc[:-1], []).append(str(loc[-1]))
    out: dict[Loc, Loc] = {}
    for loc in unknown:
        candidates = left.get(loc[:-1], [])
        match = difflib.get_close_matches(str(loc[-1]), candidates, n=1, cutoff=0.6) if loc else []
        if match:
            candidates.remove(match[0])
            out[loc] = (*loc[:-1], match[0])
    return out
