"""YARN applications per queue: failed and killed ones in the window, the longest-running ones.

The payloads are the ResourceManager REST docs' recorded `/ws/v1/cluster/apps` answer (verbatim) and three
answers derived from its entries (tests/fixtures/PROVENANCE.md: states, final status and queue edited,
every other field as recorded), served over real HTTP. Expected values are read off those files by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.durations import Duration
from catalog.model.yarn import YarnSource
from exporters import names as m
from exporters.errors import ScrapeError
from exporters.yarn import YarnCollector
from exporters.yarn_apps import APPS_LIMIT, ended_by_queue
from tests.conftest import run_cli
from tests.fixture_server import Reply, reply_json, serve
from tests.test_exporters import YARN, Samples, exposition, runtime_of, samples, value

APPS = "/ws/v1/cluster/apps"
# The ten queues of the capacity-scheduler fixture, as full paths (its queueName fields, nested).
CAPACITY_QUEUES = {
    "root",
    "root.a",
    "root.a.a1",
    "root.a.a1.a1a",
    "root.a.a1.a1b",
    "root.a.a2",
    "root.b",
    "root.b.b1",
    "root.b.b2",
    "root.b.b3",
}
# One minute after application_1326821518301_0005 finished (finishedTime 1326824991300 ms).
NOW = 1326824991.300 + 60


def fixture(name: str) -> str:
    return (YARN / name).read_text()


def base_routes() -> dict[str, Reply]:
    return {
        "/ws/v1/cluster/metrics": reply_json(fixture("ws_v1_cluster_metrics.json")),
        "/ws/v1/cluster/scheduler": reply_json(fixture("ws_v1_cluster_scheduler_capacity.json")),
    }


def window_routes(window_seconds: int) -> dict[str, Reply]:
    since = int((NOW - window_seconds) * 1000)
    return {
        **base_routes(),
        f"{APPS}?states=FAILED,KILLED&finishedTimeBegin={since}&limit={APPS_LIMIT}": reply_json(
            fixture("ws_v1_cluster_apps_failed_killed.DERIVED.json")
        ),
        f"{APPS}?states=FINISHED&finalStatus=FAILED&finishedTimeBegin={since}&limit={APPS_LIMIT}": reply_json(
            fixture("ws_v1_cluster_apps_finished_failed.DERIVED.json")
        ),
        f"{APPS}?states=RUNNING&limit={APPS_LIMIT}": reply_json(
            fixture("ws_v1_cluster_apps_running.DERIVED.json")
        ),
    }


def scrape(routes: dict[str, Reply], **config: Any) -> tuple[Samples, list[str]]:
    with serve(routes) as rm:
        source = YarnSource(
            name="prod",
            service="yarn-prod",
            resourcemanagers=[rm.url],
            timeout=Duration.parse("2s"),
            **config,
        )
        with runtime_of(YarnCollector(source, clock=lambda: NOW)) as rt:
            found = samples(exposition(rt))
        return found, list(rm.requests)


def ended(found: Samples) -> dict[tuple[str, str], float]:
    return {
        (dict(labels)["queue"], dict(labels)["state"]): v
        for (name, labels), v in found.items()
        if name == m.YARN_QUEUE_APPS_ENDED
    }


def test_the_recorded_answer_of_finished_successful_apps_counts_no_failure() -> None:
    # ws_v1_cluster_apps.json (verbatim): application_..._0001 and _0002, both state FINISHED, finalStatus
    # SUCCEEDED, queue "default". Served for every applications query, nothing is failed, killed or running;
    # every queue of the scheduler still gets its 0s, so a failure alert can resolve.
    found, _ = scrape({**base_routes(), APPS: reply_json(fixture("ws_v1_cluster_apps.json"))})
    assert ended(found) == {(q, s): 0 for q in CAPACITY_QUEUES for s in ("failed", "killed")}
    assert value(found, m.YARN_APPS_QUEUES_FOLDED, source="prod") == 0
    assert not [k for k in found if k[0] == m.YARN_APP_RUNNING_SECONDS]
    assert value(found, "yarn_up", source="prod") == 1


def test_failed_and_killed_per_queue_within_a_three_hour_window() -> None:
    # 3h window: since = NOW - 10800 s = 1326814251300 ms, before all three finishedTimes.
    #   _0001 FAILED  queue a1 finished 1326815598530  -> root.a.a1 failed
    #   _0002 KILLED  queue a1 finished 1326815789546  -> root.a.a1 killed
    #   _0005 FINISHED, finalStatus FAILED, queue a1 (a lone object, not a list) -> root.a.a1 failed
    # "a1" is a leaf name (the capacity scheduler's way); only root.a.a1 ends in it.
    found, requests = scrape(window_routes(3 * 3600), applications_window="3h")
    expected = {(q, s): 0 for q in CAPACITY_QUEUES for s in ("failed", "killed")}
    expected[("root.a.a1", "failed")] = 2
    expected[("root.a.a1", "killed")] = 1
    assert ended(found) == expected
    assert value(found, "yarn_up", source="prod") == 1
    asked = [r for r in requests if r.startswith(APPS)]
    assert sorted(asked) == sorted(
        [
            f"{APPS}?states=FAILED%2CKILLED&finishedTimeBegin=1326814251300&limit=10000",
            f"{APPS}?states=FINISHED&finalStatus=FAILED&finishedTimeBegin=1326814251300&limit=10000",
            f"{APPS}?states=RUNNING&limit=10000",
        ]
    )


def test_an_rm_ignoring_finished_time_begin_still_gives_only_the_window() -> None:
    # 1h window: since = 1326824991300 + 60000 - 3600000 = 1326821451300 ms. The server answers with all
    # three applications anyway; only _0005 (finished 1326824991300) lies inside: one failure.
    found, _ = scrape(window_routes(3600), applications_window="1h")
    assert value(found, m.YARN_QUEUE_APPS_ENDED, source="prod", queue="root.a.a1", state="failed") == 1
    assert value(found, m.YARN_QUEUE_APPS_ENDED, source="prod", queue="root.a.a1", state="killed") == 0


def test_longest_running_applications_are_capped_longest_first() -> None:
    # Running answer: _0001 elapsedTime 25196 ms (queue default), _0002 148166 ms (default), _0005 446748 ms
    # (a1 -> root.a.a1). Two kept: _0005 and _0002; "default" is no queue of this scheduler: kept as is.
    found, _ = scrape(window_routes(3600), max_running_applications=2)
    running = {
        (d["queue"], d["app_id"], d["app_name"], d["user"]): v
        for (name, labels), v in found.items()
        if name == m.YARN_APP_RUNNING_SECONDS
        for d in [dict(labels)]
    }
    assert running == {
        ("root.a.a1", "application_1326821518301_0005", "Sleep job", "user1"): pytest.approx(446.748),
        ("default", "application_1326815542473_0002", "Sleep job", "user1"): pytest.approx(148.166),
    }


def test_queues_past_max_queues_are_folded_into_other() -> None:
    # 3h window: root.a.a1 has 3 ended applications, the other nine queues none. max_queues 3 keeps
    # root.a.a1 (most ended) then "root" and "root.a" (by name); the seven others sum into (other).
    found, _ = scrape(window_routes(3 * 3600), applications_window="3h", max_queues=3)
    assert ended(found) == {
        ("root.a.a1", "failed"): 2,
        ("root.a.a1", "killed"): 1,
        ("root", "failed"): 0,
        ("root", "killed"): 0,
        ("root.a", "failed"): 0,
        ("root.a", "killed"): 0,
        ("(other)", "failed"): 0,
        ("(other)", "killed"): 0,
    }
    assert value(found, m.YARN_APPS_QUEUES_FOLDED, source="prod") == 7


def test_max_running_applications_0_asks_nothing_for_running_ones() -> None:
    found, requests = scrape(window_routes(3600), max_running_applications=0)
    assert not [r for r in requests if "RUNNING" in r]
    assert not [k for k in found if k[0] == m.YARN_APP_RUNNING_SECONDS]
    assert value(found, "yarn_up", source="prod") == 1


# --- bad answers ------------------------------------------------------------------------------------

ONE_FAILED = {"id": "application_1_0001", "state": "FAILED", "queue": "a1", "finishedTime": 1326824991300}
BAD = {
    "no apps object": ('{"app": []}', "no apps object"),
    "apps is a list": ('{"apps": [1, 2]}', "apps.app is not a list of objects"),
    "app entries are numbers": ('{"apps": {"app": [1, 2]}}', "apps.app is not a list of objects"),
    "queue of the wrong type": (
        json.dumps({"apps": {"app": [ONE_FAILED, {**ONE_FAILED, "id": "x", "queue": 5}]}}),
        "1 of 2 applications lack a queue",
    ),
    "finishedTime missing": (
        json.dumps({"apps": {"app": [ONE_FAILED, {"id": "x", "state": "FAILED", "queue": "a1"}]}}),
        "1 of 2 applications lack a queue",
    ),
    "finishedTime as digits in text": (
        json.dumps(
            {"apps": {"app": [ONE_FAILED, {**ONE_FAILED, "id": "x", "finishedTime": "1326824991300"}]}}
        ),
        "1 of 2 applications lack a queue",
    ),
    "finishedTime text": (
        json.dumps({"apps": {"app": [ONE_FAILED, {**ONE_FAILED, "id": "x", "finishedTime": "yesterday"}]}}),
        "1 of 2 applications lack a queue",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_answer_is_a_parse_error_and_loses_nothing_else(case: str) -> None:
    body, message = BAD[case]
    routes = {**base_routes(), APPS: reply_json(body)}
    with serve(routes) as rm:
        source = YarnSource(
            name="prod",
            service="yarn-prod",
            resourcemanagers=[rm.url],
            max_running_applications=0,
            timeout=Duration.parse("2s"),
        )
        collector = YarnCollector(source, clock=lambda: NOW)
        with runtime_of(collector) as rt:
            found = samples(exposition(rt))
            [result] = rt.scrape()
    assert value(found, "yarn_up", source="prod") == 0
    assert value(found, "yarn_scrape_errors_total", source="prod", kind="parse") >= 1
    assert any(message in str(e) for e in result.scrape.errors), [str(e) for e in result.scrape.errors]
    # The cluster and queue series are still there.
    assert value(found, m.YARN_VCORES, source="prod", state="total") == 8
    assert value(found, m.YARN_QUEUE_CAPACITY, source="prod", queue="root.a", scheduler="capacity") == (
        pytest.approx(0.105)
    )
    if "1 of 2" in message:  # the readable application still counts
        assert value(found, m.YARN_QUEUE_APPS_ENDED, source="prod", queue="root.a.a1", state="failed") == 1


def test_no_applications_at_all_is_null_and_is_fine() -> None:
    found, _ = scrape({**base_routes(), APPS: reply_json('{"apps": null}')})
    assert set(ended(found).values()) == {0}
    assert value(found, "yarn_up", source="prod") == 1


def test_an_answer_cut_at_the_limit_says_so_but_keeps_its_counts() -> None:
    apps = [{**ONE_FAILED, "id": f"application_1_{i:05d}"} for i in range(APPS_LIMIT)]
    routes = {**base_routes(), APPS: reply_json(json.dumps({"apps": {"app": apps}}))}
    with serve(routes) as rm:
        source = YarnSource(
            name="prod",
            service="yarn-prod",
            resourcemanagers=[rm.url],
            max_running_applications=0,
            timeout=Duration.parse("5s"),
        )
        with runtime_of(YarnCollector(source, clock=lambda: NOW)) as rt:
            found = samples(exposition(rt))
    assert value(found, "yarn_scrape_errors_total", source="prod", kind="too_large") == 1
    # Both ended queries got the same 10,000 applications (same ids): counted once each.
    assert (
        value(found, m.YARN_QUEUE_APPS_ENDED, source="prod", queue="root.a.a1", state="failed") == APPS_LIMIT
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)
app_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=4) | json_values,
        "state": st.sampled_from(["FAILED", "KILLED", "FINISHED", "RUNNING", "failed"]) | json_values,
        "finalStatus": st.sampled_from(["FAILED", "SUCCEEDED", "KILLED"]) | json_values,
        "queue": st.sampled_from(["a1", "root.b.b1", "default", ""]) | json_values,
        "finishedTime": st.integers(0, 2 * 10**12) | json_values,
    },
)


def reference_count(apps: list[dict[str, Any]], since_ms: int) -> int:
    """Ended applications counted, by the rule in docs/exporters.md, written out independently."""
    total = 0
    for app in apps:
        state, final = str(app.get("state", "")).upper(), str(app.get("finalStatus", "")).upper()
        ended_now = state in ("FAILED", "KILLED") or (state == "FINISHED" and final == "FAILED")
        queue, finished = app.get("queue"), app.get("finishedTime")
        numeric = (
            isinstance(finished, int | float) and not isinstance(finished, bool) and finished == finished
        )
        if ended_now and isinstance(queue, str) and queue and numeric and finished >= since_ms:  # type: ignore[operator]
            total += 1
    return total


@settings(max_examples=300, deadline=None)
@given(apps=st.lists(app_like, max_size=8), since=st.integers(0, 2 * 10**12), other=json_values)
def test_any_answer_is_counted_as_the_reference_says_or_refused_as_parse(
    apps: list[dict[str, Any]], since: int, other: Any
) -> None:
    for payload in ({"apps": {"app": apps}}, other):
        try:
            counts, _, _, _ = ended_by_queue(payload, "http://rm", sorted(CAPACITY_QUEUES), since, 2000)
        except ScrapeError as exc:
            assert exc.kind == "parse"
            continue
        if payload is not other:
            assert sum(counts.values()) == reference_count(apps, since)


# --- catalog bounds -----------------------------------------------------------------------------------

BOUNDS = {
    "max_running_applications: 101": "101 is above 100: max_running_applications is at most 100",
    "max_running_applications: -1": "-1 is below 0: max_running_applications is at least 0",
    "max_queues: 0": "0 is below 1: max_queues is at least 1",
    "max_queues: 5000": "5000 is above 2000: max_queues is at most 2000",
    "max_queues: '10'": "'10' is quoted text, not a number; write 10 without quotes",
    "applications_window: 8d": "8d is longer than 7d: applications_window is at most 7d",
    "applications_window: 10s": "10s is shorter than 1m: applications_window is at least 1m",
}


@pytest.mark.parametrize("line", list(BOUNDS))
def test_yarn_bounds_are_refused_with_file_line_and_fix(tmp_path: Path, line: str) -> None:
    (tmp_path / "c.yaml").write_text(
        "teams: [{name: t, owners: [t@example.com]}]\n"
        "services: [{name: s, team: t}]\n"
        "sources:\n"
        "  yarn:\n"
        "    - name: prod\n"
        "      service: s\n"
        "      resourcemanagers: ['http://rm:8088']\n"
        f"      {line}\n"
    )
    result = run_cli("validate", str(tmp_path / "c.yaml"))
    assert result.code == 1
    field = line.split(":", maxsplit=1)[0]
    assert f'c.yaml:8: sources.yarn[0] "prod".{field}: {BOUNDS[line]}' in result.output, result.output


def test_an_application_listed_twice_is_one_series() -> None:
    running = json.loads(fixture("ws_v1_cluster_apps_running.DERIVED.json"))
    apps = running["apps"]["app"]
    apps.append({**apps[2], "elapsedTime": 1})  # _0005 again, with another elapsedTime: the first counts
    routes = {
        **window_routes(3600),
        f"{APPS}?states=RUNNING&limit={APPS_LIMIT}": reply_json(json.dumps(running)),
    }
    found, _ = scrape(routes, max_running_applications=5)
    ids = [dict(labels)["app_id"] for name, labels in found if name == m.YARN_APP_RUNNING_SECONDS]
    assert sorted(ids) == sorted(
        ["application_1326815542473_0001", "application_1326815542473_0002", "application_1326821518301_0005"]
    )
    at = {"source": "prod", "queue": "root.a.a1", "app_name": "Sleep job", "user": "user1"}
    assert value(found, m.YARN_APP_RUNNING_SECONDS, **at, app_id="application_1326821518301_0005") == (
        pytest.approx(446.748)
    )
