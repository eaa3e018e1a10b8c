"""Secrets at start-up: a missing, empty or unreadable secret stops the exporter before it serves, every such
problem is listed at once, and no secret value is ever printed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from catalog.model import Catalog
from exporters.errors import ConfigError
from exporters.sources import build_sources
from tests.prometheus_stack import free_port

ROOT = Path(__file__).resolve().parent.parent
EXE = ROOT / ".venv" / "bin" / "watchkeeper"
TEAMS = {"teams": [{"name": "platform", "owners": ["p@example.com"]}]}
SERVICES = [
    {"name": n, "team": "platform"} for n in ("hdfs-prod", "yarn-prod", "spark-prod", "kafka-prod", "dw")
]
ENV_VARS = ("WK_SECRET_A", "WK_SECRET_B", "WK_SECRET_C", "WK_SECRET_D", "WK_SECRET_E")


def catalog(**sources: list[dict[str, Any]]) -> Catalog:
    return Catalog.model_validate({**TEAMS, "services": SERVICES, "sources": sources})


def basic(**ref: str) -> dict[str, Any]:
    return {"basic": {"username": "wk", **ref}}


def hdfs(auth: dict[str, Any]) -> dict[str, Any]:
    return {"name": "prod", "service": "hdfs-prod", "namenodes": ["http://127.0.0.1:1"], "auth": auth}


def kafka(**extra: str) -> dict[str, Any]:
    return {"name": "prod", "service": "kafka-prod", "bootstrap": "127.0.0.1:1", **extra}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def cases(tmp_path: Path) -> dict[str, tuple[Catalog, dict[str, str], str]]:
    """Case -> (catalog, environment, text the error must contain)."""
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    latin = tmp_path / "latin1.txt"
    latin.write_bytes(b"caf\xe9")
    missing = str(tmp_path / "no-such-file")
    directory = str(tmp_path)  # exists, cannot be read as a file (tests run as root: chmod 000 would not do)
    sasl = {"sasl_username": "wk", "sasl_password_env": "WK_SECRET_A"}
    return {
        "basic env empty": (
            catalog(hdfs=[hdfs(basic(password_env="WK_SECRET_A"))]),
            {"WK_SECRET_A": ""},
            "hdfs source prod: environment variable WK_SECRET_A is set but empty",
        ),
        "basic env whitespace": (
            catalog(hdfs=[hdfs(basic(password_env="WK_SECRET_A"))]),
            {"WK_SECRET_A": " \t\n"},
            "hdfs source prod: environment variable WK_SECRET_A is set but empty",
        ),
        "bearer env empty": (
            catalog(
                yarn=[
                    {
                        "name": "prod",
                        "service": "yarn-prod",
                        "resourcemanagers": ["http://127.0.0.1:1"],
                        "auth": {"bearer": {"token_env": "WK_SECRET_A"}},
                    }
                ]
            ),
            {"WK_SECRET_A": ""},
            "yarn source prod: environment variable WK_SECRET_A is set but empty",
        ),
        "kafka sasl env missing": (
            catalog(kafka=[kafka(**sasl)]),
            {},
            "kafka source prod: environment variable WK_SECRET_A is not set",
        ),
        "kafka sasl env empty": (
            catalog(kafka=[kafka(**sasl)]),
            {"WK_SECRET_A": " "},
            "kafka source prod: environment variable WK_SECRET_A is set but empty",
        ),
        "secret file missing": (
            catalog(hdfs=[hdfs(basic(password_file=missing))]),
            {},
            f"hdfs source prod: cannot read the file {missing}",
        ),
        "secret file unreadable": (
            catalog(hdfs=[hdfs(basic(password_file=directory))]),
            {},
            f"hdfs source prod: cannot read the file {directory}",
        ),
        "secret file empty": (
            catalog(
                spark=[
                    {
                        "name": "prod",
                        "service": "spark-prod",
                        "url": "http://127.0.0.1:1",
                        "auth": {"bearer": {"token_file": str(empty)}},
                    }
                ]
            ),
            {},
            f"spark source prod: the file {empty} (the bearer token) is empty",
        ),
        "secret file not text": (
            catalog(hdfs=[hdfs(basic(password_file=str(latin)))]),
            {},
            f"the file {latin} (the basic auth password) is not UTF-8 text",
        ),
        "sql url env empty": (
            catalog(
                freshness=[
                    {
                        "dataset": "orders",
                        "service": "dw",
                        "max_age": "1h",
                        "sql": {"url_env": "WK_SECRET_A", "query": "select 1"},
                    }
                ]
            ),
            {"WK_SECRET_A": ""},
            "freshness source orders (sql): environment variable WK_SECRET_A is set but empty (the database URL)",
        ),
    }


CASE_NAMES = [
    "basic env empty",
    "basic env whitespace",
    "bearer env empty",
    "kafka sasl env missing",
    "kafka sasl env empty",
    "secret file missing",
    "secret file unreadable",
    "secret file empty",
    "secret file not text",
    "sql url env empty",
]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_a_blank_or_unreadable_secret_stops_the_build(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a source that runs with up=0: building the sources raises, naming the source and the reference."""
    cat, env, expected = cases(tmp_path)[case]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        sources, _ = build_sources(cat)
        for source in sources:  # only reached when the build did not fail
            source.stop()
    assert expected in str(caught.value)


