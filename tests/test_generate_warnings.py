"""Warnings `generate rules` prints about alerts that can never fire, and the advice they give.

Found by a new-user trial: an objective of 0.999 (meant as 99.9) was told to "lower the objective", which
makes the budget larger and the alert even less reachable.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_cli

CATALOG = """
teams: [{name: search, owners: [search@example.com]}]
services: [{name: indexer, team: search}]
slos:
  - name: index-availability
    service: indexer
    objective: 0.999
    window: 28d
    sli:
      events:
        errors: sum(rate(index_errors_total[{{window}}]))
        total: sum(rate(index_requests_total[{{window}}]))
"""


def test_an_unreachable_alert_is_told_to_raise_the_objective(write_catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    catalog = write_catalog({"c.yaml": CATALOG})
    result = run_cli("generate", "rules", str(catalog), "--out", str(tmp_path / "out"), "--no-check")
    assert result.code == 0, result.output
    # 28d page factor 13.44 (SRE Workbook: 2% x 672h / 1h); budget 1 - 0.00999 = 0.99001; 13.44 x 0.99 > 1.
    # The alert becomes reachable once the budget is below 1/13.44 = 7.44%, i.e. an objective above 92.56.
    line = next(ln for ln in result.output.splitlines() if "1h/5m can never fire" in ln)
    assert "raise the objective" in line and "7.44%" in line and "92.56" in line, line
    assert "lower the objective" not in result.output
