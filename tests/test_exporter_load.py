"""The exporter under load: hundreds of concurrent scrapes, a hanging source, IPv6, SIGTERM, gzip.

Every case runs the real server on loopback, most of them the real `watchkeeper exporter` command, in
front of loopback servers playing the NameNodes with the recorded payloads. These tests check outcomes
(status codes, request counts, values), never timings: timings are `benchmarks/load_bench.py`'s job.
"""

from __future__ import annotations

import gzip
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote

from prometheus_client.parser import text_string_to_metric_families

from exporters.hdfs import FSNAMESYSTEM, NAMENODE_INFO
from exporters.runtime import Runtime
from exporters.server import make_server
from tests.exporter_process import Answer, concurrently, exporter, get
from tests.fixture_server import Reply, serve
from tests.test_exporters import FSNAMESYSTEM_JSON, hdfs, nn_routes, runtime_of, samples, value

NAMENODE_REQUESTS = sorted([f"/jmx?qry={FSNAMESYSTEM}*", f"/jmx?qry={NAMENODE_INFO}"])
"""What one collection of one NameNode asks for (docs/exporters.md, HDFS)."""


def hanging_routes() -> dict[str, Reply]:
    return nn_routes(fs=Reply(FSNAMESYSTEM_JSON.encode(), delay=3))


