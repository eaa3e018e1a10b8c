"""The Alertmanager webhook payload (version 4), validated whole before anything is stored.

Accepts what real senders send: `fingerprint` may be missing (Alertmanager before 0.19 and several
test senders omit it; it is then computed from the labels as Alertmanager does), an alert's `status`
may be missing (the group's status applies), and Go's zero time `0001-01-01T00:00:00Z` means "no end".
Refused, with the reason: another version, an alert without `alertname`, a resolved alert without an
end or ending before it started, NUL characters or unpaired surrogates (no database stores them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

MAX_ALERTS = 10_000
GO_ZERO_YEAR = 1


def _clean(text: str) -> str:
    if "\x00" in text:
        raise ValueError("NUL characters are not allowed")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("unpaired surrogate escapes are not valid text") from None
    return text


CleanStr = Annotated[str, AfterValidator(_clean)]
LabelMap = dict[CleanStr, CleanStr]


class WebhookAlert(BaseModel):
    """One alert of a notification."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    status: Literal["firing", "resolved"] | None = None
    labels: LabelMap
    annotations: LabelMap = Field(default_factory=dict)
    starts_at: AwareDatetime = Field(alias="startsAt")
    ends_at: AwareDatetime | None = Field(default=None, alias="endsAt")
    generator_url: CleanStr = Field(default="", alias="generatorURL")
    fingerprint: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{1,64}$")

    @field_validator("labels")
    @classmethod
    def _has_alertname(cls, labels: dict[str, str]) -> dict[str, str]:
        if not labels.get("alertname"):
            raise ValueError("an alert needs a non-empty alertname label")
        return labels

    @field_validator("starts_at")
    @classmethod
    def _real_start(cls, value: datetime) -> datetime:
        if value.year == GO_ZERO_YEAR:
            raise ValueError("startsAt is Go's zero time: the sender did not set when the alert started")
        return value

    @field_validator("ends_at")
    @classmethod
    def _zero_is_none(cls, value: datetime | None) -> datetime | None:
        return None if value is None or value.year == GO_ZERO_YEAR else value


class WebhookPayload(BaseModel):
    """A notification as Alertmanager's webhook receiver posts it."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    version: Literal["4"] = "4"
    """Missing in some senders' payloads (calert's mock); any other version is refused."""
    status: Literal["firing", "resolved"]
    receiver: CleanStr = ""
    group_key: CleanStr = Field(default="", alias="groupKey")
    alerts: list[WebhookAlert] = Field(min_length=1, max_length=MAX_ALERTS)

    @model_validator(mode="after")
    def _resolved_alerts_have_ends(self) -> WebhookPayload:
        for index, alert in enumerate(self.alerts):
            if alert.status is None:
                alert.status = self.status
            if alert.status == "resolved":
                if alert.ends_at is None:
                    raise ValueError(f"alerts[{index}] is resolved but has no endsAt")
                if alert.ends_at < alert.starts_at:
                    raise ValueError(f"alerts[{index}] ends (endsAt) before it starts (startsAt)")
        return self
