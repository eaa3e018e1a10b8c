"""The breach ledger through the real FastAPI app and a real database (SQLite and the local PostgreSQL).

Expected values are hand computations from the recorded payloads (tests/fixtures/alertmanager_webhook/),
written out next to each assertion; the live Alertmanager and process-level tests are in
tests/test_sla_service.py.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from api.app import create_app
from api.service_state import ServiceSettings, ServiceState
from sla.store.engine import make_engine, resolve_url
from sla.store.migrate import upgrade
from tests.sla_service import BACKENDS, TOKEN, database_url, payload

AUTH = {"Authorization": f"Bearer {TOKEN}"}
FUZZ_EXAMPLES = int(os.environ.get("WATCHKEEPER_FUZZ_EXAMPLES", "60"))


def _client(url: str, public_read: bool = False) -> TestClient:
    engine = make_engine(resolve_url(url))
    upgrade(engine)
    state = ServiceState(
        engine, ServiceSettings(SecretStr(TOKEN), public_read=public_read), {"kafka-ingest": "platform"}
    )
    return TestClient(create_app(state), raise_server_exceptions=False)


@pytest.fixture(params=BACKENDS)
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    with database_url(request.param, tmp_path) as url:
        test_client = _client(url)
        yield test_client
        test_client.app.state.service.engine.dispose()  # type: ignore[attr-defined]


def post(client: TestClient, body: Any, headers: dict[str, str] = AUTH) -> Any:
    """POST `body` as JSON; non-ASCII is escaped, so unpaired surrogates reach the server as `\\ud800`."""
    content = json.dumps(body).encode()
    return client.post(
        "/api/v1/alerts", content=content, headers={**headers, "Content-Type": "application/json"}
    )


def breaches(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/breaches", params=params, headers=AUTH)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# bot_firing/bot_resolved: startsAt 2018-11-04T22:43:58.283995108+01:00 = 21:43:58.283995 UTC (Python keeps
# microseconds); the resolved endsAt 22:48:13.283995108+01:00 = 21:48:13.283995 UTC; 48:13 - 43:58 = 255 s.
BOT_START = "2018-11-04T21:43:58.283995Z"
BOT_END = "2018-11-04T21:48:13.283995Z"


def test_firing_then_resolved_is_one_breach_with_its_end(client: TestClient) -> None:
    assert post(client, payload("bot_firing.json")).json() == {"stored": 1}
    [open_breach] = breaches(client)
    assert (open_breach["status"], open_breach["starts_at"], open_breach["ends_at"]) == (
        "firing",
        BOT_START,
        None,
    )
    assert post(client, payload("bot_resolved.json")).status_code == 200
    [breach] = breaches(client)
    assert breach["starts_at"] == BOT_START and breach["ends_at"] == BOT_END
    assert breach["duration_seconds"] == 255.0 and breach["status"] == "resolved"
    assert breach["alertname"] == "Fire" and breach["severity"] == "critical"


@pytest.mark.parametrize(
    "order",
    list(
        itertools.permutations(
            ["bot_firing.json", "bot_resolved.json", "bot_firing.json", "bot_resolved.json"]
        )
    ),
)
def test_any_delivery_order_and_duplicates_end_resolved(client: TestClient, order: tuple[str, ...]) -> None:
    """Resolve before firing, firing after resolve, each twice: always one resolved breach."""
    for name in order:
        assert post(client, payload(name)).status_code == 200
    [breach] = breaches(client)
    assert (breach["starts_at"], breach["ends_at"], breach["status"]) == (BOT_START, BOT_END, "resolved")


def test_the_latest_end_wins_whatever_the_order(client: TestClient) -> None:
    """Two resolved deliveries with different ends (re-sent after resolve_timeout): the later end is kept."""
    early, late = payload("bot_resolved.json"), payload("bot_resolved.json")
    early["alerts"][0]["endsAt"] = "2018-11-04T22:45:00+01:00"
    for body in (late, early):
        post(client, body)
    assert breaches(client)[0]["ends_at"] == BOT_END


def test_repeated_alerts_in_one_payload_are_one_breach_each(client: TestClient) -> None:
    """calert's payload: 31 alerts, 30 copies of fingerprint 1a956348d0570965 and one 9bbc9bf3bcb8bf9c."""
    assert post(client, payload("calert_mock_payload.json")).json() == {"stored": 31}
    found = sorted(b["fingerprint"] for b in breaches(client))
    assert found == ["1a956348d0570965", "9bbc9bf3bcb8bf9c"]


