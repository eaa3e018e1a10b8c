"""The YAML emitter writes every value so that `yaml.safe_load` reads it back unchanged."""

from __future__ import annotations

import os
import random
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import load_catalog
from catalog.model import Catalog
from catalog.yaml_dump import YamlDumpError, dump_yaml
from rules.alertmanager import alertmanager_config
from rules.generate import generate_rules
from rules.render import write_rules
from tests.conftest import EXAMPLE_CATALOG, require_binary
from tests.prometheus_stack import get_json, prometheus

TRICKY = [
    "",
    " ",
    "  lead",
    "trail ",
    "yes",
    "No",
    "on",
    "null",
    "~",
    "true",
    "1",
    "1.5",
    "0x1f",
    "1e3",
    "1h",
    "30d",
    "12:30",
    "-",
    "- x",
    "? x",
    ": x",
    "a: b",
    "a #b",
    "#c",
    "@x",
    "`x",
    "!x",
    "&a",
    "*a",
    "|",
    ">",
    "%x",
    "{a}",
    "[a]",
    "'q'",
    '"q"',
    "back\\slash",
    "tab\there",
    "cr\rhere",
    "nul\x00",
    "bell\x07",
    "é ünï",
    "\u2028",
    "\ufeffbom",
    "line\n",
    "two\nlines",
    "two\nlines\n",
    "trailing\n\n",
    "\nleading",
    "a\n  indented\nb",
    "a\n \nb",
    "a\n\nb",
    'sum(rate(x{code=~"5.."}[5m]))',
    "{{ $value | humanize }}",
    "x\n\t tab",
    "=",
    "a=b",
]


def _roundtrip(data: object) -> None:
    text = dump_yaml(data)
    assert yaml.safe_load(text) == data, text


@pytest.mark.parametrize("value", TRICKY)
def test_tricky_strings_round_trip(value: str) -> None:
    _roundtrip({"k": value, "list": [value, {"nested": value}], value or "empty-key": 1})


@pytest.mark.parametrize(
    "value", [0, -3, 0.1, 1e-05, 1e20, float("inf"), -float("inf"), True, False, None, [], {}]
)
def test_scalars_and_empty_collections_round_trip(value: object) -> None:
    _roundtrip({"v": value, "l": [value]})


