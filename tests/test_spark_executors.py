"""Spark's driver and executors as their own series (granularity executor), from recorded REST answers.

Payloads: Spark's own HistoryServerExpectations (tests/fixtures/PROVENANCE.md), served over real HTTP:
`executor_list_json_expectation.json` (the driver of local-1422981780767 only, from the shared corpus) and
`executor_memory_usage_expectation.json` (the driver and executors 0-3 of app-20161116163331-0000).
Expected values are read off those files by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from catalog.durations import Duration
from catalog.model.spark import SparkSource
from exporters import names as m
from exporters.spark import SparkCollector, spark_time
from tests.conftest import run_cli
from tests.fixture_server import Reply, reply_json, serve
from tests.test_exporters import APP, SPARK, Samples, exposition, runtime_of, samples, spark_routes, value

APP2 = "app-20161116163331-0000"  # "Spark shell", ended 2016-11-16T22:33:40.587GMT
EXECUTORS2 = (SPARK / "executor_memory_usage_expectation.json").read_text()


def routes2(executors: str | bytes = EXECUTORS2) -> dict[str, Reply]:
    return {
        "/api/v1/applications": reply_json((SPARK / "application_list_json_expectation.json").read_text()),
        # Its jobs and stages are not in the corpus: empty lists stand in (nothing below reads them).
        f"/api/v1/applications/{APP2}/jobs": reply_json("[]"),
        f"/api/v1/applications/{APP2}/stages?status=failed": reply_json("[]"),
        f"/api/v1/applications/{APP2}/allexecutors": reply_json(executors),
    }


def scrape(routes: dict[str, Reply], now: str, lookback: str, **config: Any) -> tuple[Samples, list[str]]:
    clock = spark_time(now)
    assert clock is not None
    with serve(routes) as server:
        source = SparkSource(
            name="history",
            service="spark-prod",
            url=server.url,
            lookback=Duration.parse(lookback),
            timeout=Duration.parse("2s"),
            **config,
        )
        collector = SparkCollector(source, clock=lambda: clock)
        with runtime_of(collector) as rt:
            found = samples(exposition(rt))
            [result] = rt.scrape()
    return found, [str(e) for e in result.scrape.errors]


def per_executor(found: Samples, metric: str) -> dict[str, float]:
    return {dict(labels)["executor_id"]: v for (name, labels), v in found.items() if name == metric}


def test_the_driver_alone_from_the_corpus_payload() -> None:
    # executor_list_json_expectation.json: one entry, id "driver": maxMemory 278302556, memoryUsed 0,
    # totalGCTime 352 ms, totalDuration 8820 ms, failedTasks 1, completedTasks 31, activeTasks 0.
    found, errors = scrape(spark_routes(), "2015-02-03T16:43:30.000GMT", "30s")
    assert errors == []
    at = {"source": "history", "app_name": "Spark shell", "app_id": APP, "executor_id": "driver"}
    assert value(found, m.SPARK_EXECUTOR_MEMORY_MAX_BYTES, **at) == 278302556
    assert value(found, m.SPARK_EXECUTOR_MEMORY_USED_BYTES, **at) == 0
    assert value(found, m.SPARK_EXECUTOR_GC_SECONDS, **at) == pytest.approx(0.352)
    assert value(found, m.SPARK_EXECUTOR_RUN_SECONDS, **at) == pytest.approx(8.820)
    assert value(found, m.SPARK_EXECUTOR_TASKS, **at, status="failed") == 1
    assert value(found, m.SPARK_EXECUTOR_TASKS, **at, status="completed") == 31
    assert value(found, m.SPARK_EXECUTOR_TASKS, **at, status="active") == 0
    app = {k: v for k, v in at.items() if k != "executor_id"}
    assert value(found, m.SPARK_EXECUTORS_OMITTED, **app) == 0


# executor_memory_usage_expectation.json, by id: (maxMemory, totalGCTime ms, totalDuration ms, failed, completed)
RECORDED = {
    "driver": (908381388, 0, 0, 0, 0),
    "3": (908381388, 72, 2453, 0, 12),
    "2": (908381388, 88, 2537, 4, 0),
    "1": (908381388, 68, 3152, 0, 4),
    "0": (908381388, 116, 2551, 4, 0),
}


def test_the_driver_and_four_executors_each_get_their_series() -> None:
    # Twenty seconds after APP2 ended, a one-minute lookback keeps it alone.
    found, errors = scrape(routes2(), "2016-11-16T22:34:00.000GMT", "1m")
    assert errors == []
    assert per_executor(found, m.SPARK_EXECUTOR_MEMORY_MAX_BYTES) == {i: r[0] for i, r in RECORDED.items()}
    assert per_executor(found, m.SPARK_EXECUTOR_GC_SECONDS) == pytest.approx(
        {i: r[1] / 1000 for i, r in RECORDED.items()}
    )
    assert per_executor(found, m.SPARK_EXECUTOR_RUN_SECONDS) == pytest.approx(
        {i: r[2] / 1000 for i, r in RECORDED.items()}
    )
    failed = {
        dict(labels)["executor_id"]: v
        for (name, labels), v in found.items()
        if name == m.SPARK_EXECUTOR_TASKS and dict(labels)["status"] == "failed"
    }
    assert failed == {"driver": 0, "3": 0, "2": 4, "1": 0, "0": 4}  # the failed-task skew: 0 and 2
    app = {"source": "history", "app_name": "Spark shell", "app_id": APP2}
    # The application sums still hold: GC 0+72+88+68+116 = 344 ms; failed 4+4; completed 12+4; 5 active.
    assert value(found, m.SPARK_APP_GC_SECONDS, **app) == pytest.approx(0.344)
    assert value(found, m.SPARK_APP_TASKS, **app, status="failed") == 8
    assert value(found, m.SPARK_APP_TASKS, **app, status="completed") == 16
    assert value(found, m.SPARK_APP_EXECUTORS, **app) == 5
    assert value(found, m.SPARK_APP_MEMORY_MAX_BYTES, **app) == 5 * 908381388
    # GC share of run time, as the alert computes it: executor 0 spends 116/2551 = 4.5% in GC.
    gc, run = (
        per_executor(found, m.SPARK_EXECUTOR_GC_SECONDS),
        per_executor(found, m.SPARK_EXECUTOR_RUN_SECONDS),
    )
    assert gc["0"] / run["0"] == pytest.approx(0.04547, abs=1e-5)


def test_max_executors_keeps_the_driver_then_the_lowest_ids_and_counts_the_rest() -> None:
    found, _ = scrape(routes2(), "2016-11-16T22:34:00.000GMT", "1m", max_executors=3)
    assert set(per_executor(found, m.SPARK_EXECUTOR_GC_SECONDS)) == {"driver", "0", "1"}
    app = {"source": "history", "app_name": "Spark shell", "app_id": APP2}
    assert value(found, m.SPARK_EXECUTORS_OMITTED, **app) == 2


def test_granularity_application_gives_no_executor_series() -> None:
    found, _ = scrape(routes2(), "2016-11-16T22:34:00.000GMT", "1m", granularity="application")
    assert not [name for name, _ in found if name.startswith("spark_executor_")]
    assert not [name for name, _ in found if name == m.SPARK_EXECUTORS_OMITTED]
    app = {"source": "history", "app_name": "Spark shell", "app_id": APP2}
    assert value(found, m.SPARK_APP_GC_SECONDS, **app) == pytest.approx(0.344)


def test_dead_executors_count_in_the_sums_but_get_no_series() -> None:
    rows = json.loads(EXECUTORS2)
    rows[1]["isActive"] = False  # executor "3" removed (dynamic allocation): as /allexecutors lists it
    found, _ = scrape(routes2(json.dumps(rows)), "2016-11-16T22:34:00.000GMT", "1m")
    assert set(per_executor(found, m.SPARK_EXECUTOR_GC_SECONDS)) == {"driver", "0", "1", "2"}
    app = {"source": "history", "app_name": "Spark shell", "app_id": APP2}
    assert value(found, m.SPARK_APP_TASKS, **app, status="completed") == 16


def test_many_executors_stay_bounded() -> None:
    template = json.loads(EXECUTORS2)[1]
    rows = [json.loads(EXECUTORS2)[0]] + [{**template, "id": str(i)} for i in range(5000)]
    found, errors = scrape(routes2(json.dumps(rows)), "2016-11-16T22:34:00.000GMT", "1m", max_executors=50)
    assert errors == []
    kept = per_executor(found, m.SPARK_EXECUTOR_GC_SECONDS)
    assert len(kept) == 50 and "driver" in kept and "48" in kept and "49" not in kept
    app = {"source": "history", "app_name": "Spark shell", "app_id": APP2}
    assert value(found, m.SPARK_EXECUTORS_OMITTED, **app) == 5001 - 50
    assert value(found, m.SPARK_APP_TASKS, **app, status="completed") == 5000 * 12


def test_wrongly_typed_fields_are_a_parse_error_and_the_rest_is_kept() -> None:
    rows = json.loads(EXECUTORS2)
    rows[1]["totalGCTime"] = "lots"
    rows[2]["memoryUsed"] = None
    found, errors = scrape(routes2(json.dumps(rows)), "2016-11-16T22:34:00.000GMT", "1m")
    assert errors == [
        f"{_url_of(errors)}/api/v1/applications/{APP2}/allexecutors: fields memoryUsed, totalGCTime are not "
        "numbers in some executors"
    ]
    gc = per_executor(found, m.SPARK_EXECUTOR_GC_SECONDS)
    assert "3" not in gc and gc["2"] == pytest.approx(0.088)
    assert value(found, "spark_up", source="history") == 0
    assert value(found, "spark_scrape_errors_total", source="history", kind="parse") == 1


def _url_of(errors: list[str]) -> str:
    return errors[0].split("/api/v1")[0] if errors else ""


@pytest.mark.parametrize(
    "body",
    ['{"executors": []}', "[1, 2]", '"driver"'],
    ids=["object", "numbers", "text"],
)
def test_an_allexecutors_answer_of_the_wrong_shape_loses_only_itself(body: str) -> None:
    found, errors = scrape(routes2(body), "2016-11-16T22:34:00.000GMT", "1m")
    assert [e for e in errors if "allexecutors: expected a list of objects" in e], errors
    app = {"source": "history", "app_name": "Spark shell", "app_id": APP2}
    # The jobs answer still counts (empty here), and the application's own series are there.
    assert value(found, m.SPARK_APP_JOBS, **app, status="failed") == 0
    assert value(found, m.SPARK_APP_RUNNING, **app) == 0
    assert not [name for name, _ in found if name.startswith("spark_executor_")]


BOUNDS = {
    "max_executors: 0": "0 is below 1: max_executors is at least 1; write a number from 1 to 1000",
    "max_executors: 1001": "1001 is above 1000: max_executors is at most 1000",
    "max_applications: 100000": "100000 is above 1000: max_applications is at most 1000",
    "max_applications: 0": "0 is below 1: max_applications is at least 1",
    "max_applications: true": "max_applications",
    "granularity: executors": "'executors' is not allowed; did you mean 'executor'?",
}


@pytest.mark.parametrize("line", list(BOUNDS))
def test_spark_bounds_are_refused_with_file_line_and_fix(tmp_path: Path, line: str) -> None:
    (tmp_path / "c.yaml").write_text(
        "teams: [{name: t, owners: [t@example.com]}]\n"
        "services: [{name: s, team: t}]\n"
        "sources:\n"
        "  spark:\n"
        "    - name: history\n"
        "      service: s\n"
        "      url: http://spark:18080\n"
        f"      {line}\n"
    )
    result = run_cli("validate", str(tmp_path / "c.yaml"))
    assert result.code == 1
    field = line.split(":", maxsplit=1)[0]
    assert f'c.yaml:8: sources.spark[0] "history".{field}: ' in result.output, result.output
    assert BOUNDS[line] in result.output.replace("\n", " ")


# --- the alerts -------------------------------------------------------------------------------------

ALERTS = """
teams: [{name: t, owners: [t@example.com]}]
services: [{name: s, team: t}]
sources:
  spark:
    - name: history
      service: s
      url: http://spark:18080
      alerts: {executor_gc_share: {threshold: 0.25}, driver_memory_high: {threshold: 1}}
    - name: coarse
      service: s
      url: http://spark2:18080
      granularity: application
  yarn:
    - name: prod
      service: s
      resourcemanagers: ['http://rm:8088']
      alerts: {queue_failed_apps: {threshold: 3}}
