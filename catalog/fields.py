"""Reusable validated field types for the catalog: names, URLs, env-var names, PromQL templates."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

NAME_RE = r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$"
Name = Annotated[str, StringConstraints(pattern=NAME_RE)]
"""Lower-case DNS-like names: they become label values and parts of rule-group names."""

ALERT_NAME_RE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
WINDOW_PLACEHOLDER = "{{window}}"
_PLACEHOLDER_RE = re.compile(r"\{\{\s*\.?window\s*\}\}")
_METRIC_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


def camel(text: str) -> str:
    """An alert name from free text: CamelCase letters and digits, starting upper-case."""
    parts = re.split(r"[^A-Za-z0-9]+", text)
    name = "".join(p[:1].upper() + p[1:] for p in parts if p)
    return name if name[:1].isalpha() else f"Slo{name}"


def _alert_name(value: str) -> str:
    if not ALERT_NAME_RE.match(value):
        raise PydanticCustomError(
            "alert_name",
            "{value} is not a valid alert name; alert names are CamelCase: an upper-case letter, then "
            "letters and digits only, no '-', '_' or spaces (e.g. {suggestion})",
            {"value": repr(value), "suggestion": camel(value)},
        )
    return value


AlertName = Annotated[str, AfterValidator(_alert_name)]
"""An alert name (Prometheus `alertname`), CamelCase as the Prometheus and mixin style guides write them."""


def _env_name(value: str) -> str:
    if not ENV_RE.match(value):
        raise PydanticCustomError(
            "env_name",
            "{value} is not an environment variable name; give the variable's NAME (e.g. SLACK_URL), "
            "not its value",
            {"value": value},
        )
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise PydanticCustomError(
            "http_url", "{value} is not an http(s) URL; write it like http://host:port/path", {"value": value}
        )
    if parts.password is not None:
        raise PydanticCustomError(
            "inline_secret",
            "URL carries an inline password; remove it and reference the credential with an auth block "
            "(auth: {basic: {username: ..., password_env: VAR}})",
        )
    return value.rstrip("/") if parts.path in {"", "/"} else value


HttpUrl = Annotated[str, AfterValidator(_http_url)]


def _no_password_dsn(value: str) -> str:
    parts = urlsplit(value)
    if parts.password:
        raise PydanticCustomError(
            "inline_secret",
            "database URL carries an inline password; move the whole URL into an environment variable and "
            "write url_env: WAREHOUSE_URL instead",
        )
    return value


DatabaseUrl = Annotated[str, AfterValidator(_no_password_dsn)]


def normalize_window_placeholder(query: str) -> str:
    """Accept Sloth's `{{.window}}` and spaced forms; store the canonical `{{window}}`."""
    return _PLACEHOLDER_RE.sub(WINDOW_PLACEHOLDER, query.strip())


def _promql_template(value: str) -> str:
    query = normalize_window_placeholder(value)
    if WINDOW_PLACEHOLDER not in query:
        raise PydanticCustomError(
            "promql_window",
            "query has no {{window}} placeholder; write the range as [{{window}}], "
            'e.g. sum(rate(http_requests_total{code=~"5.."}[{{window}}]))',
        )
    depth = {"(": 0, "[": 0, "{": 0}
    closers = {")": "(", "]": "[", "}": "{"}
    stripped = re.sub(
        r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', query.replace(WINDOW_PLACEHOLDER, "5m")
    )
    for char in stripped:
        if char in depth:
            depth[char] += 1
        elif char in closers:
            depth[closers[char]] -= 1
            if depth[closers[char]] < 0:
                raise PydanticCustomError("promql_syntax", "unbalanced {char} in query", {"char": char})
    if any(depth.values()):
        raise PydanticCustomError("promql_syntax", "query has unclosed brackets; check ( [ { pairs")
    from catalog.promql_check import promql_error  # its parser loads on first use, not at import

    problem = promql_error(query.replace(WINDOW_PLACEHOLDER, "5m"))
    if problem is not None:
        raise PydanticCustomError(
            "promql_syntax", "{query} is not valid PromQL: {problem}", {"query": query, "problem": problem}
        )
    return query


PromQLTemplate = Annotated[str, AfterValidator(_promql_template)]
"""A PromQL expression with a `{{window}}` range placeholder."""


def _metric_name(value: str) -> str:
    if not _METRIC_RE.match(value):
        raise PydanticCustomError(
            "metric_name",
            "{value} is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)",
            {"value": value},
        )
    return value


MetricName = Annotated[str, AfterValidator(_metric_name)]

_MATCHER_RE = re.compile(r'^\{\s*(?:[a-zA-Z_][a-zA-Z0-9_]*\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*,?\s*)*\}$')


def _selector(value: str) -> str:
    value = value.strip() or "{}"
    if not _MATCHER_RE.match(value):
        raise PydanticCustomError(
            "selector",
            '{value} is not a label selector; write it like {job="model", code!~"5.."}',
            {"value": value},
        )
    return value


Selector = Annotated[str, AfterValidator(_selector)]
