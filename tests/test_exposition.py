"""The `/metrics` exposition: the fast writer's text and OpenMetrics output, and content negotiation.

Expected values never come from the writer: samples are compared with the writer's input after a round
trip through prometheus_client's independent parsers, and with what the real Prometheus ingests (values
queried back, metadata from its targets API).
"""

from __future__ import annotations

import math
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from catalog.model import Catalog
from exporters import names as m
from exporters.metric_set import MetricSet
from exporters.runtime import Runtime, Scrape, Source
from exporters.server import make_server, negotiate
from tests.conftest import require_binary
from tests.prometheus_stack import get_json, prometheus, wait_for

FUZZ_EXAMPLES = int(os.environ.get("WATCHKEEPER_FUZZ_EXAMPLES", "150"))
# Prometheus 2.42's scrape Accept header: scrape/scrape.go `acceptHeader` at v2.42.0, and the same string
# is in the installed binary (`strings $(which prometheus) | grep openmetrics-text`).
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
OPENMETRICS_001 = "application/openmetrics-text; version=0.0.1; charset=utf-8"
TEXT = "text/plain; version=0.0.4; charset=utf-8"
TRICKY = ["plain", 'say "hi"', "back\\slash", "new\nline", "ünïcødé ✓", "", "\\n literal", 'end\\"', "\t\r"]
CATALOG = Catalog.model_validate(
    {"teams": [{"name": "platform", "owners": ["p@example.com"]}], "services": []}
)

# One family as the test builds it: (kind, name, help, label names, [(label values, value)]).
Family = tuple[str, str, str, tuple[str, ...], list[tuple[tuple[str, ...], float]]]


def build(families: list[Family]) -> MetricSet:
    out = MetricSet()
    for kind, name, help_text, labels, samples in families:
        for values, value in samples:
            if kind == "counter":
                out.counter(name, help_text, dict(zip(labels, values, strict=True)), value)
            else:
                out.gauge(name, help_text, dict(zip(labels, values, strict=True)), value)
    return out


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))


def expected_rows(families: list[Family]) -> list[tuple[Any, ...]]:
    """What a parser must find: family name, type, help, then each sample's name, labels and value."""
    rows = []
    for kind, name, help_text, labels, samples in families:
        family = name  # prometheus_client's 0.0.4 parser names a counter family without _total too
        sample_name = f"{name}_total" if kind == "counter" else name
        for values, value in samples:
            labelled = tuple(sorted(zip(labels, values, strict=True)))
            rows.append((family, kind, help_text, sample_name, labelled, value))
    return rows


def parsed_rows(families: Iterator[Any]) -> list[tuple[Any, ...]]:
    return [
        (f.name, f.type, f.documentation, s.name, tuple(sorted(s.labels.items())), s.value)
        for f in families
        for s in f.samples
    ]


def assert_rows(found: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> None:
    assert len(found) == len(expected), (found, expected)
    for got, want in zip(found, expected, strict=True):
        assert got[:5] == want[:5]
        assert same(float(got[5]), want[5]), (got, want)


# --- the writers, round-tripped through prometheus_client's parsers ---------------------------------

label_names = st.lists(
    st.sampled_from(["source", "queue", "app_name", "status", "a", "_hidden", "le_not"]),
    unique=True,
    max_size=3,
).map(tuple)


@st.composite
def families(draw: st.DrawFn) -> list[Family]:
    out: list[Family] = []
    for i in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["gauge", "counter"]))
        labels = draw(label_names)
        values = (
            st.floats(min_value=0)  # a counter is never negative or NaN (+Inf allowed)
            if kind == "counter"
            else st.floats()
        )
        rows = draw(
            st.lists(
                st.tuples(st.tuples(*(st.text(max_size=12) for _ in labels)), values),
                min_size=1,
                max_size=5 if labels else 1,
                unique_by=lambda row: row[0],
            )
        )
        # HELP is our own text, not a payload's: parsers trim its surrounding whitespace, so none here.
        help_text = draw(st.text(max_size=30).map(str.strip))
        out.append((kind, f"wk_fuzz_{i}", help_text, labels, rows))
    return out


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(families())
def test_openmetrics_round_trips_every_sample(fams: list[Family]) -> None:
    text = build(fams).openmetrics()
    assert text.endswith("# EOF\n")
    assert_rows(parsed_rows(parse_openmetrics(text)), expected_rows(fams))


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(families())
def test_text_round_trips_every_sample(fams: list[Family]) -> None:
    found = parse_text(build(fams).text())
    assert_rows(parsed_rows(found), expected_rows(fams))


