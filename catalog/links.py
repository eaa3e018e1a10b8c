"""Links every generated artifact shares: dashboard uids and URLs, and the runbook fallback.

Rules (alert annotations), dashboards (the uids themselves) and reports all need the same links, so they
are computed here, below all three. Catalog names allow `.`, `_` and up to 63 characters, but a Grafana
uid is at most 40 characters of `[a-zA-Z0-9_-]` (and Grafana means to require Kubernetes names), so a
uid is kept readable when the name fits and otherwise gets a stable hash suffix: see `stable_name`.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote, urlencode

from catalog.model.services import Service

GRAFANA_UID_MAX = 40
"""Grafana refuses longer dashboard uids (`MaxUIDLength`)."""
UID_CHARS = "a-z0-9-"
"""Characters kept in a uid: valid for Grafana today and a Kubernetes (RFC 1123) name as well."""
DIGEST_CHARS = 10
"""Hex digits of SHA-256 in a hash suffix (40 bits)."""
_HASHED = re.compile(rf"-h[0-9a-f]{{{DIGEST_CHARS}}}$")


def stable_name(text: str, chars: str, max_length: int) -> str:
    """`text` itself when it uses only `chars` (a regex character class), fits in `max_length` and does not
    end like a hashed name; otherwise its sanitised start plus `-h` and the first hex digits of its SHA-256.

    Distinct texts give distinct names: a kept text never ends like a hashed name and every hashed name
    does, kept texts are themselves, and two hashed names differ unless 40 bits of SHA-256 collide.
    The same text always gives the same name, in any process. `text` must start with one of `chars`.
    """
    suffix_length = len("-h") + DIGEST_CHARS
    if max_length <= suffix_length:
        raise ValueError(f"max_length {max_length} leaves no room for a hash suffix")
    invalid = re.compile(f"[^{chars}]")
    if not invalid.search(text) and len(text) <= max_length and not _HASHED.search(text):
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:DIGEST_CHARS]
    stem = invalid.sub("-", text)[: max_length - suffix_length].rstrip("-")
    return f"{stem}-h{digest}"


def _uid(text: str) -> str:
    return stable_name(text, UID_CHARS, GRAFANA_UID_MAX)


def service_dashboard_uid(service: str) -> str:
    """The uid of a service's SLO dashboard."""
    return _uid(f"wk-slo-{service}")


def team_dashboard_uid(team: str) -> str:
    """The uid of a team's overview dashboard."""
    return _uid(f"wk-team-{team}")


def slo_dashboard_uid(slo: str) -> str:
    """The uid of one SLO's detail dashboard (SLO names are unique across the catalog)."""
    return _uid(f"wk-objective-{slo}")


HOME_DASHBOARD_UID = "wk-home"
"""The platform home dashboard: every team's SLOs and firing alerts."""
EXPORTER_DASHBOARD_UID = "wk-exporter"
"""The exporter's self-monitoring dashboard."""
REPORTS_PATH = "/api/v1/reports"
"""Where the SLA service serves reports: api/routers/reports.py's prefix (tests/test_dashboards_links.py checks)."""


def component_dashboard_uid(kind: str) -> str:
    """The uid of a source kind's component dashboard (hdfs, yarn, spark, kafka, freshness, inference, drift)."""
    return _uid(f"wk-component-{kind}")


COMPONENT_VARIABLE = {"kafka": "cluster", "freshness": "dataset", "drift": "monitor"}
"""The template variable selecting one source on a kind's component dashboard (`source` unless named here)."""
PART_VARIABLE = {"kafka_group": "group", "yarn_queue": "queue", "spark_app": "application"}
"""The variable selecting a claimed part on its source's component dashboard (topics have none)."""


def component_variable(kind: str) -> str:
    """The variable that selects a source of `kind` on its component dashboard."""
    return COMPONENT_VARIABLE.get(kind, "source")


def component_url(grafana_url: str, kind: str, name: str, part_kind: str = "", part: str = "") -> str:
    """A component dashboard with one source (a dataset for freshness, a monitor for drift) selected,
    and one literal part of it (`part_kind`: a claim kind) when given and the dashboard can select it."""
    variables = {component_variable(kind): name}
    if part and part_kind in PART_VARIABLE:
        variables[PART_VARIABLE[part_kind]] = part
    return dashboard_url(grafana_url, component_dashboard_uid(kind), **variables)


def report_url(watchkeeper_url: str, level: str, name: str) -> str:
    """The SLA report of one SLO, service or team (`level`) on the Watchkeeper API."""
    return f"{watchkeeper_url.rstrip('/')}{REPORTS_PATH}/{level}/{quote(name, safe='')}"


def dashboard_url(grafana_url: str, uid: str, **variables: str) -> str:
    """A Grafana dashboard link, with template variables as `var-NAME=value`."""
    query = urlencode({f"var-{name}": value for name, value in variables.items()})
    return f"{grafana_url.rstrip('/')}/d/{uid}" + (f"?{query}" if query else "")


def runbook_url(grafana_url: str, service: Service) -> str:
    """The service's runbook, or its SLO dashboard when it has none."""
    return service.runbook or dashboard_url(grafana_url, service_dashboard_uid(service.name))
