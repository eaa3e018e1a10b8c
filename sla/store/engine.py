"""Open the store's database: SQLite in a data directory by default, PostgreSQL when given a URL.

The URL comes from `--database`, else `WATCHKEEPER_DATABASE_URL`, else `sqlite:///<data dir>/watchkeeper.db`
(the data directory is `WATCHKEEPER_DATA_DIR`, else `$XDG_DATA_HOME/watchkeeper`, created on first start).
A URL is only ever shown with its password masked.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from sla.store.errors import StoreError

DATABASE_ENV = "WATCHKEEPER_DATABASE_URL"
DATA_DIR_ENV = "WATCHKEEPER_DATA_DIR"
DB_FILENAME = "watchkeeper.db"
SQLITE_BUSY_TIMEOUT_S = 30


def default_data_dir() -> Path:
    """Where the SQLite database lives when no URL is given."""
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "watchkeeper"


def resolve_url(database: str | None, data_dir: Path | None = None) -> URL:
    """The database URL to use; PostgreSQL URLs get the psycopg 3 driver unless one is named."""
    text = database or os.environ.get(DATABASE_ENV)
    if not text:
        directory = data_dir or default_data_dir()
        return make_url(f"sqlite:///{directory / DB_FILENAME}")
    try:
        url = make_url(text)
    except ArgumentError:
        raise StoreError(
            "the database URL is not a URL: use sqlite:///path/to/file.db or "
            "postgresql://user@host:5432/dbname"
        ) from None
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise StoreError(f"unsupported database {url.get_backend_name()!r}: use sqlite or postgresql")
    return url


def safe_url(url: URL) -> str:
    """The URL for messages and logs: the password masked."""
    return url.render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the single writer
    cursor.execute("PRAGMA synchronous=FULL")  # a committed write survives a crash or SIGKILL
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: URL) -> Engine:
    """An engine for `url`; creates the SQLite file's directory on first start."""
    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            try:
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the data directory for {url.database}: {exc.strerror}"
                ) from None
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(
            f"no driver for {safe_url(url)} ({exc}): install psycopg (`pip install 'psycopg[binary]'`)"
        ) from None
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine
