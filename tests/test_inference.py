"""Inference probes against a real model server (FastAPI + uvicorn in its own process, tests/model_server.py).

Expectations are hand-computed from the delays and faults the test injects into the server: delays sit
far from the bucket bounds (at least 0.18 s away on the slow side), so that scheduling noise on a loaded
machine cannot move a probe into another bucket. The catalog field `expect_json_path` is tested in
tests/test_inference_json_path.py; the generated alerts and a latency SLO on a real Prometheus in
tests/test_inference_prometheus.py.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import math
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from catalog.model.inference import InferenceSource
from exporters import names as m
from exporters.errors import ConfigError, ScrapeError
from exporters.http import HttpPool
from exporters.inference import InferenceCollector, LatencyHistogram
from exporters.probe_loop import ProbeLoop
from exporters.runtime import Scrape
from tests.conftest import require_binary
from tests.model_server import ModelServer, model_server
from tests.prometheus_stack import free_port, wait_for
from tests.test_exporters import exposition, hdfs, nn_routes, runtime_of, samples, value
from tests.test_metrics_reference import check_against_reference, scrape_families

_NAMES = itertools.count()
DURATION = m.INFERENCE_PROBE_DURATION_SECONDS
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def source(name: str, url: str, **fields: Any) -> InferenceSource:
    return InferenceSource.model_validate({"name": name, "service": "churn", "url": url, **fields})


@pytest.fixture
def loop() -> Iterator[ProbeLoop]:
    """A probe loop of the test's own (the exporter's shared one is left alone)."""
    probes = ProbeLoop("test-probes")
    probes.acquire()
    try:
        yield probes
    finally:
        probes.release()


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    with model_server() as running:
        yield running


def collected(collector: InferenceCollector) -> tuple[Samples, list[ScrapeError]]:
    """What a scrape of the collector serves, read back by prometheus_client's OpenMetrics parser (which
    also checks the histogram's structure: +Inf bucket, cumulative counts, _count equal to +Inf)."""
    scrape = Scrape(HttpPool())
    asyncio.run(collector.collect(scrape))
    out: Samples = {}
    for family in text_string_to_metric_families(scrape.metrics.openmetrics()):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out, scrape.errors


def buckets(found: Samples, name: str) -> dict[str, float]:
    """le -> cumulative count of one source's histogram."""
    return {
        dict(labels)["le"]: v
        for (sample, labels), v in found.items()
        if sample == f"{DURATION}_bucket" and dict(labels)["source"] == name
    }


def test_an_observation_on_a_bound_is_in_that_bucket() -> None:
    # Prometheus' `le` is "less than or equal": 0.005 counts in le="0.005", a hair over it in le="0.01".
    histogram = LatencyHistogram((0.005, 0.01, 10.0))
    for seconds in (0.005, 0.0050001, 10.0, 10.5):
        histogram.observe(seconds)
    assert histogram.cumulative() == [(0.005, 1.0), (0.01, 2.0), (10.0, 3.0), (math.inf, 4.0)]
    assert histogram.sum == pytest.approx(0.005 + 0.0050001 + 10.0 + 10.5)


# --- probes against the real model server ------------------------------------------------------------