def test_random_strings_round_trip() -> None:
    rng = random.Random(1234)  # fixed seed: a failure is reproducible
    alphabet = "ab \n\t:#-?{}[],&*!|>'\"%@`\\~0123456789.eE+é\u2028\x00\x1f"
    for _ in range(20000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        _roundtrip({"k": value, "l": [value]})


def test_generated_artifacts_round_trip(tmp_path: Path) -> None:
    catalog = load_catalog(EXAMPLE_CATALOG).catalog
    ruleset = generate_rules(catalog)
    for groups in ruleset.files.values():
        _roundtrip({"groups": [g.as_dict() for g in groups]})
    for tests in ruleset.tests.values():
        _roundtrip({"tests": tests})
    _roundtrip(alertmanager_config(catalog))
    _roundtrip(catalog.model_dump(mode="json"))


# --- the whole of Unicode ------------------------------------------------------------------------------
# Expected values are the inputs themselves, read back by PyYAML (and, below, by the real promtool and
# Prometheus): the writer never computes what a test expects.

FUZZ_EXAMPLES = int(os.environ.get("WATCHKEEPER_FUZZ_EXAMPLES", "300"))
# Every code point a UTF-8 file can hold: all categories except Cs (lone UTF-16 surrogates).
ANY_CHAR = st.characters(codec="utf-8")
ANY_TEXT = st.text(ANY_CHAR)

# Characters PyYAML treats specially: line breaks (NEL, LS, PS), the BOM, DEL and C1 controls,
# non-characters, the astral planes' first and last code points, and an emoji (the reported case).
SPECIAL = [
    "\x85",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\x7f",
    "\x80",
    "\x9f",
    "\ufffe",
    "\uffff",
    "\U00010000",
    "\U0010ffff",
    "\U0001f525",
    "\U000e0001",
    "\xa0",
]


@pytest.mark.parametrize("char", SPECIAL, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("template", ["{}", "a{}b", "{} lead", "one\n{}\ntwo\n", "k: {}"])
def test_special_characters_round_trip_and_encode_as_utf8(char: str, template: str) -> None:
    value = template.format(char)
    text = dump_yaml({"k": value, "l": [value], value: 1})
    text.encode("utf-8")  # a file the writer produces can always be written as UTF-8
    assert yaml.safe_load(text) == {"k": value, "l": [value], value: 1}, text


def test_an_emoji_is_written_as_itself_not_as_a_surrogate_pair() -> None:
    # The reported defect: json.dumps wrote "\ud83d\udd25", which Go's YAML (promtool) rejects.
    text = dump_yaml({"summary": "burning \U0001f525"})
    assert "\\ud83d" not in text
    assert yaml.safe_load(text) == {"summary": "burning \U0001f525"}


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    st.recursive(
        ANY_TEXT,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
        max_leaves=12,
    )
)
def test_any_unicode_text_round_trips(data: object) -> None:
    text = dump_yaml({"v": data})
    text.encode("utf-8")
    assert yaml.safe_load(text) == {"v": data}, text


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(ANY_TEXT, st.characters(categories=["Cs"]), ANY_TEXT)
def test_lone_surrogates_are_refused_with_a_clear_error(before: str, surrogate: str, after: str) -> None:
    # Neither UTF-8 nor Go's YAML can hold a lone surrogate (promtool: "found invalid Unicode character
    # escape code"), so the writer refuses it instead of writing a file that only PyYAML reads.
    value = before + surrogate + after
    with pytest.raises(YamlDumpError) as caught:
        dump_yaml({"annotations": {"summary": value}})
    assert f"U+{ord(surrogate):04X}" in str(caught.value)
    assert "surrogate" in str(caught.value)


def test_a_refused_surrogate_is_located_by_its_path() -> None:
    data = {"groups": [{"name": "g", "rules": [{"alert": "A", "annotations": {"summary": "x\udd25"}}]}]}
    with pytest.raises(YamlDumpError) as caught:
        dump_yaml(data)
    assert str(caught.value).startswith("groups[0].rules[0].annotations.summary: 'x\\udd25' holds U+DD25")


def test_keys_longer_than_a_simple_key_round_trip() -> None:
    # YAML limits implicit keys to 1024 characters; longer ones need the explicit `? key` form.
    long_key = "k" * 1500
    data = {long_key: "v", "items": [{long_key: 1, "b": 2}], "nested": {long_key + "é\n": [1]}}
    assert yaml.safe_load(dump_yaml(data)) == data


# --- the real consumers: promtool and Prometheus (Go's YAML) read what the writer wrote ----------------

# Annotation values are Go templates: `{{` would open an action, so the sample leaves it out.
ANNOTATION = ANY_TEXT.filter(lambda s: "{{" not in s and not s.endswith("{"))


def _catalog_with_annotations(values: list[str]) -> Catalog:
    return Catalog.model_validate(
        {
            "teams": [{"name": "t", "owners": ["a@example.com"]}],
            "services": [{"name": "s", "team": "t"}],
            "slos": [
                {
                    "name": "x",
                    "service": "s",
                    "objective": 99,
                    "sli": {
                        "events": {"errors": "sum(rate(e[{{window}}]))", "total": "sum(rate(t[{{window}}]))"}
                    },
                    "alerting": {"annotations": {f"note{i}": v for i, v in enumerate(values)}},
                }
            ],
        }
    )


@pytest.mark.promtool
@settings(max_examples=max(3, FUZZ_EXAMPLES // 60), deadline=None)
@given(st.lists(ANNOTATION, min_size=1, max_size=8), st.sampled_from(SPECIAL))
def test_promtool_and_prometheus_read_back_every_annotation(values: list[str], special: str) -> None:
    promtool = require_binary("promtool")
    binary = require_binary("prometheus")
    values = [*values, f"burning {special} now"]
    ruleset = generate_rules(_catalog_with_annotations(values))
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        written = write_rules(ruleset.files, workdir / "rules")
        check = subprocess.run(
            [promtool, "check", "rules", *map(str, written)], capture_output=True, text=True, check=False
        )
        assert check.returncode == 0, check.stdout + check.stderr
        with prometheus(binary, written, workdir) as url:
            groups = get_json(f"{url}/api/v1/rules")["data"]["groups"]
    # The SLO's page and ticket alerts carry its annotations (the no-data alert does not).
    alerts = [
        r for g in groups for r in g["rules"] if r["type"] == "alerting" and "note0" in r["annotations"]
    ]
    assert len(alerts) == 2, groups
    for alert in alerts:
        assert [alert["annotations"][f"note{i}"] for i in range(len(values))] == values
