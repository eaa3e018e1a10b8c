"""The catalog's pydantic models, one module per kind of entry, and the root `Catalog` they make up.

`strict` is the base of every entry; `teams`, `services`, `slos` and `drift` the top-level entries;
`sources` the `sources:` section, with one module per source kind (`hdfs`, `yarn`, `spark`, `kafka`,
`freshness`, `inference`) on `source_base`; `connections`, `alerts`, `labels` and `corrections` the parts
several kinds share.
"""

from __future__ import annotations

from functools import cached_property

from catalog.model.drift import DriftMonitor
from catalog.model.services import Service
from catalog.model.slos import SLO
from catalog.model.sources import Sources
from catalog.model.strict import Strict
from catalog.model.teams import Team

__all__ = ["TOP_LEVEL_KEYS", "Catalog", "DriftMonitor"]
# DriftMonitor is re-exported for api/drift_cli.py and api/drift_common.py, which import it from here.

TOP_LEVEL_KEYS = ("teams", "services", "slos", "sources", "drift")


class Catalog(Strict):
    teams: list[Team] = []
    services: list[Service] = []
    slos: list[SLO] = []
    sources: Sources = Sources()
    drift: list[DriftMonitor] = []

    @cached_property
    def _team_index(self) -> dict[str, Team]:
        return {t.name: t for t in self.teams}

    @cached_property
    def _service_index(self) -> dict[str, Service]:
        return {s.name: s for s in self.services}

    def team(self, name: str) -> Team:
        return self._team_index[name]

    def service(self, name: str) -> Service:
        return self._service_index[name]

    def team_of(self, service: str) -> Team:
        return self.team(self.service(service).team)
