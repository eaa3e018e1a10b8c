"""Inference endpoints: probe error ratio, failing probes, p99 latency."""

from __future__ import annotations

from catalog.model.alerts import AlertOverride
from catalog.model.inference import InferenceSource
from exporters import names as m
from rules.components.common import PCT, Draft, Scenario, Series, fraction_above, up_drafts
from rules.promql import matchers, number


def inference_drafts(src: InferenceSource) -> list[Draft]:
    """The component alerts of an inference endpoint."""
    sel = {m.SOURCE_LABEL: src.name}
    s = matchers(sel)
    bucket = f"{m.INFERENCE_PROBE_DURATION_SECONDS}_bucket"
    drafts = [
        *up_drafts(m.INFERENCE_PREFIX, "inference", src.name),
        Draft(
            "error_ratio",
            "WatchkeeperInferenceErrors",
            lambda t: (
                f"sum by (source) (rate({m.INFERENCE_PROBE_ERRORS}_total{s}[5m]))\n/\n"
                f"sum by (source) (rate({m.INFERENCE_PROBES}_total{s}[5m]))\n> {number(t or 0)}"
            ),
            f"Probes of {src.name} are failing",
            f"{PCT} of the probes of {src.name} failed over the last 5 minutes.",
            lambda t: _error_scenario(sel, t),
        ),
        Draft(
            "probe_failing",
            "WatchkeeperInferenceProbeFailing",
            lambda _t: f"{m.INFERENCE_PROBE_SUCCESS}{s} == 0",
            f"{src.name} does not answer its probe",
            f"The last probes of {src.name} ({src.url}) failed for 5 minutes.",
            lambda _t: Scenario(
                [Series(m.INFERENCE_PROBE_SUCCESS, sel, "0x20")],
                [Series(m.INFERENCE_PROBE_SUCCESS, sel, "1x20")],
                sel,
            ),
        ),
    ]
    target = src.alerts.get("latency_p99", AlertOverride()).threshold or (
        src.latency_target.seconds if src.latency_target else None
    )
    if target is not None:

        def buckets(slow: bool) -> list[Series]:
            bounds = [target / 2, target * 2, target * 4]
            slot = 2 if slow else 0
            series = [
                Series(bucket, {**sel, "le": number(b)}, "0+1x30" if i >= slot else "0x30")
                for i, b in enumerate(bounds)
            ]
            return [*series, Series(bucket, {**sel, "le": "+Inf"}, "0+1x30")]

        drafts.append(
            Draft(
                "latency_p99",
                "WatchkeeperInferenceSlow",
                lambda t: (
                    f"histogram_quantile(0.99, sum by (source, le) (rate({bucket}{s}[5m])))\n"
                    f"> {number(t or target)}"
                ),
                f"{src.name} answers slowly",
                f"The p99 latency of {src.name}'s probes is above {number(target)}s.",
                lambda _t: Scenario(buckets(True), buckets(False), sel),
            )
        )
    return drafts


def _error_scenario(sel: dict[str, str], threshold: float | None) -> Scenario:
    """Probes failing at a quarter (or just above the threshold, when that is higher), and none failing.
    A threshold of 1 is passed only by more errors than probes: artificial, but it tests the expression."""
    ratio = fraction_above(threshold, 0.25) or (threshold or 0) + 1
    errors, probes = (1, 4) if ratio == 0.25 else (round(ratio * 100), 100)

    def feed(failed: int) -> list[Series]:
        return [
            Series(f"{m.INFERENCE_PROBE_ERRORS}_total", {**sel, "kind": "timeout"}, f"0+{failed}x30"),
            Series(f"{m.INFERENCE_PROBES}_total", sel, f"0+{probes}x30"),
        ]

    return Scenario(feed(errors), feed(0), sel, ratio)
