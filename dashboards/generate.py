"""Every dashboard of a catalog, as `Board`s and as files: a folder per team plus the shared folder.

Pure: `boards` and `dashboard_files` do no I/O; `dashboards/provisioning.py` and `api/build.py` write.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.links import slo_dashboard_uid
from catalog.model import Catalog
from dashboards.components import BUILDERS
from dashboards.exporter import exporter_board
from dashboards.home import home_board
from dashboards.parts import kinds_present
from dashboards.render import Board, board_json, dump
from dashboards.service import service_board
from dashboards.slo import slo_board
from dashboards.slo_render import slo_texts
from dashboards.team import team_board

DEFAULT_DATASOURCE_UID = "prometheus"
"""The uid of the Prometheus datasource every query uses (`--datasource-uid`), as provisioned."""


@dataclass(frozen=True)
class DashboardOptions:
    datasource_uid: str = DEFAULT_DATASOURCE_UID
    watchkeeper_url: str = "http://watchkeeper-api:8000"


def _other_boards(catalog: Catalog) -> list[Board]:
    found = [home_board(catalog), exporter_board(catalog)]
    found += [BUILDERS[kind](catalog) for kind in kinds_present(catalog)]
    for team in catalog.teams:
        found.append(team_board(team, catalog))
        found += [service_board(s, catalog) for s in catalog.services if s.team == team.name]
    return found


def boards(catalog: Catalog, options: DashboardOptions = DashboardOptions()) -> list[Board]:
    """Home, the exporter, one per component kind present, per team its overview and services, then
    one per SLO."""
    return _other_boards(catalog) + [slo_board(s, catalog, options.watchkeeper_url) for s in catalog.slos]


def dashboard_files(catalog: Catalog, options: DashboardOptions = DashboardOptions()) -> dict[str, str]:
    """`<folder>/<uid>.json` -> the dashboard's JSON text, for every dashboard (SLO dashboards rendered
    from one template per shape: dashboards/slo_render.py)."""
    files = {
        f"{board.folder}/{board.uid}.json": dump(board_json(board, options.datasource_uid))
        for board in _other_boards(catalog)
    }
    for name, (folder, text) in slo_texts(catalog, options.watchkeeper_url, options.datasource_uid).items():
        files[f"{folder}/{slo_dashboard_uid(name)}.json"] = text
    return files
