"""HDFS sources: NameNodes and DataNodes scraped over `/jmx`."""

from __future__ import annotations

from pydantic import Field

from catalog.addresses import HttpUrl
from catalog.model.source_base import ScrapedSource


class HdfsSource(ScrapedSource):
    alert_kind = "hdfs"
    namenodes: list[HttpUrl] = Field(min_length=1)
    datanodes: list[HttpUrl] = []
