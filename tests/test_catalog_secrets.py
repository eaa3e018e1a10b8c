"""Secrets written into the catalog are refused, as docs/catalog.md ("Secrets") says, and the error never
repeats the secret: not in the text output, not in the JSON output.

The token-shaped values are fakes in each vendor's documented format (AKIAIOSFODNN7EXAMPLE is AWS's own
example key id; the JWT is jwt.io's example).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import run_cli

BASE = """\
teams:
  - name: platform
    owners: [oncall@example.com]
    channels:
      slack: {channel: "#platform", api_url_env: SLACK_URL}
      pagerduty: {routing_key_env: PD_DATA_PLATFORM}
      webhook: {url: "http://hooks.example.com/alert", token_env: HOOK_TOKEN}
services:
  - name: api
    team: platform
    runbook: https://runbooks.example.com/api
sources:
  hdfs:
    - name: prod
      service: api
      namenodes: ["http://nn1:9870"]
      auth: {basic: {username: monitor, password_env: HDFS_PASSWORD}}
  kafka:
    - name: prod
      service: api
      bootstrap: kafka:9092
      sasl_username: watchkeeper
      sasl_password_env: KAFKA_PASSWORD
  freshness:
    - dataset: orders
      service: api
      max_age: 2h
      sql: {url_env: WAREHOUSE_URL, query: "select max(updated_at) from orders"}
  inference:
    - name: model
      service: api
      url: http://model:8080/predict
      auth: {bearer: {token_env: MODEL_TOKEN}}
      request: {headers: {Content-Type: application/json}, json: {inputs: [1, 2]}}
drift:
  - name: features
    service: api
    reference: {path: ref.parquet}
    current: {path: cur.parquet}
    retrain: {webhook: {url: "http://retrain:8000/hook", secret_env: RETRAIN_SECRET}}