def test_the_histogram_holds_exactly_the_injected_probes(server: ModelServer, loop: ProbeLoop) -> None:
    model = "exact"
    collector = InferenceCollector(
        source(
            "exact",
            server.url_for(model),
            request={"json": {"features": [1, 2, 3]}},
            expect_json_path="predictions[0]",
            timeout="2500ms",
            interval="10s",
        ),
        loop=loop,
    )
    collector.probe_now()  # a first probe opens the connection; not counted below
    server.script(
        [
            {"delay": 0.32},
            {"delay": 0.77},
            {"delay": 0.32, "status": 500},
            {"delay": 1.55},
            {"hang": True},  # cut by the 2.5 s timeout
            {"delay": 0.32},
            {"delay": 0.77, "body": "<html>busy</html>", "content_type": "text/html"},  # not JSON
            {"delay": 0.77},
            {"delay": 0.32},
        ],
        model,
    )
    before, _ = collected(collector)
    for _ in range(9):
        collector.probe_now()
    found, errors = collected(collector)
    first = buckets(before, "exact")
    got = {le: n - first[le] for le, n in buckets(found, "exact").items()}
    # Hand count, cumulative: 0.32 s x4 (one a 500) are in (0.3, 0.5]; 0.77 s x3 (one not JSON) in
    # (0.75, 1]; 1.55 s in (1.5, 2]; the hang, cut at 2.5 s, in (2, 3]. A probe is never faster than its
    # delay, and the margins above (0.18 s to the next bound at least) absorb scheduling noise.
    expected = dict.fromkeys(["0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.15", "0.2", "0.3"], 0)
    expected |= {"0.5": 4, "0.75": 4, "1.0": 7, "1.5": 7, "2.0": 8, "3.0": 9, "5.0": 9, "10.0": 9, "+Inf": 9}
    assert got == expected
    labels = frozenset({("source", "exact")})
    assert found[(f"{DURATION}_count", labels)] - before[(f"{DURATION}_count", labels)] == 9
    total = found[(f"{DURATION}_sum", labels)] - before[(f"{DURATION}_sum", labels)]
    injected = 4 * 0.32 + 3 * 0.77 + 1.55 + 2.5  # 7.64 s
    assert injected <= total < injected + 9 * 0.15
    assert found[(f"{m.INFERENCE_PROBES}_total", labels)] == 10
    kinds = {
        k: found[(f"{m.INFERENCE_PROBE_ERRORS}_total", labels | {("kind", k)})]
        for k in m.INFERENCE_ERROR_KINDS
    }
    assert kinds == {"timeout": 1, "connection": 0, "status": 1, "shape": 1}
    # The last probe (0.32 s, 200, JSON with predictions[0]) succeeded.
    assert found[(m.INFERENCE_PROBE_SUCCESS, labels)] == 1
    assert found[(m.INFERENCE_PROBE_STATUS_CODE, labels)] == 200
    assert 0.32 <= found[(m.INFERENCE_PROBE_LAST_DURATION_SECONDS, labels)] < 0.5
    assert errors == []
    # The configured request reached the server as configured.
    sent = server.seen(model)
    assert len(sent) == 10
    assert {r["method"] for r in sent} == {"POST"}
    assert all(json.loads(r["body"]) == {"features": [1, 2, 3]} for r in sent)
    assert all(r["headers"]["content-type"] == "application/json" for r in sent)


def test_latency_target_becomes_a_bucket_bound(server: ModelServer, loop: ProbeLoop) -> None:
    collector = InferenceCollector(
        source("target", server.url_for("target"), latency_target="400ms", timeout="1s"), loop=loop
    )
    server.script([{"delay": 0.45}], "target")
    collector.probe_now()
    found, _ = collected(collector)
    got = buckets(found, "target")
    # 0.4 is not a default bound: it is added, between 0.3 and 0.5; 0.45 s is over it, under 0.5.
    assert (got["0.3"], got["0.4"], got["0.5"]) == (0, 0, 1)


@pytest.mark.parametrize(
    ("behaviour", "fields", "kind", "scrape_kind", "status"),
    [
        ({"status": 500}, {}, "status", "http_status", 500),
        ({"status": 503}, {"expected_status": [200, 204]}, "status", "http_status", 503),
        ({"status": 204, "body": ""}, {"expected_status": [200, 204]}, None, None, 204),
        ({"json": {"predictions": []}}, {"expect_json_path": "predictions[0]"}, "shape", "parse", 200),
        ({"json": {"predictions": [None]}}, {"expect_json_path": "predictions[0]"}, "shape", "parse", 200),
        ({"json": {"predictions": [0.7]}}, {"expect_json_path": "predictions[-1]"}, None, None, 200),
        ({"body": "ok", "content_type": "text/plain"}, {"expect_json_path": "$"}, "shape", "parse", 200),
        ({"body": "ok", "content_type": "text/plain"}, {}, None, None, 200),
        ({"hang": True}, {"timeout": "700ms"}, "timeout", "timeout", 0),
    ],
)
def test_each_fault_gives_its_kind(
    server: ModelServer,
    loop: ProbeLoop,
    behaviour: dict[str, Any],
    fields: dict[str, Any],
    kind: str | None,
    scrape_kind: str | None,
    status: int,
) -> None:
    name = f"fault-{next(_NAMES)}"
    collector = InferenceCollector(source(name, server.url_for(name), **fields), loop=loop)
    server.script([behaviour], name)
    result = collector.probe_now()
    assert (result.kind, result.status) == (kind, status), result.message
    found, errors = collected(collector)
    labels = frozenset({("source", name)})
    assert found[(m.INFERENCE_PROBE_SUCCESS, labels)] == (1 if kind is None else 0)
    assert found[(m.INFERENCE_PROBE_STATUS_CODE, labels)] == status
    for k in m.INFERENCE_ERROR_KINDS:
        assert found[(f"{m.INFERENCE_PROBE_ERRORS}_total", labels | {("kind", k)})] == (1 if k == kind else 0)
    assert [e.kind for e in errors] == ([scrape_kind] if scrape_kind else [])


