"""Retraining triggers against a real local webhook receiver (an HTTP server recording every request), with
the trigger store on SQLite and PostgreSQL: retries, the cooldown, a restart in the middle of the retries,
and exactly one trigger from 10 concurrent processes."""

from __future__ import annotations

import hashlib
import hmac
import json
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from catalog.model.drift import DriftMonitor
from drift import trigger_store as store
from drift.triggers import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, RetryPolicy, WebhookSender, build_trigger
from tests.prometheus_stack import wait_for
from tests.sla_service import BACKENDS, database_url

HOUR = 3600.0


@dataclass
class Receiver:
    """A webhook receiver: records (headers, body) of every POST; answers with `statuses` in turn, then 200."""

    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for _, body in self.requests]

    def keys(self) -> list[str]:
        with self.lock:
            return [headers[IDEMPOTENCY_HEADER] for headers, _ in self.requests]


@contextmanager
def receiver(statuses: list[int] | None = None) -> Iterator[Receiver]:
    state = Receiver(list(statuses or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.requests.append(({k: v for k, v in self.headers.items()}, body))
                status = state.statuses.pop(0) if state.statuses else 200
            reply = b'{"ok": true}' if status == 200 else b'{"detail": "unavailable"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/retrain"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def migrated_engine(url: str) -> Any:
    from sla.store.engine import make_engine, resolve_url
    from sla.store.migrate import upgrade

    engine = make_engine(resolve_url(url))
    upgrade(engine)
    return engine


def monitor(url: str, cooldown: str = "24h", secret_env: str | None = None) -> DriftMonitor:
    webhook: dict[str, Any] = {"url": url}
    if secret_env:
        webhook["secret_env"] = secret_env
    return DriftMonitor.model_validate(
        {
            "name": "churn",
            "service": "churn-serving",
            "reference": {"path": "ref.parquet"},
            "current": {"path": "cur.parquet"},
            "retrain": {"webhook": webhook, "cooldown": cooldown},
        }
    )


BODY = {"event": "drift.breach", "monitor": "churn", "dataset_drift": True, "drifted_columns": ["age"]}


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def decisions(engine: Any) -> list[tuple[str, int | None]]:
    return [(row.decision, row.attempt) for row in reversed(store.history(engine, "churn"))]


@pytest.mark.parametrize("backend", BACKENDS)
def test_fails_twice_then_succeeds_with_backoff_same_key_and_signature(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WK_TEST_RETRAIN_SECRET", "s3cret-value")
    with database_url(backend, tmp_path) as url, receiver([503, 503]) as hook:
        engine = migrated_engine(url)
        clock = Clock()
        trigger = build_trigger(
            engine,
            monitor(hook.url, secret_env="WK_TEST_RETRAIN_SECRET"),
            RetryPolicy(max_attempts=5, base_delay=2.0),
            clock=clock,
            sleep=clock.sleep,
            rng=lambda: 1.0,
        )
        assert trigger is not None
        claim = trigger.breach(BODY)
        assert claim.breach is not None
        # full jitter with rng() = 1: delay n = base * 2**(n-1): 2 s after attempt 1, 4 s after attempt 2
        assert clock.sleeps == [2.0, 4.0]
        assert len(hook.requests) == 3
        assert set(hook.keys()) == {claim.breach.key}
        for headers, body in hook.requests:
            t, v1 = (part.split("=", 1)[1] for part in headers[SIGNATURE_HEADER].split(","))
            expected = hmac.new(b"s3cret-value", t.encode() + b"." + body, hashlib.sha256).hexdigest()
            assert v1 == expected
            assert "s3cret-value" not in body.decode()
        assert hook.bodies()[0]["breach"] == claim.breach.key
        assert hook.bodies()[0]["drifted_columns"] == ["age"]
        assert decisions(engine) == [("triggered", None), ("failed", 1), ("failed", 2), ("succeeded", 3)]
        [breach] = store.breaches(engine, "churn")
        assert (breach.state, breach.attempts) == ("succeeded", 3)
        engine.dispose()


def test_permanent_refusal_is_not_retried_and_gives_up_after_max_attempts(tmp_path: Path) -> None:
    with receiver([400]) as hook:
        engine = migrated_engine(f"sqlite:///{tmp_path / 'wk.db'}")
        clock = Clock()
        trigger = build_trigger(engine, monitor(hook.url), clock=clock, sleep=clock.sleep)
        assert trigger is not None
        trigger.breach(BODY)
        assert len(hook.requests) == 1 and clock.sleeps == []
        assert decisions(engine) == [("triggered", None), ("failed", 1)]
        assert "not retried" in store.history(engine, "churn")[0].detail
    with receiver([500] * 10) as hook:
        engine = migrated_engine(f"sqlite:///{tmp_path / 'wk2.db'}")
        trigger = build_trigger(
            engine, monitor(hook.url), RetryPolicy(max_attempts=3), clock=clock, sleep=clock.sleep
        )
        assert trigger is not None
        trigger.breach(BODY)
        assert len(hook.requests) == 3
        assert store.breaches(engine, "churn")[0].state == "failed"
        assert "gave up after 3 attempts" in store.history(engine, "churn")[0].detail


def test_missing_secret_is_a_clear_error_audited_and_nothing_sent(tmp_path: Path) -> None:
    from exporters.errors import ConfigError

    os.environ.pop("WK_TEST_ABSENT_SECRET", None)
    with receiver() as hook:
        engine = migrated_engine(f"sqlite:///{tmp_path / 'wk.db'}")
        with pytest.raises(ConfigError, match="WK_TEST_ABSENT_SECRET is not set"):
            build_trigger(engine, monitor(hook.url, secret_env="WK_TEST_ABSENT_SECRET"))
        assert hook.requests == []
        assert decisions(engine) == [("failed", None)]
        assert store.breaches(engine, "churn") == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_cooldown_persisting_drift_is_suppressed_new_breach_after_cooldown_triggers(
    backend: str, tmp_path: Path
) -> None:
    with database_url(backend, tmp_path) as url, receiver() as hook:
        engine = migrated_engine(url)
        clock = Clock()
        trigger = build_trigger(engine, monitor(hook.url, cooldown="24h"), clock=clock, sleep=clock.sleep)
        assert trigger is not None
        first = trigger.breach(BODY)
        clock.now += 1 * HOUR
        second = trigger.breach(BODY)  # the drift persists an hour later: inside the 24h cooldown
        clock.now += 22 * HOUR
        third = trigger.breach(BODY)  # 23 h after the first: still inside
        clock.now += 1 * HOUR + 1  # 24 h and 1 s after the first: a new breach
        fourth = trigger.breach(BODY)
        assert first.breach is not None and fourth.breach is not None
        assert second.breach is None and second.suppressed_by == first.breach.key
        assert third.breach is None
        assert first.breach.key != fourth.breach.key
        assert hook.keys() == [first.breach.key, fourth.breach.key]
        assert [d for d, _ in decisions(engine)] == [
            "triggered",
            "succeeded",
            "suppressed",
            "suppressed",
            "triggered",
            "succeeded",
        ]
        engine.dispose()


def _concurrent_run(url: str, hook_url: str, start: Any, done: Any) -> None:
    """One of the concurrent runs: its own process, engine and trigger, released together by `start`."""
    from sla.store.engine import make_engine, resolve_url

    engine = make_engine(resolve_url(url))
    trigger = build_trigger(engine, monitor(hook_url))
    assert trigger is not None
    start.wait()
    claim = trigger.breach(BODY)
    done.put("won" if claim.breach is not None else "suppressed")
    engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_ten_concurrent_processes_give_exactly_one_trigger(backend: str, tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with database_url(backend, tmp_path) as url, receiver() as hook:
        migrated_engine(url).dispose()
        start, done = ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=_concurrent_run, args=(url, hook.url, start, done)) for _ in range(10)]
        for proc in procs:
            proc.start()
        time.sleep(4)  # let all ten import and connect, then release them at once
        start.set()
        for proc in procs:
            proc.join(120)
            assert proc.exitcode == 0
        outcomes = sorted(done.get(timeout=5) for _ in procs)
        assert outcomes == ["suppressed"] * 9 + ["won"]
        assert len(hook.requests) == 1
        engine = migrated_engine(url)
        assert len(store.breaches(engine, "churn")) == 1
        counts = {
            d: n
            for d in ("triggered", "suppressed", "succeeded")
            if (n := [x for x, _ in decisions(engine)].count(d))
        }
        assert counts == {"triggered": 1, "suppressed": 9, "succeeded": 1}
        engine.dispose()


def _stubborn_run(url: str, hook_url: str) -> None:
    """A run whose receiver keeps failing: it waits 30 s before its second attempt (killed meanwhile)."""
    from sla.store.engine import make_engine, resolve_url

    engine = make_engine(resolve_url(url))
    trigger = build_trigger(engine, monitor(hook_url), RetryPolicy(base_delay=4.0), rng=lambda: 1.0)
    assert trigger is not None
    trigger.breach(BODY)


@pytest.mark.parametrize("backend", BACKENDS)
def test_restart_in_the_middle_of_retries_resumes_with_the_same_key(backend: str, tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with database_url(backend, tmp_path) as url, receiver([503] * 100) as hook:
        engine = migrated_engine(url)
        proc = ctx.Process(target=_stubborn_run, args=(url, hook.url))
        proc.start()
        wait_for(lambda: ("failed", 1) in decisions(engine), 60, "the first attempt to fail")
        assert proc.pid is not None
        os.kill(proc.pid, signal.SIGKILL)  # a crash while it sleeps until retry 2
        proc.join(10)
        [breach] = store.pending(engine, "churn")
        assert breach.attempts == 1
        with hook.lock:
            hook.statuses.clear()  # the receiver recovers
        clock_started = time.time()
        trigger = build_trigger(engine, monitor(hook.url), RetryPolicy(base_delay=4.0))
        assert trigger is not None
        # a new run of the same monitor: the drift persists, inside the cooldown -> no new breach ...
        assert trigger.breach(BODY).breach is None
        # ... and the pending breach is resumed at its scheduled time (4 s after attempt 1), same key
        assert trigger.resume() == ["succeeded"]
        assert time.time() >= breach.next_attempt_at - 0.01 and time.time() - clock_started < 30
        assert hook.keys() == [breach.key, breach.key]
        assert decisions(engine) == [
            ("triggered", None),
            ("failed", 1),
            ("suppressed", None),
            ("resumed", None),
            ("succeeded", 2),
        ]
        [done] = store.breaches(engine, "churn")
        assert (done.state, done.attempts) == ("succeeded", 2)
        assert trigger.resume() == []
        engine.dispose()


def test_webhook_sender_unreachable_receiver_is_a_retryable_failure() -> None:
    from catalog.model.drift import WebhookTrigger

    sender = WebhookSender(WebhookTrigger.model_validate({"url": "http://127.0.0.1:9/nothing"}), "test")
    outcome = sender.send("k", {"a": 1}, 2.0)
    assert not outcome.ok and outcome.retry
    assert "127.0.0.1:9" in outcome.detail


def test_migration_matches_the_trigger_store_tables(tmp_path: Path) -> None:
    """The Alembic migration 0003 and drift/trigger_store.py's tables agree (autogenerate finds no diff)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = migrated_engine(f"sqlite:///{tmp_path / 'wk.db'}")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), store.metadata)
    ours = set(store.metadata.tables)
    relevant = [d for d in diff if _table(d) in ours]
    assert {t.name for t in store.metadata.tables.values()} <= set(_tables(engine))
    assert relevant == []
    engine.dispose()


def _table(diff: Any) -> str:
    """The table a schema difference is about (a table, an index, or a column change tuple)."""
    if isinstance(diff, list):
        return str(diff[0][2])
    item = diff[1]
    return str(item.name if diff[0].endswith("_table") else item.table.name)


def _tables(engine: Any) -> list[str]:
    from sqlalchemy import inspect

    return list(inspect(engine).get_table_names())
