"""Alertmanager routing generated from the catalog: a route per team, receivers per severity,
inhibition, the Watchdog dead-man's switch, and every alert copied to the Watchkeeper ledger.

Secrets are never inlined. Alertmanager does not expand environment variables, so a catalog reference
`api_url_env: SLACK_URL` becomes `api_url_file: <secrets_dir>/SLACK_URL`: mount the variable's value there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from catalog.model import Catalog
from catalog.model.teams import Team
from catalog.yaml_dump import dump_yaml
from exporters.names import SOURCE_LABEL
from rules.names import WATCHDOG_ALERT
from rules.promql import quote

GROUP_BY = ["alertname", "service", "slo"]
INHIBIT_EQUAL = ["alertname", "service", "slo", SOURCE_LABEL]
"""A page mutes only the ticket of the same alert on the same SLO (SLO alerts carry `slo`) or the same source
(component alerts carry `source`). Alertmanager treats a label missing on both sides as equal, so one rule
covers both kinds: SLO alerts have no `source`, component alerts no `slo`."""
LEDGER_RECEIVER = "watchkeeper-ledger"
WATCHDOG_RECEIVER = "watchdog"
DEFAULT_RECEIVER = "default"
NULL_RECEIVER = "null"
LEDGER_PATH = "/api/v1/alerts"
"""Where `watchkeeper serve` takes Alertmanager's webhook (api/routers/alerts.py serves this constant)."""
WATCHDOG_PATH = "/api/v1/watchdog"
API_TOKEN_ENV = "WATCHKEEPER_API_TOKEN"  # noqa: S105 (a variable's name, not a secret)
"""The service's bearer token; Alertmanager reads it from `<secrets_dir>/WATCHKEEPER_API_TOKEN`."""


@dataclass(frozen=True)
class RoutingOptions:
    watchkeeper_url: str = "http://watchkeeper-api:8000"
    secrets_dir: str = "/etc/alertmanager/secrets"
    smtp_smarthost: str = "localhost:25"
    smtp_from: str = "alertmanager@localhost"
    group_wait: str = "30s"
    group_interval: str = "5m"
    api_token_file: str | None = None
    """The file holding the Watchkeeper API token (default `<secrets_dir>/WATCHKEEPER_API_TOKEN`)."""


def _secret(env: str | None, file: str | None, options: RoutingOptions) -> str:
    return file if file is not None else f"{options.secrets_dir.rstrip('/')}/{env}"


def critical_receiver(team: Team) -> str:
    return f"{team.name}-critical"


def warning_receiver(team: Team) -> str:
    return f"{team.name}-warning"


def _team_receivers(team: Team, options: RoutingOptions) -> list[dict[str, Any]]:
    ch = team.channels
    slack: list[dict[str, Any]] = []
    if ch.slack is not None:
        slack = [
            {
                "api_url_file": _secret(ch.slack.api_url_env, ch.slack.api_url_file, options),
                "channel": ch.slack.channel,
                "send_resolved": True,
                "title": "{{ .CommonLabels.severity | toUpper }}: {{ .CommonLabels.alertname }} ({{ .CommonLabels.service }})",
                "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.description }}\n{{ end }}",
            }
        ]
    webhook: list[dict[str, Any]] = []
    ledger = f"{options.watchkeeper_url.rstrip('/')}{LEDGER_PATH}"
    if ch.webhook is not None and ch.webhook.url.rstrip("/") == ledger:
        pass  # the ledger route (`continue: true`) already delivers every alert there, with the API token
    elif ch.webhook is not None:
        hook: dict[str, Any] = {"url": ch.webhook.url, "send_resolved": True}
        if ch.webhook.token_env or ch.webhook.token_file:
            token = _secret(ch.webhook.token_env, ch.webhook.token_file, options)
            hook["http_config"] = {"authorization": {"type": "Bearer", "credentials_file": token}}
        webhook = [hook]
    email = [{"to": ", ".join(ch.email.to), "send_resolved": True}] if ch.email is not None else []
    critical: dict[str, Any] = {"name": critical_receiver(team)}
    if ch.pagerduty is not None:
        key = _secret(ch.pagerduty.routing_key_env, ch.pagerduty.routing_key_file, options)
        critical["pagerduty_configs"] = [{"routing_key_file": key, "send_resolved": True}]
    warning: dict[str, Any] = {"name": warning_receiver(team)}
    for receiver in (critical, warning):
        if slack:
            receiver["slack_configs"] = slack
        if email:
            receiver["email_configs"] = email
        if webhook:
            receiver["webhook_configs"] = webhook
    return [critical, warning]


