"""Teams and their notification channels."""

from __future__ import annotations

from pydantic import Field, model_validator

from catalog.addresses import Email, EnvName, FilePath, HttpUrl
from catalog.fields import Name
from catalog.model.corrections import Correction
from catalog.model.strict import Strict, require_one


class SlackChannel(Strict):
    channel: str = Field(pattern=r"^[#@][\w.-]+$")
    api_url_env: EnvName | None = None
    api_url_file: FilePath | None = None

    @model_validator(mode="after")
    def _one_ref(self) -> SlackChannel:
        return require_one(
            self,
            ("api_url_env", "api_url_file"),
            "slack needs exactly one of api_url_env or api_url_file (the webhook URL is a secret)",
        )


class PagerDutyChannel(Strict):
    routing_key_env: EnvName | None = None
    routing_key_file: FilePath | None = None

    @model_validator(mode="after")
    def _one_ref(self) -> PagerDutyChannel:
        return require_one(
            self,
            ("routing_key_env", "routing_key_file"),
            "pagerduty needs exactly one of routing_key_env or routing_key_file",
        )


class WebhookChannel(Strict):
    url: HttpUrl
    token_env: EnvName | None = None
    token_file: FilePath | None = None


class EmailChannel(Strict):
    to: list[Email] = Field(min_length=1)


class Channels(Strict):
    slack: SlackChannel | None = None
    pagerduty: PagerDutyChannel | None = None
    webhook: WebhookChannel | None = None
    email: EmailChannel | None = None


class Team(Strict):
    name: Name
    owners: list[str] = Field(min_length=1, description="on-call contacts: e-mail addresses or handles")
    channels: Channels = Channels()
    description: str = ""
    corrections: list[Correction] = []
