"""Property: whenever `validate` accepts a catalog, `generate rules` passes the real promtool check, its
`promtool test rules` files run and pass in bounded time, and `generate alertmanager` passes the real
`amtool check-config`. When `validate` refuses one, it names the file and line of every error.

Hypothesis builds small random catalogs (teams, services, SLOs of every SLI kind, label maps, annotations,
sources with alert overrides, drift monitors) from mostly plausible values salted with hostile ones:
unicode, quotes, backslashes, newlines, `{{`, `}}`, `$`, very long text, bad label names, huge durations,
non-finite and boolean numbers. The catalog is written with PyYAML, not with Watchkeeper's writer.

CI runs 25 examples; set WATCHKEEPER_FUZZ_EXAMPLES=300 for a long run.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from typer.testing import CliRunner

from api.cli import app
from catalog import CatalogError, load_catalog
from tests.conftest import require_binary

pytestmark = pytest.mark.promtool

EXAMPLES = int(os.environ.get("WATCHKEEPER_FUZZ_EXAMPLES", "25"))
TOOL_TIMEOUT = 240
"""Seconds any one promtool or amtool run may take: a catalog that needs longer is a failure."""

HOSTILE_TEXT = [
    "",
    "{{",
    "{{ $value }}",
    "a {{ b",
    "x" * 300,
    "\x00",
    "\u2028",
]
"""Text that some fields must refuse (templates, empty values) or that stresses the writers."""
ODD_TEXT = [
    " ",
    "}}",
    "a}b{c",
    "$1",
    "${HOME}",
    '"',
    "'",
    "\\",
    '\\"',
    "\n",
    "a\nb",
    "\r\n",
    "\t",
    "é✓🔥",
    "#",
    "# c",
    ":",
    "- x",
    "null",
    "true",
    "1e3",
    "%",
    "日本語のラベル",
    "x" * 120,
]
"""Text every free-text field must carry through to the rules unchanged (quotes, escapes, unicode)."""
plain = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)


class Pick:
    """Strategies for one catalog: each value is hostile with `percent` % probability, else benign.

    Catalogs get 0, 1, 3 or 20 %: about half hold no hostile value and reach promtool and amtool, and many
    of the rest hold exactly one, the case where `validate` must not miss it."""

    def __init__(self, percent: int) -> None:
        self.percent = percent

    def of(self, benign: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        if not self.percent:
            return benign
        return st.integers(0, 99).flatmap(lambda n: hostile if n < self.percent else benign)

    def text(self) -> st.SearchStrategy[str]:
        benign = st.one_of(
            st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=12),
            st.sampled_from(ODD_TEXT),
            st.lists(st.sampled_from(ODD_TEXT), min_size=2, max_size=4).map("".join),
        ).filter(lambda t: "{{" not in t)
        hostile = st.one_of(
            st.sampled_from(HOSTILE_TEXT),
            st.text(st.characters(exclude_categories=("Cs",)), max_size=12),  # type: ignore[arg-type]
            st.lists(st.sampled_from(HOSTILE_TEXT + ODD_TEXT), min_size=2, max_size=4).map("".join),
        )
        return self.of(benign, hostile)

    def names(self) -> st.SearchStrategy[str]:
        return self.of(plain, st.sampled_from(["a" * 63, "a.b", "a_b", "0", "x" * 64, "Bad", "-x", "a\n"]))

    def label_maps(self) -> st.SearchStrategy[dict[str, str]]:
        keys = self.of(
            st.from_regex(r"[a-zA-Z][a-zA-Z0-9_]{0,15}", fullmatch=True).filter(lambda k: k not in RESERVED),
            st.sampled_from(
                ["bad key", "__name__", "1abc", "a-b", "é", "severity", "burn", "source", "objective"]
            ),
        )
        return st.dictionaries(keys, self.text(), max_size=3)

    def durations(self) -> st.SearchStrategy[str]:
        return self.of(
            st.sampled_from(["1m", "2m", "5m", "15m", "1h"]),  # valid in every duration field
            st.sampled_from(
                [
                    "30s",
                    "90s",
                    "1h30m",
                    "1d",
                    "1ms",
                    "25h",
                    "8d",
                    "400d",
                    "200y",
                    "99999999999y",
                    "0s",
                    "-5m",
                    "",
                ]
            ),
        )

    def numbers(self) -> st.SearchStrategy[Any]:
        return self.of(
            st.one_of(
                st.floats(min_value=0, max_value=1e4, allow_nan=False), st.sampled_from([0, 1, 0.5, 3600])
            ),
            st.sampled_from([1e-20, 1e300, float("inf"), float("nan"), True, "1.5", "99.9%", -1]),
        )

    def objectives(self) -> st.SearchStrategy[Any]:
        return self.of(
            st.one_of(
                st.sampled_from([99.9, 99, 95, 99.5, 99.99, 99.999, 99.9999, 90, 50.5, 99.95]),
                st.floats(min_value=0.01, max_value=99.9999).map(lambda v: round(v, 4)),
            ),
            st.sampled_from([99.99999, 99.99999999999, 99.12345, 100, 0, True, "99.9", float("nan")]),
        )

    def urls(self) -> st.SearchStrategy[str]:
        return self.of(
            st.one_of(
                st.sampled_from(
                    ["http://host.example.com:9870", "https://h.example.com/a/b?x=1", "http://[::1]:8080"]
                ),
                st.from_regex(r"[a-z0-9._~-]{1,20}", fullmatch=True).map(
                    lambda p: f"http://h.example.com/{p}"
                ),
            ),
            st.one_of(
                st.sampled_from(
                    [
                        "http://h/a\nb",
                        "http://h/{{x}}",
                        "http://h:99999",
                        "https://TOKEN@h",
                        "http://h?token=x",
                    ]
                ),
                self.text().map(lambda t: f"http://h.example.com/{t}"),
            ),
        )

    @st.composite
    def queries(draw: st.DrawFn, self: Pick, kind: str, tag: str) -> str:  # noqa: N805 (draw comes first)
        """An SLI query; `tag` is in every metric name (two SLOs with one tag may read the same series)."""
        value = draw(st.one_of(plain, self.text()))  # quotes, backslashes, line breaks included
        matcher = "{" + f"path={_promql_string(value)}" + "}"
        good = {
            "errors": [
                'sum(rate(http_requests_total{code=~"5.."}[{{window}}]))',
                f"sum(rate(http_requests_total{matcher}[{{{{window}}}}]))",
                "sum by (job) (rate(errors_total[{{window}}]))",
            ],
            "total": [
                "sum(rate(http_requests_total[{{window}}]))",
                f"sum(rate(http_requests_total{matcher}[{{{{window}}}}]))",
            ],
            "raw": [
                "sum(rate(e[{{window}}])) / sum(rate(t[{{window}}]))",
                "1 - (sum(rate(good[{{window}}])) / sum(rate(t[{{window}}])))",
            ],
        }[kind]
        hostile = [
            "sum(rate(e[{{window}}])) # comment",
            "scalar(sum(rate(e[{{window}}])))",
            "rate(e[{{window}}])[5m:]",
            "sum(rate(e[5m]))",
            "sum(rate(e[{{window}}])",
            "limitk(1, rate(e[{{window}}]))",
        ]
        query: str = draw(self.of(st.sampled_from(good), st.sampled_from(hostile)))
        for metric in ("http_requests_total", "errors_total", "e[", "t[", "good["):
            query = query.replace(metric, f"{tag}_{metric}")
        return query


RESERVED = {"severity", "team", "service", "slo", "tier", "alertname", "burn", "component", "source"}
RESERVED |= {"objective", "window", "sli", "calendar"}
"""Label names the catalog reserves (docs/catalog.md); benign label maps avoid them."""


def _promql_string(value: str) -> str:
    """A PromQL double-quoted string (Go's escapes), written here independently of rules/promql.py."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _drop_none(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if v is not None}


@st.composite
def alert_specs(draw: st.DrawFn, pick: Pick) -> Any:
    if draw(st.integers(0, 4)) == 0:
        return draw(st.booleans())
    return _drop_none(
        {
            "for": draw(_maybe(pick.durations())),
            "labels": draw(_maybe(pick.label_maps())),
            "annotations": draw(_maybe(pick.label_maps())),
        }
    )


@st.composite
def alert_overrides(draw: st.DrawFn, pick: Pick) -> Any:
    if draw(st.integers(0, 4)) == 0:
        return draw(st.booleans())
    return _drop_none(
        {
            "threshold": draw(_maybe(pick.numbers())),
            # Not 1d: its generated tests pass but take 1,445 evaluations of every rule per test group
            # (minutes of promtool on a loaded machine); 1h and 1h30m prove the series cover a long `for`.
            "for": draw(_maybe(pick.durations().filter(lambda d: d != "1d"))),
            "severity": draw(
                _maybe(pick.of(st.sampled_from(["critical", "warning", "info"]), st.just("page")))
            ),
            "labels": draw(_maybe(pick.label_maps())),
        }
    )


@st.composite
def slis(
    draw: st.DrawFn, pick: Pick, tag: str, datasets: list[str], kafka: list[tuple[str, str]]
) -> dict[str, Any]:
    """An SLI of any kind. Datasets and groups are taken from the lists (so each feeds one SLO)."""
    kind = draw(st.sampled_from(["events", "events", "latency", "freshness", "kafka_lag", "raw"]))
    if kind == "events":
        first = draw(st.sampled_from(["errors", "good"]))
        return {
            "events": {first: draw(pick.queries("errors", tag)), "total": draw(pick.queries("total", tag))}
        }
    if kind == "latency":
        histogram = draw(
            pick.of(
                st.sampled_from([f"{tag}_request_duration_seconds", f"rpc:{tag}_latency_seconds"]),
                st.sampled_from(["x\n", "x_bucket", "a-b"]),
            )
        )
        le = draw(pick.of(st.sampled_from([0.005, 0.1, 0.25, 0.3, 1, 2.5, 10, 1e-20, 1e6]), pick.numbers()))
        selector = draw(
            pick.of(
                st.sampled_from(["{}", '{job="api"}', '{job="a\\\\b", code!~"5.."}']),
                st.sampled_from(['{job="a\\q"}', "job=x", '{a=~"("}']),
            )
        )
        return {"latency": {"histogram": histogram, "le": le, "selector": selector}}
    if kind == "freshness" and datasets:
        return {"freshness": {"dataset": datasets.pop(), "max_age": draw(pick.durations())}}
    if kind == "kafka_lag" and kafka:
        cluster, group = kafka.pop()
        return {"kafka_lag": {"cluster": cluster, "group": group, "max_lag_seconds": draw(pick.numbers())}}
    return {"raw": {"error_ratio": draw(pick.queries("raw", tag))}}


@st.composite
def catalogs(draw: st.DrawFn) -> dict[str, Any]:
    pick = Pick(draw(st.sampled_from([0, 0, 1, 3, 20])))
    team_names = draw(st.lists(pick.names(), min_size=1, max_size=2, unique=True))
    teams = []
    for name in team_names:
        slack = pick.of(
            st.sampled_from(["#ops", "#données", "@me"]), st.sampled_from(["#a b", "ops", "#a\n"])
        )
        email = pick.of(
            st.sampled_from(["a@example.com", "x+y@b.example.org"]),
            st.sampled_from(["a@b\n", "{{a}}@b.c", "a@ü.de", "a b@c.d"]),
        )
        channels = _drop_none(
            {
                "slack": draw(_maybe(slack.map(lambda c: {"channel": c, "api_url_env": "SLACK_URL"}))),
                "webhook": draw(_maybe(pick.urls().map(lambda u: {"url": u}))),
                "email": draw(_maybe(email.map(lambda a: {"to": [a]}))),
                "pagerduty": draw(_maybe(st.just({"routing_key_env": "PD_KEY"}))),
            }
        )
        teams.append({"name": name, "owners": ["oncall@example.com"], "channels": channels})
    services = [
        _drop_none(
            {
                "name": f"svc-{index}",
                "team": draw(st.sampled_from(team_names)),
                "tier": draw(st.sampled_from(["critical", "high", "medium", "low"])),
                "runbook": draw(_maybe(pick.urls())),
                "labels": draw(_maybe(pick.label_maps())),
            }
        )
        for index in range(draw(st.integers(1, 2)))
    ]
    service_names = [s["name"] for s in services]
    alert_keys = {
        "kafka": ["lag_seconds", "source_down", "partition_status", "stale_collection"],
        "inference": ["latency_p99", "probe_failing", "source_down", "error_ratio"],
        "yarn": ["failed_apps", "queue_saturated", "lost_nodes", "source_down"],
        "freshness": ["stale", "source_absent"],
    }

    def overrides(kind: str) -> st.SearchStrategy[Any]:
        return _maybe(st.dictionaries(st.sampled_from(alert_keys[kind]), alert_overrides(pick), max_size=2))

    kafka = [
        _drop_none(
            {
                "name": f"k{index}",
                "service": draw(st.sampled_from(service_names)),
                "bootstrap": "kafka:9092",
                "groups": draw(st.lists(st.one_of(plain, pick.text()), min_size=1, max_size=2)),
                "poll_interval": draw(_maybe(pick.durations())),
                "alerts": draw(overrides("kafka")),
            }
        )
        for index in range(draw(st.integers(0, 1)))
    ]
    freshness = [
        _drop_none(
            {
                "dataset": draw(st.sampled_from(["orders", "warehouse.orders", "a-b_c"])),
                "service": draw(st.sampled_from(service_names)),
                "max_age": draw(pick.durations()),
                "sql": {"url_env": "WAREHOUSE_URL", "query": "select max(t) from x"},
                "alerts": draw(overrides("freshness")),
            }
        )
        for _ in range(draw(st.integers(0, 1)))
    ]
    sources: dict[str, Any] = {"kafka": kafka, "freshness": freshness}
    if draw(st.integers(0, 3)) == 0:
        headers = st.dictionaries(
            pick.of(
                st.sampled_from(["Content-Type", "X-Req"]), st.sampled_from(["X-Auth-Token", "Cookie", "A B"])
            ),
            pick.text(),
            max_size=1,
        )
        sources["inference"] = [
            _drop_none(
                {
                    "name": "model",
                    "service": draw(st.sampled_from(service_names)),
                    "url": draw(pick.urls()),
                    "interval": draw(_maybe(pick.durations())),
                    "latency_target": draw(_maybe(pick.durations())),
                    "request": {"headers": draw(headers)},
                    "alerts": draw(overrides("inference")),
                }
            )
        ]
    if draw(st.integers(0, 3)) == 0:
        sources["yarn"] = [
            {
                "name": "rm",
                "service": draw(st.sampled_from(service_names)),
                "resourcemanagers": ["http://rm.example.com:8088"],
                "alerts": draw(overrides("yarn")) or {},
            }
        ]
    if draw(st.integers(0, 4)) == 0:
        sources["spark"] = [
            _drop_none(
                {
                    "name": "history",
                    "service": draw(st.sampled_from(service_names)),
                    "url": draw(pick.urls()),
                    "lookback": draw(_maybe(pick.durations())),
                    "max_applications": draw(
                        _maybe(pick.of(st.sampled_from([1, 50]), st.sampled_from([50.5, True, "10"])))
                    ),
                }
            )
        ]
    groups = list(dict.fromkeys((k["name"], g) for k in kafka for g in k["groups"]))
    datasets = [f["dataset"] for f in freshness]
    slos = []
    for index in range(draw(st.integers(1, 2))):
        alerting = _drop_none(
            {
                "name": draw(_maybe(pick.of(st.just("ApiBurn"), st.sampled_from(["Bad-Name", "ApiBurn\n"])))),
                "page": draw(_maybe(alert_specs(pick))),
                "ticket": draw(_maybe(alert_specs(pick))),
                "labels": draw(_maybe(pick.label_maps())),
                "annotations": draw(_maybe(pick.label_maps())),
                "min_events_per_hour": draw(_maybe(st.sampled_from([0, 10, 100, 0.5]))),
            }
        )
        slos.append(
            _drop_none(
                {
                    "name": f"slo-{index}",
                    "service": draw(st.sampled_from(service_names)),
                    "objective": draw(pick.objectives()),
                    "window": draw(
                        pick.of(
                            st.sampled_from(["7d", "28d", "30d", "week", "month", "quarter", "4w"]),
                            st.just("1d"),
                        )
                    ),
                    "description": draw(_maybe(pick.text())),
                    # Sometimes both SLOs read the same series (test_two_slos_reading_the_same_series_...).
                    "sli": draw(slis(pick, draw(st.sampled_from([f"s{index}", "s"])), datasets, groups)),
                    "alerting": alerting or None,
                    "labels": draw(_maybe(pick.label_maps())),
                }
            )
        )
    catalog: dict[str, Any] = {"teams": teams, "services": services, "slos": slos, "sources": sources}
    if draw(st.integers(0, 4)) == 0:
        retrain = st.builds(
            lambda u, c: {"webhook": {"url": u}, "cooldown": c}, pick.urls(), pick.durations()
        )
        catalog["drift"] = [
            _drop_none(
                {
                    "name": "features",
                    "service": draw(st.sampled_from(service_names)),
                    "reference": {"path": "ref.parquet"},
                    "current": {"path": "cur.parquet"},
                    "schedule": draw(_maybe(pick.durations())),
                    "retrain": draw(_maybe(retrain)),
                }
            )
        ]
    return catalog


def run_cli(*args: str) -> tuple[int, str]:
    """`watchkeeper ARGS` in-process: exit code, and output plus any uncaught exception's traceback."""
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "400", "NO_COLOR": "1"})
    output = result.stdout + result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        output += "".join(traceback.format_exception(result.exception))
    return result.exit_code, output


