"""`validate` promises what `generate` delivers: what promtool, amtool or the generated tests would reject,
or what would make the rules silently wrong, is a catalog error with its file, line, entry and fix.

Each hostile value below was accepted by `validate` and then rejected by promtool or amtool (or gave wrong
rules); tests/test_catalog_fuzz.py checks the promise on random catalogs.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from catalog.durations import Duration
from rules import names
from rules.names import ERROR_BUDGET
from tests.conftest import require_binary, run_cli

BASE = """\
teams:
  - name: platform
    owners: [oncall@example.com]
    channels:
      slack: {channel: "#platform", api_url_env: SLACK_URL}
      webhook: {url: "http://hooks.example.com/alert"}
      email: {to: [oncall@example.com]}
services:
  - name: api
    team: platform
    tier: critical
    runbook: https://runbooks.example.com/api
slos:
  - name: api-errors
    service: api
    objective: 99.9
    sli:
      events:
        errors: sum(rate(http_requests_total{code=~"5.."}[{{window}}]))
        total: sum(rate(http_requests_total[{{window}}]))
    labels: {category: availability}
    alerting:
      name: ApiErrorBudgetBurn
      labels: {escalation: api}
      annotations: {summary: API errors}
      page: {for: 2m, labels: {pager: api}}
  - name: api-latency
    service: api
    objective: 99
    sli:
      latency: {histogram: http_request_duration_seconds, le: 0.3, selector: '{job="api"}'}
sources:
  kafka:
    - name: prod
      service: api
      bootstrap: kafka:9092
      groups: [orders]
      poll_interval: 30s
      alerts: {lag_seconds: {threshold: 60, for: 10m, labels: {escalation: kafka}}}
  spark:
    - name: history
      service: api
      url: http://spark:18080
      lookback: 1d
      max_applications: 50
  freshness:
    - dataset: orders
      service: api
      max_age: 2h
      airflow: {url: "http://airflow:8080", dag_id: orders, api_version: 2}
  inference:
    - name: model
      service: api
      url: http://model:8080/predict
      interval: 15s
      request: {headers: {Content-Type: application/json}}
drift:
  - name: features
    service: api
    reference: {path: ref.parquet}
    current: {path: cur.parquet}
    schedule: 1h
    retrain: {webhook: {url: "http://retrain:8000/hook"}, cooldown: 24h}
