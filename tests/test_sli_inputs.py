"""The raw series derived for generated tests (rules/sli_inputs.py), checked by the real PromQL engine.

For random SLI queries (metric names, matchers with =, !=, =~, !~), the derived counters are fed to
promtool, which evaluates the USER's queries: the errors (or good) and total queries must read the
intended rates, whatever matchers and decoys the derivation chose. Hypothesis draws the queries;
`WATCHKEEPER_FUZZ_EXAMPLES` runs more of them.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.model.slos import SLO
from rules.promql import go_float, quote
from rules.sli_inputs import raw_feed
from rules.sli_series import UnsupportedSLIError
from tests.conftest import require_binary

pytestmark = pytest.mark.promtool
EXAMPLES = int(os.environ.get("WATCHKEEPER_FUZZ_EXAMPLES", "25"))
BAD, GOOD, DECOY = 6.0, 54.0, 100.0  # events a minute: 10% errors at 1 event a second


def _matcher(label: str, op: str, value: str) -> str:
    return f"{label}{op}{quote(value)}"


matchers = st.lists(
    st.tuples(
        st.sampled_from(["job", "env", "route"]),
        st.sampled_from(["=", "!=", "=~", "!~"]),
        st.sampled_from(["api", "prod", "prod-.*", "api|web", ".+", "[a-z]+", "x", ""]),
    ),
    max_size=3,
    unique_by=lambda m: m[0],
)
error_matchers = st.sampled_from(
    [
        ('code=~"5.."',),
        ('code=~"(5..|429)"',),
        ('code="500"',),
        ('status!="ok"',),
        ('code=~"5..", code!="503"',),
    ]
)


def _selector(name: str, parts: list[str]) -> str:
    return name + "{" + ", ".join(parts) + "}"


def _promtool_reads(series: list[dict[str, str]], checks: list[str]) -> subprocess.CompletedProcess[str]:
    promtool = require_binary("promtool")
    test = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [
                    {"expr": expr, "eval_time": "10m", "exp_samples": [{"labels": "{}", "value": 1}]}
                    for expr in checks
                ],
            }
        ],
    }
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reads.test.yml"
        path.write_text(yaml.safe_dump(test, sort_keys=False))
        return subprocess.run(
            [promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False
        )


def _feed_series(slo: SLO) -> list[dict[str, str]]:
    return [
        {"series": s.text(), "values": f"0+{s.bad * BAD + s.good * GOOD + s.other * DECOY!r}x10"}
        for s in raw_feed(slo).series
    ]


def _close(expr: str, value: float) -> str:
    return f"sum(abs(({expr}) - {value!r}) < bool {value * 1e-9!r})"


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["http_requests_total", "jobs_total"]),
    common=matchers,
    errors=error_matchers,
    form=st.sampled_from(["errors", "good", "two-counters"]),
)
def test_the_users_queries_read_the_intended_rates_from_the_derived_series(
    name: str, common: list[tuple[str, str, str]], errors: tuple[str, ...], form: str
) -> None:
    base = [_matcher(*m) for m in common]
    total_sel = _selector(name, base)
    if form == "errors":
        first = _selector(name, base + list(errors))
        events = {
            "errors": f"sum(rate({first}[{{{{window}}}}]))",
            "total": f"sum(rate({total_sel}[{{{{window}}}}]))",
        }
    elif form == "good":
        first = _selector(name, [*base, 'code=~"2.."'])
        events = {
            "good": f"sum(rate({first}[{{{{window}}}}]))",
            "total": f"sum(rate({total_sel}[{{{{window}}}}]))",
        }
    else:
        failed, done = _selector("failed_total", base), _selector("completed_total", base)
        events = {
            "errors": f"sum(rate({failed}[{{{{window}}}}]))",
            "total": f"sum(rate({done}[{{{{window}}}}])) + sum(rate({failed}[{{{{window}}}}]))",
        }
    slo = SLO.model_validate({"name": "x", "service": "s", "objective": 99, "sli": {"events": events}})
    try:
        series = _feed_series(slo)
    except UnsupportedSLIError as exc:
        # Only contradictory matchers (e.g. job=~"" with job!="" elsewhere) may be refused, with a reason.
        assert "no label values satisfy" in str(exc) or "no series make" in str(exc), exc
        return
    query = {k: v.replace("{{window}}", "5m") for k, v in events.items()}
    per_second_total = (BAD + GOOD) / 60
    checks = [_close(query["total"], per_second_total)]
    if "errors" in query:
        checks.append(_close(query["errors"], BAD / 60))
    else:
        checks.append(_close(query["good"], GOOD / 60))
    result = _promtool_reads(series, checks)
    assert result.returncode == 0, f"{events}\n{series}\n{result.stdout}{result.stderr}"


# (le as a number, how a Go client writes it: strconv.FormatFloat(le, 'g', -1, 64))
GO_LABELS = [
    (0.005, "0.005"),
    (0.1, "0.1"),
    (0.25, "0.25"),
    (1.0, "1"),
    (2.5, "2.5"),
    (10.0, "10"),
    (100000.0, "100000"),
    (1638400.0, "1.6384e+06"),
    (1e-05, "1e-05"),
    (0.0001, "0.0001"),
    (1234567.0, "1.234567e+06"),
]


@pytest.mark.parametrize(("le", "text"), GO_LABELS)
def test_go_float_writes_le_as_go_does(le: float, text: str) -> None:
    assert go_float(le) == text


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    le=st.sampled_from(GO_LABELS),
    listed=st.booleans(),
    common=matchers,
)
def test_the_histogram_reads_the_intended_share_under_le(
    le: tuple[float, str], listed: bool, common: list[tuple[str, str, str]]
) -> None:
    """The derived buckets put 10% of the requests over `le`: bucket(le) / count reads 0.9."""
    value, text = le
    latency: dict[str, object] = {
        "histogram": "req_seconds",
        "le": value,
        "selector": "{" + ", ".join(_matcher(*m) for m in common) + "}",
    }
    if listed:
        latency["buckets"] = [value / 10, value, value * 10]
    slo = SLO.model_validate({"name": "x", "service": "s", "objective": 99, "sli": {"latency": latency}})
    try:
        series = _feed_series(slo)
    except UnsupportedSLIError as exc:
        assert "no label values satisfy" in str(exc), exc
        return
    sel = ", ".join(_matcher(*m) for m in common)
    bucket = "req_seconds_bucket{" + ", ".join(p for p in (sel, f'le="{text}"') if p) + "}"
    count = "req_seconds_count{" + sel + "}"
    checks = [
        _close(f"sum(rate({bucket}[5m])) / sum(rate({count}[5m]))", GOOD / (BAD + GOOD)),
        _close(f"sum(rate({count}[5m]))", (BAD + GOOD) / 60),
    ]
    result = _promtool_reads(series, checks)
    assert result.returncode == 0, f"{latency}\n{series}\n{result.stdout}{result.stderr}"
