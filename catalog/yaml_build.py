"""Build plain data and a line table from libyaml events, refusing hostile YAML as it goes.

`Builder` gives each document the meaning PyYAML's `safe_load` gives it (YAML 1.1 scalars, `<<` merge keys)
in one pass over the parser's events, keeping no node tree, while:

- counting the nodes that aliases add, so an alias bomb is refused after `ALIAS_BUDGET` nodes instead of
  being expanded (aliased values are shared, never copied);
- refusing a recursive alias, an undefined one, and nesting deeper than `MAX_DEPTH` levels, counting the
  levels an alias brings with it;
- allowing only the plain YAML tags (no `!!python/...`, no local tags) and turning every value PyYAML
  would crash on (`!!float abc`, a 5,000-digit integer, a list as a mapping key) into a located problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from catalog.errors import Problem
from catalog.yaml_scalars import MAP, MERGE, SEQ, STR, VALUE, ScalarError, read_scalar, resolve, short_tag

MAX_DEPTH = 100
"""Deepest nesting of mappings and lists accepted; a catalog needs about eight levels."""
ALIAS_BUDGET = 100_000
"""Nodes that aliases may add to a file (or as many as the file itself holds, if that is more)."""
CHARS_PER_NODE = 100
"""A long string weighs one node per this many characters, so aliasing a huge string is counted too."""


class Lines:
    """Where the keys (of a mapping) or items (of a list) of one collection are, 1-based."""

    __slots__ = ("at", "children", "line")

    def __init__(self, line: int, at: dict[Any, int] | list[int]) -> None:
        self.line = line
        self.at = at
        self.children: dict[Any, Lines] = {}


class RefusedError(Exception):
    """Stops building a file: its structure is hostile or broken."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem


@dataclass
class _Anchor:
    value: Any
    lines: Lines | None
    line: int
    size: int
    height: int


class _Frame:
    """A mapping or list being built."""

    __slots__ = ("anchor", "height", "key", "key_line", "key_text", "lines", "merges", "size", "value")

    def __init__(self, value: dict[Any, Any] | list[Any], lines: Lines, anchor: str | None) -> None:
        self.value = value
        self.lines = lines
        self.anchor = anchor
        self.size = 1
        self.height = 1
        self.key: Any = _NO_KEY
        self.key_line = 0
        self.key_text = ""
        self.merges: list[tuple[dict[Any, Any], Lines | None]] = []


_NO_KEY = object()
_MERGE_KEY = object()