def test_openmetrics_layout_by_hand() -> None:
    out = MetricSet()
    out.counter(m.scrape_errors(m.HDFS_PREFIX), "ignored: the registry's help wins", {"source": "x"}, 2)
    out.gauge(m.KAFKA_POLL_DURATION_SECONDS, "ignored", {"source": 'a"b'}, 0.5)
    out.gauge("wk_test_help", 'a "quoted" \\ help\nline', {}, float("nan"))
    out.gauge("wk_test_help", "ignored: the first sample's help stays", {}, float("-inf"))
    lines = out.openmetrics().splitlines()
    # Written out by hand from OpenMetrics 1.0: counter metadata names the family (no _total), samples
    # carry _total; UNIT only for a name ending in _<unit>; HELP escapes \, newline and "; then # EOF.
    assert lines[0].startswith("# HELP hdfs_scrape_errors ")
    assert lines[1:3] == ["# TYPE hdfs_scrape_errors counter", 'hdfs_scrape_errors_total{source="x"} 2.0']
    assert lines[3].startswith("# HELP kafka_consumergroup_poll_duration_seconds ")
    assert lines[4:7] == [
        "# TYPE kafka_consumergroup_poll_duration_seconds gauge",
        "# UNIT kafka_consumergroup_poll_duration_seconds seconds",
        'kafka_consumergroup_poll_duration_seconds{source="a\\"b"} 0.5',
    ]
    assert lines[7:] == [
        '# HELP wk_test_help a \\"quoted\\" \\\\ help\\nline',
        "# TYPE wk_test_help gauge",
        "wk_test_help NaN",
        "wk_test_help -Inf",
        "# EOF",
    ]
    [_, poll, helped] = list(parse_openmetrics("\n".join(lines) + "\n"))
    assert poll.unit == "seconds"
    assert helped.documentation == 'a "quoted" \\ help\nline'


def test_a_counter_that_is_nan_or_negative_is_dropped_from_both_formats() -> None:
    out = MetricSet()
    for i, value in enumerate([3.0, float("nan"), -1.0, float("inf")]):
        out.counter("wk_test_bad", "counter values", {"n": str(i)}, value)
    # Hand-derived: OpenMetrics forbids NaN and negative counter samples; only n=0 and n=3 remain.
    [family] = list(parse_openmetrics(out.openmetrics()))
    assert [(s.labels["n"], s.value) for s in family.samples] == [("0", 3.0), ("3", math.inf)]
    [family] = list(parse_text(out.text()))
    assert [(s.labels["n"], s.value) for s in family.samples] == [("0", 3.0), ("3", math.inf)]