def _watchkeeper_hook(url: str, send_resolved: bool, options: RoutingOptions) -> dict[str, Any]:
    """A webhook to the Watchkeeper API, with its bearer token read from a file (never inlined)."""
    token = _secret(API_TOKEN_ENV, options.api_token_file, options)
    return {
        "url": url,
        "send_resolved": send_resolved,
        "http_config": {"authorization": {"type": "Bearer", "credentials_file": token}},
    }


def _matcher(label: str, value: str, op: str = "=") -> str:
    return f"{label}{op}{quote(value)}"


def alertmanager_config(catalog: Catalog, options: RoutingOptions = RoutingOptions()) -> dict[str, Any]:
    base = options.watchkeeper_url.rstrip("/")
    team_routes = [
        {
            "matchers": [_matcher("team", team.name)],
            "receiver": warning_receiver(team),
            "group_by": GROUP_BY,
            "routes": [
                {"matchers": [_matcher("severity", "critical")], "receiver": critical_receiver(team)},
                {"matchers": [_matcher("severity", "warning")], "receiver": warning_receiver(team)},
                {"matchers": [_matcher("severity", "info")], "receiver": NULL_RECEIVER},
            ],
        }
        for team in catalog.teams
    ]
    receivers: list[dict[str, Any]] = [
        {
            "name": DEFAULT_RECEIVER,
            "webhook_configs": [_watchkeeper_hook(f"{base}{LEDGER_PATH}", True, options)],
        },
        {"name": NULL_RECEIVER},
        {
            "name": LEDGER_RECEIVER,
            "webhook_configs": [_watchkeeper_hook(f"{base}{LEDGER_PATH}", True, options)],
        },
        {
            "name": WATCHDOG_RECEIVER,
            "webhook_configs": [_watchkeeper_hook(f"{base}{WATCHDOG_PATH}", False, options)],
        },
    ]
    for team in catalog.teams:
        receivers += _team_receivers(team, options)
    return {
        "global": {
            "resolve_timeout": "5m",
            "smtp_smarthost": options.smtp_smarthost,
            "smtp_from": options.smtp_from,
        },
        "route": {
            "receiver": DEFAULT_RECEIVER,
            "group_by": GROUP_BY,
            "group_wait": options.group_wait,
            "group_interval": options.group_interval,
            "repeat_interval": "4h",
            "routes": [
                {
                    "matchers": [_matcher("alertname", WATCHDOG_ALERT)],
                    "receiver": WATCHDOG_RECEIVER,
                    "group_wait": "0s",
                    "group_interval": "1m",
                    "repeat_interval": "1m",
                },
                # Every other alert is also recorded in the SLA ledger; `continue` lets it reach its team too.
                {
                    "matchers": [_matcher("alertname", WATCHDOG_ALERT, "!=")],
                    "receiver": LEDGER_RECEIVER,
                    "continue": True,
                },
                {"matchers": [_matcher("severity", "info")], "receiver": NULL_RECEIVER},
                *team_routes,
            ],
        },
        "inhibit_rules": [
            {
                "source_matchers": [_matcher("severity", "critical")],
                "target_matchers": [_matcher("severity", "warning")],
                "equal": INHIBIT_EQUAL,
            }
        ],
        "receivers": receivers,
    }


def alertmanager_yaml(catalog: Catalog, options: RoutingOptions = RoutingOptions()) -> str:
    header = "# Generated by watchkeeper from the catalog. Do not edit: change the catalog and regenerate.\n"
    return header + dump_yaml(alertmanager_config(catalog, options))
