"""Component dashboards, one module per source kind, each building one `Board` from the catalog."""

from __future__ import annotations

from collections.abc import Callable

from catalog.model import Catalog
from dashboards.components.drift import drift_board
from dashboards.components.freshness import freshness_board
from dashboards.components.hdfs import hdfs_board
from dashboards.components.inference import inference_board
from dashboards.components.kafka import kafka_board
from dashboards.components.spark import spark_board
from dashboards.components.yarn import yarn_board
from dashboards.render import Board

BUILDERS: dict[str, Callable[[Catalog], Board]] = {
    "hdfs": hdfs_board,
    "yarn": yarn_board,
    "spark": spark_board,
    "kafka": kafka_board,
    "freshness": freshness_board,
    "inference": inference_board,
    "drift": drift_board,
}
"""The builder of each kind's dashboard (kinds as in dashboards/parts.py)."""
