"""Hostile sources: gzip bombs, 60,000 DataNodes, absurd timeouts, noisy failures, echoed junk.

The upstreams are real loopback HTTP servers; the bomb scenario runs the real `watchkeeper exporter`
command in a subprocess so that its peak resident memory (VmHWM) can be read from /proc.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
import time
import tracemalloc
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporters import names as m
from exporters.errors import ScrapeError
from exporters.http import HttpPool
from exporters.logs import LogfmtFormatter
from tests.conftest import run_cli
from tests.exporter_process import Answer, concurrently, exporter
from tests.fixture_server import Reply, gzip_bomb, reply_json, serve
from tests.test_exporters import HDFS, hdfs, nn_routes, runtime_of, samples, value, yarn, yarn_routes

FUZZ_EXAMPLES = int(os.environ.get("WATCHKEEPER_FUZZ_EXAMPLES", "60"))
MIB = 1024 * 1024
GZIP = (("Content-Encoding", "gzip"),)


def bomb_routes(bomb: bytes) -> dict[str, Reply]:
    return nn_routes(fs=Reply(bomb, headers=GZIP), info=Reply(bomb, headers=GZIP))


# --- gzip bombs ------------------------------------------------------------------------------------


def test_four_gzip_bombs_under_50_concurrent_scrapes_stay_under_300_mb(tmp_path: Path) -> None:
    # Before: one 2 MB bomb (2 GB of zeros once decoded) raised the exporter's RSS to 533 MB, four of
    # them under concurrent scrapes to 2-3 GB.
    bomb = gzip_bomb(2000)
    assert len(bomb) < 2.5 * MIB
    with (
        serve(bomb_routes(bomb)) as b1,
        serve(bomb_routes(bomb)) as b2,
        serve(bomb_routes(bomb)) as b3,
        serve(bomb_routes(bomb)) as b4,
        serve(nn_routes()) as healthy,
    ):
        entries = [
            f"{{name: bomb{i}, service: hdfs-prod, namenodes: ['{s.url}'], timeout: 10s}}"
            for i, s in enumerate((b1, b2, b3, b4))
        ]
        entries.append(f"{{name: healthy, service: hdfs-prod, namenodes: ['{healthy.url}'], timeout: 10s}}")
        with exporter(tmp_path, "{hdfs: [" + ", ".join(entries) + "]}") as running:
            answers: list[Answer | BaseException] = []
            for _ in range(3):  # three rounds, each a fresh collection (older than min_interval, 1s)
                answers += concurrently(50, lambda _: running.get(timeout=30))
                time.sleep(1.1)
            peak = running.peak_rss_mb()
            assert running.stop() == 0, running.stderr()
    bad = [a for a in answers if not isinstance(a, Answer) or a.status != 200]
    assert bad == []
    for answer in answers:
        assert isinstance(answer, Answer)
        found = samples(answer.text)
        assert value(found, "hdfs_up", source="healthy") == 1
        for i in range(4):
            assert value(found, "hdfs_up", source=f"bomb{i}") == 0
            assert value(found, "hdfs_scrape_errors_total", source=f"bomb{i}", kind="too_large") >= 1
            assert value(found, "hdfs_scrape_errors_total", source=f"bomb{i}", kind="parse") == 0
    assert peak < 300, f"peak RSS {peak:.0f} MiB"


def _get_json(url: str, limit: int) -> object:
    async def run() -> object:
        pool = HttpPool(max_body_bytes=limit)
        try:
            return await pool.get_json(url, timeout=10)
        finally:
            await pool.aclose()

    return asyncio.run(run())


def test_a_bomb_is_refused_without_ever_holding_more_than_the_limit() -> None:
    bomb = gzip_bomb(500)  # 500 MiB once decoded, 500 KB on the wire
    with serve({"/jmx": Reply(bomb, headers=GZIP)}) as server:
        tracemalloc.start()
        try:
            with pytest.raises(ScrapeError) as caught:
                _get_json(f"{server.url}/jmx", 4 * MIB)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert caught.value.kind == "too_large"
    assert "decoded" in str(caught.value)
    # The limit (4 MiB) plus the compressed body (0.5 MiB) plus one decoding step (1 MiB), with slack:
    # never the 500 MiB the body decodes to.
    assert peak < 12 * MIB, f"{peak / MIB:.1f} MiB allocated"


def test_a_gzipped_recorded_payload_is_decoded_and_exported() -> None:
    info = (HDFS / "hdfs_namesystem_info.json").read_bytes()
    routes = nn_routes(info=Reply(gzip.compress(info), headers=GZIP))
    with serve(routes) as nn, runtime_of(hdfs("prod", [nn.url])) as rt:
        found = samples(rt.exposition())
    assert value(found, "hdfs_up", source="prod") == 1
    # LiveNodes of the recorded NameNodeInfo: one DataNode, capacity 62725623808 bytes.
    assert (
        value(found, m.HDFS_DATANODE_CAPACITY_BYTES, source="prod", datanode="c68ae3949d7f:50010")
        == 62725623808
    )


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),  # RFC 9110: zlib-wrapped
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # what some servers send: raw deflate
        ("identity", lambda data: data),
    ],
)
def test_every_content_encoding_a_server_may_send_is_decoded(encoding: str, encode: object) -> None:
    payload = {"beans": [{"name": "x", "value": list(range(2000))}]}
    raw = json.dumps(payload).encode()
    assert callable(encode)
    with serve({"/jmx": Reply(encode(raw), headers=(("Content-Encoding", encoding),))}) as server:
        assert _get_json(f"{server.url}/jmx", MIB) == payload


@pytest.mark.parametrize(
    ("body", "encoding", "kind"),
    [
        (b'{"a": 1}', "br", "parse"),  # never asked for: we send Accept-Encoding: gzip, deflate
        (gzip.compress(b'{"a": 1}')[:-12], "gzip", "parse"),  # cut short
        (b"not gzip at all", "gzip", "parse"),
    ],
)
def test_a_bad_encoding_is_a_parse_error(body: bytes, encoding: str, kind: str) -> None:
    with (
        serve({"/jmx": Reply(body, headers=(("Content-Encoding", encoding),))}) as server,
        pytest.raises(ScrapeError) as caught,
    ):
        _get_json(f"{server.url}/jmx", MIB)
    assert caught.value.kind == kind, caught.value


@pytest.mark.parametrize("depth", [100_000, 1_000_000])
def test_json_nested_too_deeply_is_a_parse_error(depth: int) -> None:
    # json.loads raises RecursionError (not a ValueError) here: it used to escape as an unforeseen error.
    body = b"[" * depth + b"]" * depth
    with serve({"/jmx": reply_json(body)}) as server, pytest.raises(ScrapeError) as caught:
        _get_json(f"{server.url}/jmx", 4 * MIB)
    assert caught.value.kind == "parse"
    assert "nested too deeply" in str(caught.value)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    st.one_of(st.binary(max_size=3000), st.integers(0, 300_000).map(lambda n: b"a" * n)),
    st.integers(1, 200_000),
    st.sampled_from(["gzip", "deflate"]),
)
def test_decoding_matches_zlib_and_enforces_the_limit_on_decoded_bytes(
    data: bytes, limit: int, encoding: str
) -> None:
    from exporters.http import inflate

    wire = gzip.compress(data) if encoding == "gzip" else zlib.compress(data)
    if len(data) <= limit:
        assert bytes(inflate(wire, encoding, limit, "u")) == data  # the reference: the data compressed
    else:
        with pytest.raises(ScrapeError) as caught:
            inflate(wire, encoding, limit, "u")
        assert caught.value.kind == "too_large"


# --- cardinality -----------------------------------------------------------------------------------


def _namenode_with_datanodes(count: int) -> str:
    info = json.loads((HDFS / "hdfs_namesystem_info.json").read_text())
    bean = info["beans"][0]
    node = {
        "lastContact": 2,
        "usedSpace": 24576,
        "capacity": 100,
        "remaining": 50,
        "numBlocks": 3,
        "volfails": 0,
    }
    bean["LiveNodes"] = json.dumps({f"dn{i:05d}.example:9866": node for i in range(count)})
    return json.dumps(info)


RUNTIME_SERIES = {
    "hdfs_up",
    "hdfs_scrape_duration_seconds",
    "hdfs_scrape_errors_total",
    "hdfs_series_dropped_total",
}


def test_60000_datanodes_are_capped_at_max_series_with_a_dropped_counter() -> None:
    # Before: 60,000 DataNodes gave 420,000 series. By hand: the recorded NameNode gives 23 NameNode
    # series (11 FSNamesystem gauges, live, dead, volume failures, safemode, active, 5 HA states,
    # checkpoint time and age) and each live DataNode 7 (live, last contact, capacity, used, remaining,
    # blocks, volume failures): 23 + 7 * 60,000 = 420,023. The default cap is 50,000 (docs/exporters.md).
    with (
        serve(nn_routes(info=_namenode_with_datanodes(60_000))) as nn,
        runtime_of(hdfs("big", [nn.url], timeout="20s")) as rt,
    ):
        found = samples(rt.exposition())
    kept = [name for name, labels in found if ("source", "big") in labels and name not in RUNTIME_SERIES]
    assert len(kept) == 50_000
    assert value(found, "hdfs_series_dropped_total", source="big") == 420_023 - 50_000
    host = nn.url.removeprefix("http://")
    # The NameNode series come first and are all kept; the cut falls in the per-DataNode detail.
    assert value(found, m.HDFS_CAPACITY_TOTAL_BYTES, source="big", namenode=host) == 41167421440
    assert value(found, m.HDFS_LIVE_DATANODES, source="big", namenode=host) == 60_000
    assert value(found, "hdfs_up", source="big") == 1


def test_max_series_is_a_catalog_field_and_is_honoured() -> None:
    from catalog.model.hdfs import HdfsSource
    from exporters.hdfs import HdfsCollector

    with serve(nn_routes(info=_namenode_with_datanodes(100))) as nn:
        config = HdfsSource(name="small", service="hdfs-prod", namenodes=[nn.url], max_series=30)
        with runtime_of(HdfsCollector(config)) as rt:
            first = samples(rt.exposition())
            time.sleep(1.1)  # older than min_interval (1s): a second collection
            second = samples(rt.exposition())
    kept = [name for name, labels in first if ("source", "small") in labels and name not in RUNTIME_SERIES]
    assert len(kept) == 30
    # 23 + 7 * 100 = 723 series, 30 kept: 693 dropped a collection; the counter adds up collections.
    assert value(first, "hdfs_series_dropped_total", source="small") == 693
    assert value(second, "hdfs_series_dropped_total", source="small") == 2 * 693


@pytest.mark.parametrize("bad", ["0", "-5", "true", "1e12", "'many'"])
def test_max_series_must_be_a_positive_bounded_integer(write_catalog, bad: str) -> None:  # type: ignore[no-untyped-def]
    root = write_catalog(
        {
            "c.yaml": "teams: [{name: t, owners: [t@example.com]}]\nservices: [{name: s, team: t}]\n"
            f"sources:\n  hdfs:\n    - name: nn\n      service: s\n      namenodes: ['http://nn:9870']\n"
            f"      max_series: {bad}\n"
        }
    )
    result = run_cli("validate", str(root))
    assert result.code == 1, result.output
    assert "max_series" in result.output and "c.yaml:8" in result.output, result.output
    assert "unknown key" not in result.output and "Traceback" not in result.output, result.output


# --- durations ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "text", "ok"),
    [
        ("timeout", "290y", False),  # before: accepted, and every /metrics answered 500
        ("timeout", "31s", False),
        ("timeout", "30s", True),
        ("timeout", "1ms", True),
        ("min_interval", "6m", False),
        ("min_interval", "5m", True),
    ],
)
def test_source_durations_are_bounded_at_validation(write_catalog, field: str, text: str, ok: bool) -> None:  # type: ignore[no-untyped-def]
    root = write_catalog(
        {
            "c.yaml": "teams: [{name: t, owners: [t@example.com]}]\nservices: [{name: s, team: t}]\n"
            f"sources:\n  hdfs:\n    - name: nn\n      service: s\n      namenodes: ['http://nn:9870']\n"
            f"      {field}: {text}\n"
        }
    )
    result = run_cli("validate", str(root))
    assert "Traceback" not in result.output
    if ok:
        assert result.code == 0, result.output
        return
    assert result.code == 1, result.output
    assert "c.yaml:8" in result.output, result.output  # file and line of the entry
    bound = "30s" if field == "timeout" else "5m"
    assert f"at most {bound}" in result.output, result.output


def test_kafka_and_freshness_timeouts_are_bounded_too() -> None:
    from pydantic import ValidationError

    from catalog.model.freshness import FreshnessSource
    from catalog.model.kafka import KafkaSource

    with pytest.raises(ValidationError, match="at most 30s"):
        KafkaSource(name="k", service="s", bootstrap="k:9092", timeout="290y")
    with pytest.raises(ValidationError, match="at most 30s"):
        FreshnessSource(dataset="d", service="s", max_age="1h", file={"path": "/x"}, timeout="1h")


def test_the_largest_timeout_still_answers_200(tmp_path: Path) -> None:
    with serve(nn_routes()) as nn:
        sources = f"{{hdfs: [{{name: prod, service: hdfs-prod, namenodes: ['{nn.url}'], timeout: 30s}}]}}"
        with exporter(tmp_path, sources) as running:
            answer = running.get()
            assert running.stop() == 0, running.stderr()
    assert answer.status == 200
    assert value(samples(answer.text), "hdfs_up", source="prod") == 1


# --- logs ------------------------------------------------------------------------------------------


def test_a_failing_source_logs_on_a_change_of_state_only(caplog: pytest.LogCaptureFixture) -> None:
    # A scheduler answer of the wrong shape (a list where an object belongs) raises inside the collector:
    # before, its traceback was logged on every scrape.
    routes = yarn_routes()
    good = routes["/ws/v1/cluster/scheduler"]
    routes["/ws/v1/cluster/scheduler"] = reply_json('{"scheduler": ["not", "an", "object"]}')
    caplog.set_level(logging.DEBUG, logger="watchkeeper")
    with serve(routes) as rm:
        source = yarn("prod", [rm.url])
        source.min_interval = 0.0  # collect on every scrape
        with runtime_of(source) as rt:
            for _ in range(5):
                assert value(samples(rt.exposition()), "yarn_up", source="prod") == 0
            routes["/ws/v1/cluster/scheduler"] = good
            for _ in range(3):
                assert value(samples(rt.exposition()), "yarn_up", source="prod") == 1
    records = [r for r in caplog.records if r.name.startswith("watchkeeper") and r.levelno >= logging.INFO]
    messages = [r.getMessage() for r in records]
    assert messages == ["source down", "source up"], messages
    down = records[0]
    assert getattr(down, "error_kind", None) == "parse"
    # The unforeseen error's traceback is kept, once, with the change of state.
    assert "AttributeError" in LogfmtFormatter().format(down)
    assert sum(r.exc_info is not None for r in caplog.records) <= 1


def test_log_lines_escape_control_characters_and_truncate_long_values() -> None:
    record = logging.LogRecord(
        "watchkeeper.exporter", logging.WARNING, __file__, 1, "source down", None, None
    )
    record.error = "evil\r\nts=forged level=error \x1b[31m" + "x" * 10_000
    line = LogfmtFormatter().format(record)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert len(line) < 3000
    assert "x" * 5000 not in line
    assert "ts=forged" in line  # kept, but inside the quoted value (\\r\\n escaped), not as a new field
    assert line.count(" ts=") == 0 and line.startswith("ts=")


def test_an_echoed_content_type_is_truncated_in_errors() -> None:
    junk = "text/html; " + "x" * 5000
    with (
        serve(nn_routes(fs=Reply(b"<html></html>", content_type=junk))) as nn,
        runtime_of(hdfs("prod", [nn.url])) as rt,
    ):
        [result] = rt.scrape()
    [error] = result.scrape.errors
    assert error.kind == "parse"
    assert len(str(error)) < 400, str(error)
    assert "x" * 100 not in str(error)