@pytest.mark.promtool
def test_text_of_tricky_values_passes_promtool_check_metrics() -> None:
    promtool = require_binary("promtool")
    out = MetricSet()
    for i, text in enumerate(TRICKY):
        out.gauge("wk_test_values", 'help "q" \\ and\nnewline', {"source": text, "n": str(i)}, i / 3)
    out.counter(m.scrape_errors(m.YARN_PREFIX), "", {"source": "prod", "kind": "timeout"}, 1)
    # promtool check metrics reads the 0.0.4 text format only (it rejects `# EOF`), so only the text.
    check = subprocess.run(
        [promtool, "check", "metrics"], input=out.text(), capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


# --- content negotiation ---------------------------------------------------------------------------


@dataclass
class Fixed(Source):
    """A source that serves a prepared MetricSet (the scrape path without any upstream system)."""

    kind = "fixed"
    prefix = "wk_fixed"
    metrics: MetricSet

    def __post_init__(self) -> None:
        super().__init__("fixed", "none", 5)

    async def collect(self, scrape: Scrape) -> None:
        scrape.metrics.merge(self.metrics)


@contextmanager
def exporter(metrics: MetricSet) -> Iterator[str]:
    import threading

    with closing(Runtime(CATALOG, [Fixed(metrics)])) as runtime:
        server = make_server(runtime, "127.0.0.1", 0)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


def fetch(url: str, accept: str | None) -> tuple[int, str, str]:
    request = urllib.request.Request(f"{url}/metrics", headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


NEGOTIATION = [
    # (Accept, expected Content-Type or the status when refused); the reasoning is RFC 9110 12.5.1:
    # the q of a type is that of the most specific range matching it; highest q wins.
    (PROMETHEUS_ACCEPT, OPENMETRICS),  # OM 1.0.0 q=1 > OM 0.0.1 q=0.75 > text q=0.5
    (None, TEXT),  # no header: anything goes; text is the default
    ("*/*", TEXT),
    ("text/plain", TEXT),
    ("application/openmetrics-text", OPENMETRICS),  # both versions q=1: the newest
    ("application/openmetrics-text;version=0.0.1", OPENMETRICS_001),
    ("application/*", OPENMETRICS),
    ("text/plain;q=1, application/openmetrics-text;q=0.1", TEXT),
    ("application/openmetrics-text;version=1.0.0;q=0.2,text/plain;version=0.0.4;q=0.9", TEXT),
    ("application/openmetrics-text;q=0, text/plain;q=0.5", TEXT),
    ("application/openmetrics-text;q=0, */*", TEXT),  # excluded by its specific range despite */*
    ("text/plain;version=0.0.4;q=0.5,*/*;q=0.1", TEXT),
    # Prometheus with the protobuf format preferred: that is not served, so OM at q=0.8 wins.
    (
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.9,"
        "application/openmetrics-text;version=1.0.0;q=0.8,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
        OPENMETRICS,
    ),
    ("text/plain;q=abc, application/openmetrics-text;q=0.5", OPENMETRICS),  # a malformed q drops its range
    ("application/json", TEXT),  # nothing we serve matches: fall back to text, as client_golang does
    ("application/openmetrics-text;version=2.0.0", TEXT),
    ("text/plain;q=0", 406),  # the one format that could be the fallback is refused
    ("text/plain;version=0.0.4;q=0, application/openmetrics-text;version=1.0.0;q=0", 406),
]


def test_content_negotiation_honours_q_values() -> None:
    out = MetricSet()
    out.gauge("wk_test_value", "a value", {"source": "x"}, 1)
    with exporter(out) as url:
        for accept, expected in NEGOTIATION:
            status, content_type, body = fetch(url, accept)
            if isinstance(expected, int):
                assert status == expected, (accept, status, body)
                assert "text/plain" in body and "application/openmetrics-text" in body, body
                continue
            assert (status, content_type) == (200, expected), (accept, content_type)
            assert body.endswith("# EOF\n") == expected.startswith("application/openmetrics-text"), accept
            parse = parse_openmetrics if body.endswith("# EOF\n") else parse_text
            found = {(s.name, s.labels.get("source")): s.value for f in parse(body) for s in f.samples}
            assert found[("wk_test_value", "x")] == 1, accept


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=40),
            st.sampled_from(["text/plain", "application/openmetrics-text", "*/*", "text/*", "application/*"]),
            st.sampled_from([";q=0", ";q=0.5", ";q=1", ";q=abc", ";q=2", ";version=1.0.0", ";version=0.0.4"]),
        ),
        max_size=8,
    ).map("".join)
)
def test_negotiation_never_raises_and_only_picks_served_formats(accept: str) -> None:
    chosen = negotiate(accept)
    assert chosen is None or chosen.content_type in {OPENMETRICS, OPENMETRICS_001, TEXT}