"""


def test_overridden_thresholds_reach_the_rules_and_their_promtool_tests_pass(tmp_path: Path) -> None:
    import subprocess

    import yaml

    from tests.conftest import require_binary

    promtool = require_binary("promtool")
    (tmp_path / "c.yaml").write_text(ALERTS)
    out, tests = tmp_path / "rules", tmp_path / "tests"
    result = run_cli("generate", "rules", str(tmp_path / "c.yaml"), "--out", str(out), "--tests", str(tests))
    assert result.code == 0, result.output
    rules = {
        (r["labels"]["source"], r["alert"]): r
        for g in yaml.safe_load((out / "components-t.rules.yml").read_text())["groups"]
        for r in g["rules"]
        if "alert" in r
    }
    assert rules[("history", "WatchkeeperSparkExecutorGcHigh")]["expr"].endswith("> 0.25")
    assert rules[("history", "WatchkeeperSparkExecutorGcHigh")]["for"] == "15m"
    assert rules[("history", "WatchkeeperSparkDriverMemoryHigh")]["expr"].endswith(("> 1", "> 1.0"))
    assert rules[("prod", "WatchkeeperYarnQueueAppsFailed")]["expr"].endswith(("> 3", "> 3.0"))
    # Without executor series these two could never fire: not generated for granularity application.
    assert ("coarse", "WatchkeeperSparkExecutorGcHigh") not in rules
    assert ("coarse", "WatchkeeperSparkDriverMemoryHigh") not in rules
    assert ("coarse", "WatchkeeperSparkJobsFailed") in rules
    checked = subprocess.run(
        [promtool, "test", "rules", str(tests / "components-t.test.yml")],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    cases = yaml.safe_load((tests / "components-t.test.yml").read_text())["tests"]
    names = {c["alertname"] for case in cases for c in case.get("alert_rule_test", []) if c["exp_alerts"]}
    assert {
        "WatchkeeperSparkExecutorGcHigh",
        "WatchkeeperSparkDriverMemoryHigh",
        "WatchkeeperYarnQueueAppsFailed",
    } <= names


def test_a_repeated_executor_id_gives_one_series_set() -> None:
    rows = json.loads(EXECUTORS2)
    rows.append({**rows[1], "totalGCTime": 999})  # executor "3" listed twice: the first listing counts
    found, _ = scrape(routes2(json.dumps(rows)), "2016-11-16T22:34:00.000GMT", "1m")
    assert per_executor(found, m.SPARK_EXECUTOR_GC_SECONDS)["3"] == pytest.approx(0.072)
