"""Run the store's Alembic migrations programmatically, and refuse a database newer than this code.

No alembic.ini: the script location is this package's `migrations/` directory.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from sla.store.engine import safe_url
from sla.store.errors import StoreError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the migrations directory has no revisions"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def check_not_newer(engine: Engine) -> str | None:
    """The database's revision; StoreError if this code does not know it (the database is newer)."""
    revision = current_revision(engine)
    scripts = ScriptDirectory.from_config(_config())
    known = {script.revision for script in scripts.walk_revisions()}
    if revision is not None and revision not in known:
        raise StoreError(
            f"the database {safe_url(engine.url)} is at schema revision {revision!r}, newer than this "
            f"Watchkeeper knows (up to {head_revision()!r}): upgrade Watchkeeper, or point --database at "
            "another database. Nothing was changed."
        )
    return revision


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Migrate the database to the head revision; (revision before, revision after)."""
    try:
        before = check_not_newer(engine)
        config = _config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise StoreError(f"cannot reach the database {safe_url(engine.url)}: {exc.orig}") from None
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate the database {safe_url(engine.url)}: {exc}") from None
    return before, head_revision()
