"""Read YAML with line numbers for every node, refusing duplicate keys and multiple documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from catalog.errors import Problem

PathKey = tuple[str | int, ...]


@dataclass
class YamlDocument:
    """A parsed YAML file and the line of every key and list item in it."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: PathKey) -> int | None:
        """The line of the deepest known node on `path`."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None


def _walk(node: yaml.Node, path: PathKey, doc: YamlDocument, problems: list[Problem]) -> None:
    doc.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    Problem(
                        doc.file,
                        ".".join(str(p) for p in (*path, key)),
                        f"duplicate key {key!r} (first on line {seen[key]}); YAML keeps only the last, "
                        "so merge or remove one",
                        line=line,
                    )
                )
            seen[key] = line
            _walk(value_node, (*path, key), doc, problems)
            doc.lines[(*path, key)] = line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), doc, problems)


def read_yaml(path: Path, display: str) -> tuple[YamlDocument | None, list[Problem]]:
    """Parse one file; on a syntax error return the problem with its line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(display, "", f"cannot read file: {exc}")]
    problems: list[Problem] = []
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
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
        return None, [Problem(display, "", f"YAML error: {exc}")]
    nodes = [n for n in nodes if n is not None]
    if len(nodes) > 1:
        return None, [
            Problem(
                display,
                "",
                f"file holds {len(nodes)} YAML documents; a catalog file holds one, so split them into "
                "separate files in the catalog directory",
                line=nodes[1].start_mark.line + 1,
            )
        ]
    if not nodes:
        return YamlDocument(display, {}), []
    doc = YamlDocument(display, None)
    _walk(nodes[0], (), doc, problems)
    loader = yaml.SafeLoader("")
    doc.data = loader.construct_document(nodes[0])
    return doc, problems
