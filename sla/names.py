"""Metric names the SLA service serves on its own `/metrics`: the contract dashboards and alerts import.

Registered once with type, labels and help, like the exporters' names (`exporters/registry.py`).
"""

from __future__ import annotations

from exporters.registry import Registry

REGISTRY = Registry()
_service = REGISTRY.section(
    "SLA service",
    "Served by `watchkeeper serve` on its own `/metrics`. `route` is the path template of the endpoint "
    "(`/api/v1/breaches`), never the raw path, so the label set stays bounded.",
)
HTTP_REQUEST_DURATION = _service.metric(
    "watchkeeper_api_request_duration_seconds",
    "histogram",
    ("method", "route", "code"),
    "Time to answer one HTTP request, by method, route template and status code",
)
LEDGER_WRITES = _service.metric(
    "watchkeeper_ledger_writes",
    "counter",
    ("status",),
    "Alert transitions (firing or resolved) committed to the breach ledger, duplicates included",
)
LEDGER_REJECTED = _service.metric(
    "watchkeeper_ledger_rejected_payloads",
    "counter",
    (),
    "Webhook deliveries refused because the payload is malformed (nothing of them is stored)",
)
WATCHDOG_LAST_SEEN = _service.metric(
    "watchkeeper_api_watchdog_last_seen_timestamp_seconds",
    "gauge",
    (),
    "Unix time of the last Watchdog heartbeat Alertmanager delivered (0: none since start); "
    "alert when time() minus this grows past a few repeat intervals",
)
