"""Retraining triggers: an Airflow DAG run (REST API v1, or v2 with a JWT) or a generic webhook.

One breach is one trigger: `trigger_store.claim` opens it atomically (the cooldown is the condition), and
its idempotency key goes with every attempt: the webhook's `Idempotency-Key` header, Airflow's
`dag_run_id` (a second POST with the same id is a 409, taken as "already triggered"). Failed attempts
are retried with exponential backoff and full jitter; the schedule lives in the database, so a
restarted run resumes the retries of a breach (`resume`) with the same key and attempt count.

Webhook body (JSON): `{"event": "drift.breach", "monitor", "breach", "detected_at", "dataset_drift",
"drift_share", "drift_share_threshold", "drifted_columns", "engine"}`. With `secret_env`, the header
`X-Watchkeeper-Signature: t=<unix>,v1=<hex>` carries HMAC-SHA256(secret, "<unix>." + body).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from catalog.model.connections import AirflowRef
from catalog.model.drift import DriftMonitor, Retrain, WebhookTrigger
from drift import trigger_store as store
from drift.result import DriftResult
from exporters.errors import ConfigError
from exporters.secrets import read_secret

log = logging.getLogger("watchkeeper.drift.triggers")
SIGNATURE_HEADER = "X-Watchkeeper-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how fast a failed trigger is retried. Delay n (1-based) is drawn uniformly from
    [0, min(max_delay, base_delay * 2**(n-1))] ("full jitter")."""

    max_attempts: int = 5
    base_delay: float = 2.0
    max_delay: float = 300.0
    timeout: float = 10.0
    lease: float = 60.0
    """How long one attempt holds the breach; a crashed process's lease expires after this."""

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        return float(rng()) * min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))


@dataclass(frozen=True)
class Outcome:
    ok: bool
    detail: str
    retry: bool = True


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The webhook signature header's value: `t=<unix>,v1=<hex HMAC-SHA256 of "<unix>.<body>">`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


REDACTED = "[redacted]"


def _forms(secret: str) -> set[str]:
    """The ways a secret can come back in a response: as sent, JSON-escaped, base64 (Basic auth)."""
    import base64

    forms = {secret, json.dumps(secret)[1:-1], base64.b64encode(secret.encode()).decode()}
    return {f for f in forms if f}


def redact(text: str, secrets: tuple[str, ...] | list[str]) -> str:
    """`text` with every known secret value (and its JSON-escaped and base64 forms) replaced; the one helper
    every response text, exception message and audit detail of a trigger goes through."""
    forms = sorted({f for s in secrets if s for f in _forms(s)}, key=len, reverse=True)
    for form in forms:
        text = text.replace(form, REDACTED)
    return text


def _http_outcome(status: int, text: str, what: str, secrets: tuple[str, ...] = ()) -> Outcome:
    if 200 <= status < 300:
        return Outcome(True, f"{what}: HTTP {status}")
    if status == 409:
        return Outcome(True, f"{what}: HTTP 409, already triggered with this idempotency key")
    # redact before cutting, so a secret cut in half at the limit cannot survive
    snippet = " ".join(redact(text, secrets).split())[:200]
    return Outcome(False, f"{what}: HTTP {status} {snippet}".rstrip(), status in RETRYABLE_STATUS)


