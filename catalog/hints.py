"""Fixes for the catalog problems people make most: a number written with `%` or as a duration, a scalar
for a list, and JSON-style surrogate escapes in text. The loader words every problem with these."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from catalog.durations import Duration

PathKey = tuple[str | int, ...]
NUMBER_KINDS = frozenset({"float_parsing", "int_parsing", "float_type", "int_type", "int_from_float"})
TYPE_FIXES = NUMBER_KINDS | {"bool_parsing", "bool_type", "list_type", "string_type", "finite_number"}
_EXAMPLES = {"objective": "99.9", "le": "0.5"}
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_PAIR = re.compile(r"[\ud800-\udbff][\udc00-\udfff]")


def type_fix(kind: str, key: str, value: Any, message: str) -> str:
    """A pydantic type error (`kind`) on `key` with the fix for its usual causes; else `message`.

    The catalog's types are strict (catalog.model.strict.Strict): a quoted "99.9" or `true` where a number
    belongs is refused, so these say what was written and what to write instead."""
    if kind in NUMBER_KINDS:
        return _number_fix(kind.startswith("int"), key, value, message)
    if kind == "finite_number":
        shown = ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
        if key == "le":
            return (
                f"{shown} is not a finite number; le is a bucket bound in seconds, and the +Inf bucket counts "
                "every request, so none would ever be slow: use a finite bound such as 0.5"
            )
        return f"{shown} is not a finite number; write a plain number (no .inf or .nan)"
    if kind in {"bool_parsing", "bool_type"}:
        return f"{value!r} is not a boolean; write true or false"
    if kind == "list_type" and isinstance(value, str | int | float):
        return f"{key} takes a list; write {key}: [{value}]"
    if kind == "string_type" and isinstance(value, list):
        return f"{key} takes one value, not a list; write {key}: <value>"
    return message


def _number_fix(whole: bool, key: str, value: Any, message: str) -> str:
    example = _EXAMPLES.get(key, "10" if whole else "0.5")
    if isinstance(value, bool):
        return f"{str(value).lower()} is a boolean, not a number; write a number, e.g. {key}: {example}"
    if isinstance(value, float) and whole:
        if value.is_integer():
            return f"{value!r} is written with a decimal point; {key} is a whole number: write {key}: {int(value)}"
        return f"{value!r} is not a whole number; write {key}: {round(value)}"
    if isinstance(value, int):
        return f"{key} is too large a number; write a number such as {example}"
    if value is None:
        return f"{key} is empty; write a number, e.g. {key}: {example}"
    if not isinstance(value, str):
        return f"{key} takes a number, not a {type(value).__name__}; write {key}: {example}"
    shown = f"{value!r} is not a number"
    text = value.strip()
    if _is_number(text):
        return f"{value!r} is quoted text, not a number; write {text} without quotes"
    if text.endswith("%") and _is_number(text[:-1]):
        return f"{shown}; write {text[:-1].strip()}, a number without % ({key} is already in percent)"
    seconds = _duration_seconds(text)
    if seconds is not None:
        return f"{shown}; {key} takes seconds as a number, not a duration: write {key}: {seconds:g}"
    return f"{shown}; write a plain number such as 0.5 or 99.9 (no units or quotes)"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _duration_seconds(text: str) -> float | None:
    try:
        return Duration.parse(text).seconds
    except ValueError:
        return None


def surrogate_problems(node: Any, sub: PathKey = ()) -> Iterator[tuple[PathKey, str]]:
    """(path, message) for each string holding a lone UTF-16 surrogate, as PyYAML reads a JSON-style
    `\\ud83d\\ude00` escape: no UTF-8 file and no Go program (Prometheus, promtool) can hold one."""
    if isinstance(node, str):
        found = None if node.isascii() else _SURROGATE.search(node)
        if found is not None:
            pair = _PAIR.search(node)
            fix = "write the character itself, or a \\U0001F525-style escape for one beyond U+FFFF"
            if pair is not None:
                joined = pair.group().encode("utf-16", "surrogatepass").decode("utf-16")
                fix = f"write the character itself ({joined}) or its escape \\U{ord(joined):08X}"
            yield (
                sub,
                f"holds U+{ord(found.group()):04X}, a UTF-16 surrogate (YAML reads a \\ud83d\\ude00-style "
                f"escape as two broken halves, and Prometheus refuses them); {fix}",
            )
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from surrogate_problems(key, sub)
            yield from surrogate_problems(value, (*sub, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from surrogate_problems(item, (*sub, index))
