"""The corrections' maxima hold under concurrent posts, on SQLite and PostgreSQL: with room for one more,
20 threads posting 20 different corrections at once store exactly one; the other 19 get
CorrectionLimitError and store nothing. (The check used to run before the insert, outside its
transaction, so several concurrent posts could each see room and all be stored.)"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import sla.store.corrections as store
from sla.corrections import Correction
from sla.store.engine import make_engine, resolve_url
from sla.store.migrate import upgrade
from sla.store.models import CorrectionRow
from tests.sla_service import BACKENDS, database_url

T0 = datetime(2026, 11, 2, tzinfo=UTC)
THREADS = 20


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    with database_url(request.param, tmp_path) as url:
        engine = make_engine(resolve_url(url))
        upgrade(engine)
        yield engine
        engine.dispose()


def _correction(slo: str, i: int) -> Correction:
    start = T0 + timedelta(hours=i)
    return Correction("slo", slo, start, start + timedelta(minutes=30), f"window {i}", "api")


def _race(engine: Any, corrections: list[Correction]) -> tuple[int, int, list[BaseException]]:
    barrier = threading.Barrier(len(corrections))
    created, refused, other = [0], [0], []
    lock = threading.Lock()

    def post(c: Correction) -> None:
        barrier.wait()
        try:
            _, new = store.add_correction(engine, c, datetime.now(UTC))
            with lock:
                created[0] += new
        except store.CorrectionLimitError:
            with lock:
                refused[0] += 1
        except BaseException as exc:
            other.append(exc)

    threads = [threading.Thread(target=post, args=(c,)) for c in corrections]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return created[0], refused[0], other


def _count(engine: Any, slo: str | None = None) -> int:
    query = select(func.count()).select_from(CorrectionRow)
    if slo is not None:
        query = query.where(CorrectionRow.name == slo)
    with engine.connect() as connection:
        return int(connection.scalar(query) or 0)


def test_the_per_scope_maximum_is_exact_under_concurrent_posts(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "MAX_PER_SCOPE", 5)
    for i in range(4):
        assert store.add_correction(engine, _correction("plain", i), datetime.now(UTC))[1]
    created, refused, other = _race(engine, [_correction("plain", 100 + i) for i in range(THREADS)])
    assert other == []
    assert (created, refused) == (1, THREADS - 1)
    assert _count(engine, "plain") == 5


def test_the_total_maximum_is_exact_under_concurrent_posts(
    engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "MAX_TOTAL", 3)
    for i in range(2):
        assert store.add_correction(engine, _correction("plain", i), datetime.now(UTC))[1]
    # Different SLOs: each has room in its own scope; only the total is short.
    created, refused, other = _race(engine, [_correction(f"slo-{i}", 0) for i in range(THREADS)])
    assert other == []
    assert (created, refused) == (1, THREADS - 1)
    assert _count(engine) == 3


def test_a_repeat_at_the_maximum_is_still_answered(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "MAX_PER_SCOPE", 2)
    first = [store.add_correction(engine, _correction("plain", i), datetime.now(UTC)) for i in range(2)]
    assert [new for _, new in first] == [True, True]
    again, new = store.add_correction(engine, _correction("plain", 0), datetime.now(UTC))
    assert (again.id, new) == (first[0][0].id, False)
    with pytest.raises(store.CorrectionLimitError, match="already has 2 corrections"):
        store.add_correction(engine, _correction("plain", 7), datetime.now(UTC))
    assert _count(engine, "plain") == 2
