"""Inference-probe metric names: the latency histogram, errors by kind, the last probe's outcome.

Registered in `exporters.names.REGISTRY`; rules, dashboards and tests import them from `exporters.names`.
"""

from __future__ import annotations

from exporters.names.runtime import REGISTRY, SOURCE_LABEL, source_series

_SRC = (SOURCE_LABEL,)

INFERENCE_ERROR_KINDS = ("timeout", "connection", "status", "shape")
"""Why a probe failed: no answer within the timeout; no connection (refused, reset, TLS); an HTTP status
not in `expected_status`; a body that is not JSON or lacks `expect_json_path`."""
INFERENCE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10)
"""Latency bucket bounds in seconds (model serving: 5 ms to 10 s); a source's `latency_target` is added
when it is not one of them, so a latency SLO on the target always has its bucket."""
_inference = REGISTRY.section(
    "Inference probes",
    "Each endpoint is probed in the background every `interval` with its configured request; scrapes "
    "serve the latest results. `up` is the last probe's success (0 before the first probe ends). The "
    "histogram observes every probe that was answered (any status) or timed out (at its duration); a "
    "refused connection has no latency and is not observed.",
    __name__,
)
INFERENCE_PREFIX = source_series(_inference, "watchkeeper_inference", "inference")
INFERENCE_PROBE_DURATION_SECONDS = _inference.metric(
    "watchkeeper_inference_probe_duration_seconds",
    "histogram",
    _SRC,
    "Probe latency, request sent to last byte read, cumulative over probes",
)
INFERENCE_PROBES = _inference.metric(
    "watchkeeper_inference_probes", "counter", _SRC, "Probes sent, failed or not"
)
INFERENCE_PROBE_ERRORS = _inference.metric(
    "watchkeeper_inference_probe_errors",
    "counter",
    (*_SRC, "kind"),
    "Failed probes by kind: timeout, connection, status, shape",
)
INFERENCE_PROBE_SUCCESS = _inference.metric(
    "watchkeeper_inference_probe_success", "gauge", _SRC, "1 if the last probe succeeded, else 0"
)
INFERENCE_PROBE_STATUS_CODE = _inference.metric(
    "watchkeeper_inference_probe_status_code",
    "gauge",
    _SRC,
    "HTTP status of the last probe's answer (0: no answer)",
)
INFERENCE_PROBE_LAST_DURATION_SECONDS = _inference.metric(
    "watchkeeper_inference_probe_last_duration_seconds", "gauge", _SRC, "Seconds the last probe took"
)
INFERENCE_PROBE_AGE_SECONDS = _inference.metric(
    "watchkeeper_inference_probe_last_age_seconds",
    "gauge",
    _SRC,
    "Seconds since the last probe ended, at scrape time",
)
