"""Hostile input the first round missed (issue "Hostile input and load", reproduced again): each test
failed before its fix. Catalog cases run the real CLI in-process; exporter cases real loopback servers."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from catalog.errors import MAX_SHOWN, MAX_SHOWN_JSON
from exporters.errors import ScrapeError
from exporters.hdfs import FSNAMESYSTEM, MAX_BEANS, NAMENODE_INFO
from exporters.http import MAX_LARGE_BODIES, HttpPool
from tests.conftest import require_binary, run_cli
from tests.fixture_server import Reply, reply_json, serve
from tests.test_catalog_fuzz import check_promise
from tests.test_exporters import exposition, hdfs, nn_routes, runtime_of, samples, value

MIB = 1024 * 1024
HEAD = "teams: [{name: t, owners: [a@example.com]}]\nservices: [{name: s, team: t}]\n"


def _events(errors: str, total: str = "sum(rate(t[{{window}}]))") -> dict[str, Any]:
    return {
        "teams": [{"name": "t", "owners": ["a@example.com"]}],
        "services": [{"name": "s", "team": "t"}],
        "slos": [{"name": "a", "service": "s", "objective": 99, "sli": {"events": {"errors": errors, "total": total}}}],
    }  # fmt: skip


# --- Prometheus 3 quoted names --------------------------------------------------------------------


QUOTED = [
    'sum(rate({"ünï"}[{{window}}]))',
    'sum(rate({"http.requests"}[{{window}}]))',
    'sum(rate(x{"service.name"="api"}[{{window}}]))',
    'sum by ("a.b") (rate(x[{{window}}]))',
]


@pytest.mark.parametrize("query", QUOTED)
def test_a_quoted_prometheus_3_name_is_refused_by_validate_as_promtool_refuses_it(
    write_catalog: Any, query: str, tmp_path: Path
) -> None:
    # The expectation comes from the installed promtool (2.x): it cannot parse the query at all.
    rules = tmp_path / "q.yml"
    rules.write_text(json.dumps({"groups": [{"name": "g", "rules": [{"record": "r", "expr": query.replace("{{window}}", "5m")}]}]}))  # fmt: skip
    checked = subprocess.run([require_binary("promtool"), "check", "rules", str(rules)], capture_output=True, text=True, check=False)  # fmt: skip
    assert checked.returncode != 0 and "unexpected string" in checked.stdout + checked.stderr
    text = HEAD + (
        "slos:\n"
        "- name: a\n"
        "  service: s\n"
        "  objective: 99\n"
        f"  sli: {{events: {{errors: {json.dumps(query)}, total: 'sum(rate(t[{{{{window}}}}]))'}}}}\n"
    )
    result = run_cli("validate", str(write_catalog({"c.yaml": text})))
    assert result.code == 1, result.stdout + result.stderr
    assert "c.yaml:7" in result.stderr and 'slos[0] "a".sli.events.errors' in result.stderr, result.stderr
    assert "Prometheus 3 syntax" in result.stderr and "{__name__=" in result.stderr, result.stderr


def test_names_in_label_values_and_function_arguments_are_not_mistaken_for_quoted_names() -> None:
    catalog = _events(
        'sum(rate(label_replace(e{path="{\\"x\\"}"}, "dst", "$1", "src", "(.*)")[{{window}}:1m]))'
    )
    check_promise(catalog, require_binary("promtool"), require_binary("amtool"))


# --- `or vector(0)` ---------------------------------------------------------------------------------


def test_an_errors_query_with_or_vector_0_gets_passing_generated_tests() -> None:
    # Before: fed the recorded 5m rates beside a rule that records them too: "duplicate sample for
    # timestamp" on slo:sli_errors:rate5m. Now fed raw series (the 0 shows only while the total is absent).
    check_promise(_events("sum(rate(e[{{window}}])) or vector(0)"), require_binary("promtool"), require_binary("amtool"))  # fmt: skip
    check_promise(_events("sum(rate(e[{{window}}])) or on() vector(0)"), require_binary("promtool"), require_binary("amtool"))  # fmt: skip


@pytest.mark.parametrize(
    "errors",
    ["max(rate(e[{{window}}])) or vector(0)", "(sum(rate(e[{{window}}])) or vector(1)) * 2", "absent(e) - 1"],
)
def test_an_unsynthesisable_query_that_yields_without_input_gets_no_conflicting_test(errors: str) -> None:
    check_promise(_events(errors), require_binary("promtool"), require_binary("amtool"))


# --- the number of errors shown --------------------------------------------------------------------


def _unknown_keys(tmp_path: Path, count: int) -> Path:
    lines = "".join(f"  unknown_key_{i}: {i}\n" for i in range(count))
    path = tmp_path / "c.yaml"
    path.write_text("teams:\n- name: t\n  owners: [a@example.com]\n" + lines)
    return path


def test_many_errors_are_printed_capped_with_a_count_of_the_rest(tmp_path: Path) -> None:
    # Before: 200,000 unknown keys printed 200,000 lines (26 MB of stderr, 33 s).
    path = _unknown_keys(tmp_path, 20_000)
    start = time.perf_counter()
    result = run_cli("validate", str(path))
    elapsed = time.perf_counter() - start
    assert result.code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == MAX_SHOWN + 2, lines[-3:]
    assert f"…and {20_000 - MAX_SHOWN} more errors" in lines[-2]
    assert lines[-1].startswith("20000 errors")
    assert "did you mean" in lines[0] or "allowed here" in lines[0]
    assert elapsed < 30, elapsed

    result = run_cli("validate", "--format", "json", str(path))
    report = json.loads(result.stdout)
    assert report["valid"] is False and report["errors"] == 20_000
    assert len(report["problems"]) == MAX_SHOWN_JSON
    assert report["omitted"] == 20_000 - MAX_SHOWN_JSON


def test_a_few_errors_are_all_printed(tmp_path: Path) -> None:
    result = run_cli("validate", "--format", "json", str(_unknown_keys(tmp_path, 3)))
    report = json.loads(result.stdout)
    assert report["omitted"] == 0 and len(report["problems"]) == 3


# --- bounds -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("kafka: [{name: k, service: s, bootstrap: 'b:9092', max_points: 100000000}]", "max_points is at most 1000"),
        ("kafka: [{name: k, service: s, bootstrap: 'b:9092', max_points: 1}]", "max_points is at least 2"),
        ("kafka: [{name: k, service: s, bootstrap: 'b:9092', max_points: 5.5}]", "max_points"),
        (
            "freshness: [{dataset: d, service: s, max_age: 1h, airflow: {url: 'http://af:8080', dag_id: x, lookback: 400d}}]",
            "lookback is at most 30d",
        ),
        (
            "freshness: [{dataset: d, service: s, max_age: 1h, airflow: {url: 'http://af:8080', dag_id: x, lookback: 30s}}]",
            "lookback is at least 1m",
        ),
    ],
)  # fmt: skip
def test_counts_and_lookbacks_are_bounded(write_catalog: Any, source: str, message: str) -> None:
    result = run_cli("validate", str(write_catalog({"c.yaml": HEAD + "sources:\n  " + source + "\n"})))
    assert result.code == 1, result.stdout
    assert "c.yaml:4" in result.stderr and message in result.stderr, result.stderr


def test_the_bounds_themselves_are_accepted(write_catalog: Any) -> None:
    text = HEAD + (
        "sources:\n"
        "  kafka: [{name: k, service: s, bootstrap: 'b:9092', max_points: 1000}]\n"
        "  freshness: [{dataset: d, service: s, max_age: 1h, airflow: {url: 'http://af:8080', dag_id: x, lookback: 30d}}]\n"
    )  # fmt: skip
    result = run_cli("validate", str(write_catalog({"c.yaml": text})))
    assert result.code == 0, result.stderr


# --- YAML oddities ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "read_as"), [("1:39", "99"), ("1:39.5", "99.5"), ("-1:00:00", "-3600")])
def test_a_base_60_number_is_refused(write_catalog: Any, written: str, read_as: str) -> None:
    # YAML 1.1 reads 1:39 as 60 + 39 = 99 (PyYAML's safe_load agrees): `objective: 1:39` was 99%.
    text = HEAD + (
        "slos:\n- name: a\n  service: s\n"
        f"  objective: {written}\n"
        "  sli: {events: {errors: 'sum(rate(e[{{window}}]))', total: 'sum(rate(t[{{window}}]))'}}\n"
    )
    result = run_cli("validate", str(write_catalog({"c.yaml": text})))
    assert result.code == 1
    assert f"c.yaml:6:14: {written} is a YAML 1.1 base-60 number, read as {read_as}" in result.stderr
    assert f"quote it ('{written}')" in result.stderr


def test_a_quoted_base_60_text_is_text(write_catalog: Any) -> None:
    text = HEAD.replace(
        "services: [{name: s, team: t}]", "services: [{name: s, team: t, description: '1:39'}]"
    )
    assert run_cli("validate", str(write_catalog({"c.yaml": text}))).code == 0


@pytest.mark.parametrize(
    ("codec", "named"),
    [
        ("utf-16", "UTF-16 (little-endian, with a byte-order mark)"),
        ("utf-16-be", "UTF-16 (big-endian)"),
        ("utf-16-le", "UTF-16 (little-endian)"),
        ("utf-32", "UTF-32 (little-endian, with a byte-order mark)"),
    ],
)
def test_a_utf16_catalog_is_named_as_such(tmp_path: Path, codec: str, named: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(HEAD.encode(codec))
    result = run_cli("validate", str(path))
    assert result.code == 1
    assert f"c.yaml:1: cannot read file: it is {named} text, not UTF-8; save it as UTF-8" in result.stderr


# --- exporter: upstream answers ---------------------------------------------------------------------


def _get_json(url: str, **kwargs: Any) -> object:
    async def run() -> object:
        pool = HttpPool()
        try:
            return await pool.get_json(url, timeout=10, **kwargs)
        finally:
            await pool.aclose()

    return asyncio.run(run())


def test_a_json_number_of_100000_digits_is_a_clean_parse_error() -> None:
    body = b'{"beans": [{"name": "x", "v": ' + b"7" * 100_000 + b"}]}"
    with serve({"/jmx": reply_json(body)}) as server, pytest.raises(ScrapeError) as caught:
        _get_json(f"{server.url}/jmx")
    assert caught.value.kind == "parse"
    assert "more than 4300 digits" in str(caught.value)
    assert "set_int_max_str_digits" not in str(caught.value)  # Python's advice, meaningless to an operator


@contextmanager
def raw_server(answer: bytes) -> Iterator[str]:
    """A TCP server that reads a request and answers `answer`, whatever it is, then closes."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(answer)
                except OSError:
                    pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        listener.close()


