"""Per-column `stattests` and `thresholds` from the catalog (review 14, item 8): validated with file, line
and fix, and passed to the engine."""

from __future__ import annotations

import json
from pathlib import Path

from catalog.model.drift import DRIFT_STATTESTS
from tests.conftest import run_cli
from tests.test_drift_cli import HEAD, _catalog


def test_known_stattests_are_evidentlys_registered_tabular_ones() -> None:
    from evidently.legacy.calculations.stattests import registry

    registered = set(registry._registered_stat_tests)
    text_only = {"abs_text_content_drift", "perc_text_content_drift"}  # need embeddings, not tabular
    assert registered - text_only == DRIFT_STATTESTS


def test_catalog_stattests_and_thresholds_reach_the_engine(tmp_path: Path) -> None:
    extra = "    stattests: {age: wasserstein, plan: jensenshannon}\n    thresholds: {age: 5.0, plan: 0.5}"
    catalog = _catalog(tmp_path, extra)
    result = run_cli("drift", "run", str(catalog), "churn", "--format", "json")
    cols = {c["column"]: c for c in json.loads(result.stdout)["columns"]}
    assert cols["age"]["stattest"] == "wasserstein" and cols["age"]["threshold"] == 5.0
    assert cols["plan"]["stattest"] == "jensenshannon" and cols["plan"]["threshold"] == 0.5
    # age moved by 20 (4 reference standard deviations of 5): Wasserstein (normed by the reference std)
    # ~ 20 / 5 = 4 < 5, so no drift at threshold 5, where the default K-S test found drift
    assert cols["age"]["drift"] is False and 3.0 < cols["age"]["score"] < 5.0
    assert result.code == 0, result.output


def test_unknown_stattest_and_foreign_column_are_catalog_errors_with_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    body = """drift:
  - name: x
    service: churn-serving
    reference: {path: a.csv}
    current: {path: b.csv}
    columns: [age]
    stattests: {age: kss}
"""
    path.write_text(HEAD + body)
    result = run_cli("drift", "run", str(path))
    assert result.code == 2
    # HEAD is a blank line and 2 lines, so `stattests:` is line 3 + 7 = 10
    assert "bad.yaml:10: drift[0] \"x\".stattests: column 'age': unknown stattest 'kss'" in result.stderr
    assert "did you mean 'ks'" in result.stderr
    path.write_text(HEAD + body.replace("stattests: {age: kss}", "thresholds: {agee: 0.1}"))
    result = run_cli("drift", "run", str(path))
    assert result.code == 2 and "thresholds names 'agee', not in the monitor's columns" in result.stderr
    path.write_text(HEAD + body.replace("stattests: {age: kss}", "thresholds: {age: -1}"))
    assert run_cli("drift", "run", str(path)).code == 2


def test_with_columns_empty_a_stattest_for_a_column_the_data_lacks_fails_the_run(tmp_path: Path) -> None:
    # Without `columns` the loader cannot check the names: the run does, rather than ignoring a typo.
    _catalog(tmp_path)
    path = tmp_path / "typo.yaml"
    path.write_text(
        HEAD
        + "drift:\n  - {name: t, service: churn-serving, reference: {path: ref.parquet}, current: {path: cur.csv},"
        + " stattests: {agee: psi}, thresholds: {plan: 0.2}}\n"
    )
    result = run_cli("drift", "run", str(path), "--format", "json")
    assert result.code == 3, result.output
    doc = json.loads(result.stdout)
    assert doc["dataset_drift"] is None and doc["columns"] == []
    assert doc["error"] == (
        "drift monitor t: stattests or thresholds name 'agee', not a column of the reference data (it has: "
        "'age', 'plan'): fix the name, or list the monitor's columns so the catalog checks it"
    )
