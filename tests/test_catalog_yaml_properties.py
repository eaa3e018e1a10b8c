"""The catalog's YAML reader against PyYAML as the reference, and mutated catalogs against the loader.

`catalog.yaml_source.read_yaml` builds data from libyaml's events itself (to bound aliases and keep lines
without a node tree), so its data must equal `yaml.safe_load`'s for every document safe_load reads, and
its line for every key and item must equal the line PyYAML's own composer gives that node.
Run longer with WATCHKEEPER_FUZZ_EXAMPLES=5000.
"""

from __future__ import annotations

import difflib
import math
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from catalog import CatalogError, load_catalog
from catalog.errors import did_you_mean
from catalog.suggest import SMALL, NameIndex
from catalog.yaml_source import PathKey, read_yaml
from tests.conftest import EXAMPLE_CATALOG

FUZZ_EXAMPLES = int(os.environ.get("WATCHKEEPER_FUZZ_EXAMPLES", "200"))

# Plain scalars whose YAML 1.1 meaning is not "a string": booleans, nulls, ints in every base, sexagesimal
# numbers, floats, timestamps; plus quoted and explicitly tagged ones.
PLAIN = [
    "yes", "No", "on", "OFF", "y", "n", "~", "null", "Null", "true", "False",
    "1_000", "0x1F", "0o17", "017", "0b101", "-42", "+12", "-0", "190:20:30", "1:20", "-1:30.5",
    ".inf", "-.Inf", ".NaN", "1e3", "1.5e-3", "6.8523015e+5", "0.", "3.",
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2002-12-14 21:59:43",
    "text", "two words", "a.b", "=", "-x", "<<x", "99.9",
]  # fmt: skip
QUOTED = ["'yes'", '"1_000"', "'it''s'", '"tab\\there"', '"\\u00e9t\\u00e9"', "''", '""',
          "!!str 12", "!!int '7'", "!!float 1", "!!str yes", "! 12"]  # fmt: skip
KEYS = ["name", "team", "a", "b", "yes", "1", "null", "1.5", "'<<'", "2001-12-14"]

Tree = Any  # ("s", token) | ("map", [(key, Tree)], flow) | ("seq", [Tree], flow)

scalars = st.sampled_from(PLAIN + QUOTED).map(lambda t: ("s", t))
trees: st.SearchStrategy[Tree] = st.recursive(
    scalars,
    lambda kids: st.one_of(
        st.tuples(st.just("seq"), st.lists(kids, max_size=4), st.booleans()),
        st.tuples(
            st.just("map"), st.lists(st.tuples(st.sampled_from(KEYS), kids), max_size=4), st.booleans()
        ),
    ),
    max_leaves=16,
)

# Mappings of scalars over few keys, so that merged mappings overlap and precedence shows.
flat_maps = st.tuples(
    st.just("map"),
    st.lists(st.tuples(st.sampled_from(KEYS[:4]), scalars), min_size=1, max_size=4),
    st.booleans(),
)


def flow(node: Tree) -> str:
    if node[0] == "s":
        return str(node[1])
    if node[0] == "seq":
        return "[" + ", ".join(flow(v) for v in node[1]) + "]"
    return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in node[1]) + "}"


