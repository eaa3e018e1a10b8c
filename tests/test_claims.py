"""Claims in the catalog: the errors `validate` gives (file, line, fix), and the most-specific-wins rule
checked against a hand-written reference matcher with hypothesis."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import CatalogError, load_catalog
from catalog.claims import Claim, ClaimIndex, literal_prefix_length
from tests.conftest import EXAMPLE_CATALOG, run_cli

HEAD = """
teams:
  - name: platform
    owners: [oncall@example.com]
  - name: data
    owners: [data@example.com]
sources:
  kafka: [{name: prod, service: kafka-prod, bootstrap: "kafka:9092"}]
  yarn: [{name: prod, service: kafka-prod, resourcemanagers: ["http://rm:8088"]}]
  spark: [{name: history, service: kafka-prod, url: "http://spark:18080"}]
services:
  - name: kafka-prod
    team: platform
"""


def write(tmp_path: Path, services: str) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(textwrap.dedent(HEAD).lstrip() + services.strip("\n") + "\n")
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    return [str(p) for p in info.value.problems]


def line_of(path: Path, text: str) -> int:
    """The 1-based line holding `text` (the expectation comes from the file, not from the loader)."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_a_claim_on_an_unknown_source_names_file_line_and_the_fix(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
  - name: etl
    team: data
    claims:
      kafka:
        - source: prdo
          groups: [orders-etl]
      yarn: [{source: nosuch, queues: [root.a]}]
""",
    )
    found = errors(path)
    assert found == [
        f'{path}:{line_of(path, "source: prdo")}: services[1] "etl".claims.kafka[0].source: unknown kafka '
        "source 'prdo': a claim names a source defined under sources.kafka; define it there or fix the name; "
        "did you mean 'prod'?",
        f'{path}:{line_of(path, "nosuch")}: services[1] "etl".claims.yarn[0].source: unknown yarn source '
        "'nosuch': a claim names a source defined under sources.yarn; define it there or fix the name",
    ]


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ("re:(", "missing ): ("),
        ("re:", "has no regex after it"),
        ("re:(?=orders)o.*", "invalid perl operator: (?="),
        ("re:(a)\\\\1", "invalid escape sequence: \\1"),
        (" orders", "is not a name"),
        # Python's re accepts every one of these; Prometheus (Go's regexp, RE2 syntax) refuses them or
        # reads them differently (review of issue 11, /tmp/review11/h/re*).
        ("re:(?#c)a", "invalid perl operator: (?#"),
        ("re:(?x)a b", "invalid perl operator: (?x"),
        ("re:(?a)a", "invalid perl operator: (?a"),
        ("re:a{1001}", "invalid repetition size: {1001}"),
        ("re:\\\\é", "invalid escape sequence"),
        ("re:\\\\N{DIGIT ONE}", "invalid escape sequence: \\N"),
        ("re:a\\\\Z", "invalid escape sequence: \\Z"),
        ("re:job-x{,3}", "reads it as literal text, not a repeat"),
        ("re:a\\\\Cb", "Go's regexp does not support it"),
        ("re:(?<n>a)", "Go regexp does not support it"),
    ],
)
def test_a_bad_pattern_is_refused_where_it_is_written(tmp_path: Path, pattern: str, says: str) -> None:
    path = write(
        tmp_path,
        f"""
  - name: etl
    team: data
    claims:
      spark:
        - source: history
          applications:
            - good
            - "{pattern}"
""",
    )
    [found] = errors(path)
    where = f'{path}:{line_of(path, pattern.strip() or "re:")}: services[1] "etl".claims.spark[0].applications[1]: '
    assert found.startswith(where), found
    assert says in found


def test_a_queue_must_be_a_full_path(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
  - name: bi
    team: data
    claims:
      yarn: [{source: prod, queues: [analytics]}]
""",
    )
    [found] = errors(path)
    assert found.startswith(
        f'{path}:{line_of(path, "analytics")}: services[1] "bi".claims.yarn[0].queues[0]: '
    )
    assert "did you mean 'root.analytics'?" in found


