"""The Spark exporter against a real Spark: pyspark in local mode, its driver REST API on a free port."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from catalog.durations import Duration
from catalog.model import Catalog
from catalog.model.spark import SparkSource
from exporters import names as m
from exporters.runtime import Runtime
from exporters.spark import SparkCollector
from tests.conftest import IN_CI
from tests.prometheus_stack import free_port, wait_for

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark() -> Iterator[tuple[Any, int]]:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        if IN_CI:
            pytest.fail("pyspark is not installed: run scripts/bootstrap.sh")
        pytest.skip("pyspark is not installed")
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["PYSPARK_PYTHON"] = sys.executable
    port = free_port()
    session = (
        SparkSession.builder.master("local[2]")
        .appName("watchkeeper-exporter-test")
        .config("spark.ui.port", str(port))
        .config("spark.port.maxRetries", "0")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session, port
    finally:
        session.stop()


def test_three_jobs_one_failing_are_reported_exactly(spark: tuple[Any, int]) -> None:
    session, port = spark
    sc = session.sparkContext
    assert sc.parallelize(range(100), 4).count() == 100
    assert sc.parallelize(range(10), 2).sum() == 45
    with pytest.raises(Exception, match="ZeroDivisionError"):
        sc.parallelize([1, 2], 2).map(lambda x: x // 0).collect()

    config = SparkSource(
        name="local", service="spark", url=f"http://127.0.0.1:{port}", timeout=Duration.parse("5s")
    )
    catalog = Catalog.model_validate(
        {"teams": [{"name": "t", "owners": ["t@example.com"]}], "services": [{"name": "spark", "team": "t"}]}
    )
    runtime = Runtime(catalog, [SparkCollector(config)])
    try:

        def settled() -> Any:
            [result] = runtime.scrape()
            metrics = result.scrape.metrics
            app = {"source": "local", "app_name": "watchkeeper-exporter-test", "app_id": sc.applicationId}
            jobs = {
                s: metrics.value(m.SPARK_APP_JOBS, **app, status=s)
                for s in ("failed", "succeeded", "running")
            }
            return (result, metrics, app) if jobs == {"failed": 1, "succeeded": 2, "running": 0} else None

        result, metrics, app = wait_for(settled, 30, "Spark's listener to record the three jobs")
    finally:
        runtime.close()
    assert result.up, result.scrape.errors
    assert metrics.value(m.SPARK_APP_RUNNING, **app) == 1
    assert metrics.value(m.SPARK_APP_STAGES, **app, status="failed") == 1
    assert metrics.value(m.SPARK_APP_TASKS, **app, status="failed") >= 1
    assert (metrics.value(m.SPARK_APP_MEMORY_MAX_BYTES, **app) or 0) > 0
    assert (metrics.value(m.SPARK_APP_DURATION_SECONDS, **app) or 0) > 0
    # Local mode runs every task in the driver: it is the one executor with its own series, so its values
    # are the application's sums.
    driver = {**app, "executor_id": m.SPARK_DRIVER_ID}
    assert metrics.value(m.SPARK_EXECUTOR_MEMORY_MAX_BYTES, **driver) == metrics.value(
        m.SPARK_APP_MEMORY_MAX_BYTES, **app
    )
    assert metrics.value(m.SPARK_EXECUTOR_TASKS, **driver, status="failed") == metrics.value(
        m.SPARK_APP_TASKS, **app, status="failed"
    )
    # 4 + 2 tasks of the two good jobs completed (the failing job's tasks may complete or fail).
    assert (metrics.value(m.SPARK_EXECUTOR_TASKS, **driver, status="completed") or 0) >= 6
    assert metrics.value(m.SPARK_EXECUTORS_OMITTED, **app) == 0
