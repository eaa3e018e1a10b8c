"""One pooled async HTTP client for every source: JSON fetching with timeouts, size limits and error kinds."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from catalog.model import HttpAuth
from exporters.errors import ConfigError, ScrapeError

MAX_BODY_BYTES = 20 * 1024 * 1024
"""Larger answers are refused (`too_large`): a 50 MB /jmx is a misconfigured endpoint, not data."""


def endpoint(url: str) -> str:
    """`host:port` of a URL: the label value for a NameNode, DataNode or ResourceManager."""
    return urlsplit(url).netloc or url


def _secret(env: str | None, file: str | None, where: str) -> str:
    if env is not None:
        value = os.environ.get(env)
        if value is None:
            raise ConfigError(f"{where}: environment variable {env} is not set")
        return value
    assert file is not None
    try:
        return Path(file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read secret file {file}: {exc.strerror}") from None


def resolve_auth(auth: HttpAuth | None, where: str) -> httpx.Auth | None:
    """httpx auth from the catalog's references; secrets are read here, once, and never logged."""
    if auth is None:
        return None
    if auth.basic is not None:
        password = _secret(auth.basic.password_env, auth.basic.password_file, where)
        return httpx.BasicAuth(auth.basic.username, password)
    assert auth.bearer is not None
    token = _secret(auth.bearer.token_env, auth.bearer.token_file, where)
    return _Bearer(token)


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        request.headers["Authorization"] = self._header
        yield request


class HttpPool:
    """Async clients shared by all sources, one per TLS setting, with keep-alive connection pools."""

    def __init__(self, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self._clients: dict[str, httpx.AsyncClient] = {}
        self.max_body_bytes = max_body_bytes

    def client(self, verify: bool | str) -> httpx.AsyncClient:
        key = str(verify)
        if key not in self._clients:
            limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
            self._clients[key] = httpx.AsyncClient(
                verify=verify, limits=limits, headers={"Accept": "application/json"}
            )
        return self._clients[key]

    async def get_json(
        self,
        url: str,
        *,
        params: dict[str, str] | None = None,
        timeout: float,
        auth: httpx.Auth | None = None,
        verify: bool | str = True,
    ) -> Any:
        """GET a JSON document; raise ScrapeError with the kind of failure."""
        try:
            async with self.client(verify).stream(
                "GET", url, params=params, timeout=timeout, auth=auth
            ) as response:
                if response.status_code != 200:
                    raise ScrapeError("http_status", f"{url} answered HTTP {response.status_code}")
                ctype = response.headers.get("content-type", "")
                if "json" not in ctype.lower():
                    raise ScrapeError("parse", f"{url} sent {ctype or 'no content type'}, not JSON")
                declared = int(response.headers.get("content-length") or 0)
                if declared > self.max_body_bytes:
                    raise ScrapeError(
                        "too_large", f"{url} sent {declared} bytes (limit {self.max_body_bytes})"
                    )
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self.max_body_bytes:
                        raise ScrapeError("too_large", f"{url} sent more than {self.max_body_bytes} bytes")
        except httpx.TimeoutException:
            raise ScrapeError("timeout", f"{url} did not answer within {timeout:g}s") from None
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            raise ScrapeError("connection", f"{url}: {type(exc).__name__}: {exc}") from None
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ScrapeError("parse", f"{url} sent malformed or truncated JSON: {exc}") from None

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
