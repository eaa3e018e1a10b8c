"""One entry's validation errors as problems that say what to fix: unknown keys with the allowed ones
and a likely meaning, missing keys with an example, names, types, choices."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ValidationError

from catalog.collected import Origin
from catalog.errors import MAX_DETAILED, Problem, did_you_mean
from catalog.fields import NAME_RE
from catalog.hints import TYPE_FIXES, type_fix
from catalog.model.services import Service
from catalog.model.slos import SLO
from catalog.model.teams import Team
from catalog.suggest import misspelt_required


def explain(
    exc: ValidationError, model: type[BaseModel], origin: Origin, detailed: int = MAX_DETAILED
) -> Iterator[Problem]:
    """The problems of one entry; past the first `detailed` of them an unknown key gets no suggestion.
    A misspelt required key (`objectiv`) is one error, not an unknown key plus a missing one."""
    errors = exc.errors(include_url=False)
    misspelt = misspelt_required(
        [_loc(e) for e in errors if e["type"] == "extra_forbidden"],
        [_loc(e) for e in errors if e["type"] == "missing"],
    )
    for index, err in enumerate(errors):
        loc = _loc(err)
        kind = err["type"]
        if kind == "missing" and loc in misspelt.values():
            continue  # reported with the misspelt key
        if kind == "extra_forbidden":
            key = str(err["loc"][-1])  # unfiltered: an unknown key may itself hold "[" (found by fuzzing)
            if loc in misspelt:
                meant = str(misspelt[loc][-1])
                message = (
                    f"unknown key {key!r}; did you mean {meant!r}? (required here: rename {key} to {meant})"
                )
                yield origin.problem(message, loc)
                continue
            if index >= detailed:
                yield origin.problem(f"unknown key {key!r}", loc)
                continue
            fields = _fields_at(model, loc[:-1] if loc and loc[-1] == err["loc"][-1] else loc)
            message = f"unknown key {key!r}{did_you_mean(key, fields)}"
            if fields:
                message += f" (allowed here: {', '.join(sorted(fields))})"
        elif kind == "missing":
            key = str(loc[-1])
            message = f"missing required key {key!r}"
            if model is SLO and loc == ("service",):
                message += "; every SLO needs an owner: add service: <a service from services>"
            elif model is Service and loc == ("team",):
                message += "; every service needs an owning team: add team: <a team from teams>"
            elif model is Team and loc == ("owners",):
                message += "; list the on-call contacts, e.g. owners: [oncall@example.com]"
        elif kind == "string_pattern_mismatch" and (err.get("ctx") or {}).get("pattern") == NAME_RE:
            # Only fields typed Name get this hint: other patterns (alert names, datasets) have their own.
            message = (
                f"{err['input']!r} is not a valid name; use lower-case letters, digits, '-', '.' or '_' "
                "(at most 63 characters, starting and ending with a letter or digit)"
            )
        elif kind in TYPE_FIXES:
            message = type_fix(kind, str(loc[-1]) if loc else "value", err["input"], _clean(err["msg"]))
        elif kind in {"enum", "literal_error"}:
            expected = str((err.get("ctx") or {}).get("expected", ""))
            options = re.findall(r"'([^']*)'", expected) or re.findall(r"[\w.-]+", expected)
            message = f"{err['input']!r} is not allowed{did_you_mean(str(err['input']), options)} (choose {expected})"
        elif kind == "too_short" and isinstance(err.get("input"), list):
            message = f"{loc[-1] if loc else 'list'} must not be empty"
        else:
            message = _clean(err["msg"])
        yield origin.problem(message, loc)


def _loc(err: Any) -> tuple[Any, ...]:
    """An error's location without pydantic's union and validator steps."""
    return tuple(
        p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))
    )


def _clean(message: str) -> str:
    return re.sub(r"^(Value error|Assertion failed), ", "", message)


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> set[str]:
    """The keys a mapping at `loc` inside `model` may hold."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            current = _unwrap(current, list_item=True)
            continue
        current = _unwrap(current)
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return set()
        info = current.model_fields.get(str(part)) or next(
            (f for f in current.model_fields.values() if f.alias == part), None
        )
        if info is None:
            return set()
        current = info.annotation
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return {f.alias or n for n, f in current.model_fields.items()}
    return set()


def _unwrap(annotation: Any, list_item: bool = False) -> Any:
    """Strip Optional, Annotated and (when indexing) list[...] to reach the model class."""
    for _ in range(5):
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is typing.Annotated:
            annotation = args[0]
        elif origin in (typing.Union, types.UnionType):
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = models[0] if models else next((a for a in args if a is not type(None)), annotation)
        elif origin is list and list_item:
            annotation, list_item = args[0], False
        else:
            break
    return annotation
