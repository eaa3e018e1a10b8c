"""The real `watchkeeper serve` process on SQLite and the local PostgreSQL: concurrent deliveries, SIGKILL
between deliveries, secrets kept out of logs and answers, migrations and the newer-database refusal."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import EXAMPLE_CATALOG, run_cli
from tests.sla_service import BACKENDS, TOKEN, database_url, payload, service

VERSIONS = Path(__file__).resolve().parents[1] / "sla" / "store" / "migrations" / "versions"
HEAD = max(f.name.split("_")[0] for f in VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))
"""The newest migration, read from the files' names (NNNN_what.py) rather than from Alembic."""

BOT_START, BOT_END = "2018-11-04T21:43:58.283995Z", "2018-11-04T21:48:13.283995Z"  # see test_sla_ledger.py


@pytest.mark.parametrize("backend", BACKENDS)
def test_twenty_parallel_posts_of_one_alert_make_one_breach(backend: str, tmp_path: Path) -> None:
    """20 threads released together, firing and resolved deliveries interleaved, against the real server."""
    bodies = [payload("bot_firing.json" if i % 2 else "bot_resolved.json") for i in range(20)]
    barrier = threading.Barrier(20)
    with database_url(backend, tmp_path) as url, service(url, tmp_path) as running:

        def deliver(body: dict[str, Any]) -> int:
            barrier.wait(timeout=30)
            return running.post(body).status_code

        with ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(deliver, bodies))
        assert codes == [200] * 20
        [breach] = running.breaches()
        assert (breach["starts_at"], breach["ends_at"], breach["status"]) == (BOT_START, BOT_END, "resolved")


@pytest.mark.parametrize("backend", BACKENDS)
def test_sigkill_between_deliveries_loses_nothing_acknowledged(backend: str, tmp_path: Path) -> None:
    acknowledged: list[str] = []
    with database_url(backend, tmp_path) as url:
        with service(url, tmp_path) as running:
            for minute in range(25):
                body = payload("bot_firing.json")
                body["alerts"][0]["startsAt"] = f"2024-05-01T10:{minute:02d}:00Z"
                if running.post(body).status_code == 200:
                    acknowledged.append(f"2024-05-01T10:{minute:02d}:00Z")
            running.kill()  # SIGKILL right after the last 200: no shutdown, no flush
        assert len(acknowledged) == 25
        with service(url, tmp_path, log_name="restarted.log") as restarted:
            stored = sorted(b["starts_at"] for b in restarted.breaches(limit="100"))
    assert stored == acknowledged


@pytest.mark.parametrize("backend", BACKENDS)
def test_secrets_never_appear_in_logs_or_responses(backend: str, tmp_path: Path) -> None:
    password = "pw-" + TOKEN[-12:] + "-db"  # PostgreSQL's trust auth ignores it; SQLite URLs have none
    wrong = "wrong-token-presented-by-a-client"
    answers: list[str] = []
    with (
        database_url(backend, tmp_path, password=password) as url,
        service(url, tmp_path, "--log-level", "debug") as running,
    ):
        answers.append(running.post(payload("bot_firing.json")).text)
        answers.append(running.post(payload("bot_firing.json"), token=wrong).text)
        answers.append(running.post({"version": "4", "alerts": "nope"}).text)
        for path in ("/readyz", "/healthz", "/metrics", "/openapi.json", "/api/v1/breaches", "/nowhere"):
            answers.append(
                httpx.get(f"{running.url}{path}", headers={"Authorization": f"Bearer {TOKEN}"}).text
            )
            answers.append(
                httpx.get(f"{running.url}{path}", headers={"Authorization": f"Bearer {wrong}"}).text
            )
        running.kill()
        log = running.output()
    assert "POST /api/v1/alerts" in log  # the access log is there, so the check below means something
    for text in (log, *answers):
        assert TOKEN not in text
        assert wrong not in text
        assert password not in text
    if backend == "postgres":
        assert "postgres:***@127.0.0.1" in log  # the URL is shown, masked


def _future_revision(url: str) -> None:
    from sqlalchemy import text

    from sla.store.engine import make_engine, resolve_url
    from sla.store.migrate import upgrade

    engine = make_engine(resolve_url(url))
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00d_from_the_future'"))
    engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_newer_than_the_code_is_refused(backend: str, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    with database_url(backend, tmp_path) as url:
        _future_revision(url)
        upgraded = run_cli("db", "upgrade", "--database", url)
        served = run_cli("serve", str(EXAMPLE_CATALOG), "--database", url, "--token-file", str(token_file))
        for result in (upgraded, served):
            assert result.code == 1, result.output
            assert (
                f"'f00d_from_the_future', newer than this Watchkeeper knows (up to '{HEAD}')" in result.output
            )
            assert "Traceback" not in result.output
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as connection:  # untouched
            assert (
                connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
                == "f00d_from_the_future"
            )
        engine.dispose()


def test_db_upgrade_creates_the_sqlite_file_in_a_new_data_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    first = run_cli("db", "upgrade", "--data-dir", str(data_dir))
    assert first.code == 0, first.output
    assert (data_dir / "watchkeeper.db").is_file()
    assert f"migrated from empty to {HEAD}" in first.output
    again = run_cli("db", "upgrade", "--data-dir", str(data_dir))
    assert again.code == 0 and f"at revision {HEAD}" in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--database", "mysql://x@localhost/db"], "unsupported database 'mysql'"),
        (["--database", "::not a url::"], "not a URL"),
        (["--database", "postgresql://postgres:pw@127.0.0.1:1/test"], "cannot reach the database"),
    ],
)
def test_bad_databases_are_clear_errors(args: list[str], message: str) -> None:
    result = run_cli("db", "upgrade", *args)
    assert result.code == 1 and message in result.output and "Traceback" not in result.output
    assert ":pw@" not in result.output


def test_serve_without_a_token_refuses_to_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHKEEPER_API_TOKEN", raising=False)
    result = run_cli("serve", str(EXAMPLE_CATALOG), "--data-dir", str(tmp_path))
    assert result.code == 2 and "needs a bearer token" in result.output
    empty = tmp_path / "empty"
    empty.write_text("\n")
    result = run_cli("serve", str(EXAMPLE_CATALOG), "--token-file", str(empty), "--data-dir", str(tmp_path))
    assert result.code == 1 and "is empty" in result.output


def test_serve_help_and_the_docs_are_current() -> None:
    """`serve --help` names what the service serves; docs/sla.md's migration table lists every revision
    shipped; the README's package table no longer calls the SLA features planned."""
    import re

    from tests.conftest import ROOT, run_cli

    help_text = " ".join(run_cli("serve", "--help").stdout.split())
    for word in ("reports", "corrections", "snapshots", "/api/v1/alerts"):
        assert word in help_text, word
    shipped = sorted(
        p.name[:4]
        for p in (ROOT / "sla" / "store" / "migrations" / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")
    )
    documented = re.findall(r"^\| `([0-9]{4})` \|", (ROOT / "docs" / "sla.md").read_text(), re.MULTILINE)
    assert documented == shipped
    [row] = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `sla/` |")]
    assert " planned" not in row.replace("(planned maintenance)", "") and "snapshots" in row