def test_a_refused_connection_is_counted_but_has_no_latency(loop: ProbeLoop) -> None:
    collector = InferenceCollector(source("refused", f"http://127.0.0.1:{free_port()}/predict"), loop=loop)
    result = collector.probe_now()
    assert (result.kind, result.status) == ("connection", 0)
    found, errors = collected(collector)
    labels = frozenset({("source", "refused")})
    assert found[(f"{DURATION}_count", labels)] == 0  # nothing answered: no latency to observe
    assert found[(f"{m.INFERENCE_PROBES}_total", labels)] == 1
    assert found[(f"{m.INFERENCE_PROBE_ERRORS}_total", labels | {("kind", "connection")})] == 1
    assert [e.kind for e in errors] == ["connection"]


def test_faulty_endpoints_are_down_and_the_other_sources_keep_serving(server: ModelServer) -> None:
    """In one exporter runtime: a hanging, a failing, a refused and a healthy endpoint, and an HDFS
    source. Probes run in the background; a scrape during the hang is not held up by it."""
    from tests.fixture_server import serve

    for model, behaviour in [("hangs", {"hang": True}), ("fails", {"status": 500}), ("ok", {})]:
        server.default(behaviour, model)
    loop = ProbeLoop("runtime-probes")
    collectors = [
        InferenceCollector(source(model, server.url_for(model), timeout="3s", interval="5s"), loop=loop)
        for model in ("hangs", "fails", "ok")
    ]
    collectors.append(
        InferenceCollector(source("refused", f"http://127.0.0.1:{free_port()}/p", interval="5s"), loop=loop)
    )
    with serve(nn_routes()) as nn, runtime_of(hdfs("prod", [nn.url]), *collectors) as runtime:
        wait_for(lambda: all(c.last for c in collectors if c.name != "hangs"), 20, "the first probes")
        start = time.monotonic()
        found = samples(exposition(runtime))
        took = time.monotonic() - start
        assert not collectors[0].last, "the hanging probe should still be waiting for its 3 s timeout"
        assert took < 2.5, f"a scrape waited {took:.1f}s: held up by the hanging probe"
        wait_for(lambda: collectors[0].last, 20, "the hanging probe to time out")
        found = samples(exposition(runtime))
    up = m.up(m.INFERENCE_PREFIX)
    assert value(found, m.up(m.HDFS_PREFIX), source="prod") == 1
    assert value(found, up, source="ok") == 1
    assert value(found, m.INFERENCE_PROBE_SUCCESS, source="ok") == 1
    for name, kind, scrape_kind in [
        ("hangs", "timeout", "timeout"),
        ("fails", "status", "http_status"),
        ("refused", "connection", "connection"),
    ]:
        assert value(found, up, source=name) == 0, name
        assert value(found, m.INFERENCE_PROBE_SUCCESS, source=name) == 0, name
        assert value(found, f"{m.INFERENCE_PROBE_ERRORS}_total", source=name, kind=kind) >= 1, name
        errors = value(found, f"{m.scrape_errors(m.INFERENCE_PREFIX)}_total", source=name, kind=scrape_kind)
        assert errors >= 1, name
    assert value(found, m.INFERENCE_PROBE_STATUS_CODE, source="fails") == 500
    assert value(found, m.INFERENCE_PROBE_STATUS_CODE, source="hangs") == 0


def test_probes_run_on_their_own_interval_not_at_scrape_time(server: ModelServer) -> None:
    loop = ProbeLoop("interval-probes")
    fast = InferenceCollector(
        source(
            "fast",
            server.url_for("fast"),
            request={"method": "GET", "headers": {"X-Probe": "watchkeeper"}},
            interval="1s",
            timeout="1s",
        ),
        loop=loop,
    )
    slow = InferenceCollector(
        source(
            "slow",
            server.url_for("slow"),
            request={"method": "PUT", "body": "1,2,3", "headers": {"Content-Type": "text/csv"}},
            interval="3s",
            timeout="1s",
        ),
        loop=loop,
    )
    idle = InferenceCollector(source("idle", server.url_for("idle"), interval="1h"), loop=loop)
    with runtime_of(fast, slow, idle) as runtime:
        wait_for(lambda: idle.last and slow.last, 10, "the first probes")
        for _ in range(20):  # scrapes never send a probe: idle's next one is an hour away
            exposition(runtime)
        before = (fast.probes, slow.probes)
        time.sleep(6.5)
        after = (fast.probes, slow.probes)
        assert len(server.seen("idle")) == 1
    # On a fixed grid, 6.5 s hold 6 or 7 probes 1 s apart (by where the window falls on the grid) and 2 or
    # 3 probes 3 s apart; a machine too loaded to keep up skips a tick, never adds one.
    assert 5 <= after[0] - before[0] <= 7, (before, after)
    assert 1 <= after[1] - before[1] <= 3, (before, after)
    # Each probe is one request (one more may have been cut short by the stop, uncounted).
    assert fast.probes <= len(server.seen("fast")) <= fast.probes + 1
    assert slow.probes <= len(server.seen("slow")) <= slow.probes + 1
    got = server.seen("fast")[0]
    assert (got["method"], got["body"], got["headers"]["x-probe"]) == ("GET", "", "watchkeeper")
    got = server.seen("slow")[0]
    assert (got["method"], got["body"], got["headers"]["content-type"]) == ("PUT", "1,2,3", "text/csv")