def test_two_services_claiming_the_same_literal_name_both_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
  - name: etl
    team: data
    claims:
      kafka: [{source: prod, groups: [orders-etl]}]
  - name: etl2
    team: data
    claims:
      kafka:
        - source: prod
          groups:
            - orders-etl
""",
    )
    first = line_of(path, "groups: [orders-etl]")
    second = line_of(path, "- orders-etl")
    assert errors(path) == [
        f"{path}:{second}: services[2] \"etl2\".claims.kafka[0].groups[0]: kafka group name 'orders-etl' on "
        f"'prod' is claimed by both service 'etl' (at {path}:{first}) and service 'etl2': one owner per name; "
        "remove it from one of them"
    ]


def test_the_same_name_on_different_sources_or_kinds_is_no_overlap(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
  - name: etl
    team: data
    claims:
      kafka: [{source: prod, groups: [orders]}]
  - name: etl2
    team: data
    claims:
      kafka: [{source: prod, topics: [orders]}]
      spark: [{source: history, applications: [orders]}]
""",
    )
    assert len(load_catalog(path).catalog.services) == 3


def test_cli_validate_exits_1_with_the_overlap(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
  - name: a
    team: data
    claims: {yarn: [{source: prod, queues: [root.analytics]}]}
  - name: b
    team: data
    claims: {yarn: [{source: prod, queues: [root.analytics]}]}
""",
    )
    result = run_cli("validate", str(path))
    assert result.code == 1
    assert "claimed by both service 'a'" in result.output and "and service 'b'" in result.output


def test_an_unknown_claim_key_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
  - name: a
    team: data
    claims: {kafka: [{source: prod, group: [x]}]}
""",
    )
    [found] = errors(path)
    assert "unknown key 'group'; did you mean 'groups'?" in found


def test_catalog_show_shows_which_claim_wins(tmp_path: Path) -> None:
    result = run_cli("catalog", "show", str(EXAMPLE_CATALOG))
    assert result.code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "claims kafka_group re:^analytics-.* on prod except what more specific claims win: " in text
    assert "analytics-churn-features (churn-serving)" in text


# --- specificity: the index against a hand-written reference -----------------------------------------


def reference_owner(claims: list[tuple[str, str]], name: str) -> str | None:
    """The documented rule, written independently: a literal equal to the name wins; else among matching
    patterns the longest fixed prefix (the characters before the first regex operator, hand-listed below),
    then the longest pattern text, then the first listed."""
    for pattern, owner in claims:
        if not pattern.startswith("re:") and pattern == name:
            return owner
    best: tuple[int, int, int] | None = None
    winner = None
    for i, (pattern, owner) in enumerate(claims):
        if pattern.startswith("re:") and re.fullmatch(pattern[3:], name):
            body = pattern[3:].lstrip("^")
            prefix = 0
            while prefix < len(body) and body[prefix] not in ".*+?[](){}|\\$":
                prefix += 1
            if prefix < len(body) and body[prefix] in "?*{" and prefix:
                prefix -= 1
            key = (prefix, len(pattern), -i)
            if best is None or key > best:
                best, winner = key, owner
    return winner


WORDS = st.text(alphabet="abo-", min_size=1, max_size=5)
PATTERNS = st.one_of(
    WORDS,
    WORDS.map(lambda w: f"re:^{w}.*"),
    WORDS.map(lambda w: f"re:{w}-?.*"),
    WORDS.map(lambda w: f"re:.*{w}"),
)


@settings(max_examples=300, deadline=None)
@given(
    claims=st.lists(PATTERNS, min_size=1, max_size=6, unique=True),
    names=st.lists(st.text(alphabet="abo-", max_size=8), min_size=1, max_size=10),
)
def test_the_most_specific_claim_wins(claims: list[str], names: list[str]) -> None:
    owned = [(p, f"svc{i}") for i, p in enumerate(claims)]
    index = ClaimIndex([Claim("kafka_group", "prod", p, s, i) for i, (p, s) in enumerate(owned)])
    for name in names + [p for p in claims if not p.startswith("re:")]:
        won = index.resolve("kafka_group", "prod", name)
        assert (won.service if won else None) == reference_owner(owned, name), (claims, name)