def test_the_same_sources_build_once_their_secrets_are_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: with every secret present, each catalog above builds (nothing connects at build)."""
    good = tmp_path / "good.txt"
    good.write_text("s3cret\n", encoding="utf-8")
    monkeypatch.setenv("WK_SECRET_A", "s3cret")
    # A database URL must parse at start-up (a malformed one is a start-up error since the freshness review).
    monkeypatch.setenv("WK_SECRET_DB", f"sqlite:///{tmp_path / 'dw.sqlite'}")
    cat = catalog(
        hdfs=[hdfs(basic(password_file=str(good)))],
        kafka=[kafka(sasl_username="wk", sasl_password_env="WK_SECRET_A")],
        freshness=[
            {
                "dataset": "orders",
                "service": "dw",
                "max_age": "1h",
                "sql": {"url_env": "WK_SECRET_DB", "query": "select 1"},
            }
        ],
    )
    sources, _ = build_sources(cat)
    try:
        assert sorted(s.kind for s in sources) == ["freshness", "hdfs", "kafka"]
    finally:
        for source in sources:
            source.stop()


def test_every_problem_is_listed_at_once_with_no_value_and_no_traceback(tmp_path: Path) -> None:
    """The real command, as a subprocess: five sources, five problems (unset, empty, blank, missing file,
    empty file) beside two secrets that are fine. One error lists all five, exit 1, no traceback, and
    neither the good secrets' values nor the blank ones' appear on stdout or stderr."""
    good_file = tmp_path / "good-token"
    good_file.write_text("FILE-VALUE-7f3a9c\n", encoding="utf-8")
    empty_file = tmp_path / "empty-token"
    empty_file.write_text("\n", encoding="utf-8")
    missing_file = tmp_path / "missing-token"
    (tmp_path / "c.yaml").write_text(
        f"""
teams: [{{name: platform, owners: [p@example.com]}}]
services:
  - {{name: hdfs-prod, team: platform}}
  - {{name: yarn-prod, team: platform}}
  - {{name: spark-prod, team: platform}}
  - {{name: kafka-prod, team: platform}}
  - {{name: dw, team: platform}}
sources:
  hdfs:
    - {{name: nn-a, service: hdfs-prod, namenodes: ['http://127.0.0.1:1'],
        auth: {{basic: {{username: wk, password_env: WK_SECRET_A}}}}}}
    - {{name: nn-good, service: hdfs-prod, namenodes: ['http://127.0.0.1:1'],
        auth: {{basic: {{username: wk, password_env: WK_SECRET_E}}}}}}
  yarn:
    - {{name: rm-b, service: yarn-prod, resourcemanagers: ['http://127.0.0.1:1'],
        auth: {{bearer: {{token_env: WK_SECRET_B}}}}}}
  spark:
    - {{name: hist-c, service: spark-prod, url: 'http://127.0.0.1:1',
        auth: {{bearer: {{token_file: '{missing_file}'}}}}}}
    - {{name: hist-d, service: spark-prod, url: 'http://127.0.0.1:2',
        auth: {{bearer: {{token_file: '{empty_file}'}}}}}}
    - {{name: hist-good, service: spark-prod, url: 'http://127.0.0.1:3',
        auth: {{bearer: {{token_file: '{good_file}'}}}}}}
  kafka:
    - {{name: kafka-c, service: kafka-prod, bootstrap: '127.0.0.1:1', sasl_username: wk,
        sasl_password_env: WK_SECRET_C}}
""",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env |= {"WK_SECRET_B": "   ", "WK_SECRET_E": "ENV-VALUE-91b2e4", "COLUMNS": "400", "NO_COLOR": "1"}
    # WK_SECRET_A and WK_SECRET_C are not set.
    done = subprocess.run(
        [str(EXE), "exporter", str(tmp_path / "c.yaml"), "--listen", f"127.0.0.1:{free_port()}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "Traceback" not in out
    expected = [
        "hdfs source nn-a: environment variable WK_SECRET_A is not set",
        "yarn source rm-b: environment variable WK_SECRET_B is set but empty",
        f"spark source hist-c: cannot read the file {missing_file}",
        f"spark source hist-d: the file {empty_file} (the bearer token) is empty",
        "kafka source kafka-c: environment variable WK_SECRET_C is not set",
    ]
    for line in expected:
        assert line in done.stderr, (line, done.stderr)
    assert "5 problem(s)" in done.stderr
    for value in ("ENV-VALUE-91b2e4", "FILE-VALUE-7f3a9c"):
        assert value not in out
    assert "nn-good" not in out and "hist-good" not in out  # the sources that are fine are not blamed
