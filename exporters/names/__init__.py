"""Metric names the exporters produce: the contract that rules, dashboards and reports import.

Each name is registered once, with its type, label names and help, by `Section.metric`, which returns the
name string: `HDFS_CORRUPT_BLOCKS` is still a plain `str`. The exporter's writer takes HELP and UNIT from
this registry, and `docs/metrics.md` is generated from it (`python -m api.metrics_reference`).

One module per source kind defines its names (`hdfs`, `yarn`, `spark`, `kafka`, `freshness`, `inference`),
`runtime` the registry and the series every source has; all of them are importable from here
(`from exporters import names as m; m.HDFS_CORRUPT_BLOCKS`), which is the public path.

Every source reports `<prefix>_up`, `<prefix>_scrape_duration_seconds` and
`<prefix>_scrape_errors_total{kind}`, and those collected on scrape (hdfs, yarn, spark) also
`<prefix>_series_dropped_total`, labelled `source` (the catalog source name). Series never carry team or
owner labels: ownership is joined through `watchkeeper_ownership_info`.
"""

from __future__ import annotations

# isort: off
# The order of these imports is the order of the reference's sections (docs/metrics.md).
from exporters.names.runtime import *  # noqa: F403
from exporters.names.hdfs import *  # noqa: F403
from exporters.names.yarn import *  # noqa: F403
from exporters.names.spark import *  # noqa: F403
from exporters.names.kafka import *  # noqa: F403
from exporters.names.freshness import *  # noqa: F403
from exporters.names.inference import *  # noqa: F403

# isort: on
from exporters.names.runtime import REGISTRY

METRICS = REGISTRY.by_name()
"""Every metric above by name: the writer's source of HELP and UNIT."""