class WebhookSender:
    """POSTs the breach as JSON, signed when the catalog names a secret."""

    def __init__(self, ref: WebhookTrigger, where: str) -> None:
        self.url = str(ref.url)
        self.secret = (
            read_secret(ref.secret_env, None, where, "the webhook signing secret") if ref.secret_env else None
        )

    @property
    def target(self) -> str:
        return f"webhook {self.url}"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values never to log or store."""
        return (self.secret,) if self.secret else ()

    def send(self, key: str, payload: dict[str, Any], timeout: float) -> Outcome:
        import httpx

        body = json.dumps(payload, sort_keys=True).encode()
        headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: key}
        if self.secret is not None:
            headers[SIGNATURE_HEADER] = signature(self.secret, int(time.time()), body)
        try:
            response = httpx.post(self.url, content=body, headers=headers, timeout=timeout)
        except httpx.HTTPError as exc:
            return Outcome(False, redact(f"{self.url}: {type(exc).__name__}: {exc}", self.secrets))
        return _http_outcome(response.status_code, response.text, self.url, self.secrets)


class AirflowSender:
    """Triggers a DAG run: `POST /api/v1/dags/{dag_id}/dagRuns` (Airflow 2, basic or bearer auth) or
    `POST /api/v2/dags/{dag_id}/dagRuns` with a JWT from `POST /auth/token` (Airflow 3)."""

    def __init__(self, ref: AirflowRef, where: str) -> None:
        self.ref = ref
        self.base = str(ref.url).rstrip("/")
        self.basic: tuple[str, str] | None = None
        self.bearer: str | None = None
        if ref.auth is not None and ref.auth.basic is not None:
            b = ref.auth.basic
            self.basic = (
                b.username,
                read_secret(b.password_env, b.password_file, where, "the Airflow password"),
            )
        elif ref.auth is not None and ref.auth.bearer is not None:
            t = ref.auth.bearer
            self.bearer = read_secret(t.token_env, t.token_file, where, "the Airflow token")
        self._jwt: str | None = None
        self._jwts: list[str] = []  # every JWT received, to redact even after one is dropped

    @property
    def target(self) -> str:
        return f"airflow {self.base} dag {self.ref.dag_id} (API v{self.ref.api_version})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values never to log or store: the password, the Basic credential, the token, the JWT."""
        values = [self.bearer or "", *self._jwts]
        if self.basic is not None:
            values += [self.basic[1], f"{self.basic[0]}:{self.basic[1]}"]
        return tuple(v for v in values if v)

    def _token(self, client: Any) -> str | None:
        """Airflow 3's JWT for the basic-auth user (cached until refused)."""
        if self._jwt is None and self.basic is not None:
            user, password = self.basic
            response = client.post(f"{self.base}/auth/token", json={"username": user, "password": password})
            if response.status_code not in (200, 201):
                # the body of an auth call is never kept: a server may echo the credentials (FastAPI 422)
                raise _RefusedError(_http_outcome(response.status_code, "", f"{self.base}/auth/token"))
            try:
                self._jwt = str(response.json()["access_token"])
                self._jwts.append(self._jwt)
            except (ValueError, KeyError, TypeError):
                raise _RefusedError(
                    Outcome(False, f"{self.base}/auth/token: HTTP {response.status_code}, no access_token")
                ) from None
        return self._jwt

    def send(self, key: str, payload: dict[str, Any], timeout: float) -> Outcome:
        import httpx

        version = self.ref.api_version
        url = f"{self.base}/api/v{version}/dags/{self.ref.dag_id}/dagRuns"
        body: dict[str, Any] = {"dag_run_id": f"watchkeeper_drift__{key}", "conf": payload}
        if version == 2:
            body["logical_date"] = None
        try:
            with httpx.Client(timeout=timeout, verify=self.ref.tls_verify) as client:
                for _ in range(2):  # a refused (expired) JWT is renewed once
                    headers: dict[str, str] = {}
                    if self.bearer is not None:
                        headers["Authorization"] = f"Bearer {self.bearer}"
                    elif version == 2:
                        token = self._token(client)
                        if token is not None:
                            headers["Authorization"] = f"Bearer {token}"
                    elif self.basic is not None:
                        headers["Authorization"] = _basic(*self.basic)
                    response = client.post(url, json=body, headers=headers)
                    if response.status_code == 401 and version == 2 and self._jwt is not None:
                        self._jwt = None
                        continue
                    break
        except _RefusedError as refused:
            return refused.outcome
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            return Outcome(False, redact(f"{url}: {type(exc).__name__}: {exc}", self.secrets))
        return _http_outcome(response.status_code, response.text, url, self.secrets)


