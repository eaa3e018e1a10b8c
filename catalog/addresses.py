"""Validated addresses and credential references for the catalog: env-var names, user names, secret file
paths, HTTP headers, e-mail addresses, URLs and database DSNs. Each refuses what amtool or Go's URL parser
would fail on, and secrets written inline (catalog/secrets.py recognises them) without echoing them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from catalog.secrets import credential_name, dsn_password, query_secret, secret_shape, value_secret

ENV_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _error(kind: str, message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(kind, message, context)  # the message's {names} are filled from context


def _env_name(value: str) -> str:
    shape = secret_shape(value)
    if shape is not None:
        raise _error(
            "inline_secret",
            "this looks like {shape}, a secret value, not the name of the environment variable holding "
            "it; put the value in a variable and give the variable's NAME (e.g. SLACK_URL)",
            shape=shape,
        )
    if not ENV_RE.fullmatch(value):
        bad = next((c for c in value if not (c.isascii() and (c.isalnum() or c == "_"))), "")
        found = f"it holds {bad!r}; " if bad and not bad.isalnum() else ""
        raise _error(
            "env_name",
            "not an environment variable name ({found}names are letters, digits and '_'); give the "
            "variable's NAME (e.g. SLACK_URL), not its value",
            found=found,
        )
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]
"""The NAME of an environment variable; a value in its place (a token, a URL) is refused, never echoed."""


def _not_a_secret(value: str) -> str:
    shape = secret_shape(value)
    if shape is not None:
        raise _error(
            "inline_secret",
            "this looks like {shape}; a secret never goes in the catalog: reference it with *_env or *_file",
            shape=shape,
        )
    return value


Username = Annotated[str, AfterValidator(_not_a_secret)]
"""A user name: some services take a token as the user name, which is then refused."""


def _file_path(value: str) -> str:
    if not value.strip():
        raise _error("file_path", "file path is empty; give the path of the file holding the secret")
    if _CONTROL.search(value):
        raise _error("file_path", "file path holds a line break or other control character; remove it")
    return value


FilePath = Annotated[str, AfterValidator(_file_path)]

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _header_name(value: str) -> str:
    if not _HEADER_NAME.fullmatch(value):
        raise _error(
            "header", "{value} is not an HTTP header name (letters, digits and -)", value=repr(value)
        )
    if credential_name(value):
        raise _error(
            "inline_secret",
            "{value} is a credential header; credential headers are secrets: use the source's auth block "
            "with token_env instead",
            value=repr(value),
        )
    return value


def _header_value(value: str) -> str:
    if _CONTROL.search(value.replace("\t", "")):
        raise _error("header", "header value holds a line break or other control character; remove it")
    what = value_secret(value)
    if what is not None:
        raise _error(
            "inline_secret",
            "header value holds {what}; secrets never go in the catalog: use the source's auth block with "
            "token_env instead",
            what=what,
        )
    return value


HeaderMap = dict[Annotated[str, AfterValidator(_header_name)], Annotated[str, AfterValidator(_header_value)]]

_EMAIL_RE = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`|~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)


def _email(value: str) -> str:
    if not _EMAIL_RE.fullmatch(value):
        raise _error(
            "email",
            "{value} is not an e-mail address; write one address like oncall@example.com (ASCII, no "
            "spaces, braces or line breaks; write an international domain in punycode)",
            value=repr(value),
        )
    return value


Email = Annotated[str, AfterValidator(_email)]


# --- URLs ------------------------------------------------------------------------------------------

_URL_BAD_CHAR = re.compile(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]")
"""Anything but RFC 3986's unreserved and reserved characters and '%'."""
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HOST = re.compile(r"[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]")
AUTH_FIX = "reference the credential with an auth block (auth: {bearer: {token_env: VAR}})"


def _url_text(value: str) -> None:
    """Refuse characters promtool, amtool or Go's url.Parse fail on, or that Prometheus would template."""
    if " " in value:
        raise _error("url", "URL holds a space; write a space as %20")
    if _CONTROL.search(value):
        raise _error("url", "URL holds a line break, tab or other control character; remove it")
    if not value.isascii():
        raise _error(
            "url",
            "URL holds a non-ASCII character; write the host in punycode (xn--...) and percent-encode the "
            "rest (UTF-8 bytes as %XX)",
        )
    found = _URL_BAD_CHAR.search(value)
    if found is not None:
        bad = found.group()
        raise _error(
            "url",
            "URL holds {char}, which a URL must percent-encode (%{hex}); Prometheus would also read '{{' in "
            "an alert's links as a template",
            char=repr(bad),
            hex=f"{ord(bad):02X}",
        )
    if _BAD_ESCAPE.search(value):
        raise _error("url", "URL holds a '%' not followed by two hex digits; write a literal % as %25")


def _http_url(value: str) -> str:
    _url_text(value)
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise _error("http_url", "not an http(s) URL; write it like http://host:port/path")
    if parts.password is not None:
        raise _error(
            "inline_secret",
            "URL carries an inline password; remove it and reference the credential with an auth block "
            "(auth: {basic: {username: ..., password_env: VAR}})",
        )
    if "@" in parts.netloc:
        raise _error(
            "inline_secret",
            "URL carries credentials before '@' (like https://TOKEN@host); remove them and " + AUTH_FIX,
        )
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise _error("url", "URL has an invalid port; write host:port with a port from 1 to 65535")
    netloc = parts.netloc
    host = (
        netloc[: netloc.index("]") + 1] if netloc.startswith("[") and "]" in netloc else netloc.split(":")[0]
    )
    if not _HOST.fullmatch(host):
        raise _error("url", "URL has no valid host; write it like http://host:port/path")
    name = query_secret(parts.query)
    if name is not None:
        raise _error(
            "inline_secret",
            "URL query parameter {name} carries a credential; remove it from the URL and " + AUTH_FIX,
            name=repr(name),
        )
    if parts.hostname == "hooks.slack.com":
        raise _error(
            "inline_secret",
            "a Slack webhook URL is itself a secret; use the team's slack channel with api_url_env naming a "
            "variable that holds it",
        )
    return value.rstrip("/") if parts.path in {"", "/"} else value


HttpUrl = Annotated[str, AfterValidator(_http_url)]


def _no_password_dsn(value: str) -> str:
    fix = "move the whole DSN into an environment variable and write url_env: WAREHOUSE_URL instead"
    if "://" not in value:
        keyword = dsn_password(value)
        if keyword is not None:
            raise _error("inline_secret", "database DSN holds {keyword}=...; " + fix, keyword=keyword)
        return value
    parts = urlsplit(value)
    if parts.password:
        raise _error(
            "inline_secret",
            "database URL carries an inline password; move the whole URL into an environment variable and "
            "write url_env: WAREHOUSE_URL instead",
        )
    name = query_secret(parts.query)
    if name is not None:
        raise _error(
            "inline_secret",
            "database URL query parameter {name} carries a credential; " + fix,
            name=repr(name),
        )
    return value


DatabaseUrl = Annotated[str, AfterValidator(_no_password_dsn)]


def _ca_path(value: str) -> str:
    if value.strip().lower() in {"true", "false", "yes", "no", "on", "off"}:
        raise _error(
            "tls_verify",
            "tls_verify is quoted text, not a boolean; write true or false without quotes (text is the path "
            "of a CA bundle)",
        )
    return _file_path(value)


def _tls_verify(value: bool | str) -> bool | str:
    return _ca_path(value) if isinstance(value, str) else value


TlsVerify = Annotated[bool | str, AfterValidator(_tls_verify)]
"""true, false, or the path of a CA bundle (a quoted "false" is refused, not read as a path)."""
