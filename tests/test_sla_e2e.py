"""End to end, every component real: a scraped service fails every request; the REAL Prometheus, with
the rules Watchkeeper generates, fires the SLO burn-rate alert; the REAL Alertmanager, with the generated
alertmanager.yml (token through `credentials_file`), delivers it to `watchkeeper serve`'s ledger; the
service's report then holds the breach, and the numbers follow from the ratio we serve.

Expectations: the error ratio served is 1.0 (every request a 500), so the recorded 5m error ratio is 1:
attainment 0, burn rate 1 / (1 - 0.99) = 100 on 1h and 6h, At risk; the breach's labels are
the generated alert's (alertname from rules/names.py via the catalog, team from the catalog).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog import load_catalog
from rules.alertmanager import API_TOKEN_ENV, RoutingOptions, alertmanager_yaml
from rules.generate import generate_rules
from rules.render import write_rules
from tests.conftest import require_binary
from tests.prometheus_stack import alertmanager, prometheus, recorder, wait_for
from tests.sla_service import TOKEN, service

pytestmark = pytest.mark.promtool
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CATALOG = """
teams:
  - name: ops
    owners: [ops@example.com]
services:
  - name: shop
    team: ops
    tier: low
slos:
  - name: checkout
    service: shop
    objective: 99.0
    sli:
      events:
        errors: 'sum(rate(e2e_requests_total{code="500"}[{{window}}]))'
        total: 'sum(rate(e2e_requests_total[{{window}}]))'
    alerting:
      min_events_per_hour: 0
      page: {for: 1m}
      ticket: {for: 1m}
"""


class Counter:
    """A service answering 100 requests a second, every one a 500."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.lock = threading.Lock()

    def metrics(self) -> str:
        failed = int((time.monotonic() - self.started) * 100)
        return (
            "# TYPE e2e_requests_total counter\n"
            f'e2e_requests_total{{code="500"}} {failed}\n'
            'e2e_requests_total{code="200"} 0\n'
        )


def test_a_breach_goes_from_prometheus_through_alertmanager_to_the_ledger_and_the_report(
    tmp_path: Path,
) -> None:
    prometheus_bin = require_binary("prometheus")
    am_bin = require_binary("prometheus-alertmanager")
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    catalog = load_catalog(tmp_path / "catalog.yaml").catalog
    rules = write_rules(generate_rules(catalog, with_tests=False).files, tmp_path / "rules")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / API_TOKEN_ENV).write_text(TOKEN + "\n")
    database = f"sqlite:///{tmp_path / 'ledger.db'}"
    (tmp_path / "am").mkdir()
    (tmp_path / "prom").mkdir()
    source = Counter()
    with (
        recorder(source.metrics) as (target, _),
        service(database, tmp_path, catalog=tmp_path / "catalog.yaml", log_name="ledger.log") as ledger,
    ):
        options = RoutingOptions(
            watchkeeper_url=ledger.url, secrets_dir=str(secrets), group_wait="1s", group_interval="1s"
        )
        config = alertmanager_yaml(catalog, options)
        with (
            alertmanager(am_bin, config, tmp_path / "am") as am_url,
            prometheus(
                prometheus_bin,
                rules,
                tmp_path / "prom",
                scrape_targets=[target.removeprefix("http://")],
                alertmanager_url=am_url,
            ) as prometheus_url,
        ):
            breaches = wait_for(
                lambda: ledger.breaches(service="shop"), 120, "the burn-rate alert in the ledger"
            )
            # The report, from a second `serve` on the same database with Prometheus (the first one had to
            # exist before Alertmanager's config could name it).
            with service(
                database,
                tmp_path,
                "--prometheus",
                prometheus_url,
                catalog=tmp_path / "catalog.yaml",
                log_name="reports.log",
            ) as reports:

                def report() -> dict[str, Any] | None:
                    answer = httpx.get(
                        f"{reports.url}/api/v1/reports/slo/checkout", params={"window": "7d"}, headers=AUTH
                    )
                    assert answer.status_code == 200, answer.text
                    row: dict[str, Any] = answer.json()["rows"][0]
                    return row if row["burn_rate_6h"] is not None and row["attainment"] is not None else None

                row = wait_for(report, 60, "a report with data")
    alertnames = {b["alertname"] for b in breaches}
    assert all(b["team"] == "ops" and b["slo"] == "checkout" and b["status"] == "firing" for b in breaches)
    assert row["breach_count"] >= 1
    assert {b["alertname"] for b in row["breaches"]} >= alertnames
    assert row["attainment"] == pytest.approx(0.0)
    assert row["burn_rate_1h"] == pytest.approx(100.0) and row["burn_rate_6h"] == pytest.approx(100.0)
    # Consumed = e x covered = the covered minutes (the data is minutes old: 0 or 5 of them), of a budget
    # of 0.01 x 7 x 1,440 = 100.8 min; at a 1h burn of 100 (1 bad minute a minute) the rest lasts
    # `remaining` minutes, well inside 7 days: At risk.
    assert row["budget_consumed_minutes"] == pytest.approx(row["covered_minutes"])
    assert row["budget_total_minutes"] == pytest.approx(100.8)
    assert row["minutes_to_exhaustion"] == pytest.approx(row["budget_remaining_minutes"] / 1.0)
    assert row["status"] == "At risk"
    assert " 401" not in ledger.output()
