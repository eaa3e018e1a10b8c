"""SQL freshness and row volume through SQLAlchemy 2: one value per query, read in a worker thread.

The URL comes from the catalog (`url`, `url_env` or `url_file`); it is read once, when the exporter starts,
and never logged. Engines are pooled per URL and timeout. PostgreSQL sessions are read-only with a
server-side `statement_timeout`; SQLite files are opened read-only (`mode=ro`: a missing file is
`not_found`, never created), `query_only`, and interrupted past the timeout.
Other dialects get the exporter's own deadline only. SQLAlchemy is imported on first use, not at start-up
of the CLI.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from catalog.model.connections import SqlQuery
from exporters.errors import ConfigError, ScrapeError, shown
from exporters.secrets import read_secret

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

MAX_EPOCH_SECONDS = 1e11
"""Unix seconds beyond this (year 5138) are taken for milliseconds and refused with that hint."""
MIN_EPOCH_SECONDS = 946_684_800.0
"""Unix seconds before 2000-01-01 are taken for a count, a flag or a sentinel, not the newest row's time."""
_ENGINES: dict[tuple[str, float], Engine] = {}
_ENGINES_LOCK = threading.Lock()
_EXECUTOR = ThreadPoolExecutor(max_workers=16, thread_name_prefix="watchkeeper-sql")
_NOT_TEXT_HINT = (
    "return a timestamp with a time zone or Unix seconds: e.g. PostgreSQL max(col) on a timestamptz "
    "column, SQLite max(unixepoch(col))"
)


def resolve_url(sql: SqlQuery, where: str) -> str:
    """The database URL the catalog points at: `url`, or read once from `url_env`/`url_file` (a start-up
    error names the variable or file, never the value)."""
    if sql.url is not None:
        return sql.url
    return read_secret(sql.url_env, sql.url_file, where, "the database URL").strip()


def postgres_driver(url: str) -> str:
    """`postgresql://...` names psycopg2, SQLAlchemy's default; use psycopg 3 when only it is installed."""
    if url.startswith("postgresql://") and find_spec("psycopg2") is None and find_spec("psycopg"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def check_url(url: str, timeout: float, where: str) -> None:
    """At start-up: a URL SQLAlchemy cannot parse, or a dialect it cannot load, is a ConfigError that
    names the source, never the URL (it may hold a password). Creates the pooled engine; no connection."""
    engine_for(url, timeout, where)


def engine_for(url: str, timeout: float, where: str) -> Engine:
    """The pooled engine for a URL and timeout, created on first use (ConfigError for a bad URL or driver)."""
    key = (url, timeout)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = _create(url, timeout, where)
        return engine


def _create(url_text: str, timeout: float, where: str) -> Engine:
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    _quiet_pool_log()
    try:
        url = make_url(url_text)
        backend = url.get_backend_name()
        url = make_url(postgres_driver(url.render_as_string(hide_password=False)))
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        why = "its port is not a number" if isinstance(exc, ValueError) else "expected dialect://..."
        raise ConfigError(f"{where}: the database URL is not a SQLAlchemy URL ({why})") from None
    if backend == "sqlite":
        url = _sqlite_read_only_url(url)
    connect_args: dict[str, Any] = {}
    statement_ms = max(1, int(timeout * 900))  # the server cancels first: a clear `timeout` before ours
    if backend == "postgresql":
        connect_args = {
            "connect_timeout": max(2, math.ceil(timeout)),
            "options": f"-c default_transaction_read_only=on -c statement_timeout={statement_ms}",
        }
    try:
        engine = create_engine(
            url,
            connect_args=connect_args,
            pool_size=2,
            max_overflow=4,
            pool_timeout=timeout,
            pool_pre_ping=True,
        )
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"{where}: cannot use the database URL's dialect {url.drivername}: {type(exc).__name__}"
        ) from None
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_read_only)
    return engine