"""

LABEL_PLACES = {
    "slo labels": ("labels: {category: availability}", "labels: {{{key!r}: x}}"),
    "alerting labels": ("labels: {escalation: api}", "labels: {{{key!r}: x}}"),
    "page labels": ("labels: {pager: api}", "labels: {{{key!r}: x}}"),
    "component alert override labels": ("labels: {escalation: kafka}", "labels: {{{key!r}: x}}"),
    "annotation names": ("annotations: {summary: API errors}", "annotations: {{{key!r}: x}}"),
}
BAD_LABEL_KEYS = {
    # key: (what the message says, the fix it suggests)
    "bad key": ("is not a valid label name", "write bad_key"),
    "__name__": ("names starting with '__' are reserved", "write name"),
    "1abc": ("is not a valid label name", "write label_1abc"),
    "a-b": ("is not a valid label name", "write a_b"),
}


def _line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line holding `needle` (computed on the input, not by the loader)."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def _catalog(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    assert old in BASE, old
    text = BASE.replace(old, new, 1)
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def _refused(tmp_path: Path, old: str, new: str, needle: str, fragments: list[str]) -> str:
    path, text = _catalog(tmp_path, old, new)
    result = run_cli("validate", str(path))
    assert result.code == 1, result.output
    assert f"c.yaml:{_line_of(text, needle)}:" in result.output, result.output
    for fragment in fragments:
        assert fragment in result.output, f"{fragment!r} not in:\n{result.output}"
    assert "Traceback" not in result.output
    return result.output


def test_the_base_catalog_is_valid_and_generates(tmp_path: Path) -> None:
    path, _ = _catalog(tmp_path, "objective: 99.9", "objective: 99.9")
    result = run_cli("validate", str(path))
    assert result.code == 0, result.output


@pytest.mark.parametrize("place", LABEL_PLACES)
@pytest.mark.parametrize("key", BAD_LABEL_KEYS)
def test_a_label_or_annotation_name_promtool_rejects_is_a_catalog_error(
    tmp_path: Path, place: str, key: str
) -> None:
    old, template = LABEL_PLACES[place]
    new = template.format(key=key)
    what, fix = BAD_LABEL_KEYS[key]
    _refused(tmp_path, old, new, new, [what, fix])


# (id, old text, new text, fragments the message must hold). The line is that of the new text.
CASES: list[tuple[str, str, str, list[str]]] = [
    (
        "template-in-alert-label-value",
        "labels: {escalation: api}",
        "labels: {escalation: 'a {{ b'}",
        ['slos[0] "api-errors".alerting.labels.escalation', "'{{'", "Go template", "remove"],
    ),
    (
        "template-in-page-label-value",
        "labels: {pager: api}",
        "labels: {pager: '{{ $value }}'}",
        ['slos[0] "api-errors".alerting.page.labels.pager', "'{{'"],
    ),
    (
        "template-in-annotation",
        "annotations: {summary: API errors}",
        "annotations: {summary: 'API {{ errors'}",
        ['slos[0] "api-errors".alerting.annotations.summary', "'{{'"],
    ),
    (
        "template-in-slo-label",
        "labels: {category: availability}",
        "labels: {category: '{{x}}'}",
        ['slos[0] "api-errors".labels.category', "'{{'"],
    ),
    (
        "template-in-override-label",
        "labels: {escalation: kafka}",
        "labels: {escalation: '{{'}",
        ['sources.kafka[0] "prod".alerts.lag_seconds.labels.escalation', "'{{'"],
    ),
    (
        "template-in-runbook-url",
        "runbook: https://runbooks.example.com/api",
        "runbook: 'https://runbooks.example.com/{{x}}'",
        ['services[0] "api".runbook', "'{'", "percent-encode"],
    ),
    (
        "empty-label-value",
        "labels: {escalation: api}",
        "labels: {escalation: ''}",
        ['slos[0] "api-errors".alerting.labels.escalation', "empty", "remove the label"],
    ),
    (
        "label-set-by-watchkeeper-burn",
        "labels: {pager: api}",
        "labels: {burn: fast}",
        ['slos[0] "api-errors".alerting.page.labels', "['burn'] are set by Watchkeeper"],
    ),
    (
        "label-set-by-watchkeeper-source",
        "labels: {escalation: kafka}",
        "labels: {source: other}",
        ["['source'] are set by Watchkeeper"],
    ),
    (
        "slo-label-set-by-watchkeeper-objective",
        "labels: {category: availability}",
        "labels: {objective: high}",
        ['slos[0] "api-errors".labels', "['objective'] are set by Watchkeeper"],
    ),
    (
        "histogram-with-trailing-newline",
        "histogram: http_request_duration_seconds,",
        'histogram: "http_request_duration_seconds\\n",',
        ['slos[1] "api-latency".sli.latency.histogram', "is not a Prometheus metric name"],
    ),
    (
        "alert-name-with-trailing-newline",
        "name: ApiErrorBudgetBurn",
        'name: "ApiErrorBudgetBurn\\n"',
        ['slos[0] "api-errors".alerting.name', "CamelCase"],
    ),
    (
        "env-name-with-trailing-newline",
        "api_url_env: SLACK_URL",
        'api_url_env: "SLACK_URL\\n"',
        ['teams[0] "platform".channels.slack.api_url_env', "not an environment variable name"],
    ),
    (
        "promql-with-a-trailing-comment",
        'errors: sum(rate(http_requests_total{code=~"5.."}[{{window}}]))',
        "errors: 'sum(rate(http_requests_total[{{window}}])) # 5xx only'",
        ['slos[0] "api-errors".sli.events.errors', "# comment", "remove it"],
    ),
    (
        "promql-with-a-scalar-result",
        'errors: sum(rate(http_requests_total{code=~"5.."}[{{window}}]))',
        "errors: 'scalar(sum(rate(http_requests_total[{{window}}])))'",
        ['slos[0] "api-errors".sli.events.errors', "a scalar", "instant vector"],
    ),
    (
        "promql-with-an-experimental-function",
        'errors: sum(rate(http_requests_total{code=~"5.."}[{{window}}]))',
        "errors: 'sum(limitk(1, rate(http_requests_total[{{window}}])))'",
        ['slos[0] "api-errors".sli.events.errors', "limitk()", "promql-experimental-functions"],
    ),
    (
        "promql-with-or-between-matchers",
        'errors: sum(rate(http_requests_total{code=~"5.."}[{{window}}]))',
        """errors: 'sum(rate(http_requests_total{code="500" or code="503"}[{{window}}]))'""",
        ['slos[0] "api-errors".sli.events.errors', "`or` between label matchers"],
    ),
    (
        "regex-go-cannot-read",
        'errors: sum(rate(http_requests_total{code=~"5.."}[{{window}}]))',
        """errors: 'sum(rate(http_requests_total{code=~"(?<c>5..)"}[{{window}}]))'""",
        ['slos[0] "api-errors".sli.events.errors', "(?<name>...)", "write (?P<name>...)"],
    ),
    (
        "selector-regex-go-cannot-read",
        """selector: '{job="api"}'""",
        """selector: '{job=~"a{1,2000}"}'""",
        ['slos[1] "api-latency".sli.latency.selector', "more than 1000 times"],
    ),
    (
        "promql-offset-beyond-prometheus-range",
        'errors: sum(rate(http_requests_total{code=~"5.."}[{{window}}]))',
        "errors: 'sum(rate(http_requests_total[{{window}}] offset 300y))'",
        ['slos[0] "api-errors".sli.events.errors', "longer than Prometheus' limit of 292y"],
    ),
    (
        "promql-number-beyond-float64",
        'errors: sum(rate(http_requests_total{code=~"5.."}[{{window}}]))',
        "errors: 'sum(rate(http_requests_total[{{window}}])) * 1e400'",
        ['slos[0] "api-errors".sli.events.errors', "the number 1e400 is too large"],
    ),
    (
        "selector-with-a-bad-escape",
        """selector: '{job="api"}'""",
        """selector: '{job="a\\q"}'""",
        ['slos[1] "api-latency".sli.latency.selector', "not a label selector"],
    ),
    (
        "page-for-beyond-the-maximum",
        "page: {for: 2m,",
        "page: {for: 200y,",
        ['slos[0] "api-errors".alerting.page.for', "longer than 1d", "at most 1d"],
    ),
    (
        "page-for-out-of-prometheus-range",
        "page: {for: 2m,",
        "page: {for: 99999999999y,",
        ['slos[0] "api-errors".alerting.page.for', "out of range"],
    ),
    (
        "page-for-between-minutes",
        "page: {for: 2m,",
        "page: {for: 90s,",
        ['slos[0] "api-errors".alerting.page.for', "not a whole number of minutes", "write 2m"],
    ),
    (
        "override-for-below-a-minute",
        "for: 10m,",
        "for: 30s,",
        ['sources.kafka[0] "prod".alerts.lag_seconds.for', "not a whole number of minutes", "write 1m"],
    ),
    (
        "override-for-beyond-the-maximum",
        "for: 10m,",
        "for: 30d,",
        ['sources.kafka[0] "prod".alerts.lag_seconds.for', "at most 1d"],
    ),
    (
        "poll-interval-beyond-the-maximum",
        "poll_interval: 30s",
        "poll_interval: 2y",
        ['sources.kafka[0] "prod".poll_interval', "at most 1h"],
    ),
    (
        "poll-interval-below-the-minimum",
        "poll_interval: 30s",
        "poll_interval: 1ms",
        ['sources.kafka[0] "prod".poll_interval', "at least 1s"],
    ),
    (
        "lookback-beyond-the-maximum",
        "lookback: 1d",
        "lookback: 400d",
        ['sources.spark[0] "history".lookback', "at most 30d"],
    ),
    (
        "inference-interval-beyond-the-maximum",
        "interval: 15s",
        "interval: 2d",
        ['sources.inference[0] "model".interval', "at most 1h"],
    ),
    (
        "drift-schedule-beyond-the-maximum",
        "schedule: 1h",
        "schedule: 30d",
        ['drift[0] "features".schedule', "at most 7d"],
    ),
    (
        "retrain-cooldown-beyond-the-maximum",
        "cooldown: 24h",
        "cooldown: 400d",
        ['drift[0] "features".retrain.cooldown', "at most 30d"],
    ),
    (
        "freshness-max-age-beyond-the-maximum",
        "max_age: 2h",
        "max_age: 5y",
        ['sources.freshness[0] "orders".max_age', "at most 366d"],
    ),
    (
        "webhook-url-with-a-newline",
        'webhook: {url: "http://hooks.example.com/alert"}',
        'webhook: {url: "http://hooks.example.com/al\\nert"}',
        ['teams[0] "platform".channels.webhook.url', "control character", "remove it"],
    ),
    (
        "webhook-url-with-a-space",
        'webhook: {url: "http://hooks.example.com/alert"}',
        'webhook: {url: "http://hooks.example.com/my alert"}',
        ['teams[0] "platform".channels.webhook.url', "%20"],
    ),
    (
        "url-with-a-bad-port",
        "url: http://spark:18080",
        "url: http://spark:99999",
        ['sources.spark[0] "history".url', "port"],
    ),
    (
        "email-with-a-newline",
        "email: {to: [oncall@example.com]}",
        'email: {to: ["oncall@example.com\\nBcc: x@evil.example"]}',
        ['teams[0] "platform".channels.email.to[0]', "is not an e-mail address"],
    ),
    (
        "header-value-with-a-newline",
        "headers: {Content-Type: application/json}",
        'headers: {Content-Type: "application/json\\r\\nX-Injected: 1"}',
        ['sources.inference[0] "model".request.headers', "control character"],
    ),
    (
        "objective-with-a-budget-too-small",
        "objective: 99.9",
        "objective: 99.99999999999",
        ['slos[0] "api-errors".objective', "error budget", "six nines", "99.9999"],
    ),
    (
        "objective-with-too-many-decimals",
        "objective: 99.9",
        "objective: 99.12345",
        ['slos[0] "api-errors".objective', "at most 4 decimal places"],
    ),
    (
        "objective-true",
        "objective: 99.9",
        "objective: true",
        ['slos[0] "api-errors".objective', "true is a boolean, not a number", "objective: 99.9"],
    ),
    (
        "objective-quoted",
        "objective: 99.9",
        'objective: "99.9"',
        [
            'slos[0] "api-errors".objective',
            "'99.9' is quoted text, not a number",
            "write 99.9 without quotes",
        ],
    ),
    (
        "le-infinite",
        "le: 0.3,",
        "le: .inf,",
        ['slos[1] "api-latency".sli.latency.le', "not a finite number", "+Inf bucket counts every request"],
    ),
    (
        "le-nan",
        "le: 0.3,",
        "le: .nan,",
        ['slos[1] "api-latency".sli.latency.le', "not a finite number"],
    ),
    (
        "threshold-true",
        "threshold: 60,",
        "threshold: true,",
        ['sources.kafka[0] "prod".alerts.lag_seconds.threshold', "true is a boolean, not a number"],
    ),
    (
        "integer-with-a-fraction",
        "max_applications: 50",
        "max_applications: 50.5",
        ['sources.spark[0] "history".max_applications', "50.5 is not a whole number"],
    ),
    (
        "ratio-threshold-above-one",
        "headers: {Content-Type: application/json}}",
        "headers: {Content-Type: application/json}}\n      alerts: {error_ratio: {threshold: 5}}",
        ['sources.inference[0] "model".alerts', "error_ratio threshold 5 is above 1", "could never fire"],
    ),
    (
        "negative-threshold",
        "threshold: 60,",
        "threshold: -1,",
        ['sources.kafka[0] "prod".alerts', "lag_seconds threshold -1 is negative", "always fire"],
    ),
    (
        "zero-staleness-threshold",
        "alerts: {lag_seconds: {threshold: 60,",
        "alerts: {stale_collection: {threshold: 0,",
        [
            'sources.kafka[0] "prod".alerts',
            "stale_collection threshold 0 would fire on any age or delay",
            "poll intervals",
        ],
    ),
    (
        "threshold-on-a-state-alert",
        "alerts: {lag_seconds: {threshold: 60,",
        "alerts: {partition_status: {threshold: 60,",
        ['sources.kafka[0] "prod".alerts', "partition_status has no threshold"],
    ),
    (
        "tls-verify-quoted",
        "lookback: 1d",
        'lookback: 1d\n      tls_verify: "false"',
        ['sources.spark[0] "history".tls_verify', "write true or false without quotes"],
    ),
    (
        "api-version-true",
        "api_version: 2}",
        "api_version: true}",
        ['sources.freshness[0] "orders".airflow.api_version', "true is a boolean"],
    ),
    (
        "empty-secret-file-path",
        "api_url_env: SLACK_URL",
        'api_url_file: ""',
        ['teams[0] "platform".channels.slack.api_url_file', "empty"],
    ),
]


@pytest.mark.parametrize(("old", "new", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_what_generate_would_fail_on_is_a_catalog_error(
    tmp_path: Path, old: str, new: str, fragments: list[str]
) -> None:
    _refused(tmp_path, old, new, new.splitlines()[-1].strip(), fragments)


def test_errors_are_also_located_in_json_output(tmp_path: Path) -> None:
    path, text = _catalog(tmp_path, "labels: {pager: api}", "labels: {'a-b': x}")
    result = run_cli("validate", str(path), "--format", "json")
    assert result.code == 1
    [problem] = [p for p in json.loads(result.stdout)["problems"] if p["level"] == "error"]
    assert problem["line"] == _line_of(text, "labels: {'a-b': x}")
    assert problem["path"] == 'slos[0] "api-errors".alerting.page.labels.a-b'


# --- the accepted side of each limit generates rules promtool accepts -----------------------------------

ACCEPTED = [
    ("label names with underscores and digits", "labels: {pager: api}", "labels: {_pager: x, pager_2: y}"),
    (
        "closing braces without an opening pair",
        "annotations: {summary: API errors}",
        "annotations: {summary: 'a }} b'}",
    ),
    (
        "unicode, quotes and backslashes in labels",
        "labels: {escalation: api}",
        """labels: {escalation: "é \\" \\\\ $1 ✓"}""",
    ),
    ("six nines", "objective: 99.9", "objective: 99.9999"),
    ("four decimal places", "objective: 99.9", "objective: 99.1234"),
    ("an integer objective", "objective: 99.9", "objective: 95"),
    ("a for of a day", "page: {for: 2m,", "page: {for: 1d,"),
    (
        "a query with a hash inside a string",
        'errors: sum(rate(http_requests_total{code=~"5.."}[{{window}}]))',
        """errors: 'sum(rate(http_requests_total{path="/a#b"}[{{window}}]))'""",
    ),
]