def test_alerts_without_status_or_fingerprint_take_the_groups(client: TestClient) -> None:
    """msteams' payload: 12 alerts, alertnames high_memory_load..high_memory_load12, all firing since
    2018-03-07T06:33:21.873077559-05:00 = 11:33:21.873077 UTC."""
    post(client, payload("msteams_12_alerts.json"))
    found = breaches(client, limit=100)
    expected_names = {"high_memory_load", *(f"high_memory_load{i}" for i in range(2, 13))}
    assert {b["alertname"] for b in found} == expected_names
    assert {(b["status"], b["starts_at"]) for b in found} == {("firing", "2018-03-07T11:33:21.873077Z")}
    assert len({b["fingerprint"] for b in found}) == 12


def _alert(name: str, start: str, end: str | None = None, **labels: str) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "status": "resolved" if end else "firing",
        "labels": {"alertname": name, **labels},
        "annotations": {},
        "startsAt": start,
        "endsAt": end or "0001-01-01T00:00:00Z",
    }
    return alert


def _body(*alerts: dict[str, Any]) -> dict[str, Any]:
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return {"version": "4", "status": status, "receiver": "watchkeeper-ledger", "alerts": list(alerts)}


MALFORMED = [
    ({"version": "3", "status": "firing", "alerts": [_alert("A", "2024-01-01T00:00:00Z")]}, "version"),
    (_body(_alert("A", "2024-01-01T00:00:00Z")) | {"status": "pending"}, "status"),
    (_body() | {"alerts": []}, "alerts"),
    (_body({**_alert("A", "2024-01-01T00:00:00Z"), "labels": {"severity": "x"}}), "alertname"),
    (_body({**_alert("A", "2024-01-01T00:00:00Z"), "startsAt": "yesterday"}), "startsAt"),
    (_body({**_alert("A", "2024-01-01T00:00:00Z"), "startsAt": "2024-01-01T00:00:00"}), "timezone"),
    (_body({**_alert("A", "0001-01-01T00:00:00Z")}), "zero time"),
    (
        _body(
            {**_alert("A", "2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z"), "endsAt": "0001-01-01T00:00:00Z"}
        ),
        "no endsAt",
    ),
    (_body(_alert("A", "2024-01-01T02:00:00Z", "2024-01-01T01:00:00Z")), "before it starts"),
    (_body({**_alert("A", "2024-01-01T00:00:00Z"), "fingerprint": "not hex!"}), "fingerprint"),
    (_body(_alert("A\x00B", "2024-01-01T00:00:00Z")), "NUL"),
    (_body(_alert("A", "2024-01-01T00:00:00Z", service="\ud800")), "surrogate"),
    (_body({**_alert("A", "2024-01-01T00:00:00Z"), "labels": {"alertname": "A", "n": 5}}), "string"),
    ([1, 2, 3], "body"),
]


@pytest.mark.parametrize(("body", "why"), MALFORMED, ids=[w for _, w in MALFORMED])
def test_malformed_payload_is_refused_with_the_reason_and_nothing_stored(
    client: TestClient, body: Any, why: str
) -> None:
    # One valid alert rides along in every list-of-alerts case: it must not be stored either.
    if isinstance(body, dict) and body.get("alerts"):
        body = {**body, "alerts": [_alert("Valid", "2024-01-01T00:00:00Z"), *body["alerts"]]}
    response = post(client, body)
    assert response.status_code == 422, response.text
    assert why.lower() in response.json()["detail"].lower()
    assert breaches(client) == []


