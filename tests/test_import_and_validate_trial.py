"""Findings of a new-user trial of `watchkeeper import` and `validate`, each failing before its fix.

(The import findings themselves, a misspelt `--team` and the Sloth `tier` note, are in
tests/test_importers.py.) Here: counts in `validate`'s summary agree with their number ("1 team", not
"1 teams"); a misspelt required key is one error with the fix, not an unknown key plus a missing one;
`validate --format json` on a path that does not exist still answers in JSON on stdout.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.suggest import misspelt_required
from tests.conftest import run_cli

ONE_OF_EACH = """
teams: [{name: t, owners: [a@example.com], channels: {email: {to: [a@example.com]}}}]
services: [{name: s, team: t}]
slos:
  - name: x
    service: s
    OBJECTIVE_KEY: 99
    sli:
      events:
        errors: sum(rate(e[{{window}}]))
        total: sum(rate(t[{{window}}]))
"""


def _catalog(tmp_path: Path, objective_key: str = "objective") -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(ONE_OF_EACH.replace("OBJECTIVE_KEY", objective_key))
    return path


def test_the_summary_says_1_team_not_1_teams(tmp_path: Path) -> None:
    result = run_cli("validate", str(_catalog(tmp_path)))
    assert result.code == 0, result.output
    assert "(1 file): 1 team, 1 service, 1 SLO, 0 sources, 0 drift monitors" in result.stdout


def test_a_misspelt_required_key_is_one_error_naming_the_fix(tmp_path: Path) -> None:
    result = run_cli("validate", str(_catalog(tmp_path, "objectiv")))
    assert result.code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    # line 7 of the file (after the leading newline): the misspelt key, not the entry's missing one
    assert errors == [
        f"error: {tmp_path / 'c.yaml'}:7: slos[0] \"x\".objectiv: unknown key 'objectiv'; did you mean "
        "'objective'? (required here: rename objectiv to objective)"
    ], result.stderr
    assert "1 error; the catalog is invalid." in result.stderr


def test_an_unknown_key_far_from_any_missing_one_is_still_two_errors(tmp_path: Path) -> None:
    result = run_cli("validate", str(_catalog(tmp_path, "zzz")))
    assert result.code == 1
    assert "missing required key 'objective'" in result.stderr
    assert "unknown key 'zzz'" in result.stderr
    assert "2 errors; the catalog is invalid." in result.stderr


def test_json_validate_of_a_missing_path_answers_in_json(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = run_cli("validate", str(missing), "--format", "json")
    assert result.code == 2  # a usage error, as documented
    report = json.loads(result.stdout)
    assert report["valid"] is False and report["errors"] == 1
    [problem] = report["problems"]
    assert problem["file"] == str(missing) and "does not exist" in problem["message"]
    text = run_cli("validate", str(missing))
    assert text.code == 2 and "does not exist" in text.stderr and text.stdout == ""


@settings(max_examples=200, deadline=None)
@given(
    key=st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12),
    missing=st.lists(st.sampled_from(["objective", "service", "name", "sli"]), unique=True, max_size=4),
)
def test_a_pairing_joins_only_keys_at_the_same_place_and_each_missing_key_once(
    key: str, missing: list[str]
) -> None:
    here, elsewhere = ("slos", 0), ("slos", 1)
    paired = misspelt_required(
        [(*here, key), (*elsewhere, key), (*here, key + "_")], [(*here, k) for k in missing]
    )
    assert all(unknown[:-1] == meant[:-1] == here for unknown, meant in paired.items())  # same place only
    assert len(set(paired.values())) == len(paired)  # a missing key answers one unknown key
    assert all(meant[-1] in missing for meant in paired.values())
    if key in missing:  # an exact name is never "unknown" in practice; the pairing still takes it
        assert paired.get((*here, key)) == (*here, key)


@pytest.mark.parametrize(
    ("unknown", "meant"),
    [("objectiv", "objective"), ("servce", "service"), ("nmae", "name"), ("sil", "sli")],
)
def test_typical_typos_pair_with_the_key_they_misspell(unknown: str, meant: str) -> None:
    missing = [("slos", 0, k) for k in ("objective", "service", "name", "sli")]
    assert misspelt_required([("slos", 0, unknown)], missing) == {("slos", 0, unknown): ("slos", 0, meant)}
