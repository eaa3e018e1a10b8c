"""The service's own metrics, in a registry per app (no process-global collectors)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from sla.names import HTTP_REQUEST_DURATION, LEDGER_REJECTED, LEDGER_WRITES, REGISTRY, WATCHDOG_LAST_SEEN

_HELP = {info.name: info.help for section in REGISTRY.sections for info in section.metrics}
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class ServiceMetrics:
    """Request latency and ledger writes of one running service."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.request_duration = Histogram(
            HTTP_REQUEST_DURATION,
            _HELP[HTTP_REQUEST_DURATION],
            ("method", "route", "code"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.ledger_writes = Counter(LEDGER_WRITES, _HELP[LEDGER_WRITES], ("status",), registry=self.registry)
        self.ledger_rejected = Counter(LEDGER_REJECTED, _HELP[LEDGER_REJECTED], registry=self.registry)
        self.watchdog_last_seen = Gauge(WATCHDOG_LAST_SEEN, _HELP[WATCHDOG_LAST_SEEN], registry=self.registry)
