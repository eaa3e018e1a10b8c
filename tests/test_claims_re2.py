"""Claims read as Prometheus reads them (RE2, Go's regexp), proved with real promtool: for every name, exactly
one owner's share selects it, and it is the owner `watchkeeper owner` names. The hostile cases come from the
review of issue 11 (/tmp/review11/h: flag, posix, dbl, maxcp, digit); the property test generates patterns
from the supported subset and names around them."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog import CatalogError, load_catalog
from catalog.claims import ClaimIndex
from exporters.names import KAFKA_CLUSTER_LABEL, KAFKA_GROUP_MAX_LAG_SECONDS
from rules.names import PART_OWNERSHIP_INFO
from rules.ownership import ownership_group
from rules.render import rule_file
from tests.conftest import require_binary

pytestmark = pytest.mark.promtool

SOURCE_OWNER = "kafka-prod"


def catalog_text(a: list[str], b: list[str]) -> str:
    """The review's h/mk.py catalog: Kafka `prod` owned by platform, svc-a and svc-b claim groups."""
    return f"""
teams:
  - {{name: platform, owners: [p@example.com]}}
  - {{name: team-a, owners: [a@example.com]}}
  - {{name: team-b, owners: [b@example.com]}}
services:
  - {{name: {SOURCE_OWNER}, team: platform}}
  - name: svc-a
    team: team-a
    claims:
      kafka: [{{source: prod, groups: {json.dumps(a, ensure_ascii=False)}}}]
  - name: svc-b
    team: team-b
    claims:
      kafka: [{{source: prod, groups: {json.dumps(b, ensure_ascii=False)}}}]
sources:
  kafka:
    - {{name: prod, service: {SOURCE_OWNER}, bootstrap: "k:9092"}}
"""


def _label(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a Go string literal for these names (no raw controls)


def promtool_owners(tmp: Path, a: list[str], b: list[str], names: list[str]) -> tuple[bool, str]:
    """Run the generated ownership rules in promtool with one series per name, expecting each name exactly
    once, with the service `ClaimIndex.resolve` (what `watchkeeper owner` answers) gives it."""
    promtool = require_binary("promtool")
    (tmp / "c.yaml").write_text(catalog_text(a, b))
    catalog = load_catalog(tmp / "c.yaml").catalog
    group = ownership_group(catalog)
    assert group is not None
    (tmp / "o.rules.yml").write_text(rule_file([group]))
    index = ClaimIndex.of(catalog)
    expected = []
    for name in names:
        claim = index.resolve("kafka_group", "prod", name)
        service = claim.service if claim else SOURCE_OWNER
        expected.append({"labels": f"{{group={_label(name)}, service={_label(service)}}}", "value": 1})
    test = {
        "rule_files": ["o.rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {
                        "series": f'{KAFKA_GROUP_MAX_LAG_SECONDS}{{{KAFKA_CLUSTER_LABEL}="prod", '
                        f"group={_label(n)}}}",
                        "values": "1x3",
                    }
                    for n in names
                ],
                "promql_expr_test": [
                    {
                        "expr": f"count by (group, service) ({PART_OWNERSHIP_INFO})",
                        "eval_time": "2m",
                        "exp_samples": expected,
                    }
                ],
            }
        ],
    }
    (tmp / "o.test.yml").write_text(yaml.safe_dump(test, allow_unicode=True))
    done = subprocess.run(
        [promtool, "test", "rules", str(tmp / "o.test.yml")],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode == 0, done.stdout + done.stderr


HOSTILE = [
    # (a's groups, b's groups, names): each failed before the fix (double fire or no owner at all).
    # (?i) leaked into the unclaimed rest's bare `a|b` alternation: X-BATCH had no owner.
    (["re:(?i)orders-.*"], ["re:.*-batch"], ["X-BATCH", "x-batch", "orders-x", "ORDERS-x-batch", "x"]),
    # [[:digit:]] is a POSIX class in RE2, text in Python's re: grp-7 fired for both a and b.
    (["re:grp-[[:digit:]]+"], ["grp-7"], ["grp-7", "grp-8", "grp-x", "grp-"]),
    # An escaped backslash before '|': the old text-replacement prefix read `a\\|b` as having no alternation.
    (["re:a\\\\|b"], ["b"], ["b", "a\\", "a", "a|b"]),
    # A literal containing U+10FFFF after the pattern's prefix fell outside the sorted search bound.
    (
        ["re:^orders-.*"],
        ["orders-\U0010ffff", "orders-\U0010ffffx"],
        ["orders-\U0010ffff", "orders-\U0010ffffx", "orders-x"],
    ),
    # h/self: a name listed twice by one service (a warning) made two identical rules: its alert fired twice.
    (["a", "a", "re:x.*", "re:x.*"], ["b"], ["a", "b", "xy", "c"]),
    # \d is ASCII in RE2/Go: job-١٢ (Arabic-Indic digits) is not a's, Prometheus pages platform.
    (["re:job-\\d+"], ["re:job-.*"], ["job-12", "job-١٢", "job-x"]),
]


@pytest.mark.parametrize(("a", "b", "names"), HOSTILE)
def test_each_name_has_exactly_one_owner_in_promtool(
    tmp_path: Path, a: list[str], b: list[str], names: list[str]
) -> None:
    ok, output = promtool_owners(tmp_path, a, b, names)
    assert ok, output


def test_owner_and_prometheus_agree_on_unicode_digits() -> None:
    """Go's `\\d` is [0-9] (regexp/syntax docs: "\\d digits (== [0-9])"), so job-١٢ is not job-\\d+."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "c.yaml").write_text(catalog_text(["re:job-\\d+"], ["re:zz-.*"]))
        index = ClaimIndex.of(load_catalog(Path(tmp) / "c.yaml").catalog)
    assert index.resolve("kafka_group", "prod", "job-١٢") is None
    claim = index.resolve("kafka_group", "prod", "job-12")
    assert claim is not None and claim.service == "svc-a"


# The supported subset, built from pieces RE2 and Go read the same way.
PIECES = st.sampled_from(
    ["a", "b", "-", "ab", "\\.", ".", ".*", ".+", "[ab]", "[^a]", "\\d", "[[:digit:]]", "x?", "(a|b)"]
)
PATTERNS = st.builds(
    lambda flag, anchor, pieces, alt: flag + anchor + "".join(pieces) + (f"|{alt}" if alt else ""),
    st.sampled_from(["", "", "(?i)"]),
    st.sampled_from(["", "^"]),
    st.lists(PIECES, min_size=1, max_size=4),
    st.sampled_from(["", "", "b.*", "\\\\"]),
)
NAMES = st.text(alphabet="abAB-.1\u0661x\\|", min_size=1, max_size=5)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    patterns=st.lists(PATTERNS, min_size=1, max_size=4, unique=True),
    literals=st.lists(NAMES, max_size=3, unique=True),
    names=st.lists(NAMES, min_size=1, max_size=8, unique=True),
    split=st.integers(0, 4),
)
def test_generated_claims_partition_every_name(
    patterns: list[str], literals: list[str], names: list[str], split: int
) -> None:
    claims = [f"re:{p}" for p in patterns] + literals
    a, b = claims[:split], claims[split:]
    if not a or not b:
        a, b = claims, ["zz-none"]
    b = [x for x in b if x not in a] or ["zz-none"]
    with tempfile.TemporaryDirectory() as tmp:
        try:
            ok, output = promtool_owners(Path(tmp), a, b, list(dict.fromkeys(names + literals)))
        except CatalogError as exc:
            pytest.fail(f"a pattern of the supported subset was refused: {exc}")
    assert ok, output
