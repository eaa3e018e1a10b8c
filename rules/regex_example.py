"""Short example strings for label regexes: a value a matcher accepts, or one it refuses.

The generated promtool tests need concrete label values for selectors such as `code=~"5.."`. Prometheus
anchors label regexes (`^(?:re)$`); every example is verified with `re.fullmatch`, and None means none
was found (the caller then cannot synthesise the series).
"""

from __future__ import annotations

import re

_CLASS = {"d": "0", "w": "a", "s": " ", "D": "a", "W": "-", "S": "a"}
_FALLBACKS = ("200", "0", "x", "other", "ok", "a", "")


def _group_end(pattern: str, start: int) -> int:
    """The index of the `)` closing the group opened at `start`."""
    depth, i = 0, start
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i = _class_end(pattern, i)
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unbalanced group")


def _class_end(pattern: str, start: int) -> int:
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    if i >= len(pattern):
        raise ValueError("unterminated class")
    return i


def _alternatives(pattern: str) -> list[str]:
    """Split on top-level `|`."""
    parts, depth, last, i = [], 0, 0, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i = _class_end(pattern, i)
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[last:i])
            last = i + 1
        i += 1
    return [*parts, pattern[last:]]


def _class_example(body: str) -> str:
    negated = body.startswith("^")
    if not negated:
        char = body[0]
        if char == "\\" and len(body) > 1:
            return _CLASS.get(body[1], body[1])
        return char
    for candidate in "0aAx_- ":
        if re.fullmatch(f"[{body}]", candidate):
            return candidate
    raise ValueError("no example for a negated class")


def _sequence(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            atom, i = _CLASS.get(pattern[i + 1], pattern[i + 1]), i + 2
        elif char == "[":
            end = _class_end(pattern, i)
            atom, i = _class_example(pattern[i + 1 : end]), end + 1
        elif char == "(":
            end = _group_end(pattern, i)
            inner = pattern[i + 1 : end]
            if inner.startswith("?:"):
                inner = inner[2:]
            elif inner.startswith("?"):
                raise ValueError("unsupported group")
            atom, i = _example(inner), end + 1
        elif char == ".":
            atom, i = "0", i + 1
        elif char in "^$":
            atom, i = "", i + 1
        else:
            atom, i = char, i + 1
        repeat = 1
        if i < len(pattern) and pattern[i] in "?*+{":
            if pattern[i] == "{":
                end = pattern.index("}", i)
                repeat = int(pattern[i + 1 : end].split(",", maxsplit=1)[0] or 0)
                i = end + 1
            else:
                repeat = 1 if pattern[i] == "+" else 0
                i += 1
            if i < len(pattern) and pattern[i] == "?":  # lazy quantifier
                i += 1
        out.append(atom * repeat)
    return "".join(out)


def _example(pattern: str) -> str:
    return _sequence(_alternatives(pattern)[0])


def matching(pattern: str) -> str | None:
    """A short string the anchored regex matches, or None."""
    if "[:" in pattern or "\\p" in pattern:
        return None  # RE2's POSIX and Unicode classes: Python's re reads them differently
    try:
        text = _example(pattern)
        return text if re.fullmatch(pattern, text) else None
    except (ValueError, IndexError, re.error):
        return None


def refused(pattern: str) -> str | None:
    """A string the anchored regex does not match, or None if it matches everything tried."""
    if "[:" in pattern or "\\p" in pattern:
        return None
    try:
        return next((c for c in _FALLBACKS if not re.fullmatch(pattern, c)), None)
    except re.error:
        return None
