"""The generated promtool tests must catch a broken SLI translation, not just agree with it.

The tests are generated once from the real code. Then rules/sli.py's translation is broken on purpose
(errors and total swapped, the wrong `le`, a matcher dropped, ...), the rule files alone are generated
again, and the ORIGINAL tests must fail on them: they feed raw series (counters and histogram buckets),
so their expectations do not depend on how the rules read those series.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

import rules.sli
import rules.slo_recordings
from catalog.model.slos import SLO
from rules.sli import SLIExpressions
from tests.conftest import require_binary, run_cli

pytestmark = pytest.mark.promtool

CATALOG = """
teams: [{name: t, owners: [a@example.com]}]
services: [{name: s, team: t, tier: high}]
slos:
  - name: errors-form
    service: s
    objective: 99.5
    sli:
      events:
        errors: sum(rate(http_requests_total{job="api", code=~"5.."}[{{window}}]))
        total: sum(rate(http_requests_total{job="api"}[{{window}}]))
  - name: good-form
    service: s
    objective: 99
    sli:
      events:
        good: sum(rate(jobs_total{queue="etl", result="ok"}[{{window}}]))
        total: sum(rate(jobs_total{queue="etl"}[{{window}}]))
  - name: two-counters
    service: s
    objective: 99
    sli:
      events:
        errors: sum(rate(apps_failed_total{cluster="prod"}[{{window}}]))
        total: sum(rate(apps_completed_total{cluster="prod"}[{{window}}])) + sum(rate(apps_failed_total{cluster="prod"}[{{window}}]))
  - name: latency
    service: s
    objective: 99
    sli:
      latency: {histogram: req_duration_seconds, le: 0.25, selector: '{route="/pay"}', buckets: [0.1, 0.25, 1]}
  - name: raw-ratio
    service: s
    objective: 99
    sli:
      raw:
        error_ratio: sum(rate(probe_failed_total{target="db"}[{{window}}])) / sum(rate(probe_total{target="db"}[{{window}}]))
"""

Translate = Callable[[SLO], SLIExpressions]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_binary("promtool")
    root = tmp_path_factory.mktemp("mutations")
    (root / "c.yaml").write_text(CATALOG)
    result = run_cli(
        "generate",
        "rules",
        str(root / "c.yaml"),
        "--out",
        str(root / "rules"),
        "--tests",
        str(root / "tests"),
    )
    assert result.code == 0, result.output
    return root


def _promtool_test(root: Path, slo: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the generated SLO tests; with `slo`, only that SLO's groups, minus the long spike case
    (each group evaluates every rule of the file, so this keeps a run to a few seconds)."""
    promtool = require_binary("promtool")
    path = root / "tests" / "slo-t.test.yml"
    if slo is not None:
        document = yaml.safe_load(path.read_text())
        document["tests"] = [
            t for t in document["tests"] if t["name"].startswith(f"SLO {slo}:") and "spike" not in t["name"]
        ]
        assert document["tests"], f"no generated tests for {slo}"
        path = path.with_name(f"only-{slo}.test.yml")
        path.write_text(yaml.safe_dump(document, sort_keys=False))
    return subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False)


def _swap_errors_and_total(translate: Translate, slo: SLO) -> SLIExpressions:
    expr = translate(slo)
    if slo.name != "errors-form":
        return expr
    return SLIExpressions(expr.total, expr.errors, expr.time_based, expr.note)


def _good_read_as_errors(translate: Translate, slo: SLO) -> SLIExpressions:
    expr = translate(slo)
    if slo.sli.events is None or slo.sli.events.good is None:
        return expr
    good = rules.sli.fill(slo.sli.events.good, rules.sli.FIVE_MINUTES)
    return SLIExpressions(good, expr.total, expr.time_based, expr.note)


def _drop_a_matcher(translate: Translate, slo: SLO) -> SLIExpressions:
    expr = translate(slo)
    if slo.name != "two-counters":
        return expr
    # The failed-apps counter loses cluster="prod" in the errors query only.
    return SLIExpressions(expr.errors.replace('{cluster="prod"}', ""), expr.total, expr.time_based, expr.note)


