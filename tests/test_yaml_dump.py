"""The YAML emitter writes every value so that `yaml.safe_load` reads it back unchanged."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from catalog import load_catalog
from catalog.yaml_dump import dump_yaml
from rules.alertmanager import alertmanager_config
from rules.generate import generate_rules
from tests.conftest import EXAMPLE_CATALOG

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