def block(node: Tree, indent: int) -> list[str]:
    """Block style for a non-empty collection; flow style where the tree asks for it or is empty."""
    pad, out = " " * indent, []
    heads = [f"{pad}{k}:" for k, _ in node[1]] if node[0] == "map" else [f"{pad}-"] * len(node[1])
    pairs = zip(heads, [v for _, v in node[1]] if node[0] == "map" else node[1], strict=True)
    for head, value in pairs:
        if value[0] == "s" or value[2] or not value[1]:
            out.append(f"{head} {flow(value)}")
        else:
            out.append(head)
            out.extend(block(value, indent + 2))
    return out


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A top-level mapping whose values may be anchored, aliased, or merge earlier anchored mappings."""
    lines: list[str] = []
    anchored: list[tuple[str, Tree]] = []
    for index in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["plain", "anchored", "anchored", "alias", "merge", "merge"]))
        if kind == "alias" and anchored:
            lines.append(f"k{index}: *{draw(st.sampled_from(anchored))[0]}")
            continue
        if kind == "merge" and anchored:
            names = draw(
                st.lists(st.sampled_from([a for a, _ in anchored]), min_size=1, max_size=3, unique=True)
            )
            merged = f"*{names[0]}" if len(names) == 1 else "[" + ", ".join(f"*{n}" for n in names) + "]"
            lines.append(f"k{index}:")
            lines.append(f"  <<: {merged}")
            extra = draw(st.lists(st.tuples(st.sampled_from(KEYS), scalars), max_size=3))
            lines.extend(f"  {k}: {v[1]}" for k, v in extra)
            continue
        tree = draw(trees if kind == "plain" else st.one_of(trees, flat_maps))
        anchor = f"&a{index} " if kind == "anchored" else ""
        if kind == "anchored":
            anchored.append((f"a{index}", tree))
        if tree[0] == "s" or tree[2] or not tree[1]:
            lines.append(f"k{index}: {anchor}{flow(tree)}")
        else:
            lines.append(f"k{index}: {anchor}".rstrip())
            lines.extend(block(tree, 2))
    return "\n".join(lines) + "\n"


def comparable(value: Any) -> Any:
    """NaN made equal to itself, so whole documents can be compared with ==."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, dict):
        return {comparable(k): comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


def read_text(text: str) -> tuple[Any, list[Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "doc.yaml"
        path.write_text(text, encoding="utf-8")
        return read_yaml(path, "doc.yaml")


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(documents())
@example(
    "k0: &a0 {a: 1, b: 2}\nk1: &a1 {a: 3, c: 5}\nk2:\n  <<: [*a0, *a1]\n  b: 4\nk3: {<<: *a1, <<: *a0}\n"
)
@example("k0: &a0 [1, 2]\nk1: {x: *a0, *a0 : 1}\n")
def test_data_equals_pyyaml_safe_load(text: str) -> None:
    doc, problems = read_text(text)
    try:
        expected = yaml.safe_load(text)
    except yaml.YAMLError:
        # PyYAML refuses it: so must we (with a line), except for the plain `=` and `<<` values we read
        # as text where PyYAML has no constructor for them.
        assert doc is not None or (problems and all(p.line is not None for p in problems)), text
        return
    assert doc is not None, (text, problems)
    assert comparable(doc.data) == comparable(expected), text
    assert all("duplicate key" in p.message for p in problems), problems


def reference_lines(node: yaml.Node, path: PathKey, out: dict[PathKey, int]) -> None:
    """What the loader had before: PyYAML's composer marks, a key's line standing for its value."""
    out[path] = node.start_mark.line + 1
    constructor = yaml.SafeLoader("")
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node)
            reference_lines(value_node, (*path, key), out)
            out[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            reference_lines(item, (*path, index), out)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(documents())
def test_lines_equal_pyyaml_composer_marks(text: str) -> None:
    if "&" in text or "<<" in text:
        return  # shared nodes: PyYAML's marks are the anchor's, as ours are; the walk above would loop
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        yaml.safe_load(text)
    except yaml.YAMLError:
        return
    doc, problems = read_text(text)
    assert doc is not None
    if problems:  # duplicate keys: both keep the last, but the reference also keeps the first one's subtree
        return
    assert node is not None
    expected: dict[PathKey, int] = {}
    reference_lines(node, (), expected)
    assert {path: doc.line_of(path) for path in expected} == expected, text


CATALOG_TEXT = (EXAMPLE_CATALOG / "teams.yaml").read_text() + (EXAMPLE_CATALOG / "platform.yaml").read_text()
NOISE = [*"[]{}:,-?&*!|>'\"#%@\t\n ", "\\u", "&a ", "*a", "<<: ", "!!python/object:os.system ", "- - -"]


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 1), st.integers(0, 3), st.sampled_from(NOISE)),
        min_size=1,
        max_size=4,
    )
)
def test_a_mutated_catalog_gives_located_errors_never_a_crash(edits: list[tuple[float, int, str]]) -> None:
    text = CATALOG_TEXT
    for where, cut, noise in edits:
        at = int(where * len(text))
        text = text[:at] + noise + text[at + cut :]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catalog.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            load_catalog(path)
        except CatalogError as exc:
            assert exc.problems
            assert all(p.line is not None for p in [*exc.problems, *exc.warnings]), exc


# --- 'did you mean' over huge name sets ------------------------------------------------------------

WORDS = ["orders", "clicks", "payments", "search", "ingest", "etl", "api", "model", "feature", "store"]
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-"


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    size=st.sampled_from([50, 3000]),
    edit=st.tuples(st.floats(0, 1), st.integers(0, 3), st.sampled_from(ALPHABET)),
)
def test_name_index_suggests_as_well_as_comparing_every_name(
    seed: int, size: int, edit: tuple[float, int, str]
) -> None:
    rng = random.Random(seed)
    names = sorted(
        {f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{rng.randrange(10_000):04d}" for _ in range(size)}
    )
    index = NameIndex(names)
    name = rng.choice(names)
    where, op, char = edit
    at = int(where * (len(name) - 1))
    word = [
        name[:at] + name[at + 1 :],  # a letter dropped
        name[:at] + char + name[at:],  # one added
        name[:at] + char + name[at + 1 :],  # one replaced
        name[:at] + name[at + 1 : at + 2] + name[at] + name[at + 2 :],  # two swapped
    ][op]
    if word in index:
        return
    if size <= SMALL:  # the reference itself: compare with every name
        assert index.hint(word) == did_you_mean(word, names)
        return
    suggested = index.hint(word)
    assert suggested, word
    closeness = difflib.SequenceMatcher(None, suggested.split("'")[1], word).ratio()
    assert closeness >= difflib.SequenceMatcher(None, name, word).ratio(), (word, name, suggested)