def _drop_the_total_matcher(translate: Translate, slo: SLO) -> SLIExpressions:
    expr = translate(slo)
    if slo.name != "errors-form":
        return expr
    return SLIExpressions(expr.errors, expr.total.replace('{job="api"}', ""), expr.time_based, expr.note)


def _invert_the_raw_ratio(translate: Translate, slo: SLO) -> SLIExpressions:
    expr = translate(slo)
    if slo.sli.raw is None:
        return expr
    return SLIExpressions(
        re.sub(r"(.*) / (.*)", r"\2 / \1", expr.errors), expr.total, expr.time_based, expr.note
    )


TRANSLATION_MUTATIONS = {
    "errors and total swapped": (_swap_errors_and_total, "errors-form"),
    "the good query read as the errors": (_good_read_as_errors, "good-form"),
    "a matcher dropped from the errors query": (_drop_a_matcher, "two-counters"),
    "a matcher dropped from the total query": (_drop_the_total_matcher, "errors-form"),
    "a raw ratio turned upside down": (_invert_the_raw_ratio, "raw-ratio"),
}


def _regenerate_rules(root: Path, tmp_path: Path) -> Path:
    """Copy the generated files and regenerate only the rules, with whatever translation is patched in."""
    copy = tmp_path / "g"
    shutil.copytree(root, copy)
    result = run_cli("generate", "rules", str(copy / "c.yaml"), "--out", str(copy / "rules"))
    assert result.code == 0, result.output
    return copy


def test_the_generated_tests_pass_on_the_real_translation(generated: Path) -> None:
    result = _promtool_test(generated)
    assert result.returncode == 0, result.stdout + result.stderr
    text = (generated / "tests" / "slo-t.test.yml").read_text()
    # Raw series, not the recorded rates: the counters and buckets the SLI queries select.
    assert "slo:sli_errors:rate5m" not in text
    for series in (
        'http_requests_total{code="500", job="api"}',
        'jobs_total{queue="etl", result="ok"}',
        'apps_failed_total{cluster="prod"}',
        'req_duration_seconds_bucket{le="0.25", route="/pay"}',
        'req_duration_seconds_count{route="/pay"}',
        'probe_failed_total{target="db"}',
    ):
        assert series in text, series


@pytest.mark.parametrize("mutation", sorted(TRANSLATION_MUTATIONS))
def test_the_generated_tests_fail_when_the_sli_translation_is_broken(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mutation: str
) -> None:
    mutate, slo = TRANSLATION_MUTATIONS[mutation]
    real = rules.sli.sli_expressions
    monkeypatch.setattr(rules.slo_recordings, "sli_expressions", lambda s: mutate(real, s))
    copy = _regenerate_rules(generated, tmp_path)
    assert (copy / "rules" / "slo-t.rules.yml").read_text() != (
        generated / "rules" / "slo-t.rules.yml"
    ).read_text()
    assert _promtool_test(generated, slo).returncode == 0  # the same subset passes on the real rules
    result = _promtool_test(copy, slo)
    assert result.returncode != 0, f"{mutation}: the generated tests still pass"
    assert f"SLO {slo}:" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("mutation", "patch"),
    [
        # The bucket one bound up: requests between 0.25 s and 1 s would count as good.
        ("the wrong le", ("le_regex", lambda real: lambda le: real(le * 4))),
        # The bucket read without the route selector: every route's requests would count.
        (
            "the selector dropped from the bucket",
            ("_with_matcher", lambda real: lambda sel, extra: "{" + extra + "}"),
        ),
    ],
)
def test_the_generated_tests_fail_when_the_latency_translation_is_broken(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mutation: str, patch: tuple[str, object]
) -> None:
    name, make = patch
    monkeypatch.setattr(rules.sli, name, make(getattr(rules.sli, name)))  # type: ignore[operator]
    copy = _regenerate_rules(generated, tmp_path)
    assert (copy / "rules" / "slo-t.rules.yml").read_text() != (
        generated / "rules" / "slo-t.rules.yml"
    ).read_text()
    assert _promtool_test(generated, "latency").returncode == 0
    result = _promtool_test(copy, "latency")
    assert result.returncode != 0, f"{mutation}: the generated tests still pass"
    assert "SLO latency:" in result.stdout + result.stderr