@pytest.mark.parametrize(
    "answer",
    [
        bytes(range(256)) * 8,  # random bytes, not HTTP
        b"HTTP/1.1 200 OK\r\nX-Huge: " + b"a" * 200_000 + b"\r\n\r\n{}",  # a header past h11's limit
    ],
    ids=["random-bytes", "huge-header"],
)
def test_an_answer_that_is_not_http_is_a_parse_error_not_connection(answer: bytes) -> None:
    # Before: `connection`, as if nothing listened; the peer is there, its answer is bad.
    with raw_server(answer) as url, pytest.raises(ScrapeError) as caught:
        _get_json(f"{url}/jmx")
    assert caught.value.kind == "parse", caught.value
    assert "did not answer with valid HTTP" in str(caught.value)


def test_a_peer_that_closes_without_answering_is_still_connection() -> None:
    with raw_server(b"") as url, pytest.raises(ScrapeError) as caught:
        _get_json(f"{url}/jmx")
    assert caught.value.kind == "connection", caught.value


# --- exporter: many beans and large bodies --------------------------------------------------------


def _many_beans(count: int) -> bytes:
    beans = [{"name": f"Hadoop:service=NameNode,name=Bean{i}", "Value": i} for i in range(count)]
    return json.dumps({"beans": beans}, separators=(",", ":")).encode()