@contextmanager
def served(runtime: Runtime, **kwargs: float) -> Iterator[tuple[str, int]]:
    server = make_server(runtime, "127.0.0.1", 0, **kwargs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def failures(answers: list[Answer | BaseException]) -> list[str]:
    return [
        repr(a) if isinstance(a, BaseException) else f"HTTP {a.status}: {a.body[:200]!r}"
        for a in answers
        if isinstance(a, BaseException) or a.status != 200
    ]


def test_200_concurrent_scrapes_with_a_hanging_source_all_succeed(tmp_path: Path) -> None:
    # Before: a listen backlog of 5 and one collection per scrape; 165 of 200 scrapes failed.
    with serve(nn_routes()) as healthy, serve(hanging_routes()) as hanging:
        sources = (
            "{hdfs: ["
            f"{{name: healthy, service: hdfs-prod, namenodes: ['{healthy.url}'], timeout: 2s}}, "
            f"{{name: hanging, service: hdfs-prod, namenodes: ['{hanging.url}'], timeout: 500ms}}]}}"
        )
        with exporter(tmp_path, sources) as running:
            answers = concurrently(200, lambda _: running.get(timeout=20))
            assert running.stop() == 0, running.stderr()
    assert failures(answers) == []
    for answer in answers:
        assert isinstance(answer, Answer)
        found = samples(answer.text)
        assert value(found, "hdfs_up", source="healthy") == 1
        assert value(found, "hdfs_up", source="hanging") == 0


def test_concurrent_scrapes_share_one_collection_per_source() -> None:
    # The NameNode answers after 0.5 s, so all 100 scrapes arrive while the first collection is in
    # flight: they must all wait for that one, and the NameNode sees one collection (2 requests), not 100.
    slow = nn_routes(fs=Reply(FSNAMESYSTEM_JSON.encode(), delay=0.5))
    with serve(slow) as nn, runtime_of(hdfs("prod", [nn.url])) as rt, served(rt) as (host, port):
        answers = concurrently(100, lambda _: get(host, port))
    assert failures(answers) == []
    assert sorted(unquote(r) for r in nn.requests) == NAMENODE_REQUESTS
    assert all(
        isinstance(a, Answer) and value(samples(a.text), "hdfs_up", source="prod") == 1 for a in answers
    )


def test_a_result_younger_than_min_interval_is_reused_and_an_older_one_is_not() -> None:
    with serve(nn_routes()) as nn:
        source = hdfs("prod", [nn.url])
        source.min_interval = 1.5  # seconds, as `min_interval: 1500ms` in the catalog gives
        with runtime_of(source) as rt, served(rt) as (host, port):
            first = get(host, port)
            again = get(host, port)  # milliseconds later: the same collection
            after_one = len(nn.requests)
            time.sleep(1.6)
            later = get(host, port)
    assert (first.status, again.status, later.status) == (200, 200, 200)
    assert after_one == 2  # one collection: FSNamesystem* and NameNodeInfo
    assert len(nn.requests) == 4  # a second collection, once the first was older than 1.5 s
    duration = "hdfs_scrape_duration_seconds"
    # The reused answer is the same collection: the same duration, to the last digit.
    assert value(samples(first.text), duration, source="prod") == value(
        samples(again.text), duration, source="prod"
    )


def test_min_interval_is_a_catalog_field_with_a_default() -> None:
    from catalog.model.hdfs import HdfsSource

    default = HdfsSource(name="a", service="s", namenodes=["http://nn:9870"])
    assert default.min_interval.seconds == 1  # docs/exporters.md: "default 1s"
    assert hdfs("prod", ["http://nn:9870"]).min_interval == 1.0
    set_ = HdfsSource(name="a", service="s", namenodes=["http://nn:9870"], min_interval="250ms")
    assert set_.min_interval.seconds == 0.25


def test_listen_on_the_ipv6_loopback(tmp_path: Path) -> None:
    with serve(nn_routes()) as nn:
        sources = f"{{hdfs: [{{name: prod, service: hdfs-prod, namenodes: ['{nn.url}']}}]}}"
        with exporter(tmp_path, sources, "::1") as running:
            answer = running.get()
            assert running.stop() == 0, running.stderr()
    assert answer.status == 200
    assert value(samples(answer.text), "hdfs_up", source="prod") == 1
    assert "msg=listening address=[::1]:" in running.stderr()


def test_sigterm_drains_the_scrape_in_flight_then_exits_0(tmp_path: Path) -> None:
    slow = nn_routes(fs=Reply(FSNAMESYSTEM_JSON.encode(), delay=2))
    with serve(slow) as nn:
        sources = f"{{hdfs: [{{name: prod, service: hdfs-prod, namenodes: ['{nn.url}'], timeout: 5s}}]}}"
        with exporter(tmp_path, sources) as running:
            result: list[Answer | BaseException] = []
            scrape = threading.Thread(target=lambda: result.extend(concurrently(1, lambda _: running.get())))
            scrape.start()
            deadline = time.monotonic() + 10
            while not nn.requests:  # the scrape reached the NameNode: it is in flight
                assert time.monotonic() < deadline, "the scrape never reached the NameNode"
                time.sleep(0.02)
            running.proc.send_signal(signal.SIGTERM)
            time.sleep(0.3)  # the exporter has seen the signal: it must no longer accept connections
            with socket.socket() as probe:
                refused = probe.connect_ex(("127.0.0.1", running.port)) != 0
            code = running.proc.wait(timeout=30)
            scrape.join(timeout=30)
    assert code == 0, running.stderr()
    assert failures(result) == []
    [answer] = result
    assert isinstance(answer, Answer)
    assert value(samples(answer.text), "hdfs_up", source="prod") == 1
    assert refused, "new connections were still accepted while draining"
    log = running.stderr()
    assert "msg=stopping signal=SIGTERM" in log and "msg=stopped" in log, log
    assert "Traceback" not in log, log


def test_gzip_is_served_when_the_scraper_accepts_it() -> None:
    with serve(nn_routes()) as nn, runtime_of(hdfs("prod", [nn.url])) as rt, served(rt) as (host, port):
        plain = get(host, port)
        zipped = get(host, port, headers={"Accept-Encoding": "gzip"})
        refused = get(host, port, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert plain.status == zipped.status == refused.status == 200
    assert "content-encoding" not in plain.headers and "content-encoding" not in refused.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in zipped.headers.get("vary", "").lower()
    # The same collection (reused within min_interval), so the same samples once decompressed.
    unzipped = gzip.decompress(zipped.body).decode()
    assert unzipped == plain.text
    assert len(zipped.body) < len(plain.body)
    assert [f.name for f in text_string_to_metric_families(unzipped)]


def test_an_idle_connection_is_closed_after_the_read_timeout_and_never_blocks_scrapes() -> None:
    with (
        serve(nn_routes()) as nn,
        runtime_of(hdfs("prod", [nn.url])) as rt,
        served(rt, read_timeout=1.0) as (host, port),
    ):
        idle = [socket.create_connection((host, port)) for _ in range(300)]
        for sock in idle:
            sock.sendall(b"GET /metr")  # a request line that never ends (slowloris)
        answer = get(host, port, timeout=5)
        time.sleep(2.5)
        closed = sum(closed_by_peer(sock) for sock in idle)
    assert answer.status == 200 and value(samples(answer.text), "hdfs_up", source="prod") == 1
    assert closed == 300


def closed_by_peer(sock: socket.socket) -> bool:
    """True if the server closed the connection (EOF or reset) within 2 s."""
    sock.settimeout(2)
    with sock:
        try:
            return sock.recv(1024) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
