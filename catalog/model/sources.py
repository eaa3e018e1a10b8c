"""The `sources:` section: one list per source kind."""

from __future__ import annotations

from catalog.model.freshness import FreshnessSource
from catalog.model.hdfs import HdfsSource
from catalog.model.inference import InferenceSource
from catalog.model.kafka import KafkaSource
from catalog.model.spark import SparkSource
from catalog.model.strict import Strict
from catalog.model.yarn import YarnSource

SOURCE_KINDS = ("hdfs", "yarn", "spark", "kafka", "freshness", "inference")


class Sources(Strict):
    hdfs: list[HdfsSource] = []
    yarn: list[YarnSource] = []
    spark: list[SparkSource] = []
    kafka: list[KafkaSource] = []
    freshness: list[FreshnessSource] = []
    inference: list[InferenceSource] = []