class Builder:
    """Turns the events of one document into data and `Lines`; raises RefusedError on hostile structure."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.stack: list[_Frame] = []
        self.anchors: dict[str, _Anchor] = {}
        self.open_anchors: set[str] = set()
        self.anchor_lines: dict[str, int] = {}
        self.problems: list[Problem] = []
        self.bad_values = False
        self.nodes = 0
        self.alias_nodes = 0
        self.root: Any = None
        self.root_lines: Lines | None = None
        self.done = False

    # --- locating ---------------------------------------------------------------------------------

    def where(self) -> str:
        """The path of the node being read, as the loader writes it: slos[0].sli."""
        parts: list[str] = []
        for frame in self.stack:
            if isinstance(frame.value, list):
                parts.append(f"[{len(frame.value)}]")
            elif frame.key is not _NO_KEY and frame.key is not _MERGE_KEY:
                parts.append(f".{frame.key}")
        if len(parts) > 12:
            parts = [*parts[:8], "...", *parts[-3:]]
        return "".join(parts).lstrip(".")

    def problem(self, message: str, mark: Any) -> Problem:
        return Problem(self.file, self.where(), message, line=mark.line + 1, column=mark.column + 1)

    def refuse(self, message: str, mark: Any) -> RefusedError:
        return RefusedError(self.problem(message, mark))

    def awaiting_key(self) -> _Frame | None:
        """The mapping being built, if the next node is one of its keys."""
        parent = self.stack[-1] if self.stack else None
        if parent is not None and parent.key is _NO_KEY and isinstance(parent.value, dict):
            return parent
        return None

    # --- events -------------------------------------------------------------------------------------

    def feed(self, event: Any) -> None:
        """Take the next event of the document."""
        kind = type(event)
        if kind is ScalarEvent:
            self.scalar(event)
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            self.close()
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            self.open(event, kind is MappingStartEvent)
        elif kind is AliasEvent:
            self.alias(event)

    def scalar(self, event: Any) -> None:
        """Resolve and read a scalar, and add it."""
        text: str = event.value
        tag = event.tag
        if tag is None or tag == "!":
            tag = resolve(text) if event.implicit[0] else STR
        self.nodes += 1
        value: Any = text
        if tag is not STR:
            parent = self.stack[-1] if self.stack else None
            if tag == MERGE and parent is not None and parent.key is _NO_KEY and type(parent.value) is dict:
                parent.key = _MERGE_KEY
                parent.key_line = event.start_mark.line + 1
                return
            if tag not in (MERGE, VALUE, STR):  # `=` and `<<` are text elsewhere (PyYAML refuses them)
                try:
                    value = read_scalar(tag, text, event)
                except ScalarError as exc:
                    self.bad_values = True
                    self.problems.append(self.problem(str(exc), event.start_mark))
                    value = None
        size = 1 + len(text) // CHARS_PER_NODE
        if event.anchor is not None:
            self.define(event.anchor, event)
            self.anchors[event.anchor] = _Anchor(value, None, event.start_mark.line + 1, size, 0)
        self.add(value, None, event.start_mark.line + 1, size, 0, event)

    def open(self, event: Any, is_map: bool) -> None:
        """Start a mapping or list, refusing it as a key, under a foreign tag or past MAX_DEPTH."""
        kind = "mapping" if is_map else "list"
        if self.awaiting_key() is not None:
            raise self.refuse(
                f"a mapping key must be a plain value such as a name, not a {kind}", event.start_mark
            )
        tag = event.tag
        if tag is not None and tag not in ("!", MAP if is_map else SEQ):
            raise self.refuse(
                f"tag {short_tag(tag)} is not allowed on a {kind} in a catalog; remove it", event.start_mark
            )
        if len(self.stack) >= MAX_DEPTH:
            raise self.refuse(
                f"nested more than {MAX_DEPTH} levels deep; a catalog needs far fewer, so flatten this value",
                event.start_mark,
            )
        self.nodes += 1
        line = event.start_mark.line + 1
        frame = (
            _Frame({}, Lines(line, {}), event.anchor) if is_map else _Frame([], Lines(line, []), event.anchor)
        )
        if event.anchor is not None:
            self.define(event.anchor, event)
            self.open_anchors.add(event.anchor)
        self.stack.append(frame)

    def close(self) -> None:
        """Finish the innermost mapping or list: apply its merges, record its anchor, add it to its parent."""
        frame = self.stack.pop()
        if frame.merges:
            self.merge(frame)
        if frame.anchor is not None:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = _Anchor(
                frame.value, frame.lines, frame.lines.line, frame.size, frame.height
            )
        self.add(frame.value, frame.lines, frame.lines.line, frame.size, frame.height, None)

    def alias(self, event: Any) -> None:
        """Share an anchored value, counting the nodes and levels it brings against the limits."""
        name = event.anchor
        anchor = self.anchors.get(name)
        if anchor is None:
            if name in self.open_anchors:
                raise self.refuse(
                    f"*{name} is a recursive alias: it points at the block that contains it; "
                    "an alias may only name a finished block",
                    event.start_mark,
                )
            raise self.refuse(f"undefined alias *{name}; define &{name} before using it", event.start_mark)
        self.alias_nodes += anchor.size
        if self.alias_nodes > max(ALIAS_BUDGET, self.nodes):
            raise self.refuse(
                f"aliases expand this file past {max(ALIAS_BUDGET, self.nodes):,} added nodes (an alias bomb?); "
                "write the repeated values out or use fewer nested aliases",
                event.start_mark,
            )
        if len(self.stack) + anchor.height > MAX_DEPTH:
            raise self.refuse(
                f"alias *{name} makes this value nested more than {MAX_DEPTH} levels deep; a catalog needs "
                "far fewer, so flatten it",
                event.start_mark,
            )
        if anchor.lines is not None and self.awaiting_key() is not None:
            kind = "mapping" if isinstance(anchor.value, dict) else "list"
            raise self.refuse(
                f"a mapping key must be a plain value such as a name, not a {kind}", event.start_mark
            )
        self.add(anchor.value, anchor.lines, event.start_mark.line + 1, anchor.size, anchor.height, event)

    def define(self, name: str, event: Any) -> None:
        """Note where anchor `name` starts; like PyYAML, refuse a name used twice."""
        if name in self.anchor_lines:
            raise self.refuse(
                f"anchor &{name} is defined twice (first on line {self.anchor_lines[name]}); rename one",
                event.start_mark,
            )
        self.anchor_lines[name] = event.start_mark.line + 1

    # --- assembling ---------------------------------------------------------------------------------

    def add(self, value: Any, lines: Lines | None, line: int, size: int, height: int, event: Any) -> None:
        """Put a finished value into its parent: a list item, a mapping key, or the value of that key."""
        parent = self.stack[-1] if self.stack else None
        if parent is None:
            self.root, self.root_lines, self.done = value, lines or Lines(line, {}), True
            return
        parent.size += size
        if height >= parent.height:
            parent.height = height + 1
        container = parent.value
        if type(container) is list:
            index = len(container)
            container.append(value)
            parent.lines.at.append(line)  # type: ignore[union-attr]
            if lines is not None:
                parent.lines.children[index] = lines
            return
        if parent.key is _NO_KEY:
            parent.key, parent.key_line = value, line
            parent.key_text = event.value if type(event) is ScalarEvent else str(value)
            return
        key, parent.key = parent.key, _NO_KEY
        if key is _MERGE_KEY:
            self.add_merge(parent, value, lines, event)
            return
        at: dict[Any, int] = parent.lines.at  # type: ignore[assignment]
        if key in container:
            self.problems.append(
                Problem(
                    self.file,
                    ".".join(filter(None, (self.where(), str(parent.key_text)))),
                    f"duplicate key {parent.key_text!r} (first on line {at[key]}); YAML keeps only the last, "
                    "so merge or remove one",
                    line=parent.key_line,
                )
            )
            parent.lines.children.pop(key, None)
        container[key] = value
        at[key] = parent.key_line
        if lines is not None:
            parent.lines.children[key] = lines

    def add_merge(self, parent: _Frame, value: Any, lines: Lines | None, event: Any) -> None:
        """Record a `<<` merge; like PyYAML, earlier mappings in a merged list win over later ones."""
        if isinstance(value, dict) and lines is not None:
            parent.merges.append((value, lines))
            return
        if isinstance(value, list) and lines is not None and all(isinstance(v, dict) for v in value):
            for index in range(len(value) - 1, -1, -1):
                parent.merges.append((value[index], lines.children.get(index)))
            return
        line = parent.key_line
        raise RefusedError(
            Problem(
                self.file,
                self.where(),
                "<< merges a mapping or a list of mappings (write <<: *anchor), not a single value",
                line=line,
            )
        )

    def merge(self, frame: _Frame) -> None:
        """Apply a mapping's `<<` merges: merged keys first, then its own keys over them."""
        explicit: dict[Any, Any] = frame.value  # type: ignore[assignment]
        explicit_lines = frame.lines
        merged: dict[Any, Any] = {}
        at: dict[Any, int] = {}
        children: dict[Any, Lines] = {}
        for source, source_lines in frame.merges:
            for key, value in source.items():
                merged[key] = value
                if source_lines is not None:
                    at[key] = source_lines.at[key]
                    child = source_lines.children.get(key)
                    if child is not None:
                        children[key] = child
                    else:
                        children.pop(key, None)
        merged.update(explicit)
        at.update(explicit_lines.at)  # type: ignore[arg-type]
        for key in explicit:
            children.pop(key, None)
        children.update(explicit_lines.children)
        frame.value = merged
        frame.lines.at, frame.lines.children = at, children