def test_the_served_families_are_the_registered_ones(server: ModelServer, loop: ProbeLoop) -> None:
    """Every inference family a real scrape serves is in docs/metrics.md with its type and labels."""
    collector = InferenceCollector(source("ref", server.url_for("ref")), loop=loop)
    assert collector.probe_now().ok
    found = scrape_families(collector)
    # A histogram is listed with its own labels; its buckets carry `le` besides, as every histogram's do.
    bucket = f"{DURATION}_bucket"
    kind, label_sets = found[bucket]
    assert label_sets == {frozenset({"source", "le"})}
    found[bucket] = (kind, {frozenset({"source"})})
    rows = check_against_reference(found)
    listed = {name for name, row in rows.items() if row.section == "Inference probes"}
    assert listed and listed <= set(found)


# --- TLS and auth, as for the other HTTP sources --------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = require_binary("openssl")
    root = tmp_path_factory.mktemp("tls")
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        [
            *(
                openssl,
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
            ),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_tls_verification_follows_tls_verify(certificate: tuple[Path, Path], loop: ProbeLoop) -> None:
    with model_server(tls=certificate) as tls_server:
        assert tls_server.url.startswith("https://")
        pinned = InferenceCollector(
            source("pinned", tls_server.url, tls_verify=str(certificate[0])), loop=loop
        )
        system = InferenceCollector(source("system", tls_server.url), loop=loop)
        unchecked = InferenceCollector(source("unchecked", tls_server.url, tls_verify=False), loop=loop)
        assert pinned.probe_now().ok
        refused = system.probe_now()  # self-signed: not trusted by the system's CAs
        assert refused.kind == "connection" and "CERTIFICATE_VERIFY_FAILED" in refused.message
        assert unchecked.probe_now().ok


def test_auth_is_sent_and_wrong_credentials_are_a_status_error(
    monkeypatch: pytest.MonkeyPatch, loop: ProbeLoop
) -> None:
    token, password = "s3cret-token-value", "pa55word-value"
    monkeypatch.setenv("MODEL_TOKEN", token)
    monkeypatch.setenv("MODEL_PASSWORD", password)
    monkeypatch.setenv("WRONG_TOKEN", "not-the-token")
    with model_server(auth=f"Bearer {token}") as bearer_server:
        good = InferenceCollector(
            source("bearer", bearer_server.url, auth={"bearer": {"token_env": "MODEL_TOKEN"}}), loop=loop
        )
        wrong = InferenceCollector(
            source("wrong", bearer_server.url, auth={"bearer": {"token_env": "WRONG_TOKEN"}}), loop=loop
        )
        assert good.probe_now().ok
        result = wrong.probe_now()
        assert (result.kind, result.status) == ("status", 401)
        assert token not in result.message
        _, errors = collected(wrong)
        assert all(token not in str(e) for e in errors)
    # Basic auth: the header is base64("user:password"), RFC 7617, computed here by hand.
    header = "Basic " + base64.b64encode(f"probe:{password}".encode()).decode()
    with model_server(auth=header) as basic_server:
        basic = InferenceCollector(
            source(
                "basic",
                basic_server.url,
                auth={"basic": {"username": "probe", "password_env": "MODEL_PASSWORD"}},
            ),
            loop=loop,
        )
        assert basic.probe_now().ok
        assert basic_server.seen()[0]["authorized"] is True


def test_a_missing_secret_stops_the_exporter_with_the_variable_named() -> None:
    with pytest.raises(ConfigError, match="NO_SUCH_TOKEN_VARIABLE"):
        InferenceCollector(
            source("m", "http://127.0.0.1:1/p", auth={"bearer": {"token_env": "NO_SUCH_TOKEN_VARIABLE"}})
        )
