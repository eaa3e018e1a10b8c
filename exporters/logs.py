"""Structured logs: one logfmt line per event (`ts=... level=... msg=... key=value`), secrets never included.

Values are quoted when needed, with backslash, quote and every control character escaped, so no value
(an upstream's echoed header, an error text) can break a line or forge a field; long values are cut.
"""

from __future__ import annotations

import logging
import sys
import time

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
MAX_VALUE = 1000
"""Characters kept of a field's value (a traceback keeps MAX_EXCEPTION)."""
MAX_EXCEPTION = 4000
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _quote(value: object, limit: int = MAX_VALUE) -> str:
    text = str(value)
    if len(text) > limit:
        text = f"{text[:limit]}…({len(text) - limit} more)"
    if text and all(c.isalnum() or c in "-._:/@[]" for c in text) and text.isascii():
        return text
    out = []
    for c in text:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif not c.isprintable():
            out.append(f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the current sys.stderr (which tests and the CLI runner replace), not the one at setup."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"
        parts = [
            f"ts={ts}",
            f"level={record.levelname.lower()}",
            f"logger={record.name}",
            f"msg={_quote(record.getMessage())}",
        ]
        for key, value in vars(record).items():
            if key not in _STANDARD:
                limit = MAX_EXCEPTION if key == "exception" else MAX_VALUE
                parts.append(f"{key}={_quote(value, limit)}")
        if record.exc_info:
            parts.append(f"exception={_quote(self.formatException(record.exc_info), MAX_EXCEPTION)}")
        return " ".join(parts)


def setup(level: str = "info") -> None:
    """Log Watchkeeper's events at `level`, and uvicorn's errors only (never a line per request or per
    malformed request a client sends), all as logfmt on stderr."""
    handler = _Stderr(sys.stderr)
    handler.setFormatter(LogfmtFormatter())
    root = logging.getLogger("watchkeeper")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    server = logging.getLogger("uvicorn")
    server.handlers[:] = [handler]
    server.setLevel(logging.ERROR)
    server.propagate = False
