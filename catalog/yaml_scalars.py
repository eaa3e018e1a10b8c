"""YAML 1.1 scalars as PyYAML's `safe_load` reads them, with a message instead of a crash for bad ones.

`resolve` gives a plain scalar's tag (`yes` is a bool, `0x1F` an int, `2026-01-31` a timestamp) and
`read_scalar` its value, both cached: a catalog repeats the same keys and values thousands of times.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

_P = "tag:yaml.org,2002:"
STR, INT, MERGE, VALUE, SEQ, MAP = (_P + t for t in ("str", "int", "merge", "value", "seq", "map"))
FLOAT = _P + "float"
SCALAR_TAGS = frozenset(_P + t for t in ("null", "bool", "int", "float", "binary", "timestamp", "str"))
"""The tags a catalog scalar may carry; anything else (`!!python/...`, local tags) is refused."""

_IMPLICIT: dict[str, list[tuple[str, Any]]] = {
    first: list(resolvers) + Resolver.yaml_implicit_resolvers.get(None, [])
    for first, resolvers in Resolver.yaml_implicit_resolvers.items()
    if first is not None
}
_CONSTRUCTOR = SafeConstructor()
_CACHE_LIMIT = 50_000
_CACHED_TAGS = frozenset(_P + t for t in ("null", "bool", "int", "float"))  # immutable values
_RESOLVED: dict[str, str] = {}
_VALUES: dict[tuple[str, str], Any] = {}
_MISSING = object()
_REASONS = {
    _P + "bool": "write true or false",
    _P + "int": "not an integer",
    _P + "float": "not a number",
    _P + "timestamp": "not a date such as 2026-01-31 or 2026-01-31T12:00:00Z",
    _P + "binary": "not base64 data",
}


class ScalarError(ValueError):
    """A scalar that cannot be read; the message says why and what to do."""


def short_tag(tag: str) -> str:
    """`!!float` for PyYAML's `tag:yaml.org,2002:float`, other tags as written."""
    return "!!" + tag[len(_P) :] if tag.startswith(_P) else tag


def resolve(text: str) -> str:
    """The tag of a plain scalar, as PyYAML's resolver decides it; STR (the same object) for text."""
    tag = _RESOLVED.get(text)
    if tag is None:
        tag = STR
        for candidate, regexp in _IMPLICIT.get(text[:1], ()):
            if regexp.match(text):
                tag = candidate
                break
        if len(text) <= 64 and len(_RESOLVED) < _CACHE_LIMIT:
            _RESOLVED[text] = tag
    return tag


def read_scalar(tag: str, text: str, event: Any) -> Any:
    """The value of a scalar with a non-string tag, by PyYAML's own reader for that tag."""
    cacheable = tag in _CACHED_TAGS and len(text) <= 64
    if cacheable:
        value = _VALUES.get((tag, text), _MISSING)
        if value is not _MISSING:
            return value
    if tag not in SCALAR_TAGS:
        raise ScalarError(
            f"tag {short_tag(tag)} is not allowed in a catalog (only plain YAML values are); remove it"
        )
    node = yaml.ScalarNode(tag, text, event.start_mark, event.end_mark, event.style)
    try:
        value = _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, node)
    except Exception:  # PyYAML's scalar readers fail with ValueError, KeyError, AttributeError, ...
        shown = repr(text) if len(text) <= 40 else repr(text[:20] + "...")
        digits, limit = sum(c.isdigit() for c in text), sys.get_int_max_str_digits()
        if tag == INT and digits > limit:
            reason = f"the number has {digits} digits, more than the {limit} Python reads"
        else:
            reason = _REASONS.get(tag, "not a valid value")
        raise ScalarError(
            f"cannot read {shown} as {short_tag(tag)}: {reason}; fix the value, or quote it if it is text"
        ) from None
    if cacheable and len(_VALUES) < _CACHE_LIMIT:
        _VALUES[(tag, text)] = value
    return value
