"""Corrections' writes under concurrent deletes (review 13b), on SQLite and PostgreSQL:

- a POST answers with the row it stored, even when a DELETE removes that row the moment it is committed
  (the row used to be read again after the commit: `AssertionError`, a 500);
- of several concurrent DELETEs of one id exactly one deletes it (204), the others find nothing (404);
- an id is never handed out twice: a retried DELETE of a deleted correction cannot remove a newer one
  (SQLite reused the highest id after a delete until migration 0004 made the table AUTOINCREMENT);
- migration 0004 keeps every row of a database at 0003, and the table it rebuilds still refuses
  duplicates and matches the model.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, delete, event, func, insert, inspect, select, text

import sla.store.corrections as store
from api.app import create_app
from api.service_state import ServiceSettings, ServiceState
from sla.corrections import Correction
from sla.store.engine import make_engine, resolve_url
from sla.store.migrate import MIGRATIONS, upgrade
from sla.store.models import CorrectionRow
from tests.sla_service import BACKENDS, TOKEN, database_url
from tests.test_sla_corrections_scale import CATALOG

T0 = datetime(2026, 11, 2, tzinfo=UTC)
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as database:
        yield database


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = make_engine(resolve_url(url))
    upgrade(engine)
    yield engine
    engine.dispose()


def _correction(i: int, slo: str = "plain") -> Correction:
    start = T0 + timedelta(hours=i)
    return Correction("slo", slo, start, start + timedelta(minutes=30), f"window {i}", "api")


def _ids(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return sorted(connection.scalars(select(CorrectionRow.id)))


def test_a_delete_right_after_the_commit_does_not_break_the_post(engine: Engine) -> None:
    """The DELETE lands between the POST's commit and its answer: the POST still answers 201 with the
    row it stored (its id, scope, times, reason), and the row is gone."""
    other = make_engine(engine.url)
    committed = [False]
    deleted: list[list[int]] = []

    def on_commit(_connection: Any) -> None:
        committed[0] = True

    def on_checkin(_dbapi: Any, _record: Any) -> None:  # the committed connection goes back to the pool
        if committed[0] and not deleted:
            committed[0] = False
            with other.begin() as connection:
                gone = connection.execute(delete(CorrectionRow).returning(CorrectionRow.id)).scalars().all()
            deleted.append(list(gone))

    event.listen(engine, "commit", on_commit)
    event.listen(engine.pool, "checkin", on_checkin)
    try:
        wanted = _correction(1)
        stored, created = store.add_correction(engine, wanted, T0)
    finally:
        event.remove(engine, "commit", on_commit)
        event.remove(engine.pool, "checkin", on_checkin)
        other.dispose()
    assert created
    assert deleted == [[stored.id]]  # the concurrent DELETE removed exactly the row just stored
    assert (stored.scope, stored.name, stored.start, stored.end, stored.reason) == (
        "slo",
        "plain",
        wanted.start,
        wanted.end,
        "window 1",
    )
    assert stored.start.tzinfo is not None and stored.id is not None and stored.id >= 1
    assert _ids(engine) == []


def test_a_repeat_post_answers_the_stored_row_inside_its_transaction(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A repeat that passes the read-only fast path (the row appears just before its insert) conflicts,
    and is answered with the existing row read inside the same transaction: not new, same id."""
    first, created = store.add_correction(engine, _correction(2), T0)
    assert created
    real_find = store._find
    calls = []

    def miss_once(session: Any, c: Correction) -> Any:  # the fast path misses, as under a race
        calls.append(c)
        return None if len(calls) == 1 else real_find(session, c)

    monkeypatch.setattr(store, "_find", miss_once)
    again, created_again = store.add_correction(engine, _correction(2), T0 + timedelta(days=1))
    assert not created_again
    assert again == first
    assert _ids(engine) == [first.id]