def _basic(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class _RefusedError(Exception):
    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome


Sender = WebhookSender | AirflowSender


def sender_for(retrain: Retrain, monitor: str) -> Sender:
    """The monitor's trigger (ConfigError for a missing secret, naming the variable or file)."""
    where = f"drift monitor {monitor} retrain"
    if retrain.webhook is not None:
        return WebhookSender(retrain.webhook, where)
    assert retrain.airflow is not None
    return AirflowSender(retrain.airflow, where)


def payload(monitor: DriftMonitor, result: DriftResult, detected_at: float) -> dict[str, Any]:
    """What a trigger sends about a breach (the breach key is added per send)."""
    return {
        "event": "drift.breach",
        "monitor": monitor.name,
        "detected_at": detected_at,
        "dataset_drift": result.dataset_drift,
        "drift_share": result.drift_share,
        "drift_share_threshold": result.drift_share_threshold,
        "drifted_columns": [c.column for c in result.columns if c.drift],
        "engine": result.engine,
    }


@dataclass
class Trigger:
    """Delivers one monitor's breaches with its database, policy and clock (injectable for tests)."""

    engine: Engine
    monitor: str
    cooldown: float
    sender: Sender
    policy: RetryPolicy = RetryPolicy()
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    rng: Callable[[], float] = random.random
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)
    on_event: Callable[[str], None] = lambda _message: None

    def breach(self, body: dict[str, Any]) -> store.Claim:
        """Claim a breach (or be suppressed by the cooldown) and, if claimed, deliver it."""
        claim = store.claim(self.engine, self.monitor, self.clock(), self.cooldown, self.sender.target, body)
        if claim.breach is None:
            self.on_event(f"suppressed by the cooldown (breach {claim.suppressed_by})")
            return claim
        self.on_event(f"breach {claim.breach.key}: triggering {self.sender.target}")
        self.deliver(claim.breach)
        return claim

    def resume(self) -> list[str]:
        """Deliver the breaches a stopped run left pending; returns their final states."""
        states = []
        for breach in store.pending(self.engine, self.monitor):
            store.note(
                self.engine,
                self.monitor,
                "resumed",
                f"resuming after {breach.attempts} attempt(s)",
                self.clock(),
                breach.key,
            )
            self.on_event(f"breach {breach.key}: resuming after {breach.attempts} attempt(s)")
            states.append(self.deliver(breach))
        return states

    def deliver(self, breach: store.Breach) -> str:
        """Attempt until success, a permanent failure or the last attempt; returns the final state."""
        while True:
            wait = breach.next_attempt_at - self.clock()
            if wait > 0:
                self.sleep(wait)
            held = store.lease(self.engine, breach.id, self.owner, self.clock(), self.policy.lease)
            if held is None:
                current = next(
                    (b for b in store.pending(self.engine, self.monitor) if b.id == breach.id), None
                )
                if current is None:
                    return "done elsewhere"
                breach = current
                self.sleep(min(1.0, self.policy.lease))
                continue
            attempt = held.attempts + 1
            outcome = self.sender.send(held.key, {**held.payload, "breach": held.key}, self.policy.timeout)
            outcome = Outcome(outcome.ok, redact(outcome.detail, self.sender.secrets), outcome.retry)
            now = self.clock()
            if outcome.ok:
                state = store.finish_attempt(self.engine, held, self.owner, now, True, outcome.detail, None)
                self.on_event(f"breach {held.key}: attempt {attempt} succeeded ({outcome.detail})")
                return state
            last = not outcome.retry or attempt >= self.policy.max_attempts
            next_at = None if last else now + self.policy.delay(attempt, self.rng)
            why = (
                ("not retried" if not outcome.retry else f"gave up after {attempt} attempts")
                if last
                else f"retry {attempt + 1} of {self.policy.max_attempts} at {store._iso(next_at or now)}"
            )
            state = store.finish_attempt(
                self.engine, held, self.owner, now, False, f"{outcome.detail}; {why}", next_at
            )
            self.on_event(f"breach {held.key}: attempt {attempt} failed ({outcome.detail}); {why}")
            if state != "pending":
                return state
            refreshed = next((b for b in store.pending(self.engine, self.monitor) if b.id == held.id), None)
            if refreshed is None:
                return "done elsewhere"
            breach = refreshed


def build_trigger(
    engine: Engine, monitor: DriftMonitor, policy: RetryPolicy | None = None, **kwargs: Any
) -> Trigger | None:
    """The monitor's trigger, or None without `retrain`; ConfigError (audited) for a missing secret."""
    if monitor.retrain is None:
        return None
    try:
        sender = sender_for(monitor.retrain, monitor.name)
    except ConfigError as exc:
        store.note(engine, monitor.name, "failed", f"the trigger cannot be built: {exc}", time.time())
        raise
    return Trigger(
        engine, monitor.name, monitor.retrain.cooldown.seconds, sender, policy or RetryPolicy(), **kwargs
    )
