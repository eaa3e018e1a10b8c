"""Hostile catalogs: alias bombs, deep nesting, odd tags and numbers, and odd files in the catalog directory.

Every case runs the real `watchkeeper` console script in a subprocess (with an address-space limit, so a
regression fails instead of eating the machine) and checks: exit 1, a `file:line` naming the place, a
message saying what to do, and no traceback.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from catalog import CatalogError, load_catalog

WATCHKEEPER = Path(sys.executable).parent / "watchkeeper"
MEMORY_LIMIT = 2 << 30  # 2 GiB of address space: the CLI needs about 0.5 GiB


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_watchkeeper(cwd: Path, *args: str, timeout: float = 60) -> tuple[int, str, float]:
    """Run the installed console script; return its exit code, stdout+stderr and wall time."""
    start = time.perf_counter()
    out = subprocess.run(
        [str(WATCHKEEPER), *args],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_limit_memory,
        env={**os.environ, "COLUMNS": "400", "NO_COLOR": "1"},
    )
    return out.returncode, out.stdout + out.stderr, time.perf_counter() - start


def assert_clean_error(code: int, output: str, *expected: str) -> None:
    assert "Traceback" not in output, output
    assert code == 1, output
    for text in expected:
        assert text in output, output


# --- 1. alias bombs, recursive aliases, nesting ---------------------------------------------------

# 9 levels of 9 references: 9**9 (387 million) scalars once expanded, from a 400-byte file.
ALIAS_BOMB = "\n".join(
    [
        'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
        *(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 9)),
        "teams: *l8",
    ]
)
# Hand count of where the budget (100,000 nodes added by aliases) runs out: the list on line n+1 (n >= 1)
# holds 9 references to list n-1. Expanded sizes (the list node plus everything under it): l0 = 1 + 9 = 10,
# l1 = 1 + 9*10 = 91, l2 = 1 + 9*91 = 820, l3 = 7,381, l4 = 66,430. Aliases add 9*10 = 90 (line 2),
# 9*91 = 819 (line 3), 9*820 = 7,380 (line 4), 9*7,381 = 66,429 (line 5): 74,718 in all, under budget.
# The first reference on line 6 adds 66,430 more: 141,148 > 100,000, so the error is on line 6.
ALIAS_BOMB_LINE = 6


@pytest.mark.parametrize(
    "command",
    [
        ["validate", "CATALOG"],
        ["validate", "CATALOG", "--format", "json"],
        ["catalog", "show", "CATALOG"],
        ["build", "CATALOG", "--out", "out"],
        ["generate", "rules", "CATALOG", "--no-check", "--out", "out"],
        ["generate", "alertmanager", "CATALOG", "--out", "out"],
        ["exporter", "CATALOG", "--listen", "127.0.0.1:1"],
    ],
    ids=" ".join,
)
def test_an_alias_bomb_is_refused_fast_by_every_command(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "bomb.yaml").write_text(ALIAS_BOMB)
    args = ["bomb.yaml" if a == "CATALOG" else a for a in command]
    code, output, seconds = run_watchkeeper(tmp_path, *args)
    assert "Traceback" not in output, output
    assert code == 1, output
    if "json" in command:
        assert '"line": 6' in output and '"file": "bomb.yaml"' in output, output
    else:
        assert f"bomb.yaml:{ALIAS_BOMB_LINE}:" in output, output
    assert "aliases expand" in output
    assert seconds < 5, f"took {seconds:.1f} s: a guard against expanding the bomb, not a benchmark"


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    (tmp_path / "loop.yaml").write_text("teams:\n  - name: a\n    owners: &me [x@example.com, *me]\n")
    code, output, _ = run_watchkeeper(tmp_path, "validate", "loop.yaml")
    # The alias *me is on line 3, inside the list it names.
    assert_clean_error(code, output, "loop.yaml:3:", "recursive alias")


def test_an_undefined_alias_is_refused(tmp_path: Path) -> None:
    (tmp_path / "undef.yaml").write_text("teams: []\nservices: *nope\n")
    code, output, _ = run_watchkeeper(tmp_path, "validate", "undef.yaml")
    assert_clean_error(code, output, "undef.yaml:2:", "undefined alias")


@pytest.mark.parametrize("depth", [600, 200_000])
def test_deep_nesting_is_refused(tmp_path: Path, depth: int) -> None:
    (tmp_path / "deep.yaml").write_text(
        "teams:\n  - name: a\n    owners: " + "[" * depth + "]" * depth + "\n"
    )
    code, output, seconds = run_watchkeeper(tmp_path, "validate", "deep.yaml")
    # Depth counts the top-level mapping (1), teams (2), the entry (3): the 98th "[" on line 3 is level 101.
    assert_clean_error(code, output, "deep.yaml:3:", "nested more than 100 levels")
    assert seconds < 5, f"took {seconds:.1f} s"


def test_aliases_cannot_stack_nesting_past_the_limit(tmp_path: Path) -> None:
    # Each anchor nests 40 levels and refers to the previous one at its bottom: a short file whose data
    # would be 40 * 4 levels deep once expanded.
    lines = ["a0: &a0 " + "[" * 40 + "]" * 40]
    for n in range(1, 4):
        lines.append(f"a{n}: &a{n} " + "[" * 40 + f"*a{n - 1}" + "]" * 40)
    (tmp_path / "stack.yaml").write_text("\n".join(lines) + "\n")
    code, output, _ = run_watchkeeper(tmp_path, "validate", "stack.yaml")
    # The alias in a1 sits under 41 open levels (the top mapping and 40 lists) and a0 is 40 deep: 81, allowed.
    # a1 is 80 deep, so the alias in a2 reaches 41 + 80 = 121 > 100: refused on line 3.
    assert_clean_error(code, output, "stack.yaml:3:", "nested more than 100 levels")


# --- 2. values PyYAML turns into tracebacks ----------------------------------------------------------

BAD_VALUES = [
    ("unhashable-block-key", "teams:\n  - ? [a, b]\n    : 1\n", 2, ["mapping key", "not a list"]),
    ("unhashable-flow-key", "teams: {[1]: 2}\n", 1, ["mapping key", "not a list"]),
    ("mapping-as-key", "teams:\n  ? {a: 1}\n  : 1\n", 2, ["mapping key", "not a mapping"]),
    ("bad-float", "slos:\n  - objective: !!float abc\n", 2, ["'abc'", "!!float"]),
    ("bad-int", "slos:\n  - objective: !!int abc\n", 2, ["'abc'", "!!int"]),
    ("bad-bool", "slos:\n  - objective: !!bool maybe\n", 2, ["'maybe'", "!!bool"]),
    ("bad-timestamp", "slos:\n  - objective: !!timestamp nope\n", 2, ["'nope'", "!!timestamp"]),
    ("bad-binary", 'teams: []\nservices: !!binary "YQ="\n', 2, ["!!binary", "not base64"]),
    ("huge-int", "slos:\n  - objective: " + "9" * 5000 + "\n", 2, ["5000 digits"]),
    ("huge-tagged-int", "slos:\n  - objective: !!int " + "9" * 5000 + "\n", 2, ["5000 digits"]),
    (
        "python-object",
        "teams: !!python/object:os.system {}\n",
        1,
        ["!!python/object:os.system", "not allowed"],
    ),
    ("python-name", "teams: !!python/name:os.system ''\n", 1, ["!!python/name:os.system", "not allowed"]),
    ("local-tag", "teams:\n  - name: !secret x\n", 2, ["!secret", "not allowed"]),
    ("str-tag-on-list", "teams: !!str [1]\n", 1, ["!!str", "not allowed"]),
    ("set-tag", "teams: !!set {a, b}\n", 1, ["!!set", "not allowed"]),
    ("nul-byte", "teams: []\nservices: \x00\n", 2, ["control character"]),
    ("duplicate-anchor", "a: &x 1\nb: &x 2\n", 2, ["anchor &x", "first on line 1"]),
]


@pytest.mark.parametrize(
    ("text", "line", "expected"), [c[1:] for c in BAD_VALUES], ids=[c[0] for c in BAD_VALUES]
)
def test_bad_values_are_catalog_errors_not_tracebacks(
    tmp_path: Path, text: str, line: int, expected: list[str]
) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    code, output, _ = run_watchkeeper(tmp_path, "validate", "bad.yaml")
    assert_clean_error(code, output, f"bad.yaml:{line}:", *expected)


def test_a_python_tag_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    (tmp_path / "evil.yaml").write_text(f'teams: !!python/object/apply:os.system ["touch {marker}"]\n')
    code, output, _ = run_watchkeeper(tmp_path, "validate", "evil.yaml")
    assert_clean_error(code, output, "evil.yaml:1:", "not allowed")
    assert not marker.exists()


def test_every_bad_scalar_in_a_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "two.yaml").write_text("slos:\n  - objective: !!float abc\n  - objective: !!int xyz\n")
    code, output, _ = run_watchkeeper(tmp_path, "validate", "two.yaml")
    assert_clean_error(code, output, "two.yaml:2:", "two.yaml:3:", "2 errors")


# --- anchors that are not hostile keep working ---------------------------------------------------------


def test_anchors_and_merge_keys_still_load(write_catalog) -> None:  # type: ignore[no-untyped-def]
    root = write_catalog(
        {
            "catalog.yaml": textwrap.dedent(
                """\
                teams:
                  - name: platform
                    owners: &owners [oncall@example.com]
                  - name: data
                    owners: *owners
                services:
                  - &svc {name: hdfs-prod, team: platform, tier: critical}
                  - <<: *svc
                    name: yarn-prod
                  - {<<: *svc, name: kafka-prod, tier: low}
                """
            )
        }
    )
    result = load_catalog(root)
    services = {s.name: (s.team, s.tier.value) for s in result.catalog.services}
    # As YAML's merge key defines it: the explicit keys win over the merged ones.
    assert services == {
        "hdfs-prod": ("platform", "critical"),
        "yarn-prod": ("platform", "critical"),
        "kafka-prod": ("platform", "low"),
    }
    assert [t.owners for t in result.catalog.teams] == [["oncall@example.com"], ["oncall@example.com"]]


def test_an_error_inside_merged_keys_points_at_the_entry(write_catalog) -> None:  # type: ignore[no-untyped-def]
    root = write_catalog(
        {
            "catalog.yaml": textwrap.dedent(
                """\
                teams:
                  - name: platform
                    owners: [oncall@example.com]
                services:
                  - &svc {name: hdfs-prod, team: platform, tier: urgent}
                  - <<: *svc
                    name: yarn-prod
                """
            )
        }
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog(root)
    # The merged tier is written on line 5: both entries point there for their bad tier.
    assert [(p.path, p.line) for p in caught.value.problems] == [
        ('services[0] "hdfs-prod".tier', 5),
        ('services[1] "yarn-prod".tier', 5),
    ]


# --- 3. files in the catalog directory that are not plain YAML files ------------------------------

TEAM = "teams:\n  - name: platform\n    owners: [oncall@example.com]\n"
SERVICE = "services:\n  - name: hdfs-prod\n    team: platform\n"


def problems_of(root: Path) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        load_catalog(root)
    return [str(p) for p in caught.value.problems]


def test_an_unreadable_subdirectory_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root, whom chmod 000 does not stop, so the kernel's EACCES is simulated: os.scandir (which
    # both pathlib and the loader use to list a directory) raises PermissionError for that one directory.
    root = tmp_path / "catalog"
    (root / "private").mkdir(parents=True)
    (root / "teams.yaml").write_text(TEAM)
    (root / "private" / "services.yaml").write_text(SERVICE)
    real_scandir = os.scandir

    def scandir(path: str | os.PathLike[str] = ".") -> object:
        if Path(path).name == "private":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    [problem] = problems_of(root)
    assert "private" in problem and "cannot list directory" in problem and "Permission denied" in problem


def test_a_dangling_symlink_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    root.mkdir()
    (root / "teams.yaml").write_text(TEAM)
    (root / "services.yaml").symlink_to(tmp_path / "moved-away.yaml")
    [problem] = problems_of(root)
    assert "services.yaml" in problem and "moved-away.yaml" in problem and "does not exist" in problem


def test_a_symlink_loop_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    root.mkdir()
    (root / "teams.yaml").write_text(TEAM)
    (root / "a.yaml").symlink_to(root / "b.yaml")
    (root / "b.yaml").symlink_to(root / "a.yaml")
    problems = problems_of(root)
    assert len(problems) == 2 and all("symlink loop" in p for p in problems)
    assert "a.yaml" in problems[0] and "b.yaml" in problems[1]


def test_a_directory_symlink_loop_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    (root / "sub").mkdir(parents=True)
    (root / "teams.yaml").write_text(TEAM)
    (root / "sub" / "up").symlink_to(root)
    [problem] = problems_of(root)
    assert "up" in problem and "symlink loop" in problem


def test_a_symlinked_directory_is_loaded(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "services.yaml").write_text(SERVICE)
    root = tmp_path / "catalog"
    root.mkdir()
    (root / "teams.yaml").write_text(TEAM)
    (root / "shared").symlink_to(shared)
    result = load_catalog(root)
    assert [s.name for s in result.catalog.services] == ["hdfs-prod"]


def test_a_kubernetes_configmap_mount_loads_each_file_once(tmp_path: Path) -> None:
    # The layout the kubelet writes for a mounted ConfigMap: the data in a hidden timestamped directory,
    # `..data` pointing at it, and each key a symlink through `..data`.
    root = tmp_path / "catalog"
    (root / "..2026_11_22_10_00_00.123").mkdir(parents=True)
    (root / "..2026_11_22_10_00_00.123" / "teams.yaml").write_text(TEAM)
    (root / "..2026_11_22_10_00_00.123" / "services.yaml").write_text(SERVICE)
    (root / "..data").symlink_to("..2026_11_22_10_00_00.123")
    for name in ("teams.yaml", "services.yaml"):
        (root / name).symlink_to(f"..data/{name}")
    result = load_catalog(root)
    assert sorted(Path(f).name for f in result.files) == ["services.yaml", "teams.yaml"]
    assert [s.name for s in result.catalog.services] == ["hdfs-prod"]


def test_a_directory_tree_deeper_than_the_recursion_limit_is_read(tmp_path: Path) -> None:
    # 1,200 levels (2,400 characters: within PATH_MAX, past Python's 1,000 frames). Made and removed one
    # level at a time, since pathlib's mkdir(parents=True) and shutil.rmtree recurse themselves.
    root = tmp_path / "catalog"
    levels = [str(root)]
    for _ in range(1200):
        os.mkdir(levels[-1])
        levels.append(levels[-1] + "/d")
    try:
        (root / "teams.yaml").write_text(TEAM)
        Path(levels[-2], "services.yaml").write_text(SERVICE)
        result = load_catalog(root)
        assert [s.name for s in result.catalog.services] == ["hdfs-prod"]
    finally:
        os.remove(Path(levels[-2], "services.yaml"))
        for level in reversed(levels[1:-1]):
            os.rmdir(level)


def test_upper_case_suffixes_are_loaded(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    root.mkdir()
    (root / "teams.YAML").write_text(TEAM)
    (root / "services.Yml").write_text(SERVICE)
    result = load_catalog(root)
    assert sorted(Path(f).name for f in result.files) == ["services.Yml", "teams.YAML"]
    assert [s.name for s in result.catalog.services] == ["hdfs-prod"]


def test_a_fifo_in_the_directory_is_skipped_with_a_warning(tmp_path: Path) -> None:
    root = tmp_path / "catalog"
    root.mkdir()
    (root / "teams.yaml").write_text(TEAM + SERVICE)
    os.mkfifo(root / "pipe.yaml")
    # A subprocess, so that a regression that opens the FIFO blocks there and times out instead of hanging.
    code, output, _ = run_watchkeeper(tmp_path, "validate", "catalog", timeout=30)
    assert code == 0, output
    assert "warning: catalog/pipe.yaml: skipped: not a regular file (a FIFO)" in output


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_catalog_path_that_is_not_a_regular_file_is_an_error(tmp_path: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(tmp_path / "pipe.yaml")
        path, what = "pipe.yaml", "a FIFO"
    else:
        path, what = "/dev/zero", "a character device"  # endless: reading it would never finish
    code, output, _ = run_watchkeeper(tmp_path, "validate", path, timeout=30)
    assert_clean_error(code, output, f"{path}: not a regular file ({what})")


# --- 4. load: many problems against large lists --------------------------------------------------


def test_many_misspelt_references_to_a_large_catalog_stay_fast(tmp_path: Path) -> None:
    # 20,000 services and 2,000 SLOs whose service is misspelt ("servcie-"): each error still suggests the
    # intended name. Comparing every misspelling with every service (difflib) took 0.4 s per error.
    services = "".join(f"  - {{name: service-{i:05d}, team: t}}\n" for i in range(20_000))
    slos = "".join(
        f"  - {{name: s{i}, service: servcie-{i * 7:05d}, objective: 99, "
        "sli: {raw: {error_ratio: 'sum(rate(x[{{window}}]))'}}}\n"
        for i in range(2_000)
    )
    text = "teams:\n  - name: t\n    owners: [a@example.com]\nservices:\n" + services + "slos:\n" + slos
    (tmp_path / "big.yaml").write_text(text)
    code, output, seconds = run_watchkeeper(tmp_path, "validate", "big.yaml", timeout=120)
    assert_clean_error(code, output, "2000 errors")
    # SLO 1 (line 4 + 20,000 services + "slos:" + 2 = 20,007) names servcie-00007.
    assert (
        "big.yaml:20007: slos[1] \"s1\".service: unknown service 'servcie-00007': an SLO is owned through its "
        "service; define it under services or fix the name; did you mean 'service-00007'?"
    ) in output
    # The text output shows the first 100 errors (catalog.errors.MAX_SHOWN) and counts the rest.
    assert output.count("did you mean 'service-") == 100
    assert "…and 1900 more errors" in output
    assert seconds < 30, f"took {seconds:.1f} s: a guard against comparing every pair, not a benchmark"