def _quiet_pool_log() -> None:
    """SQLAlchemy's pool logs a traceback ("Exception during reset or similar") when a database dies under
    a connection; the scrape already reports it as one structured `connection` error, so it is not shown."""
    pool_log = logging.getLogger("sqlalchemy.pool")
    if not any(isinstance(h, logging.NullHandler) for h in pool_log.handlers):
        pool_log.addHandler(logging.NullHandler())
    pool_log.propagate = False


def _sqlite_read_only_url(url: Any) -> Any:
    """A SQLite file URL opened read-only (`file:...?mode=ro`): a missing file is not created."""
    database = url.database
    if not database or database == ":memory:" or url.query.get("uri"):
        return url
    return url.set(database="file:" + quote(database), query={**url.query, "mode": "ro", "uri": "true"})


def sqlite_file(engine: Engine) -> str | None:
    """The file a SQLite engine reads (None for another dialect or an in-memory database)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database or ""
    if not database.startswith("file:"):
        return None
    from urllib.parse import unquote

    return unquote(database.removeprefix("file:"))


def _sqlite_read_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only = ON")
    cursor.close()


def _sqlite_deadline(dbapi_connection: Any, seconds: float) -> None:
    """Interrupt a SQLite statement still running after `seconds` (SQLite has no statement timeout)."""
    deadline = time.monotonic() + seconds * 0.9

    def check() -> int:
        return 1 if time.monotonic() > deadline else 0

    dbapi_connection.set_progress_handler(check, 1000)


def fetch_value(engine: Engine, query: str, timeout: float) -> tuple[bool, object]:
    """Run `query` read-only and return (a row came back, its first column); raise ScrapeError by kind.
    More than one row is a `parse` error (at most two are fetched).

    The query goes to the driver's cursor as it is, without parameters, so `%` and `:name` in it are SQL,
    never placeholders."""
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    sqlite = engine.dialect.name == "sqlite"
    path = sqlite_file(engine)
    if path is not None and not os.path.exists(path):
        raise ScrapeError("not_found", f"the SQLite database {path} does not exist")
    try:
        with engine.connect() as conn:
            dbapi = conn.connection
            if sqlite:
                _sqlite_deadline(dbapi.driver_connection, timeout)
            cursor = dbapi.cursor()
            try:
                cursor.execute(query)
                rows = cursor.fetchmany(2) if cursor.description else []
            except Exception as exc:  # the driver's own error classes: classified by code and text
                raise classify(exc) from None
            finally:
                cursor.close()
                if sqlite:
                    dbapi.driver_connection.set_progress_handler(None, 0)  # type: ignore[union-attr]
                conn.rollback()
    except PoolTimeout:
        raise ScrapeError("timeout", f"no database connection free within {timeout:g}s") from None
    except DBAPIError as exc:
        raise classify(exc) from None
    except SQLAlchemyError as exc:
        raise ScrapeError("parse", f"the query failed: {type(exc).__name__}: {_first_line(exc)}") from None
    if not rows:
        return False, None
    if len(rows) > 1:
        raise ScrapeError(
            "parse", "the query returned more than one row; it must return one row (e.g. select max(...))"
        )
    row = rows[0]
    return True, row[0] if len(row) else None


_AUTH = re.compile(
    r"password authentication failed|authentication failed|no password supplied|access denied for user"
    r"|not permitted to log in|role \".*\" does not exist"
)
_READ_ONLY = re.compile(r"read-only|readonly")
_TIMEOUT = re.compile(r"statement timeout|canceling statement|interrupted|timeout expired|timed out")
_NOT_FOUND = re.compile(r"no such table|does not exist|unable to open database file|unknown database")
_SYNTAX = re.compile(r"syntax error|no such column|no such function|unrecognized token|incomplete input")
_CONNECTION = re.compile(
    r"connection refused|could not connect|connection failed|server closed|no route|terminating connection"
    r"|connection (?:is |was )?(?:lost|closed)"
)


def classify(exc: Any) -> ScrapeError:
    """A driver error as a ScrapeError of the right kind: auth, timeout, not_found, connection or parse."""
    orig = getattr(exc, "orig", None) or exc
    message = _first_line(orig)
    text = str(orig).lower()
    sqlstate = str(getattr(orig, "sqlstate", "") or "")
    if sqlstate.startswith("28") or _AUTH.search(text):
        return ScrapeError("auth", f"the database refused the credentials: {message}")
    if sqlstate == "25006" or _READ_ONLY.search(text):
        return ScrapeError("parse", f"the query must only read; the database refused a write: {message}")
    if sqlstate.startswith(("08", "57P")):
        return ScrapeError("connection", f"the database closed the connection: {message}")
    if sqlstate == "57014" or _TIMEOUT.search(text):
        return ScrapeError("timeout", f"the query ran past its timeout: {message}")
    if sqlstate in {"42P01", "3D000"} or _NOT_FOUND.search(text):
        return ScrapeError("not_found", f"the query's table or database does not exist: {message}")
    if sqlstate.startswith("42") or _SYNTAX.search(text):
        return ScrapeError("parse", f"bad SQL: {message}")
    if _CONNECTION.search(text) or type(orig).__name__ == "OperationalError":
        return ScrapeError("connection", f"cannot reach the database: {message}")
    return ScrapeError("parse", f"the query failed: {message}")


def _first_line(exc: object) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def to_timestamp(found: bool, value: object, assume_utc: bool, what: str) -> float:
    """Unix seconds from the freshness query's value; ScrapeError("parse") naming what is wrong."""
    if not found:
        raise ScrapeError("parse", f"{what} returned no row; it must return one row with the newest time")
    if value is None:
        raise ScrapeError("parse", f"{what} returned NULL (an empty table?); {_NOT_TEXT_HINT}")
    if isinstance(value, bool):
        raise ScrapeError("parse", f"{what} returned a boolean; {_NOT_TEXT_HINT}")
    if isinstance(value, int | float | Decimal):
        seconds = float(value)
        if not math.isfinite(seconds) or seconds <= 0:
            raise ScrapeError("parse", f"{what} returned {shown(value)}, not a Unix time in seconds")
        if seconds < MIN_EPOCH_SECONDS:
            raise ScrapeError(
                "parse", f"{what} returned {shown(value)}: before 2000, not a Unix time (a count or a flag?)"
            )
        if seconds > MAX_EPOCH_SECONDS:
            raise ScrapeError(
                "parse", f"{what} returned {seconds:.0f}: milliseconds? it must return Unix seconds"
            )
        return seconds
    if isinstance(value, dt.datetime | dt.date):
        moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        if moment.tzinfo is None or moment.utcoffset() is None:
            if not assume_utc:
                raise ScrapeError(
                    "parse",
                    f"{what} returned a timestamp without a time zone ({moment.isoformat()}); use a column "
                    "with a time zone (timestamptz), or set assume_utc: true if it holds UTC",
                )
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.timestamp()
    if isinstance(value, str | bytes):
        raise ScrapeError("parse", f"{what} returned the text {shown(value, 40)}; {_NOT_TEXT_HINT}")
    raise ScrapeError("parse", f"{what} returned a {type(value).__name__}; {_NOT_TEXT_HINT}")


def to_count(found: bool, value: object, what: str) -> float:
    """A row count from the count query's value; ScrapeError("parse") otherwise."""
    if not found or value is None:
        raise ScrapeError(
            "parse", f"{what} returned {'no row' if not found else 'NULL'}; it must return a count"
        )
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | Decimal)
        or not 0 <= float(value) < math.inf
        or value != int(value)  # 1.5 or 10**15.5 are no count of rows
    ):
        raise ScrapeError("parse", f"{what} returned {shown(value, 40)}, not a row count")
    return float(value)


async def in_thread(work: Callable[[], Any]) -> Any:
    """Run blocking database work in the SQL thread pool (never on the event loop)."""
    return await asyncio.get_running_loop().run_in_executor(_EXECUTOR, work)