"""

GITHUB = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
SLACK = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
AWS = "AKIAIOSFODNN7EXAMPLE"
HEX = "abcdef0123456789abcdef0123456789"
HEX_DIGIT_FIRST = "0123456789abcdef0123456789abcdef01234567"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5"
    "MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
RANDOM = "q8Zr2LmW5xNc7VbT3kJh9PfD"
PLAIN = "s3cr3t-Value-42"  # not token-shaped: refused because of WHERE it is written

ENV_FIELDS = {
    "slack api_url_env": "api_url_env: SLACK_URL",
    "pagerduty routing_key_env": "routing_key_env: PD_DATA_PLATFORM",
    "webhook token_env": "token_env: HOOK_TOKEN",
    "basic password_env": "password_env: HDFS_PASSWORD",
    "kafka sasl_password_env": "sasl_password_env: KAFKA_PASSWORD",
    "sql url_env": "url_env: WAREHOUSE_URL",
    "bearer token_env": "token_env: MODEL_TOKEN",
    "retrain secret_env": "secret_env: RETRAIN_SECRET",
}
TOKENS = {
    "github": GITHUB,
    "slack": SLACK,
    "aws": AWS,
    "hex": HEX,
    "hex-digit-first": HEX_DIGIT_FIRST,
    "jwt": JWT,
    "random": RANDOM,
}


def _validate(tmp_path: Path, old: str, new: str) -> tuple[int, str, str]:
    assert old in BASE, old
    path = tmp_path / "c.yaml"
    path.write_text(BASE.replace(old, new, 1), encoding="utf-8")
    text = run_cli("validate", str(path))
    as_json = run_cli("validate", str(path), "--format", "json")
    return text.code, text.output, as_json.stdout + as_json.stderr


def _refused_without_echo(tmp_path: Path, old: str, new: str, secret: str, fragments: list[str]) -> None:
    code, output, as_json = _validate(tmp_path, old, new)
    assert code == 1, output
    for fragment in fragments:
        assert fragment in output, f"{fragment!r} not in:\n{output}"
    for shown in (output, as_json):
        assert secret not in shown, shown
        # Not even a recognisable part of it: no 8-character window of the secret appears.
        assert not any(secret[i : i + 8] in shown for i in range(len(secret) - 7)), shown
    assert json.loads(as_json)["valid"] is False


def test_the_base_catalog_is_valid(tmp_path: Path) -> None:
    code, output, _ = _validate(tmp_path, "api_url_env: SLACK_URL", "api_url_env: SLACK_URL")
    assert code == 0, output


@pytest.mark.parametrize("field", ENV_FIELDS)
@pytest.mark.parametrize("token", TOKENS)
def test_a_secret_value_where_a_variable_name_belongs_is_refused_unechoed(
    tmp_path: Path, field: str, token: str
) -> None:
    old = ENV_FIELDS[field]
    name = old.split(":")[0]
    value = TOKENS[token]
    _refused_without_echo(tmp_path, old, f"{name}: '{value}'", value, [f".{name}", "NAME"])


@pytest.mark.parametrize(
    "name",
    ["PD_DATA_PLATFORM", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "SLACK_WEBHOOK_URL_DATA_PLATFORM_2024",
     "slack_url", "_PRIVATE_KEY", "X", "OPENAI_API_KEY", "DB_PASSWORD_1", "AKIA_KEY_NAME"],
)  # fmt: skip
def test_reasonable_variable_names_are_accepted(tmp_path: Path, name: str) -> None:
    code, output, _ = _validate(tmp_path, "api_url_env: SLACK_URL", f"api_url_env: {name}")
    assert code == 0, output


URL_FIELDS = {
    "webhook url": 'url: "http://hooks.example.com/alert"',
    "namenodes": 'namenodes: ["http://nn1:9870"]',
    "inference url": "url: http://model:8080/predict",
    "runbook": "runbook: https://runbooks.example.com/api",
    "retrain url": 'url: "http://retrain:8000/hook"',
}
QUERY_PARAMETERS = [
    "token",
    "password",
    "api_key",
    "access_token",
    "secret",
    "apikey",
    "X-Amz-Signature",
    "sig",
]


def _with_url(old: str, url: str) -> str:
    key = old.split(":", 1)[0]
    return f'{key}: ["{url}"]' if key == "namenodes" else f'{key}: "{url}"'


@pytest.mark.parametrize("field", URL_FIELDS)
@pytest.mark.parametrize("parameter", QUERY_PARAMETERS)
def test_a_credential_in_a_url_query_is_refused_unechoed(tmp_path: Path, field: str, parameter: str) -> None:
    old = URL_FIELDS[field]
    url = f"http://host.example.com:8080/path?a=1&{parameter}={PLAIN}"
    _refused_without_echo(tmp_path, old, _with_url(old, url), PLAIN, [f"query parameter '{parameter}'"])


@pytest.mark.parametrize("field", URL_FIELDS)
def test_a_token_before_the_at_sign_is_refused_unechoed(tmp_path: Path, field: str) -> None:
    old = URL_FIELDS[field]
    _refused_without_echo(
        tmp_path, old, _with_url(old, f"https://{GITHUB}@host.example.com/x"), GITHUB, ["before '@'", "auth"]
    )


def test_a_password_in_a_url_is_still_refused_unechoed(tmp_path: Path) -> None:
    old = URL_FIELDS["webhook url"]
    _refused_without_echo(
        tmp_path, old, _with_url(old, f"https://user:{PLAIN}@host.example.com/x"), PLAIN, ["inline password"]
    )


def test_a_slack_webhook_url_is_itself_a_secret(tmp_path: Path) -> None:
    old = URL_FIELDS["webhook url"]
    path = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
    _refused_without_echo(
        tmp_path,
        old,
        _with_url(old, f"https://hooks.slack.com{path}"),
        path,
        ["Slack webhook URL", "api_url_env"],
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://nn1:9870/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState",
        "https://runbooks.example.com/api#section-2",
        "http://[::1]:9870",
        "http://host.example.com/a%20b?page=2&sort=desc",
    ],
)
def test_urls_without_credentials_are_accepted(tmp_path: Path, url: str) -> None:
    old = URL_FIELDS["namenodes"]
    code, output, _ = _validate(tmp_path, old, _with_url(old, url))
    assert code == 0, output


@pytest.mark.parametrize(
    "header", ["X-Auth-Token", "Cookie", "Proxy-Authorization", "Authorization", "X-API-Key", "Private-Token",
               "X-Vault-Token", "X-Amz-Security-Token", "Api-Key"]
)  # fmt: skip
def test_credential_headers_are_refused_unechoed(tmp_path: Path, header: str) -> None:
    _refused_without_echo(
        tmp_path,
        "headers: {Content-Type: application/json}",
        f"headers: {{{header}: '{PLAIN}'}}",
        PLAIN,
        [f"'{header}' is a credential header", "token_env"],
    )


@pytest.mark.parametrize("value", [f"Bearer {PLAIN}", f"Basic {PLAIN}", GITHUB, f"key={JWT}"])
def test_a_credential_in_another_header_is_refused_unechoed(tmp_path: Path, value: str) -> None:
    secret = value.rsplit(" ", maxsplit=1)[-1].rsplit("=", maxsplit=1)[-1]
    _refused_without_echo(
        tmp_path,
        "headers: {Content-Type: application/json}",
        f"headers: {{X-Custom: '{value}'}}",
        secret,
        ["header value"],
    )


def test_a_credential_key_in_a_json_body_is_refused_unechoed(tmp_path: Path) -> None:
    _refused_without_echo(
        tmp_path,
        "json: {inputs: [1, 2]}",
        f"json: {{inputs: [1], api_key: '{PLAIN}'}}",
        PLAIN,
        ["request body", "'api_key'"],
    )


@pytest.mark.parametrize(
    "dsn",
    [
        f"host=db user=etl password={PLAIN} dbname=wh",
        f"host=db user=etl PASSWORD = {PLAIN}",
        f"host=db sslpassword={PLAIN}",
        f"postgresql://etl@db/wh?password={PLAIN}",
        f"postgresql://etl:{PLAIN}@db/wh",
    ],
)
def test_a_password_in_a_database_dsn_is_refused_unechoed(tmp_path: Path, dsn: str) -> None:
    _refused_without_echo(tmp_path, "url_env: WAREHOUSE_URL", f"url: '{dsn}'", PLAIN, ["url_env"])


@pytest.mark.parametrize(
    "dsn", ["host=db user=etl dbname=wh", "postgresql://etl@db/wh?sslmode=require", "postgresql://db/wh"]
)
def test_a_database_dsn_without_a_password_is_accepted(tmp_path: Path, dsn: str) -> None:
    code, output, _ = _validate(tmp_path, "url_env: WAREHOUSE_URL", f"url: '{dsn}'")
    assert code == 0, output


@pytest.mark.parametrize("field", ["username: monitor", "sasl_username: watchkeeper"])
def test_a_token_as_a_user_name_is_refused_unechoed(tmp_path: Path, field: str) -> None:
    name = field.split(":", maxsplit=1)[0]
    _refused_without_echo(tmp_path, field, f"{name}: '{GITHUB}'", GITHUB, ["looks like a GitHub token"])


# --- no false alarms on variable names, and every vendor shape caught (property-based) ---------------

WORDS = st.sampled_from(
    ["PD", "DATA", "PLATFORM", "SLACK", "URL", "GITHUB", "TOKEN", "AWS", "SECRET", "ACCESS", "KEY", "DB",
     "PASSWORD", "WAREHOUSE", "KAFKA", "SASL", "API", "PROD", "EU", "WEST", "ROUTING", "HOOK", "AKIA", "GHP"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(WORDS, st.integers(0, 9999).map(str)), min_size=1, max_size=6), st.booleans())
def test_names_made_of_words_are_never_taken_for_secrets(words: list[str], lower: bool) -> None:
    from catalog.secrets import secret_shape

    name = "_".join(words)
    name = name.lower() if lower else name
    assert secret_shape(name) is None, name


ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["ghp_", "gho_", "ghs_", "xoxb-", "xoxp-", "glpat-"]),
    st.text(alphabet=ALNUM, min_size=36, max_size=40),
)
def test_vendor_token_shapes_are_always_caught(prefix: str, body: str) -> None:
    from catalog.secrets import secret_shape

    assert secret_shape(prefix + body) is not None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789abcdef", min_size=32, max_size=64))
def test_long_hex_keys_are_always_caught(key: str) -> None:
    from catalog.secrets import secret_shape

    assert secret_shape(key) == "a hex key (32 or more hex digits)"
