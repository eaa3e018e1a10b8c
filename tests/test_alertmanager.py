"""Generated Alertmanager routing, checked and route-tested with the real amtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from catalog import load_catalog
from tests.conftest import EXAMPLE_CATALOG, require_binary, run_cli

pytestmark = pytest.mark.promtool
TEAMS = [t.name for t in load_catalog(EXAMPLE_CATALOG).catalog.teams]


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("am") / "alertmanager.yml"
    result = run_cli("generate", "alertmanager", str(EXAMPLE_CATALOG), "--out", str(path))
    assert result.code == 0, result.output
    return path


def _route(config: Path, *labels: str) -> str:
    amtool = require_binary("amtool")
    out = subprocess.run(
        [amtool, "config", "routes", "test", f"--config.file={config}", *labels],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_amtool_check_config_passes(config: Path) -> None:
    amtool = require_binary("amtool")
    out = subprocess.run([amtool, "check-config", str(config)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout


@pytest.mark.parametrize("team", TEAMS)
@pytest.mark.parametrize("severity", ["critical", "warning"])
def test_each_team_gets_its_own_alerts(config: Path, team: str, severity: str) -> None:
    receivers = _route(
        config,
        "alertname=WatchkeeperSLOErrorBudgetBurn",
        f"team={team}",
        f"severity={severity}",
        "service=x",
        "slo=y",
    )
    assert receivers == f"watchkeeper-ledger,{team}-{severity}"


def test_watchdog_goes_only_to_the_dead_mans_switch(config: Path) -> None:
    assert _route(config, "alertname=Watchdog", "severity=none") == "watchdog"


def test_info_alerts_route_nowhere_but_the_ledger(config: Path) -> None:
    assert _route(config, "alertname=X", "team=platform", "severity=info") == "watchkeeper-ledger,null"


def test_secrets_are_referenced_by_file_never_inlined(config: Path) -> None:
    text = config.read_text()
    assert "api_url_file: /etc/alertmanager/secrets/SLACK_PLATFORM_URL" in text
    assert "routing_key_file: /etc/alertmanager/secrets/PD_PLATFORM_KEY" in text
    assert "api_url:" not in text and "routing_key:" not in text


def test_a_team_webhook_to_the_ledger_is_left_to_the_ledger_route(config: Path) -> None:
    """The example teams' webhook is Watchkeeper's own /api/v1/alerts with WATCHKEEPER_WEBHOOK_TOKEN, a
    token the service does not accept (every delivery 401'd); the ledger route (`continue: true`)
    already delivers every alert there with WATCHKEEPER_API_TOKEN, so the team receivers leave it out.
    tests/test_sla_alertmanager_live.py checks the deliveries on a real Alertmanager and service."""
    import yaml

    receivers = {r["name"]: r for r in yaml.safe_load(config.read_text())["receivers"]}
    for team in TEAMS:
        for severity in ("critical", "warning"):
            assert "webhook_configs" not in receivers[f"{team}-{severity}"], (team, severity)
    assert "WATCHKEEPER_WEBHOOK_TOKEN" not in config.read_text()
    ledger = receivers["watchkeeper-ledger"]["webhook_configs"]
    assert ledger[0]["http_config"]["authorization"]["credentials_file"].endswith("/WATCHKEEPER_API_TOKEN")


def test_a_team_webhook_elsewhere_keeps_its_token_file() -> None:
    import yaml

    from catalog.model import Catalog
    from rules.alertmanager import alertmanager_yaml

    hook = {"url": "https://hooks.example.com/ops", "token_env": "OPS_HOOK_TOKEN"}
    catalog = Catalog.model_validate(
        {
            "teams": [{"name": "ops", "owners": ["o@example.com"], "channels": {"webhook": hook}}],
            "services": [{"name": "shop", "team": "ops"}],
        }
    )
    receivers = {r["name"]: r for r in yaml.safe_load(alertmanager_yaml(catalog))["receivers"]}
    [sent] = receivers["ops-warning"]["webhook_configs"]
    assert sent["url"] == hook["url"]
    assert (
        sent["http_config"]["authorization"]["credentials_file"] == "/etc/alertmanager/secrets/OPS_HOOK_TOKEN"
    )


def test_critical_inhibits_warning_only_for_the_same_alert_slo_and_source(config: Path) -> None:
    """The shape of the rule; tests/test_inhibition_live.py proves its effect on a real Alertmanager."""
    import yaml

    [rule] = yaml.safe_load(config.read_text())["inhibit_rules"]
    assert rule == {
        "source_matchers": ['severity="critical"'],
        "target_matchers": ['severity="warning"'],
        "equal": ["alertname", "service", "slo", "source"],
    }