def test_a_namenode_answering_300000_beans_is_refused_before_parsing() -> None:
    # 17 MB of JSON, under the body limit, but 110 MB once parsed (tracemalloc, json.loads); fifteen such
    # sources under 50 concurrent scrapes took the exporter to 348-382 MB (benchmarks/load_bench.py).
    many = Reply(_many_beans(300_000))
    with (
        serve(nn_routes(info=many)) as bad,
        serve(nn_routes()) as good,
        runtime_of(hdfs("bad", [bad.url]), hdfs("good", [good.url], timeout="5s")) as rt,
    ):
        tracemalloc.start()
        try:
            found = samples(exposition(rt))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert value(found, "hdfs_up", source="bad") == 0
    assert value(found, "hdfs_scrape_errors_total", source="bad", kind="too_large") == 1
    assert value(found, "hdfs_up", source="good") == 1
    # Reading stops after the first thousand beans: never the 17 MB body, nor its parse (110 MB).
    assert peak < 20 * MIB, f"{peak / MIB:.0f} MiB"


@pytest.mark.parametrize("chunk", [1, 5, 6, 7, 4096])
def test_beans_are_counted_across_chunk_boundaries(chunk: int) -> None:
    from exporters.hdfs import bean_limit

    def feed(body: bytes) -> int:
        limit = bean_limit(NAMENODE_INFO)
        for start in range(0, len(body), chunk):
            limit.feed(body[start : start + chunk], "u")
        return limit.count

    assert feed(_many_beans(MAX_BEANS)) == MAX_BEANS  # json.dumps wrote them; each has one "name" key
    with pytest.raises(ScrapeError) as caught:
        feed(_many_beans(MAX_BEANS + 1))
    assert caught.value.kind == "too_large" and f"more than {MAX_BEANS} beans" in str(caught.value)
    # A quote inside a string is escaped: LiveNodes' JSON text holds no "name" key the count could see.
    live = json.dumps([{"name": i} for i in range(5000)])
    assert feed(json.dumps({"beans": [{"name": "a", "LiveNodes": live}]}).encode()) == 1