@settings(max_examples=300, deadline=None)
@given(
    claims=st.lists(PATTERNS, min_size=1, max_size=6, unique=True),
    names=st.lists(st.text(alphabet="abo-", max_size=8), min_size=1, max_size=10),
)
def test_the_generated_selectors_partition_the_names(claims: list[str], names: list[str]) -> None:
    """What the generated rules select, emulated with Python's regex (the rule is `label=~own` minus
    `label!~` the claims that outrank it; the rest is `label!~` every claim): each name is selected by
    exactly one share, the one the reference says owns it."""
    index = ClaimIndex([Claim("spark_app", "h", p, f"svc{i}", i) for i, p in enumerate(claims)])
    for name in names + [p for p in claims if not p.startswith("re:")]:
        selected = [
            c.service
            for c in index.on("spark_app", "h")
            if re.fullmatch(c.regex, name)
            and not any(re.fullmatch(o.regex, name) for o in index.outranking(c))
        ]
        if not any(re.fullmatch(c.regex, name) for c in index.claims):
            selected.append("unclaimed")
        expected = reference_owner([(p, f"svc{i}") for i, p in enumerate(claims)], name) or "unclaimed"
        assert selected == [expected], (claims, name)


@settings(max_examples=200, deadline=None)
@given(
    paths=st.lists(
        st.lists(st.sampled_from(["a", "b", "ab"]), min_size=0, max_size=3).map(
            lambda p: ".".join(["root", *p])
        ),
        min_size=1,
        max_size=5,
        unique=True,
    ),
    queue=st.lists(st.sampled_from(["a", "b", "ab"]), max_size=4).map(lambda p: ".".join(["root", *p])),
)
def test_the_longest_queue_path_wins(paths: list[str], queue: str) -> None:
    index = ClaimIndex([Claim("yarn_queue", "prod", p, p, i) for i, p in enumerate(paths)])
    # Reference: of the claimed paths that are the queue or one of its ancestors, the deepest.
    ancestors = [p for p in paths if queue == p or queue.startswith(p + ".")]
    expected = max(ancestors, key=lambda p: p.count("."), default=None)
    won = index.resolve("yarn_queue", "prod", queue)
    assert (won.pattern if won else None) == expected


@pytest.mark.parametrize(
    ("regex", "prefix"),
    [
        ("^orders-eu-.*", 10),
        ("orders-?x", 6),
        ("a|b", 0),
        (r"orders\.eu.*", 9),
        (".*", 0),
        ("ab{2}", 3),  # matches only "abb"
        (r"a\\|b", 0),  # an escaped backslash, then alternation: "a\\" or "b" (review 11, h/dbl)
        ("ab|ac", 1),  # both start with "a"
        ("grp-[[:digit:]]+", 4),  # a POSIX class, not literal text
        ("(?i)orders-.*", 0),  # "ORDERS-" matches too
        (r"\Aab", 2),
        ("orders-\U0010ffff.*", 8),
    ],
)
def test_literal_prefix_length(regex: str, prefix: int) -> None:
    assert literal_prefix_length(regex) == prefix


def test_a_literal_group_the_source_does_not_collect_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        textwrap.dedent(HEAD)
        .lstrip()
        .replace('bootstrap: "kafka:9092"}', 'bootstrap: "kafka:9092", groups: ["re:^etl-.*"]}')
        + "  - name: a\n    team: data\n    claims: {kafka: [{source: prod, groups: [etl-orders, billing]}]}\n"
    )
    warnings = [str(p) for p in load_catalog(path).warnings if "does not collect" in p.message]
    assert warnings == [
        f"{path}:{line_of(path, 'billing')}: services[1] \"a\".claims.kafka[0].groups[1]: kafka source 'prod' "
        "does not collect group 'billing' (its groups filters leave it out), so no alert about it can fire; "
        "add it to that source's filters or drop the claim"
    ]


