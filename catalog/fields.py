"""Reusable validated field types for the catalog: names, labels, numbers, bounded durations, PromQL
templates (URLs and credential references are in catalog/addresses.py). Each refuses what promtool, amtool
or the generated rules would fail on, with the fix.

Regexes are matched with `fullmatch`: `re.match(r"...$")` also accepts a trailing newline.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, StringConstraints
from pydantic_core import PydanticCustomError

from catalog.durations import Duration

NAME_RE = r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$"
Name = Annotated[str, StringConstraints(pattern=NAME_RE)]
"""Lower-case DNS-like names: they become label values and parts of rule-group names."""

ALERT_NAME_RE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
LABEL_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
WINDOW_PLACEHOLDER = "{{window}}"
_PLACEHOLDER_RE = re.compile(r"\{\{\s*\.?window\s*\}\}")
_METRIC_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def _error(kind: str, message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(kind, message, context)  # the message's {names} are filled from context


def camel(text: str) -> str:
    """An alert name from free text: CamelCase letters and digits, starting upper-case."""
    parts = re.split(r"[^A-Za-z0-9]+", text)
    name = "".join(p[:1].upper() + p[1:] for p in parts if p)
    return name if name[:1].isalpha() else f"Slo{name}"


def _alert_name(value: str) -> str:
    if not ALERT_NAME_RE.fullmatch(value):
        raise _error(
            "alert_name",
            "{value} is not a valid alert name; alert names are CamelCase: an upper-case letter, then "
            "letters and digits only, no '-', '_' or spaces (e.g. {suggestion})",
            value=repr(value),
            suggestion=camel(value),
        )
    return value


AlertName = Annotated[str, AfterValidator(_alert_name)]
"""An alert name (Prometheus `alertname`), CamelCase as the Prometheus and mixin style guides write them."""


# --- labels and annotations ------------------------------------------------------------------------


def label_suggestion(key: str) -> str:
    """A valid label name close to `key`: `bad key` -> `bad_key`, `1abc` -> `label_1abc`."""
    name = re.sub(r"[^a-zA-Z0-9_]", "_", key).strip("_")
    return name if name and not name[0].isdigit() else f"label_{name}"


def _label_name(value: str) -> str:
    if value.startswith("__"):
        raise _error(
            "label_name",
            "{value} is not allowed: names starting with '__' are reserved for Prometheus' own use; write "
            "{suggestion}",
            value=repr(value),
            suggestion=label_suggestion(value),
        )
    if not LABEL_NAME_RE.fullmatch(value):
        raise _error(
            "label_name",
            "{value} is not a valid label name: Prometheus label and annotation names are letters, digits "
            "and '_', not starting with a digit; write {suggestion}",
            value=repr(value),
            suggestion=label_suggestion(value),
        )
    return value


LabelName = Annotated[str, AfterValidator(_label_name)]
"""A Prometheus label (or annotation) name: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`."""


def _template_free(value: str) -> str:
    if "{{" in value:
        raise _error(
            "template",
            "holds '{{', which Prometheus reads as the start of a Go template in alert labels and "
            "annotations (promtool rejects it, or it renders as something else); Watchkeeper writes catalog "
            "text as it is, so remove the braces or write them apart ('{ {')",
        )
    return value


def _label_value(value: str) -> str:
    if value == "":
        raise _error(
            "empty_label",
            "label value is empty; Prometheus drops a label with an empty value, so remove the label",
        )
    return _template_free(value)


LabelValue = Annotated[str, AfterValidator(_label_value)]
AnnotationText = Annotated[str, AfterValidator(_template_free)]
LabelMap = dict[LabelName, LabelValue]
AnnotationMap = dict[LabelName, AnnotationText]


# --- numbers and durations ---------------------------------------------------------------------------


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise _error("bool_for_number", "{value} is a boolean, not a number", value=str(value).lower())
    return value


NoBool = BeforeValidator(_no_bool)
"""For `Literal[1, 2]` fields, which pydantic matches with True == 1 even in strict mode."""


MIN_ERROR_BUDGET = Decimal("0.000001")
"""The smallest error budget (1 - objective/100) supported: six nines, objective 99.9999."""
OBJECTIVE_DECIMALS = 4
"""Decimal places an objective may have: the rules print it with 6 significant digits (`99.9999`)."""


def objective_precision_problem(value: float) -> str | None:
    """Why the rules could not carry this objective exactly, or None.

    The generated rules write numbers rounded to 12 decimal places and print the objective with 6
    significant digits, and their tests count whole events at 10^6 a minute: an error budget below 1e-06
    is rounded away (99.99999999999 gave `vector(0.0)`, so every single error paged).
    """
    written = Decimal(repr(float(value)))  # the shortest decimal reading back as this float: as written
    budget = (100 - written) / 100
    if budget < MIN_ERROR_BUDGET:
        return (
            f"objective {value!r} leaves an error budget of {budget:.3g} (1 - objective/100), too small to "
            "carry: Watchkeeper supports objectives up to six nines (99.9999, a budget of 1e-06); the rules "
            "round smaller budgets, to 0 at worst, and then every single error pages"
        )
    exponent = written.as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if decimals > OBJECTIVE_DECIMALS:
        return (
            f"objective {value!r} has {decimals} decimal places, but at most {OBJECTIVE_DECIMALS} decimal places "
            f"are supported (the rules show 6 significant digits): write {round(value, OBJECTIVE_DECIMALS)!r}"
        )
    return None


def bounded(low: str | None, high: str, what: str) -> AfterValidator:
    """A validator keeping a Duration within [low, high] (documented in docs/catalog.md "Limits")."""
    low_d = Duration.parse(low) if low else None
    high_d = Duration.parse(high)

    def check(value: Duration) -> Duration:
        if value > high_d:
            raise _error(
                "duration_range", "{value} is longer than {high}: {what} is at most {high}", value=str(value),
                high=high, what=what,
            )  # fmt: skip
        if low_d is not None and value < low_d:
            raise _error(
                "duration_range", "{value} is shorter than {low}: {what} is at least {low}", value=str(value),
                low=low, what=what,
            )  # fmt: skip
        return value

    return AfterValidator(check)


def _whole_minutes(value: Duration) -> Duration:
    if value.ms % 60_000:
        rounded = Duration(-(-value.ms // 60_000) * 60_000)
        raise _error(
            "duration_minutes",
            "{value} is not a whole number of minutes: Prometheus checks an alert's for once per rule "
            "evaluation (every 1m, as in the generated tests), so it acts as {rounded}; write {rounded}",
            value=str(value),
            rounded=str(rounded),
        )
    return value


AlertFor = Annotated[Duration, bounded(None, "1d", "an alert's for"), AfterValidator(_whole_minutes)]
PollInterval = Annotated[Duration, bounded("1s", "1h", "poll_interval")]
ProbeInterval = Annotated[Duration, bounded("1s", "1h", "an inference probe's interval")]
Lookback = Annotated[Duration, bounded(None, "30d", "lookback")]
Schedule = Annotated[Duration, bounded("1m", "7d", "a drift schedule")]
Cooldown = Annotated[Duration, bounded(None, "30d", "a retrain cooldown")]
MaxAge = Annotated[Duration, bounded(None, "366d", "max_age")]
LatencyTarget = Annotated[Duration, bounded(None, "1h", "latency_target")]


# --- PromQL ----------------------------------------------------------------------------------------


def normalize_window_placeholder(query: str) -> str:
    """Accept Sloth's `{{.window}}` and spaced forms; store the canonical `{{window}}`."""
    return _PLACEHOLDER_RE.sub(WINDOW_PLACEHOLDER, query.strip())


def _promql_template(value: str) -> str:
    query = normalize_window_placeholder(value)
    if WINDOW_PLACEHOLDER not in query:
        raise _error(
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
                raise _error("promql_syntax", "unbalanced {char} in query", char=char)
    if any(depth.values()):
        raise _error("promql_syntax", "query has unclosed brackets; check ( [ { pairs")
    from catalog.promql_check import sli_query_error  # its parser loads on first use, not at import

    problem = sli_query_error(query.replace(WINDOW_PLACEHOLDER, "5m"))
    if problem is not None:
        raise _error("promql_syntax", "{query} is not valid PromQL: {problem}", query=query, problem=problem)
    return query


PromQLTemplate = Annotated[str, AfterValidator(_promql_template)]
"""A PromQL expression with a `{{window}}` range placeholder."""


def _metric_name(value: str) -> str:
    if not _METRIC_RE.fullmatch(value):
        raise _error(
            "metric_name",
            "{value} is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)",
            value=repr(value),
        )
    return value


MetricName = Annotated[str, AfterValidator(_metric_name)]

_MATCHER_RE = re.compile(r'\{\s*(?:[a-zA-Z_][a-zA-Z0-9_]*\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*,?\s*)*\}')


def _selector(value: str) -> str:
    value = value.strip() or "{}"
    problem = None
    if _MATCHER_RE.fullmatch(value):
        from catalog.promql_check import sli_query_error

        problem = sli_query_error(f"x{value}") if value != "{}" else None
        if problem is None:
            return value
    raise _error(
        "selector",
        '{value} is not a label selector{problem}; write it like {job="model", code!~"5.."}',
        value=repr(value),
        problem=f" ({problem.split(';')[0]})" if problem else "",
    )


Selector = Annotated[str, AfterValidator(_selector)]