def test_an_fsnamesystem_answer_over_4_mib_is_too_large() -> None:
    # A real FSNamesystem* answer is a few KB; NameNodeInfo (LiveNodes grows with the cluster) keeps 20 MB.
    body = b'{"beans": [{"name": "' + FSNAMESYSTEM.encode() + b'", "pad": "' + b"x" * (5 * MIB) + b'"}]}'
    with serve(nn_routes(fs=Reply(body))) as server, runtime_of(hdfs("nn", [server.url], timeout="5s")) as rt:
        found = samples(exposition(rt))
    assert value(found, "hdfs_scrape_errors_total", source="nn", kind="too_large") == 1


def test_large_bodies_are_held_a_few_at_a_time() -> None:
    # Sixteen upstreams each send 6 MiB of valid JSON at once. Before: all sixteen bodies were held
    # together (96 MiB, plus their parses). Now at most MAX_LARGE_BODIES bodies past 256 KiB are read
    # and parsed at a time: 4 x (6 MiB body + 6 MiB parsed string) = 48 MiB, plus 256 KiB per waiting one.
    body = json.dumps({"beans": [{"name": "x", "text": "y" * (6 * MIB)}]}).encode()
    with serve({"/jmx": Reply(body)}) as server:

        async def one(pool: HttpPool) -> bool:
            return isinstance(await pool.get_json(f"{server.url}/jmx", timeout=30), dict)  # then dropped

        async def run() -> list[bool]:
            pool = HttpPool()
            try:
                return await asyncio.gather(*(one(pool) for _ in range(16)))
            finally:
                await pool.aclose()

        tracemalloc.start()
        try:
            results = asyncio.run(run())
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert results == [True] * 16
    assert MAX_LARGE_BODIES == 4
    assert peak < 75 * MIB, f"{peak / MIB:.0f} MiB"


@pytest.mark.parametrize(
    ("alert", "message"),
    [
        ("lag_seconds: {threshold: 1e-20}", "too small to mean anything; write 0 or at least 1e-06"),
        ("lag_seconds: {threshold: 1e300}", "too large to mean anything"),
    ],
)
def test_thresholds_the_rules_cannot_write_are_refused(write_catalog: Any, alert: str, message: str) -> None:
    # rules/promql.number writes 12 decimals: 1e-20 became `> 0.0` (the fuzz test found the same for
    # max_lag_seconds: 2.2e-154, whose generated test then failed).
    text = HEAD + f"sources:\n  kafka: [{{name: k, service: s, bootstrap: 'b:9092', alerts: {{{alert}}}}}]\n"
    result = run_cli("validate", str(write_catalog({"c.yaml": text})))
    assert result.code == 1 and "c.yaml:4" in result.stderr and message in result.stderr, result.stderr


@pytest.mark.parametrize("limit", ["2.2349105355833644e-154", "1e10"])
def test_a_kafka_lag_limit_the_rules_cannot_write_is_refused(write_catalog: Any, limit: str) -> None:
    # Found by the fuzz test: 2.2e-154 was written as `> bool 0.0`, and the generated test failed.
    text = HEAD + (
        "sources:\n  kafka: [{name: k, service: s, bootstrap: 'b:9092'}]\n"
        "slos:\n- name: a\n  service: s\n  objective: 99\n"
        f"  sli: {{kafka_lag: {{cluster: k, group: g, max_lag_seconds: {limit}}}}}\n"
    )
    result = run_cli("validate", str(write_catalog({"c.yaml": text})))
    assert result.code == 1 and "c.yaml:9" in result.stderr, result.stderr
    assert "write a number of seconds from 0.001 to 1e9" in result.stderr
