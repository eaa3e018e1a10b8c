"""Write YAML the way people read it: block style, key order kept, multi-line strings as `|` blocks.

A small emitter for plain data (dicts, lists, strings, numbers, booleans, None), about 10x faster than
PyYAML's representer on big rule sets. A string is written plain only when PyYAML's own resolver reads it
back as that string; otherwise as a literal block (multi-line, printable) or JSON-escaped in double
quotes, which YAML reads identically. Text stays as written (an emoji is written as itself): only the
characters YAML cannot hold raw in a quoted scalar are escaped, as `\\uXXXX` (DEL and C1 controls, the
NEL/LS/PS line breaks, the BOM, U+FFFE/U+FFFF). A lone UTF-16 surrogate is refused with YamlDumpError:
neither a UTF-8 file nor Go's YAML (Prometheus, Alertmanager) can hold one. `tests/test_yaml_dump.py`
round-trips any other Unicode text through `yaml.safe_load`, promtool and Prometheus.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import Any

import yaml

_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"
_PLAIN = re.compile(r"(?![-?:,\[\]{}#&*!|>'\"%@`])[\x21-\x7e][\x20-\x7e]*")
_BLOCK_SAFE = re.compile(
    r"[\x20-\x7e\n\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*"
)
# What json.dumps(ensure_ascii=False) leaves raw but a YAML quoted scalar cannot hold raw: DEL and the C1
# controls (NEL among them), the LS/PS line breaks, the BOM and U+FFFE/U+FFFF. Plus surrogates, refused.
_ESCAPED = [*range(0x7F, 0xA0), 0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF]
_ESCAPES = {code: f"\\u{code:04x}" for code in _ESCAPED}
_SPECIAL = re.compile(r"[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# YAML allows an implicit key of at most 1024 characters (libyaml and Go count differently): longer
# keys are written in the explicit `? key` form.
_MAX_SIMPLE_KEY = 200


class YamlDumpError(ValueError):
    """A value no YAML reader outside Python could read back (a lone UTF-16 surrogate)."""

    def __init__(self, message: str, path: str = "") -> None:
        self.message, self.path = message, path
        super().__init__(f"{path}: {message}" if path else message)

    def at(self, key: object) -> YamlDumpError:
        """The same error, located one level further out."""
        step = f"[{key}]" if isinstance(key, int) else str(key)
        joined = step + ("" if not self.path else self.path if self.path.startswith("[") else "." + self.path)
        return YamlDumpError(self.message, joined)


def _plain_ok(text: str) -> bool:
    if not _PLAIN.fullmatch(text) or text[-1] == " " or ": " in text or " #" in text or text.endswith(":"):
        return False
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return tag == _STR_TAG


def _quoted(text: str) -> str:
    quoted = json.dumps(text, ensure_ascii=False)
    if (quoted.isascii() and "\x7f" not in quoted) or _SPECIAL.search(quoted) is None:
        return quoted  # the common case: nothing to escape (isascii is O(1) in CPython)
    surrogate = _SURROGATE.search(text)
    if surrogate is not None:
        raise YamlDumpError(
            f"{text!r} holds U+{ord(surrogate.group()):04X}, a lone UTF-16 surrogate, which no UTF-8 file "
            "or Go YAML reader can hold; write the character itself (an emoji as the emoji, or its "
            "\\U0001F525-style escape), not a \\ud83d\\udd25-style surrogate pair"
        )
    return quoted.translate(_ESCAPES)


@lru_cache(maxsize=65536)
def _string(text: str) -> str:
    return text if _plain_ok(text) else _quoted(text)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value).lower()
        if "." not in text and "e" in text:  # YAML 1.1 floats need a dot: 1e-05 -> 1.0e-05
            text = text.replace("e", ".0e", 1)
        return text
    if isinstance(value, str):
        return _string(value)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _block(text: str, indent: str) -> str | None:
    """A literal block for a multi-line printable string, or None if it would not read back exactly."""
    if "\n" not in text or not _BLOCK_SAFE.fullmatch(text) or text[:1] in {" ", "\n"}:
        return None
    body, chomp = (text[:-1], "") if text.endswith("\n") else (text, "-")
    if body.endswith("\n"):
        return None  # several trailing newlines: quote instead
    lines = body.split("\n")
    if any(line.strip() == "" and line for line in lines):
        return None  # whitespace-only lines would be read as empty
    return f"|{chomp}\n" + "\n".join(f"{indent}{line}" if line else "" for line in lines)


def _value(value: Any, indent: str) -> str:
    """The text after `key:` or `- ` for a value at this indentation."""
    if isinstance(value, dict):
        return " {}" if not value else "\n" + _mapping(value, indent)
    if isinstance(value, list):
        return " []" if not value else "\n" + _sequence(value, indent)
    if isinstance(value, str):
        block = _block(value, indent)
        if block is not None:
            return " " + block
    return " " + _scalar(value)


def _mapping(data: dict[Any, Any], indent: str) -> str:
    lines = []
    for key, value in data.items():
        try:
            text = _scalar(str(key))
            if len(text) > _MAX_SIMPLE_KEY:
                lines.append(f"{indent}? {text}\n{indent}:{_value(value, indent + '  ')}")
            else:
                lines.append(f"{indent}{text}:{_value(value, indent + '  ')}")
        except YamlDumpError as exc:
            raise exc.at(key) from None
    return "\n".join(lines)


def _sequence(items: list[Any], indent: str) -> str:
    lines = []
    for index, item in enumerate(items):
        try:
            if isinstance(item, dict) and item:
                nested = _mapping(item, indent + "  ")
                lines.append(f"{indent}- {nested[len(indent) + 2 :]}")
            else:
                lines.append(f"{indent}-{_value(item, indent + '  ')}")
        except YamlDumpError as exc:
            raise exc.at(index) from None
    return "\n".join(lines)


def dump_yaml(data: Any) -> str:
    """Block-style YAML for plain data; every string is written so that YAML reads it back unchanged."""
    if isinstance(data, dict):
        return (_mapping(data, "") if data else "{}") + "\n"
    if isinstance(data, list):
        return (_sequence(data, "") if data else "[]") + "\n"
    return _scalar(data) + "\n"
