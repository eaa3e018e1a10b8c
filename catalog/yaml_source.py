"""Read one catalog YAML file into plain data plus the line of every key and list item.

Only regular files are opened (a FIFO would block, /dev/zero never end). libyaml parses the text;
`catalog.yaml_build.Builder` turns its events into data, refusing hostile YAML (alias bombs, recursive
aliases, deep nesting, unsafe tags, unreadable values) with a problem that names the line.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.events import DocumentStartEvent, ScalarEvent

from catalog.errors import Problem
from catalog.yaml_build import Builder, Lines, RefusedError
from catalog.yaml_scalars import FLOAT, INT, read_scalar, resolve

PathKey = tuple[str | int, ...]


@dataclass
class YamlDocument:
    """A parsed YAML file and where each key and list item in it is."""

    file: str
    data: Any
    root: Lines | None = None
    surrogate_free: bool = False
    """True when libyaml read the file: it refuses surrogate escapes, so no string holds a lone surrogate."""
    base60: list[tuple[str, str, int, int]] = field(default_factory=list)
    """Plain scalars YAML 1.1 reads as base-60 numbers (`1:39` is 99), with that value, line and column: the
    loader refuses them, since no catalog field means one (the data still equals PyYAML's)."""

    def line_of(self, path: PathKey) -> int | None:
        """The line of the deepest node on `path` that is known (a key's line for a mapping value)."""
        node = self.root
        if node is None:
            return None
        best = node.line
        for part in path:
            at = node.at
            if isinstance(at, list):
                if not isinstance(part, int) or not 0 <= part < len(at):
                    break
                best = at[part]
            elif part in at:
                best = at[part]
            else:
                break
            child = node.children.get(part)
            if child is None:
                break
            node = child
        return best


def _reader_problem(display: str, text: str, exc: yaml.reader.ReaderError) -> Problem:
    # PyYAML's reader gives the index of the character in the text.
    before = text[: exc.position]
    line = before.count("\n") + 1
    column = exc.position - (before.rfind("\n") + 1) + 1
    char = exc.character if isinstance(exc.character, int) else ord(exc.character or "?")
    return Problem(
        display,
        "",
        f"control character #x{char:04x} is not allowed in YAML; remove it (or write it escaped in double quotes)",
        line=line,
        column=column,
    )


def _read_text(path: Path, display: str) -> tuple[str | None, Problem | None]:
    """The file's text; never opens anything but a regular file (a FIFO would block, /dev/zero never end)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        return None, Problem(display, "", f"cannot read file: {exc.strerror}")
    with open(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            return None, Problem(display, "", f"not a regular file ({file_kind(mode)}); give a YAML file")
        data = b""
        try:
            data = handle.read()
            wide = _wide_encoding(data) if b"\x00" in data[:512] else None
            if wide is None:
                return data.decode("utf-8"), None
            return None, Problem(
                display, "", f"cannot read file: it is {wide} text, not UTF-8; save it as UTF-8", line=1
            )
        except UnicodeDecodeError as exc:
            wide = _wide_encoding(data)
            if wide:
                return None, Problem(
                    display, "", f"cannot read file: it is {wide} text, not UTF-8; save it as UTF-8", line=1
                )
            return None, Problem(
                display, "", f"cannot read file: not UTF-8 text ({exc.reason} at byte {exc.start})"
            )
        except OSError as exc:
            return None, Problem(display, "", f"cannot read file: {exc.strerror}")


_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian, with a byte-order mark)"),
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian, with a byte-order mark)"),
    (b"\xff\xfe", "UTF-16 (little-endian, with a byte-order mark)"),
    (b"\xfe\xff", "UTF-16 (big-endian, with a byte-order mark)"),
)


def _wide_encoding(data: bytes) -> str | None:
    """UTF-16 or UTF-32, as an editor on Windows may save a file: by its byte-order mark, or by the NUL
    byte beside each ASCII character; None for anything else."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    head = data[:512]
    if len(head) >= 4 and head[1::2].count(0) > len(head) * 0.4 and not head[::2].count(0):
        return "UTF-16 (little-endian)"
    if len(head) >= 4 and head[::2].count(0) > len(head) * 0.4 and not head[1::2].count(0):
        return "UTF-16 (big-endian)"
    return None


def file_kind(mode: int) -> str:
    """What a non-regular file is, for messages."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_yaml(path: Path, display: str) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse one file; the document is None when it cannot be used (the problems say why and where)."""
    text, problem = _read_text(path, display)
    if text is None:
        return None, [problem] if problem else []
    try:
        try:
            return _parse(text, display, yaml.CSafeLoader)
        except yaml.YAMLError:
            # libyaml refuses a few texts PyYAML reads (a surrogate-pair escape, which the model then explains),
            # and PyYAML's syntax messages are the clearer: parse again with it, through the same builder.
            return _parse(text, display, yaml.SafeLoader)
    except RefusedError as refused:
        return None, [refused.problem]
    except yaml.reader.ReaderError as exc:
        return None, [_reader_problem(display, text, exc)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"YAML syntax error: {exc.problem or exc}"
        if exc.context:
            message += f" ({exc.context})"
        return None, [
            Problem(
                display,
                "",
                message + "; fix the indentation or quoting at this position",
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            )
        ]
    except yaml.YAMLError as exc:
        return None, [Problem(display, "", f"YAML error: {exc}", line=1)]


def _parse(
    text: str, display: str, loader: type[yaml.CSafeLoader | yaml.SafeLoader]
) -> tuple[YamlDocument | None, list[Problem]]:
    builder = Builder(display)
    feed = builder.feed
    documents, second_line = 0, 0
    base60: list[tuple[str, str, int, int]] = []
    parser = loader(text)
    try:
        get_event = parser.get_event
        while (event := get_event()) is not None:
            if type(event) is DocumentStartEvent:
                documents += 1
                if documents == 2 and event.start_mark is not None:
                    second_line = event.start_mark.line + 1
            elif documents == 1:
                if type(event) is ScalarEvent and ":" in event.value and event.implicit[0]:
                    _note_base60(event, base60)
                feed(event)
    finally:
        parser.dispose()
    if documents > 1:
        return None, [
            Problem(
                display,
                "",
                f"file holds {documents} YAML documents; a catalog file holds one, so split them into "
                "separate files in the catalog directory",
                line=second_line,
            )
        ]
    if builder.bad_values:
        return None, builder.problems
    if not builder.done:
        return YamlDocument(display, {}), builder.problems
    return (
        YamlDocument(
            display,
            builder.root,
            builder.root_lines,
            surrogate_free=loader is yaml.CSafeLoader,
            base60=base60,
        ),
        builder.problems,
    )


def _note_base60(event: ScalarEvent, found: list[tuple[str, str, int, int]]) -> None:
    tag = resolve(event.value)
    if tag in {INT, FLOAT} and event.start_mark is not None:
        try:
            value = str(read_scalar(tag, event.value, event))
        except ValueError:  # the builder reports it
            return
        found.append((event.value, value, event.start_mark.line + 1, event.start_mark.column + 1))
