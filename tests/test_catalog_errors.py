"""Broken catalogs: each is rejected with exit 1 and a message naming the file, the entry and the fix."""

from __future__ import annotations

import json
import re
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from catalog import CatalogError, load_catalog
from tests.conftest import EXAMPLE_CATALOG, FIXTURES, require_binary, run_cli

TEAMS = """
teams:
  - name: platform
    owners: [oncall@example.com]
    channels:
      slack: {channel: "#platform", api_url_env: SLACK_URL}
"""
SERVICES = """
services:
  - name: hdfs-prod
    team: platform
    tier: critical
"""
SOURCES = """
sources:
  freshness:
    - dataset: warehouse.orders
      service: hdfs-prod
      max_age: 2h
      sql: {url_env: WAREHOUSE_URL, query: "select max(updated_at) from orders"}
  kafka:
    - name: prod
      service: hdfs-prod
      bootstrap: "kafka:9092"
      groups: [orders-etl]
"""
GOOD_SLO = """
  - name: hdfs-writes
    service: hdfs-prod
    objective: 99.9
    sli:
      events:
        errors: sum(rate(hdfs_write_errors_total[{{window}}]))
        total: sum(rate(hdfs_write_requests_total[{{window}}]))
"""


def slos(body: str) -> str:
    return "slos:\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "  ") + "\n"


def base(**override: str) -> dict[str, str]:
    files = {
        "teams.yaml": TEAMS,
        "services.yaml": SERVICES,
        "sources.yaml": SOURCES,
        "slos.yaml": slos(GOOD_SLO),
    }
    files.update(override)
    return files


SLO_WITH = """
- name: broken
  service: hdfs-prod
  objective: {objective}
  window: {window}
  sli:
    events:
      errors: sum(rate(e[{{{{window}}}}]))
      total: sum(rate(t[{{{{window}}}}]))
"""


def slo(objective: str = "99", window: str = "30d") -> str:
    return slos(SLO_WITH.format(objective=objective, window=window))


