"""Inference sources: model endpoints probed in the background; the request a probe sends and the
JSON path its answer must hold."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from catalog.addresses import HeaderMap, HttpUrl
from catalog.durations import Duration
from catalog.fields import LatencyTarget, ProbeInterval
from catalog.model.source_base import HttpSource
from catalog.model.strict import Strict
from catalog.secrets import credential_name, secret_shape

JsonStep = str | int
"""One step of an `expect_json_path`: a key of an object, or an index into a list (negative: from the end)."""
_JSON_STEP = re.compile(r"""(\.)?([A-Za-z_][A-Za-z0-9_-]*)|\[(-?[0-9]+)\]|\["([^"]*)"\]|\['([^']*)'\]""")
JSON_PATH_HELP = (
    "write the path from the response's root: keys as name or [\"any key\"], joined by '.', list items "
    "as [0] ([-1] for the last), optionally starting with '$' (e.g. predictions[0], $.outputs[0].scores, "
    "data[\"class.id\"]); '$' alone only checks that the response is JSON"
)


def json_path_steps(path: str) -> tuple[JsonStep, ...]:
    """Parse an `expect_json_path` into keys and list indices; ValueError (naming the position) otherwise.

    Grammar: `[$] step*`, where the first bare key may drop its dot (`predictions`, `.predictions` and
    `$.predictions` are the same) and every later one needs it; `[N]` indexes a list, `["k"]` or `['k']`
    names a key of any characters (no quotes inside).
    """
    if not path:
        raise ValueError(f"expect_json_path is empty; {JSON_PATH_HELP}")
    pos = 1 if path.startswith("$") else 0
    steps: list[JsonStep] = []
    while pos < len(path):
        found = _JSON_STEP.match(path, pos)
        if found is None or (found.group(2) and not found.group(1) and (steps or path.startswith("$"))):
            raise ValueError(
                f"expect_json_path {path!r} cannot be read at position {pos + 1} ({path[pos:]!r}); "
                + JSON_PATH_HELP
            )
        _, key, index, double, single = found.groups()
        steps.append(
            int(index) if index is not None else next(k for k in (key, double, single) if k is not None)
        )
        pos = found.end()
    return tuple(steps)


def _body_secret(value: Any) -> str | None:
    """What secret a request body holds (a credential key, a token-shaped string), or None."""
    if isinstance(value, str):
        shape = next((s for s in map(secret_shape, re.split(r"[\s\"',:;={}\[\]]+", value)) if s), None)
        return shape
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and credential_name(key):
                return f"the credential key {key!r}"
            found = _body_secret(item)
            if found:
                return found
    if isinstance(value, list):
        return next((f for f in map(_body_secret, value) if f), None)
    return None


class InferenceRequest(Strict):
    """The request each probe sends: `json` (a JSON body) or `body` (raw text), never both."""

    method: Literal["GET", "POST", "PUT"] = "POST"
    json_body: Any = Field(default=None, alias="json")
    body: str | None = None
    headers: HeaderMap = {}

    @field_validator("json_body", "body")
    @classmethod
    def _no_secret_in_body(cls, value: Any) -> Any:
        """A request body holding a credential key (`"api_key": ...`) or a token-shaped value is refused."""
        found = _body_secret(value)
        if found:
            raise PydanticCustomError(
                "inline_secret",
                "the request body holds {found}; secrets never go in the catalog: use the source's auth "
                "block with token_env instead",
                {"found": found},
            )
        return value

    @model_validator(mode="after")
    def _one_body(self) -> InferenceRequest:
        if self.json_body is not None and self.body is not None:
            raise ValueError("request takes json (a JSON body) or body (raw text), not both; keep one")
        return self


class InferenceSource(HttpSource):
    """A model endpoint probed in the background every `interval`, like a blackbox_exporter probe."""

    alert_kind = "inference"
    url: HttpUrl
    request: InferenceRequest = InferenceRequest()
    interval: ProbeInterval = Duration.parse("15s")
    expected_status: list[Annotated[int, Field(ge=100, le=599)]] = Field(default=[200], min_length=1)
    expect_json_path: str | None = Field(
        default=None, description="a JSON path the response must hold (not null), e.g. predictions[0]"
    )
    latency_target: LatencyTarget | None = None

    @field_validator("expect_json_path")
    @classmethod
    def _json_path(cls, value: str | None) -> str | None:
        if value is not None:
            json_path_steps(value)
        return value

    @model_validator(mode="after")
    def _timeout_within_interval(self) -> InferenceSource:
        if self.timeout > self.interval:
            raise ValueError(
                f"timeout {self.timeout} is longer than interval {self.interval}: a probe must end before "
                f"the next is due; shorten timeout or lengthen interval"
            )
        return self

    def json_path(self) -> tuple[JsonStep, ...] | None:
        """`expect_json_path` parsed (validated already), or None when the response shape is not checked."""
        return None if self.expect_json_path is None else json_path_steps(self.expect_json_path)
