"""Reading the catalog's secret references (an environment variable or a file) at start-up.

Every source reads its secrets through `read_secret` when it is built. A missing, empty or unreadable
secret is a start-up error (`ConfigError`), never a running source with `up=0`. While `build_sources`
builds the sources inside `collecting()`, each problem is recorded instead of raised, so that one error
lists every source and variable at once. Messages name the variable or the file, never a value.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from exporters.errors import ConfigError

_problems: ContextVar[list[str] | None] = ContextVar("watchkeeper_secret_problems", default=None)


def _read(env: str | None, file: str | None, where: str, what: str) -> str:
    if env is not None:
        value = os.environ.get(env)
        if value is None:
            raise ConfigError(f"{where}: environment variable {env} is not set ({what})")
        if not value.strip():
            raise ConfigError(f"{where}: environment variable {env} is set but empty ({what})")
        return value
    if file is None:
        raise ConfigError(f"{where}: no environment variable or file is given for {what}")
    try:
        text = Path(file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the file {file} ({what}): {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: the file {file} ({what}) is not UTF-8 text") from None
    if not text:
        raise ConfigError(f"{where}: the file {file} ({what}) is empty")
    return text


def read_secret(env: str | None, file: str | None, where: str, what: str = "the secret") -> str:
    """The secret in environment variable `env`, or else in `file` (stripped). A missing or blank one raises
    ConfigError naming `where` and the variable or file; inside `collecting()` it is recorded instead and
    "" returned (never used: start-up stops once every source has been built)."""
    try:
        return _read(env, file, where, what)
    except ConfigError as exc:
        problems = _problems.get()
        if problems is None:
            raise
        problems.append(str(exc))
        return ""


@contextmanager
def collecting() -> Iterator[list[str]]:
    """Record the secret problems met inside the block instead of raising them; the list holds them."""
    problems: list[str] = []
    token = _problems.set(problems)
    try:
        yield problems
    finally:
        _problems.reset(token)


def startup_error(problems: list[str]) -> ConfigError:
    """One error listing every problem, for the exporter to print before it exits."""
    lines = "\n".join(f"  - {p}" for p in problems)
    return ConfigError(
        f"the exporter cannot start: {len(problems)} problem(s) with the sources' secrets or settings "
        f"(set each variable to a non-empty value, or fix the file):\n{lines}"
    )
