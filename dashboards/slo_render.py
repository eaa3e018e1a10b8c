"""SLO detail dashboards rendered from one template per shape: the fast path behind `dashboard_files`.

SLO dashboards are most of a large catalog's dashboards (1,000 of 1,220 in benchmarks/dashboards_bench.py),
and all SLOs of one shape (window, which alerts are on, with or without a runbook and a description)
differ only in a few strings. So each shape is built and rendered once, with placeholders, and every SLO
of that shape is its text with the placeholders replaced (JSON-escaped). Catalog names (`[a-z0-9._-]`)
read the same in JSON, PromQL and URLs, so each placeholder has one replacement per form it takes.
tests/test_dashboards.py checks the result is byte-identical to building each dashboard directly.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from catalog.links import service_dashboard_uid, slo_dashboard_uid, team_dashboard_uid
from catalog.model import Catalog
from catalog.model.services import Service
from catalog.model.slos import SLO
from catalog.model.teams import Team
from dashboards.panels import md_target
from dashboards.render import board_json, dump
from dashboards.slo import slo_board

_SLO, _SERVICE, _TEAM = "\x01slo\x01", "\x01service\x01", "\x01team\x01"
_RUNBOOK, _DESCRIPTION = "\x01run book\x01", "\x01description\x01"
"""The runbook appears as it is (dashboard links) and as a markdown link target, where its space is
escaped: so each form has its own placeholder text."""
_OBJECTIVE = 12.3457
"""A stand-in objective: only its text (`12.3457%`) appears in a dashboard, and no other number does."""
Shape = tuple[str, bool, bool, bool, bool]


def _shape(slo: SLO, service: Service) -> Shape:
    return (
        str(slo.window),
        slo.alerting.page.enabled,
        slo.alerting.ticket.enabled,
        service.runbook is not None,
        bool(slo.description),
    )


def _escaped(text: str) -> str:
    """`text` as it appears inside a JSON string in the rendered output."""
    return json.dumps(text)[1:-1]


def _template(slo: SLO, service: Service, watchkeeper_url: str, datasource_uid: str) -> str:
    team = Team.model_construct(name=_TEAM, owners=["x"])
    runbook = _RUNBOOK if service.runbook is not None else None
    stand_in = Service.model_construct(name=_SERVICE, team=_TEAM, tier=service.tier, runbook=runbook)
    template = slo.model_copy(
        update={
            "name": _SLO,
            "service": _SERVICE,
            "objective": _OBJECTIVE,
            "description": _DESCRIPTION if slo.description else "",
        }
    )
    catalog = Catalog.model_construct(teams=[team], services=[stand_in], slos=[template])
    return dump(board_json(slo_board(template, catalog, watchkeeper_url), datasource_uid))


def _replacements(
    slo: str, service: str, team: str, objective: float, description: str, runbook: str
) -> dict[str, str]:
    """Placeholder text -> replacement, for every form a placeholder takes in the rendered text."""
    pairs = {
        slo_dashboard_uid(_SLO): slo_dashboard_uid(slo),
        service_dashboard_uid(_SERVICE): service_dashboard_uid(service),
        team_dashboard_uid(_TEAM): team_dashboard_uid(team),
        f"{_OBJECTIVE:g}%": f"{objective:g}%",
        _escaped(_DESCRIPTION): _escaped(description),
        _escaped(_RUNBOOK): _escaped(runbook),
        _escaped(md_target(_RUNBOOK)): _escaped(md_target(runbook)),
    }
    for placeholder, value in ((_SLO, slo), (_SERVICE, service), (_TEAM, team)):
        pairs |= {_escaped(placeholder): value, quote(placeholder, safe=""): value}
    return pairs


_PATTERN = re.compile(
    "|".join(map(re.escape, _replacements(_SLO, _SERVICE, _TEAM, _OBJECTIVE, _DESCRIPTION, _RUNBOOK)))
)


def _fill(template: str, mapping: dict[str, str]) -> str:
    """Every placeholder replaced in one pass, so a replacement (a description) is never scanned again."""
    return _PATTERN.sub(lambda match: mapping[match.group()], template)


def slo_texts(catalog: Catalog, watchkeeper_url: str, datasource_uid: str) -> dict[str, tuple[str, str]]:
    """SLO name -> (folder, rendered dashboard text), for every SLO of the catalog."""
    templates: dict[Shape, str] = {}
    out = {}
    for slo in catalog.slos:
        service = catalog.service(slo.service)
        shape = _shape(slo, service)
        if shape not in templates:
            templates[shape] = _template(slo, service, watchkeeper_url, datasource_uid)
        mapping = _replacements(
            slo.name, slo.service, service.team, slo.objective, slo.description, str(service.runbook)
        )
        out[slo.name] = (service.team, _fill(templates[shape], mapping))
    return out
