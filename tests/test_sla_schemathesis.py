"""schemathesis against the OpenAPI schema of the REAL `watchkeeper serve` (SQLite, the example catalog,
a real Prometheus with no data so reports are computed, not 503s): no server error, every answer as
documented (status code, content type, headers, body schema), and invalid requests refused.

The check `positive_data_acceptance` is left out on purpose: the API refuses some schema-valid requests
by rules OpenAPI cannot state (an alert needs an `alertname` label; a correction names exactly one of
slo/service/team; times lie between 1970 and 2200), always with a 4xx that says why.

The same run by hand (README, development):
    .venv/bin/schemathesis run http://127.0.0.1:8000/openapi.json -H "Authorization: Bearer $TOKEN" \
        --checks all --exclude-checks positive_data_acceptance
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.conftest import ROOT, require_binary
from tests.prometheus_stack import prometheus
from tests.sla_service import TOKEN, service

EXAMPLES = os.environ.get("WATCHKEEPER_SCHEMATHESIS_EXAMPLES", "30")


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path: Path) -> None:
    binary = require_binary("prometheus")
    (tmp_path / "prom").mkdir()
    with (
        prometheus(binary, [], tmp_path / "prom") as prometheus_url,
        service(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path, "--prometheus", prometheus_url) as running,
    ):
        done = subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "schemathesis"),
                "run",
                f"{running.url}/openapi.json",
                "-H",
                f"Authorization: Bearer {TOKEN}",
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance",
                "--max-examples",
                EXAMPLES,
                "--seed",
                "20261122",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            env={**os.environ, "NO_COLOR": "1"},
        )
        log = running.output()
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    tested = re.search(r"Tested: (\d+)", done.stdout)
    assert tested and int(tested.group(1)) >= 13, done.stdout[-3000:]  # every operation was exercised
    assert "Traceback" not in log and TOKEN not in log
