"""HDFS from the NameNode (and DataNode) `/jmx` servlets: capacity, block health, HA state, DataNodes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from catalog.model.hdfs import HdfsSource
from exporters import names as m
from exporters.errors import ScrapeError
from exporters.http import PARSE_INLINE_BYTES, ItemLimit, endpoint, resolve_auth
from exporters.metric_set import MetricSet, number
from exporters.runtime import Scrape, Source, http_settings

FSNAMESYSTEM = "Hadoop:service=NameNode,name=FSNamesystem"
FSNAMESYSTEM_STATE = "Hadoop:service=NameNode,name=FSNamesystemState"
NAMENODE_INFO = "Hadoop:service=NameNode,name=NameNodeInfo"
DATANODE_INFO = "Hadoop:service=DataNode,name=DataNodeInfo"
DataNodeTables = tuple[dict[str, Any], dict[str, Any]]
"""NameNodeInfo's (LiveNodes, DeadNodes), decoded from their JSON strings."""
HA_STATES = ("active", "standby", "observer", "initializing", "stopping")
MAX_BEANS = 1000
"""Beans a /jmx answer to one of our queries may hold; more is not a NameNode answering it."""
SMALL_BEAN_BYTES = 4 * 1024 * 1024
"""Body limit for the FSNamesystem* and DataNodeInfo queries (a few KB from a real NameNode or DataNode);
NameNodeInfo, whose LiveNodes table grows with the cluster, keeps the 20 MB limit."""
INLINE_DATANODES = 2000
"""Up to this many DataNodes, their series are built on the event loop; more go to the worker pool."""

# (metric, help, bean field) from FSNamesystem (FSNamesystemState fields override where both exist).
_NAMESYSTEM_GAUGES = [
    (m.HDFS_CAPACITY_TOTAL_BYTES, "Configured capacity in bytes", "CapacityTotal"),
    (m.HDFS_CAPACITY_USED_BYTES, "DFS used bytes", "CapacityUsed"),
    (m.HDFS_CAPACITY_REMAINING_BYTES, "Remaining bytes", "CapacityRemaining"),
    (m.HDFS_MISSING_BLOCKS, "Blocks with no replica left", "MissingBlocks"),
    (m.HDFS_CORRUPT_BLOCKS, "Corrupt blocks", "CorruptBlocks"),
    (m.HDFS_UNDER_REPLICATED_BLOCKS, "Under-replicated blocks", "UnderReplicatedBlocks"),
    (m.HDFS_PENDING_REPLICATION_BLOCKS, "Blocks pending replication", "PendingReplicationBlocks"),
    (m.HDFS_BLOCKS_TOTAL, "Blocks in the namespace", "BlocksTotal"),
    (m.HDFS_FILES_TOTAL, "Files and directories in the namespace", "FilesTotal"),
    (m.HDFS_STALE_DATANODES, "DataNodes marked stale", "StaleDataNodes"),
    (
        m.HDFS_TRANSACTIONS_SINCE_CHECKPOINT,
        "Edit-log transactions since the last checkpoint",
        "TransactionsSinceLastCheckpoint",
    ),
]
_REQUIRED = (
    "CapacityTotal",
    "CapacityUsed",
    "CapacityRemaining",
    "MissingBlocks",
    "CorruptBlocks",
    "UnderReplicatedBlocks",
)


def bean_limit(query: str) -> ItemLimit:
    """At most MAX_BEANS beans in the answer to `query` (a NameNode answers each of ours with one or two),
    counted by their `"name"` keys while the body streams in (a quote inside a JSON string is escaped, so
    LiveNodes' table is not counted): 300,000 small beans are 17 MB of JSON but 110 MB parsed."""
    return ItemLimit(b'"name"', MAX_BEANS, f"beans in answer to qry={query} (it matches one or two)")


def beans(payload: Any, url: str) -> dict[str, dict[str, Any]]:
    """The `beans` of a /jmx answer by name; ScrapeError(parse) if the shape is wrong."""
    if not isinstance(payload, dict) or not isinstance(payload.get("beans"), list):
        raise ScrapeError("parse", f"{url}: a /jmx answer needs a 'beans' list")
    return {b["name"]: b for b in payload["beans"] if isinstance(b, dict) and isinstance(b.get("name"), str)}


def nested_json(bean: dict[str, Any], key: str, url: str) -> dict[str, Any]:
    """NameNodeInfo keeps LiveNodes/DeadNodes as JSON strings inside the JSON."""
    raw = bean.get(key)
    if raw in (None, ""):
        return {}
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise ScrapeError("parse", f"{url}: {key} is not valid JSON") from None
    if not isinstance(value, dict):
        raise ScrapeError("parse", f"{url}: {key} is not a JSON object")
    return value


