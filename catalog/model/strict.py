"""The base of every catalog entry: unknown keys and inline secrets refused, strict types, YAML 1.2
exponent floats; `require_one` for entries that take exactly one of several keys."""

from __future__ import annotations

import re
import typing
from typing import Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

# Keys that would hold a secret inline, mapped to the reference that replaces them.
INLINE_SECRET_KEYS: dict[str, str] = {
    "api_url": "api_url_env (or api_url_file)",
    "routing_key": "routing_key_env (or routing_key_file)",
    "service_key": "routing_key_env (or routing_key_file)",
    "password": "password_env (or password_file)",
    "token": "token_env (or token_file)",
    "secret": "secret_env (or secret_file)",
    "bearer_token": "token_env (or token_file)",
}


M = TypeVar("M", bound=BaseModel)


def require_one(model: M, fields: tuple[str, ...], message: str) -> M:
    """Return the model if exactly one of `fields` is set; else raise ValueError(message)."""
    if sum(getattr(model, f) is not None for f in fields) != 1:
        raise ValueError(message)
    return model


class Strict(BaseModel):
    """Base for every catalog entry: unknown keys are errors, and inline secrets are refused.

    Types are strict: a number is a YAML number (not `true`, not a quoted "99.9"), a boolean is true or
    false, and numbers are finite (no .inf or .nan).
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, strict=True, allow_inf_nan=False
    )

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        """Frozen, so shared: pydantic deep-copies a default such as `Alerting()` for every entry otherwise
        (a third of the time to validate 10,000 SLOs; see docs/performance.md)."""
        return self

    @model_validator(mode="before")
    @classmethod
    def _refuse_inline_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, replacement in INLINE_SECRET_KEYS.items():
                if key in data and key not in cls.model_fields:
                    raise PydanticCustomError(
                        "inline_secret",
                        "{key} holds a secret inline; never write secrets in the catalog: use {replacement} "
                        "naming an environment variable or file that holds it",
                        {"key": key, "replacement": replacement},
                    )
            data = _yaml12_floats(data, _float_fields(cls))
        return data


_EXPONENT = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+")
"""Numbers in exponent form that YAML 1.1 (PyYAML) reads as text but YAML 1.2 and Go read as numbers:
`1e-20`, `1e6`, `1.5e3` (YAML 1.1 wants a '.' and a signed exponent: `1.0e+6`)."""
_FLOAT_FIELDS: dict[type, frozenset[str]] = {}


def _float_fields(cls: type[BaseModel]) -> frozenset[str]:
    """The fields of `cls` holding a float or a list of floats."""
    found = _FLOAT_FIELDS.get(cls)
    if found is None:
        found = frozenset(name for name, info in cls.model_fields.items() if _holds_float(info.annotation))
        _FLOAT_FIELDS[cls] = found
    return found


def _holds_float(annotation: Any) -> bool:
    if annotation is float:
        return True
    return any(_holds_float(arg) for arg in typing.get_args(annotation))


def _yaml12_floats(data: dict[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    """`data` with exponent-form text in float fields read as the number it writes (see _EXPONENT).

    Types are strict otherwise: a quoted "99.9" stays text and is refused."""
    changed: dict[str, Any] = {}
    for name in fields:
        value = data.get(name)
        if isinstance(value, str) and _EXPONENT.fullmatch(value):
            changed[name] = float(value)
        elif isinstance(value, list) and any(isinstance(v, str) for v in value):
            changed[name] = [float(v) if isinstance(v, str) and _EXPONENT.fullmatch(v) else v for v in value]
    return {**data, **changed} if changed else data