# (id, files to override, substrings that must all appear in the output)
CASES: list[tuple[str, dict[str, str], list[str]]] = [
    (
        "duplicate-team",
        {"teams.yaml": TEAMS + "  - name: platform\n    owners: [x@example.com]\n"},
        [
            "teams.yaml:7",
            'teams[1] "platform"',
            "duplicate name 'platform' in teams",
            "teams.yaml:3",
            "rename one",
        ],
    ),
    (
        "duplicate-slo-across-files",
        {"more.yaml": slos(GOOD_SLO)},
        ["more.yaml", 'slos[0] "hdfs-writes"', "duplicate name 'hdfs-writes'", "slos.yaml:2"],
    ),
    (
        "unknown-team-with-hint",
        {"services.yaml": SERVICES.replace("team: platform", "team: platfrom")},
        [
            "services.yaml:4",
            'services[0] "hdfs-prod".team',
            "unknown team 'platfrom'",
            "did you mean 'platform'?",
        ],
    ),
    (
        "unknown-service",
        {"slos.yaml": slos(GOOD_SLO.replace("service: hdfs-prod", "service: hdfs-prd"))},
        ['slos[0] "hdfs-writes".service', "unknown service 'hdfs-prd'", "did you mean 'hdfs-prod'?"],
    ),
    (
        "objective-100",
        {"slos.yaml": slo(objective="100")},
        ['slos[0] "broken".objective', "objective 100 must be a percentage strictly between 0 and 100"],
    ),
    (
        "objective-negative",
        {"slos.yaml": slo(objective="-5")},
        ['slos[0] "broken".objective', "strictly between 0 and 100"],
    ),
    (
        "objective-not-a-number",
        {"slos.yaml": slo(objective="high")},
        ['slos[0] "broken".objective', "'high' is not a number", "write a plain number"],
    ),
    (
        "bad-window",
        {"slos.yaml": slo(window="30x")},
        ['slos[0] "broken".window', "'30x' is not a window", "calendar window (week, month, quarter)"],
    ),
    (
        "window-too-short",
        {"slos.yaml": slo(window="5m")},
        ['slos[0] "broken".window', "rolling window '5m' is not supported; use 7d, 28d or 30d"],
    ),
    (
        "bad-duration",
        {"sources.yaml": SOURCES.replace("max_age: 2h", "max_age: 2 hours")},
        ['sources.freshness[0] "warehouse.orders".max_age', "'2 hours' is not a duration", "30s, 5m, 2h"],
    ),
    (
        "typo-key-objectiv",
        {"slos.yaml": slos(GOOD_SLO.replace("objective:", "objectiv:"))},
        ['slos[0] "hdfs-writes".objectiv', "unknown key 'objectiv'", "did you mean 'objective'?"],
    ),
    (
        "unknown-top-level-key",
        {"services.yaml": SERVICES.replace("services:", "service:")},
        ["services.yaml", "unknown top-level key 'service'", "did you mean 'services'?"],
    ),
    (
        "inline-slack-url",
        {"teams.yaml": TEAMS.replace("api_url_env: SLACK_URL", 'api_url: "https://hooks.slack.com/T0/B0/x"')},
        ['teams[0] "platform".channels.slack', "api_url holds a secret inline", "api_url_env"],
    ),
    (
        "inline-pagerduty-key",
        {"teams.yaml": TEAMS + "      pagerduty: {routing_key: abcdef0123456789}\n"},
        ['teams[0] "platform".channels.pagerduty', "routing_key holds a secret inline", "routing_key_env"],
    ),
    (
        "password-in-database-url",
        {"sources.yaml": SOURCES.replace("url_env: WAREHOUSE_URL", 'url: "postgresql://etl:hunter2@db/wh"')},
        ['sources.freshness[0] "warehouse.orders".sql.url', "inline password", "url_env"],
    ),
    (
        "secret-value-instead-of-env-name",
        {"teams.yaml": TEAMS.replace("api_url_env: SLACK_URL", 'api_url_env: "https://hooks.slack.com/x"')},
        ['teams[0] "platform".channels.slack.api_url_env', "not an environment variable name"],
    ),
    (
        "slo-without-owner",
        {"slos.yaml": slos(GOOD_SLO.replace("    service: hdfs-prod\n", ""))},
        ['slos[0] "hdfs-writes".service', "missing required key 'service'", "every SLO needs an owner"],
    ),
    (
        "service-without-team",
        {"services.yaml": SERVICES.replace("    team: platform\n", "")},
        ['services[0] "hdfs-prod".team', "every service needs an owning team"],
    ),
    (
        "team-without-owners",
        {"teams.yaml": TEAMS.replace("owners: [oncall@example.com]", "owners: []")},
        ['teams[0] "platform".owners', "must not be empty"],
    ),
    (
        "yaml-syntax-error",
        {"slos.yaml": "slos:\n  - name: x\n    objective: [99\n"},
        ["slos.yaml:4:1", "YAML syntax error"],
    ),
    (
        "duplicate-yaml-key",
        {"services.yaml": SERVICES + "    tier: low\n"},
        ["services.yaml:6", "duplicate key 'tier' (first on line 5)"],
    ),
    (
        "two-sli-kinds",
        {"slos.yaml": slos(GOOD_SLO + "      raw: {error_ratio: 'sum(rate(x[{{window}}]))'}\n")},
        [
            'slos[0] "hdfs-writes".sli',
            "exactly one of events, latency, freshness, kafka_lag, raw",
            "events, raw",
        ],
    ),
    (
        "query-without-window",
        {
            "slos.yaml": slos(
                GOOD_SLO.replace("hdfs_write_errors_total[{{window}}]", "hdfs_write_errors_total[5m]")
            )
        },
        ['slos[0] "hdfs-writes".sli.events.errors', "no {{window}} placeholder"],
    ),
    (
        "unbalanced-query",
        {
            "slos.yaml": slos(
                GOOD_SLO.replace("sum(rate(hdfs_write_requests_total", "sum(rate((hdfs_write_requests_total")
            )
        },
        ['slos[0] "hdfs-writes".sli.events.total', "unclosed brackets"],
    ),
    (
        "freshness-dataset-not-monitored",
        {
            "slos.yaml": slos(
                "- name: f\n  service: hdfs-prod\n  objective: 99\n  sli:\n    freshness: {dataset: warehouse.order, max_age: 2h}\n"
            )
        },
        [
            'slos[0] "f".sli.freshness.dataset',
            "'warehouse.order' is not monitored",
            "did you mean 'warehouse.orders'?",
        ],
    ),
    (
        "kafka-group-not-collected",
        {
            "slos.yaml": slos(
                "- name: k\n  service: hdfs-prod\n  objective: 99\n  sli:\n    kafka_lag: {cluster: prod, group: billing, max_lag_seconds: 60}\n"
            )
        },
        ['slos[0] "k".sli.kafka_lag.group', "group 'billing' is not collected by kafka source 'prod'"],
    ),
    (
        "histogram-with-bucket-suffix",
        {
            "slos.yaml": slos(
                "- name: l\n  service: hdfs-prod\n  objective: 99\n  sli:\n    latency: {histogram: req_seconds_bucket, le: 0.3}\n"
            )
        },
        ['slos[0] "l".sli.latency.histogram', "without '_bucket'", "req_seconds"],
    ),
    (
        "tier-typo",
        {"services.yaml": SERVICES.replace("tier: critical", "tier: critcal")},
        ['services[0] "hdfs-prod".tier', "'critcal' is not allowed", "did you mean 'critical'?"],
    ),
    (
        "upper-case-name",
        {"services.yaml": SERVICES.replace("name: hdfs-prod", "name: HDFS_Prod")},
        ['services[0] "HDFS_Prod".name', "is not a valid name", "lower-case"],
    ),
    (
        "unknown-source-kind",
        {"sources.yaml": SOURCES.replace("  kafka:", "  kafak:")},
        ["sources.kafak", "unknown source kind 'kafak'", "did you mean 'kafka'?"],
    ),
    (
        "reserved-alert-label",
        {"slos.yaml": slos(GOOD_SLO + "    alerting: {labels: {severity: page}}\n")},
        ['slos[0] "hdfs-writes".alerting.labels', "['severity'] are set by Watchkeeper"],
    ),
    (
        "page-for-not-a-duration",
        {"slos.yaml": slos(GOOD_SLO + "    alerting: {page: {for: soon}}\n")},
        ['slos[0] "hdfs-writes".alerting.page.for', "'soon' is not a duration"],
    ),
    (
        "kafka-status-window-too-small",
        {"sources.yaml": SOURCES + "      status_window: 1\n"},
        ['sources.kafka[0] "prod".status_window', "greater than or equal to 2"],
    ),
    (
        "unknown-kafka-alert",
        {"sources.yaml": SOURCES + "      alerts: {lag_second: {threshold: 60}}\n"},
        ['sources.kafka[0] "prod".alerts', "unknown kafka alert 'lag_second'", "did you mean 'lag_seconds'?"],
    ),
    (
        "two-documents-in-a-file",
        {"slos.yaml": slos(GOOD_SLO) + "---\nteams: []\n"},
        ["slos.yaml", "2 YAML documents", "split them into separate files"],
    ),
    (
        "surrogate-pair-escape-in-annotation",
        # JSON writes an emoji as a surrogate pair; YAML (and Go's reader in promtool) needs \U0001F525.
        {"slos.yaml": slos(GOOD_SLO + '    alerting: {annotations: {summary: "burning \\ud83d\\udd25"}}\n')},
        [
            "slos.yaml:9",
            'slos[0] "hdfs-writes".alerting.annotations.summary',
            "U+D83D",
            "surrogate",
            "\\U0001F525",
        ],
    ),
    (
        "alert-name-not-camel-case",
        {"slos.yaml": slos(GOOD_SLO + "    alerting: {name: hdfs-write-burn}\n")},
        ['slos[0] "hdfs-writes".alerting.name', "CamelCase", "HdfsWriteBurn"],
    ),
    (
        "objective-with-percent-sign",
        {"slos.yaml": slo(objective='"99.9%"')},
        ['slos[0] "broken".objective', "write 99.9", "without %"],
    ),
    (
        "latency-le-as-a-duration",
        {
            "slos.yaml": slos(
                "- name: l\n  service: hdfs-prod\n  objective: 99\n  sli:\n    latency: {histogram: req_seconds, le: 500ms}\n"
            )
        },
        ['slos[0] "l".sli.latency.le', "seconds as a number", "le: 0.5"],
    ),
    (
        "owners-as-a-string",
        {"teams.yaml": TEAMS.replace("owners: [oncall@example.com]", "owners: oncall@example.com")},
        ['teams[0] "platform".owners', "owners takes a list; write owners: [oncall@example.com]"],
    ),
    (
        "page-enabled-not-a-boolean",
        {"slos.yaml": slos(GOOD_SLO + "    alerting: {page: {enabled: sometimes}}\n")},
        ['slos[0] "hdfs-writes".alerting.page.enabled', "'sometimes' is not a boolean; write true or false"],
    ),
    (
        "max-lag-as-a-duration",
        {
            "slos.yaml": slos(
                "- name: k\n  service: hdfs-prod\n  objective: 99\n  sli:\n"
                "    kafka_lag: {cluster: prod, group: orders-etl, max_lag_seconds: 5m}\n"
            )
        },
        ['slos[0] "k".sli.kafka_lag.max_lag_seconds', "write max_lag_seconds: 300"],
    ),
    (
        "kafka-bootstrap-without-port",
        {"sources.yaml": SOURCES.replace('bootstrap: "kafka:9092"', "bootstrap: [kafka1:9092, kafka2]")},
        ['sources.kafka[0] "prod".bootstrap', "'kafka2' has no port", "host:port"],
    ),
    (
        "promql-by-after-a-function",
        {
            "slos.yaml": slos(
                GOOD_SLO.replace(
                    "sum(rate(hdfs_write_errors_total[{{window}}]))",
                    "rate(hdfs_write_errors_total[{{window}}]) by (job)",
                )
            )
        },
        [
            "slos.yaml:7",
            'slos[0] "hdfs-writes".sli.events.errors',
            "is not valid PromQL",
            "by (...) belongs to an aggregation: sum by (job) (rate(...))",
        ],
    ),
    (
        "promql-unknown-function",
        {
            "slos.yaml": slos(
                GOOD_SLO.replace("sum(rate(hdfs_write_requests_total", "sum(rates(hdfs_write_requests_total")
            )
        },
        ['slos[0] "hdfs-writes".sli.events.total', "is not valid PromQL", "rates", "did you mean 'rate'?"],
    ),
    (
        "promql-range-on-an-expression",
        {
            "slos.yaml": slos(
                GOOD_SLO.replace(
                    "sum(rate(hdfs_write_requests_total[{{window}}]))",
                    "rate(sum(hdfs_write_requests_total)[{{window}}])",
                )
            )
        },
        ['slos[0] "hdfs-writes".sli.events.total', "is not valid PromQL", "subquery"],
    ),
    (
        "promql-raw-sli",
        {
            "slos.yaml": slos(
                GOOD_SLO.replace(
                    "      events:\n        errors: sum(rate(hdfs_write_errors_total[{{window}}]))\n        total: sum(rate(hdfs_write_requests_total[{{window}}]))\n",
                    "      raw: {error_ratio: 'sum(rate(e[{{window}}])) / sum(rate(t[{{window}}])) by'}\n",
                )
            )
        },
        ['slos[0] "hdfs-writes".sli.raw.error_ratio', "is not valid PromQL"],
    ),
]