def test_not_json_is_a_422(client: TestClient) -> None:
    response = client.post(
        "/api/v1/alerts", content=b"{not json", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 422 and "json" in response.json()["detail"].lower()


def _mutating_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every mutating operation the OpenAPI schema publishes (new endpoints are covered automatically)."""
    schema = client.get("/openapi.json").json()
    routes = [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"post", "put", "patch", "delete"}
    ]
    assert ("POST", "/api/v1/alerts") in routes
    return routes


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": "Bearer"},
    ],
)
def test_every_mutating_endpoint_needs_the_token(client: TestClient, headers: dict[str, str]) -> None:
    for method, path in _mutating_routes(client):
        response = client.request(method, path, json=payload("bot_firing.json"), headers=headers)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
        assert TOKEN not in response.text
    assert breaches(client) == []


def test_reads_need_the_token_unless_public_read(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert _client(url).get("/api/v1/breaches").status_code == 401
    assert _client(url).get("/api/v1/breaches", headers={"Authorization": "Bearer no"}).status_code == 401
    public = _client(url, public_read=True)
    assert public.get("/api/v1/breaches").status_code == 200
    assert public.post("/api/v1/alerts", json=payload("bot_firing.json")).status_code == 401


def test_filters_time_range_and_pagination(client: TestClient) -> None:
    post(
        client,
        _body(
            _alert(
                "Burn",
                "2024-03-01T00:00:00Z",
                "2024-03-01T01:00:00Z",
                team="platform",
                service="kafka-ingest",
                slo="avail",
                severity="critical",
            ),
            _alert(
                "Burn",
                "2024-03-02T00:00:00Z",
                None,
                team="platform",
                service="kafka-ingest",
                slo="latency",
                severity="warning",
            ),
            _alert(
                "Burn",
                "2024-03-03T00:00:00Z",
                "2024-03-03T00:30:00Z",
                team="ml",
                service="scoring",
                slo="avail",
                severity="critical",
            ),
            _alert(
                "Burn", "2024-03-04T00:00:00Z", None, service="kafka-ingest", slo="avail", severity="critical"
            ),
            _alert(
                "Other",
                "2024-03-05T00:00:00Z",
                None,
                team="ml",
                service="scoring",
                slo="fresh",
                severity="warning",
            ),
        ),
    )
    starts = lambda found: [b["starts_at"][:10] for b in found]  # noqa: E731
    # Newest first. The 03-04 alert has no team label: its service belongs to platform in the catalog.
    assert starts(breaches(client, team="platform")) == ["2024-03-04", "2024-03-02", "2024-03-01"]
    assert starts(breaches(client, service="scoring")) == ["2024-03-05", "2024-03-03"]
    assert starts(breaches(client, slo="avail", severity="critical")) == [
        "2024-03-04",
        "2024-03-03",
        "2024-03-01",
    ]
    assert starts(breaches(client, severity="warning")) == ["2024-03-05", "2024-03-02"]
    # Overlap with [03-01T02:00, 03-03T12:00): 03-01 ended at 01:00 (out), 03-02 still open (in), 03-03 (in).
    window = {"since": "2024-03-01T02:00:00Z", "until": "2024-03-03T12:00:00Z"}
    assert starts(breaches(client, **window)) == ["2024-03-03", "2024-03-02"]
    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/breaches", params=params, headers=AUTH).json()
        pages.append(starts(body["items"]))
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == [["2024-03-05", "2024-03-04"], ["2024-03-03", "2024-03-02"], ["2024-03-01"]]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 1001},
        {"cursor": "garbage"},
        {"since": "2024-01-02T00:00:00Z", "until": "2024-01-01T00:00:00Z"},
        {"since": "not a time"},
        {"since": "2024-01-01T00:00:00"},
    ],
)
def test_bad_query_parameters_are_a_4xx(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get("/api/v1/breaches", params=params, headers=AUTH)
    assert response.status_code in {400, 422}, response.text
    assert response.json()["detail"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)
ALERT = st.fixed_dictionaries(
    {
        "labels": st.dictionaries(
            st.sampled_from(["alertname", "team", "service", "x"]), st.text(), max_size=4
        )
    },
    optional={
        "status": st.sampled_from(["firing", "resolved", "other"]) | JSON,
        "startsAt": st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat()) | JSON,
        "endsAt": st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat()) | JSON,
        "fingerprint": st.text() | JSON,
        "annotations": JSON,
    },
)
BODY = JSON | st.fixed_dictionaries(
    {"alerts": st.lists(ALERT, max_size=3)},
    optional={
        "version": st.sampled_from(["4", "3"]) | JSON,
        "status": st.sampled_from(["firing", "resolved"]) | JSON,
    },
)


def test_random_bodies_never_cause_a_server_error(tmp_path: Path) -> None:
    fuzz_client = _client(f"sqlite:///{tmp_path / 'fuzz.db'}")

    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=BODY)
    def check(body: Any) -> None:
        response = post(fuzz_client, body)
        assert response.status_code in {200, 422}, (body, response.text)

    check()


def test_own_metrics_match_the_reference(client: TestClient) -> None:
    """The families /metrics serves are the ones docs/metrics.md lists, with its types and labels."""
    from prometheus_client.parser import text_string_to_metric_families

    from api.metrics_reference import REFERENCE
    from tests.test_metrics_reference import reference_rows

    post(client, payload("bot_firing.json"))
    post(client, {"version": "4"})
    rows = reference_rows(REFERENCE.read_text(encoding="utf-8"))
    served = {
        sample.name: set(sample.labels) - {"le"}
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for sample in family.samples
        if not sample.name.endswith("_created")
    }
    assert served["watchkeeper_ledger_writes_total"] == {"status"}
    assert "watchkeeper_ledger_rejected_payloads_total" in served
    for name, labels in served.items():
        assert rows[name].section == "SLA service" and set(rows[name].labels) == labels, name
