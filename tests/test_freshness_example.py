"""The example catalog end to end: `watchkeeper exporter examples/catalog` serves an `up` series for every
source of every kind. Nothing the example points at exists here (example.com hosts, /data paths, a database
on a closed port), so every source is up=0 with the kind of error it met: never silently missing.
"""

from __future__ import annotations

from pathlib import Path

from catalog import load_catalog
from exporters import names as m
from tests.conftest import EXAMPLE_CATALOG
from tests.freshness_helpers import running_exporter, samples

PREFIXES = {
    "hdfs": m.HDFS_PREFIX,
    "yarn": m.YARN_PREFIX,
    "spark": m.SPARK_PREFIX,
    "kafka": m.KAFKA_PREFIX,
    "freshness": m.FRESHNESS_PREFIX,
    "inference": m.INFERENCE_PREFIX,
}
# What each freshness source of the example meets here, worked out from examples/catalog/*.yaml:
FRESHNESS_KINDS = {
    "warehouse.orders": "connection",  # WAREHOUSE_URL points at a closed port
    "marts.daily_sales": "connection",  # the same database (and its GX results_dir is missing: not_found)
    "extracts.exec_kpis": "not_found",  # /data/extracts/exec_kpis.hyper
    "airflow.orders_daily": "connection",  # airflow.example.com does not resolve
    "lake.clickstream_sessions": "not_found",  # /data/lake/clickstream/sessions/_SUCCESS
    "lake.clickstream_daily_rollup": "connection",  # pushgateway.example.com
    "features.churn_daily": "connection",  # airflow3.example.com
}


def test_the_example_catalog_serves_every_source_of_every_kind(tmp_path: Path) -> None:
    catalog = load_catalog(EXAMPLE_CATALOG).catalog
    env = {"WAREHOUSE_URL": "postgresql://postgres@127.0.0.1:1/test", "AIRFLOW_PASSWORD": "example"}
    with running_exporter(EXAMPLE_CATALOG, tmp_path / "exporter.log", env) as exporter:
        answer = exporter.get("/metrics", timeout=60)
    assert answer.status == 200
    found = samples(answer.text)
    for kind, prefix in PREFIXES.items():
        names = {str(e.name) for e in getattr(catalog.sources, kind)}
        assert names, f"the example has no {kind} source"
        ups = {dict(labels)["source"]: v for (name, labels), v in found.items() if name == m.up(prefix)}
        assert set(ups) == names, kind  # every source reported, none missing
    assert set(FRESHNESS_KINDS) == {s.dataset for s in catalog.sources.freshness}
    for dataset, kind in FRESHNESS_KINDS.items():
        assert found[(m.up(m.FRESHNESS_PREFIX), frozenset({("source", dataset)}))] == 0
        counter = m.scrape_errors(m.FRESHNESS_PREFIX) + "_total"
        assert found[(counter, frozenset({("source", dataset), ("kind", kind)}))] >= 1, dataset