def test_a_bad_queue_path_does_not_hide_the_services_other_claim_errors(tmp_path: Path) -> None:
    """Review of issue 11 (h/masked, h/wrongkind): the bad path used to fail the whole service, hiding the
    unknown sources; an unknown source was reported once per queue; a Kafka claim on a YARN source got no
    hint."""
    path = write(
        tmp_path,
        """
  - name: etl
    team: data
    claims:
      kafka: [{source: history, groups: [x]}]
      yarn: [{source: nosuch, queues: [analytics, root.a.b, root.c]}]
""",
    )
    found = [e for e in errors(path) if "etl" in e]
    kafka_line, yarn_line = line_of(path, "source: history"), line_of(path, "source: nosuch")
    assert found == [
        f"{path}:{kafka_line}: services[1] \"etl\".claims.kafka[0].source: unknown kafka source 'history': a "
        "claim names a source defined under sources.kafka; define it there or fix the name ('history' is a "
        "spark source; a kafka claim names a sources.kafka entry, a spark claim goes under claims.spark)",
        f"{path}:{yarn_line}: services[1] \"etl\".claims.yarn[0].queues[0]: 'analytics' is not a full queue "
        "path: write it from root with '.' between levels, e.g. root.analytics (a claim covers the queue and "
        "its children; no patterns) (did you mean 'root.analytics'?)",
        f"{path}:{yarn_line}: services[1] \"etl\".claims.yarn[0].source: unknown yarn source 'nosuch': a claim "
        "names a source defined under sources.yarn; define it there or fix the name",
    ]


def _warnings(tmp_path: Path, source_extra: str, claims: str, says: str) -> tuple[Path, list[str]]:
    path = tmp_path / "c.yaml"
    path.write_text(
        textwrap.dedent(HEAD)
        .lstrip()
        .replace('bootstrap: "kafka:9092"}', f'bootstrap: "kafka:9092"{source_extra}}}')
        + claims
    )
    return path, [str(p) for p in load_catalog(path).warnings if says in p.message]


def test_a_pattern_selecting_the_same_names_as_another_is_a_dead_claim(tmp_path: Path) -> None:
    """h/eqpat: Prometheus anchors every regex, so re:^o.* and re:o.* select the same names; the longer
    text would win all of them (the rank rule); here both texts are 7 characters and the same prefix 'o', so
    the first listed wins: re:^o.* gets every name, re:o.*$ none."""
    path, found = _warnings(
        tmp_path,
        "",
        '  - name: a\n    team: data\n    claims: {kafka: [{source: prod, groups: ["re:^o.*"]}]}\n'
        '  - name: b\n    team: data\n    claims: {kafka: [{source: prod, groups: ["re:o.*$"]}]}\n',
        "selects exactly the names",
    )
    assert found == [
        f"{path}:{line_of(path, 're:o.*$')}: services[2] \"b\".claims.kafka[0].groups[0]: 're:o.*$' selects "
        f"exactly the names 're:^o.*' (at {path}:{line_of(path, 're:^o.*')}) selects (Prometheus anchors every "
        "regex, so ^ and $ change nothing); 're:^o.*' wins every one of them and 're:o.*$' none, so its "
        "alerts can never fire: keep one of the two"
    ]


def test_a_pattern_the_sources_filters_leave_out_entirely_is_a_warning(tmp_path: Path) -> None:
    path, found = _warnings(
        tmp_path,
        ', groups: ["re:^etl-.*", billing]',
        '  - name: a\n    team: data\n    claims: {kafka: [{source: prod, groups: ["re:^ml-.*", "re:^etl-x.*", '
        '"re:bill.*"]}]}\n',
        "does not collect",
    )
    # re:^ml-.* can match no collected name (prefix ml- vs etl-, and billing is not ml-*); the other two can.
    assert found == [
        f"{path}:{line_of(path, 're:^ml-.*')}: services[1] \"a\".claims.kafka[0].groups[0]: kafka source 'prod' "
        "does not collect any name pattern 're:^ml-.*' (its groups filters leave it out), so no alert about it "
        "can fire; add it to that source's filters or drop the claim"
    ]


def test_a_pattern_claiming_everything_is_a_warning(tmp_path: Path) -> None:
    path, found = _warnings(
        tmp_path,
        "",
        '  - name: a\n    team: data\n    claims: {kafka: [{source: prod, groups: ["re:.*"]}]}\n',
        "claims every group",
    )
    assert len(found) == 1 and f"{path}:{line_of(path, 're:.*')}:" in found[0], found
