"""The catalog's inference fields: `expect_json_path` (its grammar, its errors at validate, its evaluation
on any JSON document, where hypothesis' walk really taken through a document is the oracle), and the
contradictions refused at validate."""

from __future__ import annotations

import os
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.model.inference import InferenceSource, json_path_steps
from exporters.inference import json_path_holds
from tests.conftest import run_cli

FUZZ_EXAMPLES = int(os.environ.get("WATCHKEEPER_FUZZ_EXAMPLES", "150"))


def source(name: str, url: str, **fields: Any) -> InferenceSource:
    return InferenceSource.model_validate({"name": name, "service": "churn", "url": url, **fields})


PATHS = [  # (text, steps written out by hand from the documented grammar)
    ("predictions[0]", ("predictions", 0)),
    ("$.outputs[0].scores[-1]", ("outputs", 0, "scores", -1)),
    (".data.embedding", ("data", "embedding")),
    ('data["class.id"]', ("data", "class.id")),
    ("x['a b']", ("x", "a b")),
    ("$", ()),
]


@pytest.mark.parametrize(("text", "steps"), PATHS)
def test_json_path_grammar(text: str, steps: tuple[Any, ...]) -> None:
    assert json_path_steps(text) == steps


@pytest.mark.parametrize("text", ["", "$predictions", "a..b", "a[x]", "a.[0]", "a b", '["a"b', "a[0"])
def test_bad_json_paths_are_refused_at_validate_with_the_syntax(text: str, write_catalog: Any) -> None:
    with pytest.raises(ValueError, match="expect_json_path"):
        json_path_steps(text)
    root = write_catalog(
        {
            "c.yaml": yaml.safe_dump(
                {
                    "teams": [{"name": "ml", "owners": ["ml@example.com"]}],
                    "services": [{"name": "churn", "team": "ml"}],
                    "sources": {
                        "inference": [
                            {
                                "name": "m",
                                "service": "churn",
                                "url": "http://127.0.0.1:1/p",
                                "expect_json_path": text,
                            }
                        ]
                    },
                }
            )
        }
    )
    result = run_cli("validate", str(root))
    assert result.code != 0
    assert "Traceback" not in result.output
    assert "c.yaml" in result.output and "expect_json_path" in result.output
    assert "predictions[0]" in result.output  # the fix: an example of the syntax


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"timeout": "20s", "interval": "10s"}, "longer than interval"),
        ({"interval": "300ms"}, "at least 1s"),
        ({"request": {"json": {"a": 1}, "body": "x"}}, "not both"),
        ({"expected_status": []}, "at least 1"),
        ({"expected_status": [99]}, "greater than or equal to 100"),
    ],
)
def test_inference_source_refuses_contradictions(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        source("m", "http://127.0.0.1:1/p", **fields)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text("abc_.- \"'", min_size=1, max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


def _render(steps: list[str | int]) -> str:
    """Steps in the documented syntax: bare keys where the grammar allows, quoted otherwise."""
    out = "$"
    for step in steps:
        if isinstance(step, int):
            out += f"[{step}]"
        elif step.replace("_", "a").replace("-", "a").isalnum() and step[0].isalpha() and step.isascii():
            out += f".{step}"
        elif '"' not in step:
            out += f'["{step}"]'
        else:
            out += f"['{step}']"
    return out


@st.composite
def doc_and_location(draw: st.DrawFn) -> tuple[Any, list[str | int]]:
    """A JSON document and a walk down to one of its values (the oracle: the walk was really taken)."""
    doc = draw(JSON)
    node, steps = doc, []
    while isinstance(node, dict | list) and node and draw(st.booleans()):
        if isinstance(node, dict):
            key = draw(st.sampled_from(sorted(node)))
            if "'" in key and '"' in key:
                break  # no quoting can name it: the grammar says so
            steps.append(key)
            node = node[key]
        else:
            index = draw(st.integers(-len(node), len(node) - 1))
            steps.append(index)
            node = node[index]
    return doc, steps


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(doc_and_location())
def test_a_path_to_a_real_value_parses_back_and_holds_unless_null(case: tuple[Any, list[str | int]]) -> None:
    doc, steps = case
    parsed = json_path_steps(_render(steps))
    assert list(parsed) == steps
    node = doc
    for step in steps:
        node = node[step]
    assert json_path_holds(doc, parsed) == (node is not None)
    assert not json_path_holds(doc, (*parsed, "no-such-key"))
    assert not json_path_holds(doc, (*parsed, 10))


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.text(max_size=20))
def test_any_text_is_parsed_or_refused_with_a_value_error(text: str) -> None:
    try:
        json_path_steps(text)
    except ValueError as exc:
        assert "expect_json_path" in str(exc)
