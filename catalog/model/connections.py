"""How Watchkeeper reaches a system, for sources and drift monitors alike: HTTP auth, a SQL query
and its database, an Airflow DAG."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from catalog.addresses import DatabaseUrl, EnvName, FilePath, HttpUrl, TlsVerify, Username
from catalog.durations import Duration
from catalog.fields import NoBool, bounded
from catalog.model.strict import Strict, require_one


class BasicAuth(Strict):
    username: Username
    password_env: EnvName | None = None
    password_file: FilePath | None = None

    @model_validator(mode="after")
    def _one_ref(self) -> BasicAuth:
        return require_one(
            self,
            ("password_env", "password_file"),
            "basic auth needs exactly one of password_env or password_file",
        )


class BearerAuth(Strict):
    token_env: EnvName | None = None
    token_file: FilePath | None = None

    @model_validator(mode="after")
    def _one_ref(self) -> BearerAuth:
        return require_one(
            self, ("token_env", "token_file"), "bearer auth needs exactly one of token_env or token_file"
        )


class HttpAuth(Strict):
    basic: BasicAuth | None = None
    bearer: BearerAuth | None = None

    @model_validator(mode="after")
    def _one(self) -> HttpAuth:
        return require_one(self, ("basic", "bearer"), "auth needs exactly one of basic or bearer")


class SqlQuery(Strict):
    """A query and its database: `url` (no password in it), or `url_env`/`url_file` naming where the whole
    URL is kept (an environment variable, or a file such as a mounted secret)."""

    url: DatabaseUrl | None = None
    url_env: EnvName | None = None
    url_file: str | None = Field(default=None, min_length=1)
    query: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_url(self) -> SqlQuery:
        return require_one(
            self,
            ("url", "url_env", "url_file"),
            "sql needs exactly one of url (no password in it), url_env or url_file",
        )


class AirflowRef(Strict):
    """A DAG through Airflow's stable REST API: `api_version` 1 is Airflow 2 (`/api/v1`, basic auth), 2 is
    Airflow 3 (`/api/v2`, a JWT from `POST /auth/token` for the basic auth's user, or a bearer token)."""

    url: HttpUrl
    dag_id: str = Field(min_length=1)
    api_version: Annotated[Literal[1, 2], NoBool] = 1
    auth: HttpAuth | None = None
    tls_verify: TlsVerify = True
    lookback: Annotated[Duration, bounded("1m", "30d", "lookback")] = Field(
        default=Duration.parse("1d"), description="failed runs are counted over runs ended this recently"
    )