@pytest.mark.parametrize(("files", "expected"), [(f, e) for _, f, e in CASES], ids=[c[0] for c in CASES])
def test_broken_catalog_is_rejected_with_a_precise_message(write_catalog, files, expected) -> None:
    root = write_catalog(base(**files))
    result = run_cli("validate", str(root))
    assert result.code == 1, result.output
    for fragment in expected:
        assert fragment in result.output, f"{fragment!r} not in:\n{result.output}"


def test_the_base_of_the_broken_cases_is_itself_valid(write_catalog) -> None:
    result = run_cli("validate", str(write_catalog(base())))
    assert result.code == 0, result.output
    assert "1 SLO," in result.stdout


def test_all_errors_are_reported_in_one_run(write_catalog) -> None:
    root = write_catalog(
        base(
            **{
                "services.yaml": SERVICES.replace("team: platform", "team: nobody"),
                "slos.yaml": slo(objective="150", window="30x"),
            }
        )
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog(root)
    messages = [str(p) for p in caught.value.problems]
    assert len(messages) == 3, messages
    assert any("unknown team 'nobody'" in m for m in messages)
    assert any(".objective" in m for m in messages)
    assert any(".window" in m for m in messages)


def test_json_output_lists_every_problem_with_its_location(write_catalog) -> None:
    root = write_catalog(base(**{"slos.yaml": slo(objective="150")}))
    result = run_cli("validate", str(root), "--format", "json")
    assert result.code == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    [problem] = [p for p in report["problems"] if p["level"] == "error"]
    assert problem["file"].endswith("slos.yaml")
    assert problem["line"] == 4
    assert problem["path"] == 'slos[0] "broken".objective'


def test_a_broken_entry_does_not_hide_errors_in_entries_that_refer_to_it(write_catalog) -> None:
    # The service is invalid (bad tier) but still defined: its SLO must not get a spurious "unknown service".
    root = write_catalog(base(**{"services.yaml": SERVICES.replace("tier: critical", "tier: urgent")}))
    with pytest.raises(CatalogError) as caught:
        load_catalog(root)
    assert [p.path for p in caught.value.problems] == ['services[0] "hdfs-prod".tier']


def test_warnings_do_not_fail_validation(write_catalog) -> None:
    root = write_catalog(base(**{"teams.yaml": TEAMS + "  - name: idle\n    owners: [idle@example.com]\n"}))
    result = run_cli("validate", str(root))
    assert result.code == 0, result.output
    assert 'teams[1] "idle": team owns no service' in result.stderr
    assert 'teams[1] "idle".channels: team has no channels' in result.stderr


def test_empty_directory_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not yaml")
    result = run_cli("validate", str(tmp_path))
    assert result.code == 1
    assert "holds no .yaml or .yml files" in result.output


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("validate", str(tmp_path / "nope"))
    assert result.code == 2
    assert "does not exist" in result.output


def test_unknown_option_is_a_usage_error() -> None:
    result = run_cli("validate", "--frobnicate", "x")
    assert result.code == 2


# --- PromQL: validate's parser (promql_parser) agrees with the real promtool -----------------------------

PROMQL_VALID = [
    "sum(rate(x[5m]))",
    "sum by (job) (rate(x[5m]))",
    "sum(rate(x[5m])) by (job)",
    "sum without () (x)",
    "1 - avg_over_time((up > bool 1)[5m:1m])",
    "rate(x[5m:])",
    "rate(x[5m] offset 1h)",
    "x offset -5m",
    "x @ start()",
    "x{a=`raw`}",
    "x{}",
    '{__name__="x"}',
    "x * on(a) group_left y",
    "histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))",
    "holt_winters(x[5m], 0.5, 0.5)",
    'label_replace(x, "a", "$1", "b", "(.*)")',
    "present_over_time(x[5m])",
    'count_values("v", x)',
]
PROMQL_INVALID = [
    "rate(x[5m]) by (job)",
    "sum(rate(x[5m])) by",
    "sum(x) by (job) without (a)",
    "sum(rates(x[5m]))",
    "rate(sum(x)[5m])",
    "rate(x)",
    "sum(x, y)",
    "histogram_quantile(x)",
    "x and on(a) group_left y",
    "topk(x, y)",
    'sum("s")',
    "rate(x[0m])",
    "rate(x[1.5m])",
    'x{a="\\q"}',
    '{a=~".*"}',
    "1 +",
    "x{",
]
# Where the two disagree. promql_parser follows Prometheus 3; the promtool here is 2.42. Validate checks
# syntax only; promtool (run by `generate rules` and `build`) still rejects what the deployed Prometheus
# version lacks. Each entry must still disagree, so this list cannot go stale.
PROMQL_KNOWN_DIFFERENCES = {
    "limitk(2, x)": "Prometheus 3 (experimental) function: validate accepts, promtool 2.42 rejects",
    "mad_over_time(x[5m])": "Prometheus 3 (experimental) function: validate accepts, promtool 2.42 rejects",
    'sort_by_label(x, "a")': "Prometheus 3 (experimental) function: validate accepts, promtool 2.42 rejects",
    "info(x)": "Prometheus 3 (experimental) function: validate accepts, promtool 2.42 rejects",
    "double_exponential_smoothing(x[5m], 0.5, 0.5)": "Prometheus 3's name for holt_winters: promtool 2.42 rejects",
    'x{a="b" or c="d"}': "Prometheus 3 `or` in label matchers: validate accepts, promtool 2.42 rejects",
}


def _corpus_queries() -> list[str]:
    """Every SLI query of the recorded Sloth and OpenSLO specs and of the example catalog, window filled."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                name = str(key).replace("Query", "_query").lower()
                if isinstance(value, str) and name.endswith(
                    ("query", "errors", "total", "good", "error_ratio")
                ):
                    if "[" in value:
                        found.add(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    paths = [*FIXTURES.glob("slo_*/**/*.y*ml"), *EXAMPLE_CATALOG.glob("*.yaml")]
    for path in paths:
        if "_gen" not in path.parts:
            for doc in yaml.safe_load_all(path.read_text()):
                walk(doc)
    return sorted(re.sub(r"\{\{\s*\.?window\s*\}\}", "5m", q) for q in found)


def _promtool_verdicts(queries: list[str], tmp_path: Path) -> dict[str, bool]:
    """Whether the real `promtool check rules` accepts each query as a recording rule's expression."""
    promtool = require_binary("promtool")
    files = {}
    for index, query in enumerate(queries):
        path = tmp_path / f"q{index}.yml"
        rule = {"groups": [{"name": "g", "rules": [{"record": "r", "expr": query}]}]}
        path.write_text(yaml.safe_dump(rule), encoding="utf-8")  # PyYAML: not the writer under test
        files[query] = path
    out = subprocess.run(
        [promtool, "check", "rules", *map(str, files.values())], capture_output=True, text=True, check=False
    )
    failed = {line.split(":", 1)[0] for line in out.stderr.splitlines() if line.startswith(str(tmp_path))}
    return {query: str(path) not in failed for query, path in files.items()}


@pytest.mark.promtool
def test_validate_agrees_with_promtool_on_promql(tmp_path: Path) -> None:
    from catalog.promql_check import promql_error

    corpus = _corpus_queries()
    assert len(corpus) >= 15, corpus  # the recorded specs and the example catalog
    queries = sorted({*corpus, *PROMQL_VALID, *PROMQL_INVALID, *PROMQL_KNOWN_DIFFERENCES})
    promtool = _promtool_verdicts(queries, tmp_path)
    assert all(promtool[q] for q in PROMQL_VALID) and not any(promtool[q] for q in PROMQL_INVALID)
    ours = {q: promql_error(q) is None for q in queries}
    disagree = {q for q in queries if ours[q] != promtool[q]}
    assert disagree == set(PROMQL_KNOWN_DIFFERENCES), {q: (ours[q], promtool[q]) for q in disagree}
    assert all(ours[q] and not promtool[q] for q in PROMQL_KNOWN_DIFFERENCES)


def test_a_suggested_promql_fix_is_itself_valid_promql() -> None:
    from catalog.promql_check import promql_error

    message = promql_error("rate(http_requests_total[5m]) by (job)")
    assert message is not None and "sum by (job) (rate(...))" in message
    assert promql_error("sum by (job) (rate(http_requests_total[5m]))") is None