def test_prometheus_accept_header_is_served_by_the_fast_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The OpenMetrics answer must not go through prometheus_client's encoder (~10 us a sample)."""
    import prometheus_client.exposition
    import prometheus_client.openmetrics.exposition

    def refuse(*_args: object, **_kwargs: object) -> bytes:
        raise AssertionError("prometheus_client's encoder was used")

    monkeypatch.setattr(prometheus_client.openmetrics.exposition, "generate_latest", refuse)
    monkeypatch.setattr(prometheus_client.exposition, "generate_latest", refuse)
    out = MetricSet()
    for i, text in enumerate(TRICKY):
        out.gauge("wk_test_values", "values", {"source": text, "n": str(i)}, i / 3)
    with exporter(out) as url:
        status, content_type, body = fetch(url, PROMETHEUS_ACCEPT)
    assert (status, content_type) == (200, OPENMETRICS), body
    found = {
        s.labels["source"]: s.value
        for f in parse_openmetrics(body)
        for s in f.samples
        if f.name == "wk_test_values"
    }
    assert found == {text: i / 3 for i, text in enumerate(TRICKY)}


# --- the real Prometheus -----------------------------------------------------------------------------


@pytest.mark.promtool
def test_real_prometheus_ingests_the_openmetrics_exposition(tmp_path: Path) -> None:
    binary = require_binary("prometheus")
    out = MetricSet()
    for i, text in enumerate(TRICKY):
        out.gauge("wk_test_values", 'help "q"', {"source": text, "n": str(i)}, i + 0.25)
    out.gauge(m.KAFKA_POLL_DURATION_SECONDS, "", {"source": "prod"}, 0.125)
    out.counter(m.scrape_errors(m.HDFS_PREFIX), "", {"source": "prod", "kind": "timeout"}, 7)
    with exporter(out) as url, prometheus(binary, [], tmp_path, [url.removeprefix("http://")]) as prom:

        def query(expr: str) -> list[dict[str, Any]]:
            result = get_json(f"{prom}/api/v1/query?query={quote(expr)}")["data"]["result"]
            return list(result)

        wait_for(lambda: len(query("wk_test_values")) == len(TRICKY), 30, "Prometheus to scrape the exporter")
        # Prometheus drops a label whose value is empty: "" comes back as no `source` label.
        values = {r["metric"].get("source", ""): float(r["value"][1]) for r in query("wk_test_values")}
        errors = query(f'{m.scrape_errors(m.HDFS_PREFIX)}_total{{source="prod"}}')
        duration = query(m.KAFKA_POLL_DURATION_SECONDS)
        target = get_json(f"{prom}/api/v1/targets")["data"]["activeTargets"][0]
        job = quote('{job="synthetic"}')
        metadata = get_json(f"{prom}/api/v1/targets/metadata?match_target={job}")
    assert values == {text: i + 0.25 for i, text in enumerate(TRICKY)}
    assert [float(r["value"][1]) for r in errors] == [7.0]
    assert [float(r["value"][1]) for r in duration] == [0.125]
    assert target["health"] == "up", target
    by_name = {row["metric"]: row for row in metadata["data"]}
    # Only the OpenMetrics parser reads `# UNIT` and names a counter family without `_total`: this proves
    # Prometheus negotiated and parsed OpenMetrics, not the text format.
    assert by_name[m.KAFKA_POLL_DURATION_SECONDS]["unit"] == "seconds", by_name
    assert by_name[m.scrape_errors(m.HDFS_PREFIX)]["type"] == "counter", by_name
    assert by_name["wk_test_values"]["help"] == 'help "q"'