def _event(name: str) -> None:
    """Count an outcome in hypothesis' statistics (only inside a hypothesis test)."""
    if currently_in_test_context():
        event(name)


def _run(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd, timeout=TOOL_TIMEOUT)


def check_promise(catalog: dict[str, Any], promtool: str, amtool: str) -> None:
    """Validate the catalog; if it is accepted, every generated artifact must pass the real tools."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "catalog").mkdir()
        source = yaml.safe_dump(catalog, allow_unicode=True, sort_keys=False)
        (root / "catalog" / "c.yaml").write_text(source, encoding="utf-8")
        shown = f"catalog:\n{source}"
        try:
            load_catalog(root / "catalog")
        except CatalogError as exc:
            for problem in exc.problems:
                assert problem.file.endswith("c.yaml") and problem.line is not None, f"{problem}\n{shown}"
            _event("refused by validate")
            return
        _event("accepted by validate")
        out = ["--out", str(root / "rules"), "--tests", str(root / "tests")]
        code, output = run_cli("generate", "rules", str(root / "catalog"), *out)
        assert code == 0, f"generate rules failed:\n{output}\n{shown}"
        tests = sorted(str(p) for p in (root / "tests").glob("*.yml"))
        result = _run([promtool, "test", "rules", *tests])
        assert result.returncode == 0, (
            f"promtool test rules failed:\n{result.stdout[-4000:]}{result.stderr[-2000:]}\n{shown}"
        )
        code, output = run_cli(
            "generate", "alertmanager", str(root / "catalog"), "--out", str(root / "am.yml")
        )
        assert code == 0, f"generate alertmanager failed:\n{output}\n{shown}"
        result = _run([amtool, "check-config", str(root / "am.yml")])
        assert result.returncode == 0, f"amtool check-config failed:\n{result.stdout}{result.stderr}\n{shown}"


@pytest.mark.timeout(120 + 40 * EXAMPLES)  # the whole run; the default 300 s is per test function
@settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=2 * TOOL_TIMEOUT),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target],  # no shrinking: each run is slow
    print_blob=True,
)
@given(catalogs())
def test_what_validate_accepts_generates_what_promtool_and_amtool_accept(catalog: dict[str, Any]) -> None:
    check_promise(catalog, require_binary("promtool"), require_binary("amtool"))


# Found by this fuzz test: rules/unit_tests.py expected only the tested SLO's alerts, but an SLO reading the
# same series fires too. Now it is simulated beside it (and a case another SLO reads in part is left out).
def test_two_slos_reading_the_same_series_get_passing_tests() -> None:
    queries = {"errors": "sum(rate(e[{{window}}]))", "total": "sum(rate(t[{{window}}]))"}
    catalog = {
        "teams": [{"name": "t", "owners": ["a@example.com"]}],
        "services": [{"name": "s", "team": "t"}],
        "slos": [
            {"name": "a", "service": "s", "objective": 99, "sli": {"events": queries}},
            {"name": "b", "service": "s", "objective": 99.9, "sli": {"events": queries}},
        ],
    }
    check_promise(catalog, require_binary("promtool"), require_binary("amtool"))


# Found by this fuzz test (and a hostile-input review): rules/sli_inputs.py re-parsed promql_parser's str()
# of a selector, which does not escape quotes, backslashes or line breaks (a ValueError traceback, or tests
# fed the wrong label value). Such selectors now fall back to recorded-rate inputs.
@pytest.mark.parametrize("value", ["a\\\\q", 'a\\"q', "a\\nb"])
def test_a_query_matching_a_quote_or_backslash_generates_rules(value: str) -> None:
    errors = 'sum(rate(e{path="' + value + '"}[{{window}}]))'
    catalog = {
        "teams": [{"name": "t", "owners": ["a@example.com"]}],
        "services": [{"name": "s", "team": "t"}],
        "slos": [
            {"name": "a", "service": "s", "objective": 99,
             "sli": {"events": {"errors": errors, "total": "sum(rate(t[{{window}}]))"}}},
        ],
    }  # fmt: skip
    check_promise(catalog, require_binary("promtool"), require_binary("amtool"))


# Found by this fuzz test: a component alert's promtool test fed 20 minutes of samples whatever its `for`, so
# with for: 1h it was checked at 1h5m on stale series. The series now run to the evaluation time.
def test_a_component_alert_with_a_long_for_gets_passing_tests() -> None:
    catalog = {
        "teams": [{"name": "t", "owners": ["a@example.com"]}],
        "services": [{"name": "s", "team": "t"}],
        "sources": {
            "kafka": [
                {
                    "name": "k",
                    "service": "s",
                    "bootstrap": "kafka:9092",
                    "alerts": {"source_down": {"for": "1h"}},
                }
            ]
        },
    }
    check_promise(catalog, require_binary("promtool"), require_binary("amtool"))


# Found by this fuzz test: these alerts' generated tests used fixed firing and silent values whatever the
# threshold. The values now straddle the threshold.
@pytest.mark.parametrize(
    ("kind", "entry", "alert", "threshold"),
    [
        ("yarn", {"name": "y", "resourcemanagers": ["http://rm:8088"]}, "failed_apps", 0.3),
        ("yarn", {"name": "y", "resourcemanagers": ["http://rm:8088"]}, "queue_saturated", 0.5),
        ("inference", {"name": "m", "url": "http://m:8080/p"}, "error_ratio", 0.5),
    ],
)
def test_a_threshold_override_gets_passing_tests(
    kind: str, entry: dict[str, Any], alert: str, threshold: float
) -> None:
    source = {**entry, "service": "s", "alerts": {alert: {"threshold": threshold}}}
    catalog = {
        "teams": [{"name": "t", "owners": ["a@example.com"]}],
        "services": [{"name": "s", "team": "t"}],
        "sources": {kind: [source]},
    }
    check_promise(catalog, require_binary("promtool"), require_binary("amtool"))
