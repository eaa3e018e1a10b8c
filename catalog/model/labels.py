"""The labels Watchkeeper sets on alerts and recordings, and the label maps that may not set them."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from catalog.fields import LabelMap

RESERVED_LABELS = frozenset(
    {"severity", "team", "service", "slo", "tier", "alertname", "burn", "component", "source"}
)
"""Labels Watchkeeper sets on alerts: a catalog value would be overwritten, or would break routing and
inhibition (which match on alertname, service, slo and source)."""
SLO_RESERVED_LABELS = RESERVED_LABELS | {"objective", "window", "sli", "calendar"}
"""An SLO's own `labels` also reach its recording rules, where these are set (`slo:info`, calendar ratio)."""


def _no_reserved(reserved_set: frozenset[str]) -> AfterValidator:
    def check(value: dict[str, str]) -> dict[str, str]:
        reserved = reserved_set & value.keys()
        if reserved:
            raise ValueError(
                f"labels {sorted(reserved)} are set by Watchkeeper from the catalog; remove them (severity "
                "and burn come from the alert, team/service/tier from the service, slo and its objective, "
                "window and sli from the SLO, source and component from the source)"
            )
        return value

    return AfterValidator(check)


ExtraLabels = Annotated[LabelMap, _no_reserved(RESERVED_LABELS)]
SloLabels = Annotated[LabelMap, _no_reserved(SLO_RESERVED_LABELS)]