@pytest.mark.promtool
@pytest.mark.parametrize(("old", "new"), [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_the_accepted_side_of_each_limit_passes_promtool(tmp_path: Path, old: str, new: str) -> None:
    promtool = require_binary("promtool")
    path, _ = _catalog(tmp_path, old, new)
    out = tmp_path / "out"
    result = run_cli(
        "generate", "rules", str(path), "--out", str(out / "rules"), "--tests", str(out / "tests")
    )
    assert result.code == 0, result.output
    tests = sorted((out / "tests").glob("*.yml"))
    run = subprocess.run(
        [promtool, "test", "rules", *map(str, tests)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]


def test_a_six_nines_budget_is_written_exactly(tmp_path: Path) -> None:
    # 1 - 99.9999 / 100 = 0.000001 (by hand): the recorded budget must be 1e-06, not 0 or float noise.
    path, _ = _catalog(tmp_path, "objective: 99.9", "objective: 99.9999")
    out = tmp_path / "rules"
    assert run_cli("generate", "rules", str(path), "--out", str(out), "--no-check").code == 0
    rules = yaml.safe_load((out / "slo-platform.rules.yml").read_text())
    budgets = [
        r["expr"]
        for g in rules["groups"]
        for r in g["rules"]
        if r.get("record") == ERROR_BUDGET and r["labels"]["slo"] == "api-errors"
    ]
    assert budgets == ["vector(1e-06)"]


@pytest.mark.promtool
def test_le_1e_minus_20_is_warned_about_and_reads_the_bucket_clients_write(tmp_path: Path) -> None:
    """Go's FormatFloat(1e-20, 'g', -1, 64) and the Python client's floatToGoString both write the bound as
    `1e-20` (by hand: Go's shortest %g switches to an exponent below 1e-4). Half the requests fall in that
    bucket, so the 5m error ratio is (60 - 30) / 60 = 0.5; a label written as `0` would read no data."""
    promtool = require_binary("promtool")
    path, _ = _catalog(tmp_path, "le: 0.3,", "le: 1e-20,")
    result = run_cli("validate", str(path))
    assert result.code == 0, result.output
    assert "le 1e-20 is below a microsecond; le is in seconds" in result.stderr
    out = tmp_path / "rules"
    assert run_cli("generate", "rules", str(path), "--out", str(out)).code == 0
    groups = yaml.safe_load((out / "slo-platform.rules.yml").read_text())["groups"]
    minute = "0+{}x10"
    series = [
        {
            "series": 'http_request_duration_seconds_bucket{job="api", le="1e-20"}',
            "values": minute.format(30),
        },
        {"series": 'http_request_duration_seconds_bucket{job="api", le="+Inf"}', "values": minute.format(60)},
        {"series": 'http_request_duration_seconds_count{job="api"}', "values": minute.format(60)},
    ]
    ratio = names.sli_error_ratio(Duration.parse("5m"))
    test = {
        "rule_files": ["rules/slo-platform.rules.yml"],
        "evaluation_interval": "1m",
        "group_eval_order": [g["name"] for g in groups],
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [
                    {
                        "expr": f'{ratio}{{slo="api-latency"}}',
                        "eval_time": "10m",
                        "exp_samples": [
                            {"labels": f'{ratio}{{service="api", slo="api-latency"}}', "value": 0.5}
                        ],
                    }
                ],
            }
        ],
    }
    (tmp_path / "le.test.yml").write_text(yaml.safe_dump(test, sort_keys=False))
    run = subprocess.run(
        [promtool, "test", "rules", "le.test.yml"], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert run.returncode == 0, run.stdout + run.stderr


# Regexes in label matchers: promql_parser uses Rust's regex, Prometheus Go's RE2. Each verdict here is
# compared with the real promtool below; `\Q.\E` is the one validate refuses although Go accepts it.
REGEXES = ["(?<n>a)", "[a--b]", "(?x) a", "x{2,1001}", "(?P<n>a)", "(?i)a", "[[:word:]]", "a{1000}", "b.*|c+"]


@pytest.mark.promtool
def test_validate_agrees_with_promtool_on_matcher_regexes(tmp_path: Path) -> None:
    from catalog.promql_check import sli_query_error

    promtool = require_binary("promtool")
    verdicts = {}
    for index, regex in enumerate(REGEXES):
        query = "sum(rate(e{a=~" + json.dumps(regex) + "}[5m]))"
        path = tmp_path / f"r{index}.yml"
        path.write_text(
            yaml.safe_dump({"groups": [{"name": "g", "rules": [{"record": "r", "expr": query}]}]})
        )
        checked = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, check=False)
        verdicts[regex] = (checked.returncode == 0, sli_query_error(query) is None)
    assert {r for r, (tool, _) in verdicts.items() if not tool} == {
        "(?<n>a)",
        "[a--b]",
        "(?x) a",
        "x{2,1001}",
    }
    assert all(tool == ours for tool, ours in verdicts.values()), verdicts
