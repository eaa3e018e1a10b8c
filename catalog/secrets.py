"""Recognise secrets written where the catalog wants a reference: token-shaped values, credential query
parameters and headers, and passwords in database DSNs. Messages say WHAT was found, never the value.

docs/catalog.md ("Secrets") lists every pattern here; tests/test_catalog_secrets.py checks each.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

# (description, pattern): values with a vendor's token shape, or random-looking keys.
_TOKEN_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a GitHub token", re.compile(r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}")),
    ("a GitLab token", re.compile(r"glpat-[A-Za-z0-9_-]{20,}")),
    ("a Slack token", re.compile(r"xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}")),
    ("an AWS access key id", re.compile(r"(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}")),
    ("a Google API key", re.compile(r"AIza[0-9A-Za-z_-]{35}")),
    ("a Stripe key", re.compile(r"(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}")),
    ("an API key (sk-...)", re.compile(r"sk-[A-Za-z0-9_-]{20,}")),
    ("a JSON Web Token", re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")),
    ("a hex key (32 or more hex digits)", re.compile(r"[0-9a-fA-F]{32,}")),
    ("a UUID-shaped key", re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")),
)
_RANDOM = re.compile(r"[A-Za-z0-9+/=-]{24,}")
"""A long run of base64-ish characters without '_': a variable name would separate its words."""


def secret_shape(value: str) -> str | None:
    """What kind of secret `value` looks like ("a GitHub token"), or None if it does not look like one.

    Names such as `PD_DATA_PLATFORM`, `GITHUB_TOKEN` or `AWS_SECRET_ACCESS_KEY` do not: a secret is a vendor
    token shape, 32+ hex digits, a UUID, a JWT, or 24+ characters mixing upper-case, lower-case and at least
    three digits with no '_' between words.
    """
    text = value.strip()
    for description, pattern in _TOKEN_SHAPES:
        if pattern.fullmatch(text):
            return description
    if (
        _RANDOM.fullmatch(text)
        and any(c.islower() for c in text)
        and any(c.isupper() for c in text)
        and sum(c.isdigit() for c in text) >= 3
    ):
        return "a random-looking key"
    return None


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


CREDENTIAL_WORDS = (
    "token", "password", "passwd", "secret", "apikey", "authkey", "accesskey", "privatekey", "credential",
    "signature", "session",
)  # fmt: skip
"""A query parameter or header whose name holds one of these (ignoring case, '-' and '_') carries a secret."""
CREDENTIAL_NAMES = frozenset(
    {"pwd", "pass", "key", "sig", "auth", "authorization", "proxyauthorization", "cookie", "setcookie",
     "jwt", "bearer"}
)  # fmt: skip
"""Exact names (normalised like CREDENTIAL_WORDS) that carry a secret: `?key=`, `?sig=`, `Cookie`, ..."""


def credential_name(name: str) -> bool:
    """True for a query parameter or header name that carries a credential (`access_token`, `X-Auth-Token`,
    `api_key`, `Cookie`, `Proxy-Authorization`, `X-Amz-Signature`, ...)."""
    normal = _normal(name)
    return (
        normal in CREDENTIAL_NAMES
        or any(word in normal for word in CREDENTIAL_WORDS)
        or (normal.startswith("x") and normal[1:] in CREDENTIAL_NAMES)
    )


def query_secret(query: str) -> str | None:
    """The name of the first query parameter that carries a credential (or holds a secret-shaped value)."""
    for name, value in parse_qsl(query, keep_blank_values=True):
        if credential_name(name) or secret_shape(value):
            return name
    return None


_DSN_PASSWORD = re.compile(r"(?:^|\s)(sslpassword|password)\s*=", re.IGNORECASE)


def dsn_password(dsn: str) -> str | None:
    """The libpq keyword holding a password in a `key=value` DSN (`host=db password=...`), or None."""
    found = _DSN_PASSWORD.search(dsn)
    return found.group(1).lower() if found else None


def value_secret(value: str) -> str | None:
    """What a free-text value (a header value) holds: a credential scheme or a secret-shaped word."""
    scheme = re.match(r"\s*(Bearer|Basic|Token|Digest|Negotiate|ApiKey|Key)\s+\S", value, re.IGNORECASE)
    if scheme:
        return f"a {scheme.group(1)} credential"
    for word in re.split(r"[\s,;]+", value):
        shape = secret_shape(word.split("=", 1)[-1])
        if shape:
            return shape
    return None
