"""A DAG's freshness through Airflow's stable REST API: Airflow 2 (`/api/v1`) and Airflow 3 (`/api/v2`).

The freshness time is the end of the last successful DAG run. Also: failed runs within the lookback, whether
the latest finished run failed, the running runs and how long the oldest has run, whether the DAG is paused,
and how far its next scheduled run is past due (the scheduler's `next_dagrun_create_after` in v1,
`next_dagrun_run_after` in v2): the late-run signal. Airflow 2 has no SLA-miss endpoint and Airflow 3 no
SLAs, so lateness is read from the schedule.

Airflow 3 takes a JWT: the basic auth's user and password are exchanged for one at `POST /auth/token`, kept
until a minute before it expires (or until a request is refused with 401); a bearer token is used as is.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from catalog.model.connections import AirflowRef
from exporters import names as m
from exporters.errors import ScrapeError, shown
from exporters.http import resolve_auth
from exporters.metric_set import number
from exporters.runtime import Scrape
from exporters.secrets import read_secret

_STATUS = re.compile(r"answered HTTP (\d{3})$")
TOKEN_MARGIN = 60.0
"""Seconds before a JWT's expiry at which a new one is fetched."""
TOKEN_DEFAULT_LIFE = 600.0
"""How long a JWT without an `exp` claim is kept."""