class HdfsCollector(Source):
    kind = "hdfs"
    prefix = m.HDFS_PREFIX

    def __init__(self, config: HdfsSource, clock: Callable[[], float] = time.time) -> None:
        super().__init__(config.name, config.service, **http_settings(config))
        self.config = config
        self.clock = clock
        self.auth: httpx.Auth | None = resolve_auth(config.auth, f"hdfs source {config.name}")

    async def _jmx(self, scrape: Scrape, base: str, query: str) -> dict[str, dict[str, Any]]:
        url = f"{base.rstrip('/')}/jmx"
        payload = await scrape.http.get_json(
            url,
            params={"qry": query},
            timeout=self.timeout,
            auth=self.auth,
            verify=self.config.tls_verify,
            max_bytes=None if query == NAMENODE_INFO else SMALL_BEAN_BYTES,
            items=bean_limit(query),
        )
        return beans(payload, url)

    async def collect(self, scrape: Scrape) -> None:
        namenodes = [self._namenode(scrape, url) for url in self.config.namenodes]
        datanodes = [self._datanode(scrape, url) for url in self.config.datanodes]
        results = await asyncio.gather(*namenodes, *datanodes, return_exceptions=True)
        for result in results:
            if isinstance(result, ScrapeError):
                scrape.fail(result)
            elif isinstance(result, BaseException):
                raise result
        answered = [r for r in results[: len(namenodes)] if isinstance(r, tuple)]
        # Per-DataNode detail once, from the active NameNode (every NameNode lists the same DataNodes).
        chosen = next(
            (nodes for state, nodes in answered if state == "active"), answered[0][1] if answered else None
        )
        if chosen is not None:
            if sum(map(len, chosen)) <= INLINE_DATANODES:
                self.datanode_detail(scrape.metrics, chosen)
                return
            part = MetricSet(scrape.metrics.room)  # 60,000 DataNodes make 420,000 series: off the loop
            try:
                await scrape.http.offload(self.datanode_detail, part, chosen)
            finally:
                scrape.metrics.merge(part)

    async def _namenode(self, scrape: Scrape, url: str) -> tuple[str, DataNodeTables]:
        system, info = await asyncio.gather(
            self._jmx(scrape, url, f"{FSNAMESYSTEM}*"), self._jmx(scrape, url, NAMENODE_INFO)
        )
        # LiveNodes is a JSON string inside the JSON, megabytes of it on a large cluster: then decoded off
        # the loop, into a set of its own (other NameNodes write to scrape.metrics meanwhile), kept on
        # errors. A small one is decoded here: it must not queue behind a gzip bomb in the worker pool.
        nn_info = info.get(NAMENODE_INFO) or {}
        tables = sum(len(v) for k in ("LiveNodes", "DeadNodes") if isinstance(v := nn_info.get(k), str))
        if tables <= PARSE_INLINE_BYTES:
            return self.parse_namenode(scrape.metrics, url, system, info)
        part = MetricSet(scrape.metrics.room)
        try:
            return await scrape.http.offload(self.parse_namenode, part, url, system, info)
        finally:
            scrape.metrics.merge(part)

    def parse_namenode(
        self, out: MetricSet, url: str, system: dict[str, dict[str, Any]], info: dict[str, dict[str, Any]]
    ) -> tuple[str, DataNodeTables]:
        """NameNode metrics from its FSNamesystem* and NameNodeInfo beans; returns (HA state, DataNode tables)."""
        fs = system.get(FSNAMESYSTEM)
        nn_info = info.get(NAMENODE_INFO)
        if fs is None or nn_info is None:
            missing = [b for b, v in ((FSNAMESYSTEM, fs), (NAMENODE_INFO, nn_info)) if v is None]
            raise ScrapeError("parse", f"{url}/jmx: bean {', '.join(missing)} missing")
        state_bean = system.get(FSNAMESYSTEM_STATE, {})
        merged = {**fs, **state_bean}
        labels = {m.SOURCE_LABEL: self.name, "namenode": endpoint(url)}
        for metric, help_text, key in _NAMESYSTEM_GAUGES:
            out.gauge(metric, help_text, labels, number(merged.get(key)))
        live = nested_json(nn_info, "LiveNodes", url)
        dead = nested_json(nn_info, "DeadNodes", url)
        out.gauge(
            m.HDFS_LIVE_DATANODES,
            "Live DataNodes",
            labels,
            number(merged.get("NumLiveDataNodes")) if "NumLiveDataNodes" in merged else len(live),
        )
        out.gauge(
            m.HDFS_DEAD_DATANODES,
            "Dead DataNodes",
            labels,
            number(merged.get("NumDeadDataNodes")) if "NumDeadDataNodes" in merged else len(dead),
        )
        volume_failures = merged.get("VolumeFailuresTotal")
        if volume_failures is None:
            volume_failures = sum(
                number(n.get("volfails")) or 0 for n in live.values() if isinstance(n, dict)
            )
        out.gauge(m.HDFS_VOLUME_FAILURES, "Failed DataNode volumes", labels, number(volume_failures))
        safemode = merged.get("FSState") == "safeMode" or bool(nn_info.get("Safemode"))
        out.gauge(m.HDFS_SAFEMODE, "1 while the NameNode is in safemode", labels, 1 if safemode else 0)
        state = str(fs.get("tag.HAState") or nn_info.get("State") or "active").lower()
        out.gauge(m.HDFS_HA_ACTIVE, "1 on the active NameNode", labels, 1 if state == "active" else 0)
        for candidate in HA_STATES:
            out.gauge(
                m.HDFS_HA_STATE,
                "NameNode HA state",
                {**labels, "state": candidate},
                1 if state == candidate else 0,
            )
        checkpoint_ms = number(merged.get("LastCheckpointTime"))
        if checkpoint_ms:
            out.gauge(
                m.HDFS_LAST_CHECKPOINT_TIMESTAMP,
                "Unix time of the last checkpoint",
                labels,
                checkpoint_ms / 1000,
            )
            age = max(0.0, self.clock() - checkpoint_ms / 1000)
            out.gauge(m.HDFS_CHECKPOINT_AGE_SECONDS, "Seconds since the last checkpoint", labels, age)
        missing = [key for key in _REQUIRED if number(merged.get(key)) is None]
        if missing:
            raise ScrapeError("parse", f"{url}/jmx: {FSNAMESYSTEM} lacks {', '.join(missing)}")
        return state, (live, dead)

    def datanode_detail(self, out: MetricSet, tables: DataNodeTables) -> None:
        """Per-DataNode series from NameNodeInfo's LiveNodes and DeadNodes tables."""
        for live, table in zip((1, 0), tables, strict=True):
            for name, node in table.items():
                if not isinstance(node, dict):
                    continue
                labels = {m.SOURCE_LABEL: self.name, "datanode": name}
                out.gauge(
                    m.HDFS_DATANODE_LIVE,
                    "1 if the NameNode lists the DataNode as live, 0 if dead",
                    labels,
                    live,
                )
                out.gauge(
                    m.HDFS_DATANODE_LAST_CONTACT_SECONDS,
                    "Seconds since the DataNode's last heartbeat",
                    labels,
                    number(node.get("lastContact")),
                )
                if live:
                    out.gauge(
                        m.HDFS_DATANODE_CAPACITY_BYTES,
                        "DataNode capacity",
                        labels,
                        number(node.get("capacity")),
                    )
                    out.gauge(
                        m.HDFS_DATANODE_USED_BYTES,
                        "DataNode DFS used bytes",
                        labels,
                        number(node.get("usedSpace", node.get("used"))),
                    )
                    out.gauge(
                        m.HDFS_DATANODE_REMAINING_BYTES,
                        "DataNode remaining bytes",
                        labels,
                        number(node.get("remaining")),
                    )
                    out.gauge(
                        m.HDFS_DATANODE_BLOCKS,
                        "Blocks on the DataNode",
                        labels,
                        number(node.get("numBlocks")),
                    )
                    out.gauge(
                        m.HDFS_DATANODE_VOLUME_FAILURES,
                        "Failed volumes on the DataNode",
                        labels,
                        number(node.get("volfails")),
                    )

    async def _datanode(self, scrape: Scrape, url: str) -> None:
        found = await self._jmx(scrape, url, DATANODE_INFO)
        bean = found.get(DATANODE_INFO)
        if bean is None:
            raise ScrapeError("parse", f"{url}/jmx: bean {DATANODE_INFO} missing")
        labels = {m.SOURCE_LABEL: self.name, "datanode": endpoint(url)}
        scrape.metrics.gauge(
            m.HDFS_DATANODE_XCEIVERS, "Active data transfer threads", labels, number(bean.get("XceiverCount"))
        )
        for volume, info in nested_json(bean, "VolumeInfo", url).items():
            if not isinstance(info, dict):
                continue
            vlabels = {**labels, "volume": volume}
            scrape.metrics.gauge(
                m.HDFS_DATANODE_VOLUME_USED_BYTES,
                "Bytes used on the volume",
                vlabels,
                number(info.get("usedSpace")),
            )
            scrape.metrics.gauge(
                m.HDFS_DATANODE_VOLUME_FREE_BYTES,
                "Bytes free on the volume",
                vlabels,
                number(info.get("freeSpace")),
            )
