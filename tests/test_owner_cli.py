"""`watchkeeper owner`: answers from the example catalog (expected values read by hand from
examples/catalog/*.yaml), JSON output, alert labels on stdin, and bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.conftest import EXAMPLE_CATALOG, run_cli

CATALOG = str(EXAMPLE_CATALOG)


def owner(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, ["owner", CATALOG, *args], input=stdin, env={"COLUMNS": "400", "NO_COLOR": "1"}
    )
    return result.exit_code, result.stdout, result.stderr


def as_json(*args: str, stdin: str | None = None) -> list[dict[str, Any]]:
    code, out, err = owner(*args, "--format", "json", stdin=stdin)
    assert code == 0, err
    answers: list[dict[str, Any]] = json.loads(out)
    return answers


@pytest.mark.parametrize(
    ("args", "matched", "team", "service", "claim"),
    [
        (
            ["orders-etl", "--kind", "group"],
            "kafka group orders-etl on prod",
            "data-engineering",
            "orders-pipeline",
            "orders-etl",
        ),
        (
            ["some-other-group", "--kind", "group"],
            "kafka group some-other-group on prod",
            "platform",
            "kafka-prod",
            None,
        ),
        # The literal claim of mlops beats BI's pattern re:^analytics-.*:
        (
            ["analytics-churn-features", "--kind", "group"],
            "kafka group analytics-churn-features on prod",
            "mlops",
            "churn-serving",
            "analytics-churn-features",
        ),
        (
            ["analytics-weekly", "--kind", "group"],
            "kafka group analytics-weekly on prod",
            "bi",
            "sales-mart",
            "re:^analytics-.*",
        ),
        (
            ["orders", "--kind", "topic"],
            "kafka topic orders on prod",
            "data-engineering",
            "orders-pipeline",
            "orders",
        ),
        (
            ["root.analytics.adhoc", "--kind", "queue"],
            "yarn queue root.analytics.adhoc on prod",
            "bi",
            "sales-mart",
            "root.analytics",
        ),
        (
            ["root.analyticsx", "--kind", "queue"],
            "yarn queue root.analyticsx on prod",
            "platform",
            "yarn-prod",
            None,
        ),
        (
            ["orders-nightly", "--kind", "app"],
            "spark application orders-nightly on history",
            "data-engineering",
            "orders-pipeline",
            "re:^orders-.*",
        ),
        (["fraud-serving"], "service fraud-serving", "mlops", "fraud-serving", None),
        (["daily-sales-freshness"], "SLO daily-sales-freshness", "bi", "sales-mart", None),
        (["history", "--kind", "source"], "spark source history", "platform", "spark-prod", None),
    ],
)
def test_who_owns_it(args: list[str], matched: str, team: str, service: str, claim: str | None) -> None:
    [answer] = as_json(*args)
    assert answer["matched"] == matched
    assert answer["team"] == team
    assert answer["service"] == service
    assert (answer["claim"] or {}).get("pattern") == claim


def test_a_team_answer_has_its_channels_and_no_service() -> None:
    [answer] = as_json("bi")
    assert answer["team"] == "bi" and answer["service"] is None
    assert answer["channels"] == {
        "slack": "#bi-alerts",
        "email": "bi-team@example.com",
        "webhook": "http://watchkeeper-api:8000/api/v1/alerts",
    }


def test_a_bare_name_finds_every_claim_covering_it() -> None:
    answers = as_json("orders-etl")
    assert {a["matched"] for a in answers} == {
        "kafka group orders-etl on prod",
        "spark application orders-etl on history",  # re:^orders-.* covers it too
    }


def test_text_output_names_team_channels_service_runbook_and_claim() -> None:
    code, out, _ = owner("orders-etl", "--kind", "group")
    assert code == 0
    assert out.splitlines() == [
        "kafka group orders-etl on prod",
        "  team:     data-engineering (owners: data-eng-oncall@example.com)",
        "  channels: pagerduty: routing key from PD_DATA_ENG_KEY; slack: #data-eng-alerts; "
        "webhook: http://watchkeeper-api:8000/api/v1/alerts",
        "  service:  orders-pipeline (high)",
        "  runbook:  https://runbooks.example.com/orders-pipeline",
        "  claim:    orders-etl (kafka_group on prod)",
    ]


@pytest.mark.parametrize(
    ("labels", "team", "service"),
    [
        (
            {
                "alertname": "WatchkeeperKafkaConsumerLagging",
                "cluster": "prod",
                "group": "orders-etl",
                "team": "platform",
            },
            "data-engineering",
            "orders-pipeline",
        ),
        (
            {"alertname": "WatchkeeperYarnQueueSaturated", "source": "prod", "queue": "root.ml.training"},
            "mlops",
            "churn-serving",
        ),
        ({"alertname": "WatchkeeperSLOErrorBudgetBurn", "slo": "churn-latency"}, "mlops", "churn-serving"),
        (
            {"alertname": "WatchkeeperSourceDown", "source": "history", "component": "spark"},
            "platform",
            "spark-prod",
        ),
    ],
)
def test_an_alerts_labels_on_stdin(labels: dict[str, str], team: str, service: str) -> None:
    for payload in (labels, {"labels": labels}, {"version": "4", "alerts": [{"labels": labels}]}):
        [answer] = as_json("-", stdin=json.dumps(payload))
        assert (answer["team"], answer["service"]) == (team, service)


@pytest.mark.parametrize(
    ("args", "stdin", "code", "says"),
    [
        (
            ["nosuch"],
            None,
            1,
            "no team, service, SLO, source or claimed group, topic, queue or application named 'nosuch'",
        ),
        (
            ["x", "--kind", "queue", "--source", "nosuch"],
            None,
            1,
            "unknown yarn source 'nosuch': the catalog defines none of that name (defined: prod)",
        ),
        # Review of issue 11: each of these was silent, misleading or a traceback.
        (["orders-etl", "--source", "nosuch"], None, 1, "unknown source 'nosuch'"),
        (["orders-etl", "--kind", "queue"], None, 2, "'orders-etl' is not a YARN queue path"),
        (["-"], "[" * 100_000 + "]" * 100_000, 2, "stdin is not JSON this command reads (nested too deeply)"),
        (["-"], '{"a": "' + "x" * 1_000_001 + '"}', 2, "stdin holds more than 1,000,000 characters"),
        (["-"], '{"group": "orders-etl"}', 2, "the alert has label group='orders-etl' but no cluster label"),
        (
            ["-"],
            '{"group": "orders-etl", "cluster": "staging"}',
            1,
            "unknown kafka cluster 'staging' for group 'orders-etl': the catalog defines prod",
        ),
        (
            ["x", "--kind", "planet"],
            None,
            2,
            "--kind must be one of team, service, slo, source, group, topic, queue, app",
        ),
        (["-"], "{not json", 2, "stdin is not JSON"),
        (["-"], '["a"]', 2, "stdin must hold a JSON object of label names to string values"),
        (["-"], '{"a": 1}', 2, "stdin must hold a JSON object"),
        (["-"], '{"alertname": "X"}', 1, "the alert's labels name no part, SLO, service, source or team"),
        (["bi", "--format", "yaml"], None, 2, "--format must be text or json, not 'yaml'"),
    ],
)
def test_bad_input_is_a_clear_error(args: list[str], stdin: str | None, code: int, says: str) -> None:
    got, out, err = owner(*args, stdin=stdin)
    assert got == code
    assert out == ""
    assert says in " ".join(err.split())


def test_an_invalid_catalog_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "c.yaml"
    path.write_text("teams: [{name: a}]\n")
    result = run_cli("owner", str(path), "a")
    assert result.code == 1
    assert "missing required key 'owners'" in result.output


def test_an_alert_naming_a_group_and_a_queue_gets_both_owners() -> None:
    # By hand from examples/catalog: orders-etl is data-engineering's, root.ml.training is mlops'.
    labels = {"cluster": "prod", "group": "orders-etl", "source": "prod", "queue": "root.ml.training"}
    answers = as_json("-", stdin=json.dumps(labels))
    assert [(a["matched"], a["team"]) for a in answers] == [
        ("kafka group orders-etl on prod", "data-engineering"),
        ("yarn queue root.ml.training on prod", "mlops"),
    ]