def airflow_time(text: object) -> float | None:
    """Unix seconds from Airflow's ISO 8601 times (`...+00:00` in v1, `...Z` in v2); None if absent."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


def jwt_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT (not verified: Airflow verifies it); None when absent or unreadable."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


class _Jwt(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        request.headers["Authorization"] = self.header
        yield request


class AirflowProbe:
    """Reads one DAG; `newest()` adds the DAG's series and returns the end of its last successful run."""

    def __init__(self, ref: AirflowRef, dataset: str, timeout: float, clock: Callable[[], float]) -> None:
        self.ref = ref
        self.dataset = dataset
        self.timeout = timeout
        self.clock = clock
        where = f"freshness source {dataset} (airflow)"
        self.base = f"{ref.url.rstrip('/')}/api/v{ref.api_version}/dags/{quote(ref.dag_id, safe='')}"
        self._login: tuple[str, str] | None = None
        self.auth: httpx.Auth | None = None
        if ref.api_version == 2 and ref.auth is not None and ref.auth.basic is not None:
            basic = ref.auth.basic
            password = read_secret(basic.password_env, basic.password_file, where, "the Airflow password")
            self._login = (basic.username, password)
        else:
            self.auth = resolve_auth(ref.auth, where)
        self._token: tuple[_Jwt, float] | None = None

    async def _auth(self, scrape: Scrape) -> httpx.Auth | None:
        """The request auth: basic or bearer as configured, or (v2 with a user) a JWT, fetched when the one
        held is about to expire. Called once per collection (the runtime runs one at a time per source)."""
        if self._login is None:
            return self.auth
        if self._token is not None and self.clock() < self._token[1]:
            return self._token[0]
        url = f"{self.ref.url.rstrip('/')}/auth/token"
        username, password = self._login
        try:
            response = await scrape.http.client(self.ref.tls_verify).post(
                url, json={"username": username, "password": password}, timeout=self.timeout
            )
        except httpx.TimeoutException:
            raise ScrapeError("timeout", f"{url} did not answer within {self.timeout:g}s") from None
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            raise ScrapeError("connection", f"{url}: {type(exc).__name__}: {exc}") from None
        if response.status_code in (401, 403):
            raise ScrapeError(
                "auth", f"{url} refused the user {shown(username)}: HTTP {response.status_code}"
            )
        if response.status_code not in (200, 201):
            raise ScrapeError("http_status", f"{url} answered HTTP {response.status_code}")
        try:
            token = response.json()["access_token"]
        except (ValueError, KeyError, TypeError):
            raise ScrapeError("parse", f"{url}: no access_token in the answer") from None
        if not isinstance(token, str) or not token:
            raise ScrapeError("parse", f"{url}: the access_token is not a string")
        expiry = jwt_expiry(token)
        until = expiry - TOKEN_MARGIN if expiry is not None else self.clock() + TOKEN_DEFAULT_LIFE
        self._token = (_Jwt(token), until)
        return self._token[0]

    async def _get(
        self, scrape: Scrape, auth: httpx.Auth | None, path: str, params: list[tuple[str, str]]
    ) -> Any:
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params)
        url = f"{self.base}{path}" + (f"?{query}" if query else "")
        try:
            return await scrape.http.get_json(
                url, timeout=self.timeout, auth=auth, verify=self.ref.tls_verify
            )
        except ScrapeError as exc:
            status = _STATUS.search(str(exc)) if exc.kind == "http_status" else None
            if status is None:
                raise
            if status.group(1) in ("401", "403"):
                self._token = None  # expired or revoked early: log in again on the next scrape
                raise ScrapeError("auth", f"{url}: Airflow refused the credentials ({exc})") from None
            if status.group(1) == "404":
                raise ScrapeError(
                    "not_found", f"{url}: Airflow has no DAG {self.ref.dag_id!r} ({exc})"
                ) from None
            raise

    async def _runs(
        self, scrape: Scrape, auth: httpx.Auth | None, states: tuple[str, ...], order: str, **since: str
    ) -> dict[str, Any]:
        params = [("state", s) for s in states] + [("order_by", order), ("limit", "1")]
        params += list(since.items())
        body = await self._get(scrape, auth, "/dagRuns", params)
        if not isinstance(body, dict) or not isinstance(body.get("dag_runs"), list):
            raise ScrapeError("parse", f"{self.base}/dagRuns: no dag_runs list in the answer")
        return body

    async def newest(self, scrape: Scrape) -> float | None:
        """Add the DAG's series; the end of its last successful run (None: it never succeeded)."""
        now = self.clock()
        since = datetime.fromtimestamp(now - self.ref.lookback.seconds, UTC).isoformat()
        auth = await self._auth(scrape)
        dag, success, finished, failed, running = await asyncio.gather(
            self._get(scrape, auth, "", []),
            self._runs(scrape, auth, ("success",), "-end_date"),
            self._runs(scrape, auth, ("success", "failed"), "-end_date"),
            self._runs(scrape, auth, ("failed",), "-end_date", end_date_gte=since),
            self._runs(scrape, auth, ("running",), "start_date"),
        )
        if not isinstance(dag, dict):
            raise ScrapeError("parse", f"{self.base}: expected a DAG object")
        labels = {"dataset": self.dataset, "dag_id": self.ref.dag_id}
        out = scrape.metrics
        paused = dag.get("is_paused")
        out.gauge(m.AIRFLOW_DAG_PAUSED, "", labels, 1.0 if paused else 0.0)
        next_key = "next_dagrun_create_after" if self.ref.api_version == 1 else "next_dagrun_run_after"
        due = airflow_time(dag.get(next_key))
        if due is not None and not paused:
            out.gauge(m.AIRFLOW_NEXT_RUN_OVERDUE_SECONDS, "", labels, max(0.0, now - due))
        out.gauge(m.AIRFLOW_FAILED_RUNS, "", labels, _total(failed))
        last = finished["dag_runs"][0] if finished["dag_runs"] else None
        if isinstance(last, dict):
            out.gauge(m.AIRFLOW_LAST_RUN_FAILED, "", labels, 1.0 if last.get("state") == "failed" else 0.0)
        out.gauge(m.AIRFLOW_RUNNING_RUNS, "", labels, _total(running))
        oldest = running["dag_runs"][0] if running["dag_runs"] else None
        started = airflow_time(oldest.get("start_date")) if isinstance(oldest, dict) else None
        if started is not None:
            out.gauge(m.AIRFLOW_RUNNING_DURATION_SECONDS, "", labels, max(0.0, now - started))
        run = success["dag_runs"][0] if success["dag_runs"] else None
        if run is None:
            return None
        ended = airflow_time(run.get("end_date")) if isinstance(run, dict) else None
        if ended is None:
            raise ScrapeError("parse", f"{self.base}/dagRuns: the last successful run has no end_date")
        return ended


def _total(body: dict[str, Any]) -> float:
    """Runs matching the filter: `total_entries` (before `limit`), else the runs listed."""
    total = number(body.get("total_entries"))
    return total if total is not None else float(len(body["dag_runs"]))


def clock() -> float:
    return time.time()