def test_concurrent_deletes_of_one_id_delete_it_once(engine: Engine) -> None:
    ids = [store.add_correction(engine, _correction(i), T0)[0].id for i in range(20)]
    threads_per_id = 4
    outcomes: dict[int, list[bool]] = {i: [] for i in ids if i is not None}
    errors: list[BaseException] = []
    lock = threading.Lock()
    for ident in list(outcomes):
        barrier = threading.Barrier(threads_per_id)

        def remove(ident: int = ident, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                gone = store.delete_correction(engine, ident)
            except BaseException as exc:
                errors.append(exc)
                return
            with lock:
                outcomes[ident].append(gone is not None and gone.id == ident)

        threads = [threading.Thread(target=remove) for _ in range(threads_per_id)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert errors == []
    twice = {i: o for i, o in outcomes.items() if sorted(o) != [False] * (threads_per_id - 1) + [True]}
    assert twice == {}, f"ids deleted by more than one DELETE (or none): {twice}"
    assert _ids(engine) == []


def test_a_deleted_id_is_never_handed_out_again(engine: Engine) -> None:
    """Delete the newest correction, post another: it gets a new id, so a retried DELETE of the old id
    is a 404 and leaves the new correction alone."""
    first = [store.add_correction(engine, _correction(i), T0)[0] for i in range(3)]
    newest = first[-1].id
    assert newest is not None
    assert store.delete_correction(engine, newest) is not None
    fresh, created = store.add_correction(engine, _correction(10), T0)
    assert created and fresh.id is not None
    assert fresh.id > newest
    assert store.delete_correction(engine, newest) is None  # the retry
    assert _ids(engine) == sorted([c.id for c in first[:-1] if c.id is not None] + [fresh.id])


def test_the_api_never_answers_500_to_deletes_racing_posts(url: str) -> None:
    """The reviewer's delrace, bounded: one thread posts new corrections, two delete the id the next
    post will get (or just got), for about two seconds. Every answer is 201, 204 or 404."""
    engine = make_engine(resolve_url(url))
    upgrade(engine)
    state = ServiceState(engine, ServiceSettings(SecretStr(TOKEN)), {"shop": "ops"}, catalog=CATALOG)
    client = TestClient(create_app(state), raise_server_exceptions=False)
    statuses: dict[int, int] = {}
    bodies: list[str] = []
    next_id = [1]
    stop = threading.Event()
    lock = threading.Lock()

    def count(status: int, body: str) -> None:
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
            if status >= 500:
                bodies.append(body[:300])

    def deleter() -> None:
        while not stop.is_set():
            r = client.delete(f"/api/v1/corrections/{next_id[0]}", headers=AUTH)
            count(r.status_code, r.text)

    threads = [threading.Thread(target=deleter) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=2)
        i = 0
        while datetime.now(UTC) < deadline and i < 2_000:
            i += 1
            body = {
                "slo": "plain",
                "start": (T0 + timedelta(minutes=i)).isoformat(),
                "end": (T0 + timedelta(days=1)).isoformat(),
                "reason": f"race {i}",
            }
            r = client.post("/api/v1/corrections", json=body, headers=AUTH)
            count(r.status_code, r.text)
            if r.status_code == 201:
                next_id[0] = r.json()["id"] + 1
    finally:
        stop.set()
        for t in threads:
            t.join(60)
        engine.dispose()
    assert bodies == []
    assert set(statuses) <= {201, 204, 404}, statuses
    assert statuses.get(201, 0) > 0


# --- migration 0004 -------------------------------------------------------------------------------


def _alembic(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


ROWS: list[dict[str, Any]] = [
    {
        "id": ident,
        "scope": scope,
        "name": name,
        "starts_at": T0 + timedelta(hours=ident),
        "ends_at": T0 + timedelta(hours=ident, minutes=45),
        "reason": f"reason {ident} ✓",
        "created_at": T0 - timedelta(days=ident),
    }
    for ident, scope, name in ((1, "slo", "plain"), (2, "service", "shop"), (5, "team", "ops"))
]


def test_upgrading_from_0003_keeps_every_row_and_ids_are_not_reused(url: str) -> None:
    engine = make_engine(resolve_url(url))
    try:
        _alembic(engine, "0003")
        with engine.begin() as connection:
            connection.execute(insert(CorrectionRow), ROWS)
            if engine.dialect.name == "postgresql":  # as the posts that made these ids would have left it
                connection.execute(text("SELECT setval('corrections_id_seq', 5)"))
        before, after = upgrade(engine)
        assert (before, after) == ("0003", "0004")
        with engine.connect() as connection:
            kept = [dict(r._mapping) for r in connection.execute(select(CorrectionRow).order_by("id"))]
        assert kept == ROWS
        inspector = inspect(engine)
        assert {i["name"] for i in inspector.get_indexes("corrections")} >= {"ix_corrections_ends_at"}
        uniques = inspector.get_unique_constraints("corrections")
        assert [u["column_names"] for u in uniques] == [["scope", "name", "starts_at", "ends_at"]]
        # The unique constraint still makes a repeat idempotent.
        repeat = Correction("slo", "plain", ROWS[0]["starts_at"], ROWS[0]["ends_at"], "again", "api")
        again, created = store.add_correction(engine, repeat, T0)
        assert (again.id, again.reason, created) == (1, "reason 1 ✓", False)
        # Delete the newest (5): the next post gets 6, never 5 again.
        assert store.delete_correction(engine, 5) is not None
        fresh, created = store.add_correction(engine, _correction(50), T0)
        assert created and fresh.id == 6
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                ddl = connection.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'corrections'"))
            assert "AUTOINCREMENT" in str(ddl).upper()
    finally:
        engine.dispose()


def test_the_rebuilt_table_matches_the_model(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from sla.store.models import Base

    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    about = [d for d in diff if "corrections" in repr(d)]
    assert about == []
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(CorrectionRow)) == 0


def test_downgrading_0004_keeps_the_rows(url: str) -> None:
    engine = make_engine(resolve_url(url))
    try:
        upgrade(engine)
        with engine.begin() as connection:
            connection.execute(insert(CorrectionRow), ROWS)
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0003")
        with engine.connect() as connection:
            kept = [dict(r._mapping) for r in connection.execute(select(CorrectionRow).order_by("id"))]
        assert kept == ROWS
        assert upgrade(engine) == ("0003", "0004")
    finally:
        engine.dispose()
