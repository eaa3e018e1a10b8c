"""Claim regexes read exactly as Prometheus reads them: RE2 syntax and semantics (Go's `regexp`).

Prometheus matches a label regex fully anchored (`^(?:re)$`) with Go's `regexp`, whose syntax and meaning
are RE2's (`\\d`, `\\w`, `\\s`, `\\b` are ASCII; `[[:digit:]]` is a POSIX class; `x{,3}` is literal text).
Python's `re` reads several of these differently, so claims are validated, matched and measured (literal
prefix) with RE2 itself (the `google-re2` package), never with `re`. The few constructs RE2 accepts but
Go's `regexp` refuses or that read as a typo are refused here too.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_MAX_PREFIX = 1024
"""Longest literal prefix measured (names are far shorter)."""
_GO_REFUSES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<!\\)(?:\\\\)*\\C"), r"'\C' (any byte): Go's regexp does not support it; use '.'"),
    (
        re.compile(r"(?<!\\)(?:\\\\)*\(\?<[^=!]"),
        "'(?<name>...)': Prometheus' Go regexp does not support it; write (?P<name>...) or (?:...)",
    ),
    (
        re.compile(r"(?<!\\)(?:\\\\)*(?<!\[)\{,\d*\}"),
        "'{,n}': RE2 (Prometheus) reads it as literal text, not a repeat; write {0,n}, or \\{ for a brace",
    ),
)


def _re2() -> Any:
    """The RE2 bindings, imported on first use (catalog loading should not pay for them up front)."""
    import re2  # type: ignore[import-untyped]

    return re2


def _options() -> Any:
    options = _re2().Options()
    options.log_errors = False  # errors are reported to the catalog author, not on stderr
    return options


@functools.lru_cache(maxsize=65536)
def compiled(regex: str) -> Any:
    """The regex compiled by RE2 (as Prometheus compiles it; raises `re2.error` when RE2 refuses it)."""
    return _re2().compile(regex, _options())


def problem(regex: str) -> str | None:
    """Why Prometheus cannot use `regex` as a label matcher (or reads it differently than written), or
    None when it is fine."""
    try:
        compiled(regex)
    except _re2().error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        more = (
            " (RE2 has no lookaround, backreferences, comments (?#...), (?x) or (?a) flags, \\N{...} names, "
            "or escapes of letters and non-ASCII characters that are not classes)"
            if reason.startswith(("invalid perl operator", "invalid escape"))
            else ""
        )
        return f"Prometheus' RE2 regexes refuse it ({reason}){more}"
    for pattern, why in _GO_REFUSES:
        if pattern.search(regex):
            return f"it uses {why}"
    return None


def fullmatch(regex: str, name: str) -> bool:
    """True when Prometheus' matcher `label=~"regex"` selects the value `name`."""
    return compiled(regex).fullmatch(name) is not None


def literal_prefix(regex: str) -> str:
    """The text every name the regex matches starts with (as RE2 parses it, not read off the text).

    RE2's possible-match range bounds every match between two strings; their common prefix starts every
    match. `^orders-eu-.*` → `orders-eu-`; `orders-?x` → `orders`; `(?i)orders` → ''; `ab|ac` → `a`."""
    try:
        low, high = compiled(regex).possiblematchrange(_MAX_PREFIX)
    except (_re2().error, ValueError, TypeError):
        return ""
    n = 0
    while n < min(len(low), len(high)) and low[n] == high[n]:
        n += 1
    return bytes(low[:n]).decode("utf-8", errors="ignore")  # a cut multi-byte character is dropped


def possible_low(regex: str, length: int = 64) -> str:
    """RE2's lower bound of the regex's matches (often a match itself; check it)."""
    try:
        low = compiled(regex).possiblematchrange(length)[0]
    except (_re2().error, ValueError, TypeError):
        return ""
    return bytes(low).decode("utf-8", errors="ignore")


_QUEUE_RE = re.compile(r"root(\.[^.\s]+)*")
_GO_META = set("\\.+*?()|[]{}^$")


def check_pattern(value: str) -> str:
    """A literal name, or `re:` and a regex Prometheus (RE2, Go's regexp) accepts and reads as written."""
    if not value or value.strip() != value or any(ord(c) < 32 for c in value):
        raise ValueError(
            f"{value!r} is not a name: give the exact name (no surrounding spaces or control characters) "
            "or re:<regex>"
        )
    if value.startswith("re:"):
        body = value[3:]
        if not body:
            raise ValueError("'re:' has no regex after it; write re:<regex>, e.g. re:^orders-.*")
        why = problem(body)
        if why is not None:
            raise ValueError(f"{value!r} is not a regex Prometheus reads as written: {why}; rewrite it")
    return value


def check_queue(value: str) -> str:
    if not _QUEUE_RE.fullmatch(value):
        hint = f" (did you mean 'root.{value}'?)" if "." not in value and value != "root" else ""
        raise ValueError(
            f"{value!r} is not a full queue path: write it from root with '.' between levels, e.g. "
            f"root.analytics (a claim covers the queue and its children; no patterns){hint}"
        )
    return value


def quote_meta(text: str) -> str:
    """`text` as a regex matching exactly it, escaping what Go's `regexp.QuoteMeta` escapes."""
    return "".join("\\" + c if c in _GO_META else c for c in text)


def _listed(filters: list[str], name: str) -> bool:
    return any(re.fullmatch(p[3:], name) if p.startswith("re:") else p == name for p in filters)


def uncollected(source: Any, kind: str, name: str) -> bool:
    """True when a Kafka source's groups/topics filters leave out a claimed name, or every name a claimed
    pattern matches (provably: no listed name it matches, no listed pattern with a compatible prefix)."""
    if kind not in ("kafka_group", "kafka_topic"):
        return False
    include, exclude = (
        (source.groups, source.exclude_groups)
        if kind == "kafka_group"
        else (source.topics, source.exclude_topics)
    )
    if not name.startswith("re:"):
        return not _listed(include, name) or _listed(exclude, name)
    body = name[3:]
    prefix = literal_prefix(body)
    for f in include:
        if not f.startswith("re:"):
            if fullmatch(body, f) and not _listed(exclude, f):
                return False
            continue
        other = literal_prefix(f[3:]) if problem(f[3:]) is None else ""
        if other.startswith(prefix) or prefix.startswith(other):
            return False
    return True


_ENDS = re.compile(r"^\^|(?<!\\)((?:\\\\)*)\$$")


EVERYTHING = {".*", ".+", "(?s).*", "(?s).+", "(?s:.*)", "(?s:.+)", "(.*)", "(.+)", "(?:.*)", "(?:.+)"}
"""Patterns selecting every name (`.` misses only a newline, which no group, topic, queue or app has)."""


def same_names(body: str) -> str:
    """The regex with a leading `^` and trailing `$` removed: Prometheus anchors every label regex, so
    `^o.*`, `o.*$` and `o.*` select the same names."""
    return _ENDS.sub(lambda m: m.group(1) or "", body)
