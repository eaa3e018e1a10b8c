"""Import OpenSLO `SLO` documents (openslo/v1alpha and openslo/v1) with their Service and SLI kinds."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from catalog.durations import WINDOW_HELP, Window
from catalog.fields import normalize_window_placeholder
from catalog.importers.common import ImportResult, SpecImportError, read_documents, slug

VERSIONS = ("openslo/v1alpha", "openslo/v1")
_PLACEHOLDER = re.compile(r"\{\{\s*\.?window\s*\}\}")
_SELECTOR = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})?$")
_V1ALPHA_UNITS = {"day": 1, "week": 7}
_CALENDAR_UNITS = {
    "week": "week",
    "month": "month",
    "quarter": "quarter",
    "w": "week",
    "M": "month",
    "Q": "quarter",
}
_OPS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def import_openslo(path: Path, team: str | None = None) -> ImportResult:
    """Convert every OpenSLO SLO in a file; Service and SLI documents are used for references."""
    docs = read_documents(path)
    result = ImportResult()
    indicators: dict[str, dict[str, Any]] = {}
    slos: list[tuple[str, dict[str, Any]]] = []
    for index, doc in enumerate(docs):
        where = f"{path} (document {index + 1})"
        version = doc.get("apiVersion")
        if version not in VERSIONS:
            raise SpecImportError(
                f"{where}: unsupported apiVersion {version!r}; expected one of {', '.join(VERSIONS)}"
            )
        kind = doc.get("kind")
        name = str((doc.get("metadata") or {}).get("name", ""))
        if kind == "SLI":
            indicators[name] = doc
        elif kind == "SLO":
            slos.append((where, doc))
        elif kind == "Service":
            result.add_service(slug(name), slug(team or name))
        else:
            result.notes.append(f"{where}: {kind} documents are not imported")
    if not slos:
        raise SpecImportError(f"{path}: no OpenSLO document of kind SLO found")
    for where, doc in slos:
        _convert(doc, str(doc["apiVersion"]), indicators, result, where, team)
    return result


def _convert(
    doc: dict[str, Any],
    version: str,
    indicators: dict[str, dict[str, Any]],
    result: ImportResult,
    where: str,
    team: str | None,
) -> None:
    spec = doc.get("spec") or {}
    name = slug(str((doc.get("metadata") or {}).get("name", "")))
    service = slug(str(spec.get("service") or name))
    result.add_service(service, slug(team or service))
    window = _window(spec, version, result, where)
    method = spec.get("budgetingMethod", "Occurrences")
    if method != "Occurrences":
        result.notes.append(
            f"{where}: budgetingMethod {method} imported as Occurrences (Watchkeeper budgets by events); "
            "check the objective still means what you intend"
        )
    objectives = spec.get("objectives") or []
    if not objectives:
        raise SpecImportError(f"{where}: SLO {name!r} has no objectives")
    indicator = _indicator(spec, version, indicators, where)
    for index, objective in enumerate(objectives):
        suffix = "" if len(objectives) == 1 else "-" + slug(str(objective.get("displayName") or index + 1))
        slo: dict[str, Any] = {
            "name": slug(f"{name}{suffix}"),
            "service": service,
            "objective": _objective(objective, where),
            "window": window,
        }
        if spec.get("description"):
            slo["description"] = str(spec["description"])
        slo["sli"] = _sli(objective if version == "openslo/v1alpha" else indicator, objective, result, where)
        result.slos.append(slo)


def _window(spec: dict[str, Any], version: str, result: ImportResult, where: str) -> str:
    windows = spec.get("timeWindows" if version == "openslo/v1alpha" else "timeWindow") or []
    if not windows:
        return "30d"
    window = windows[0]
    rolling = window.get("isRolling", True)
    if version == "openslo/v1alpha":
        count, unit = int(window.get("count", 30)), str(window.get("unit", "Day")).lower()
        if not rolling or unit not in _V1ALPHA_UNITS:
            return _calendar(unit, result, where)
        return _rolling(count * _V1ALPHA_UNITS[unit], f"{count} {unit}", where)
    match = re.fullmatch(r"(\d+)([a-zA-Z])", str(window.get("duration", "30d")))
    if not match:
        raise SpecImportError(
            f"{where}: timeWindow duration {window.get('duration')!r} is not like 28d or 2w"
        )
    count, unit = int(match.group(1)), match.group(2)
    if not rolling:
        if unit == "m":
            result.notes.append(
                f"{where}: calendar duration '{count}m' read as one month (OpenSLO writes month as M)"
            )
            unit = "M"
        return _calendar(unit, result, where)
    days = {"d": 1, "w": 7}.get(unit)
    if days is None:
        raise SpecImportError(
            f"{where}: rolling window {window.get('duration')!r} must be in days (d) or weeks (w)"
        )
    return _rolling(count * days, str(window.get("duration")), where)


def _rolling(days: int, written: str, where: str) -> str:
    """A rolling window of `days` in the closed list of supported windows, or a clear error."""
    try:
        return str(Window.parse(f"{days}d"))
    except ValueError:
        raise SpecImportError(
            f"{where}: rolling timeWindow {written!r} ({days} days) is not supported: {WINDOW_HELP}. "
            "Change the spec's timeWindow and import again"
        ) from None


def _calendar(unit: str, result: ImportResult, where: str) -> str:
    name = _CALENDAR_UNITS.get(unit) or _CALENDAR_UNITS.get(unit.lower())
    if name is None:
        raise SpecImportError(f"{where}: calendar window unit {unit!r} is not a week, month or quarter")
    result.notes.append(
        f"{where}: calendar window imported as {name!r}; calendar start and time zone are UTC"
    )
    return name


def _objective(objective: dict[str, Any], where: str) -> float:
    if "targetPercent" in objective:
        return float(objective["targetPercent"])
    if "target" in objective:
        return round(float(objective["target"]) * 100, 6)
    raise SpecImportError(f"{where}: objective has no target or targetPercent")


def _indicator(
    spec: dict[str, Any], version: str, indicators: dict[str, dict[str, Any]], where: str
) -> dict[str, Any]:
    if version == "openslo/v1alpha":
        return {}
    if "indicator" in spec:
        return dict((spec["indicator"] or {}).get("spec") or {})
    ref = spec.get("indicatorRef")
    if ref is None:
        raise SpecImportError(f"{where}: SLO has neither indicator nor indicatorRef")
    if ref not in indicators:
        raise SpecImportError(f"{where}: indicatorRef {ref!r} names no SLI document in this file")
    return dict(indicators[ref].get("spec") or {})


def _query(metric: dict[str, Any], where: str, counter: bool | None) -> str:
    """The PromQL of one OpenSLO metric, with a {{window}} range."""
    query = metric.get("query")
    if query is None:
        query = ((metric.get("metricSource") or {}).get("spec") or {}).get("query")
    if not isinstance(query, str) or not query.strip():
        raise SpecImportError(f"{where}: metric has no query")
    query = query.strip()
    if _PLACEHOLDER.search(query):
        return normalize_window_placeholder(query)
    if counter is not False and _SELECTOR.match(query):
        return f"sum(rate({query}[{{{{window}}}}]))"
    raise SpecImportError(
        f"{where}: query {query!r} has no {{{{window}}}} range and is not a plain counter selector; "
        "rewrite it with a [{{window}}] range"
    )


def _sli(
    source: dict[str, Any], objective: dict[str, Any], result: ImportResult, where: str
) -> dict[str, Any]:
    ratio = source.get("ratioMetrics") or source.get("ratioMetric")
    if ratio:
        counter = ratio.get("counter")
        total = _query(ratio.get("total") or {}, where, counter)
        if "good" in ratio:
            return {"events": {"good": _query(ratio["good"], where, counter), "total": total}}
        if "bad" in ratio:
            return {"events": {"errors": _query(ratio["bad"], where, counter), "total": total}}
        raise SpecImportError(f"{where}: ratio metric has neither good nor bad")
    threshold = source.get("thresholdMetric")
    if threshold:
        op, value = objective.get("op"), objective.get("value")
        if op not in _OPS or value is None:
            raise SpecImportError(f"{where}: threshold objective needs op (lt, lte, gt, gte) and value")
        raw = ((threshold.get("metricSource") or {}).get("spec") or {}).get("query") or threshold.get("query")
        if not isinstance(raw, str):
            raise SpecImportError(f"{where}: threshold metric has no query")
        result.notes.append(
            f"{where}: threshold SLI imported as the share of 1m samples where query {op} {value}"
        )
        good = f"({raw.strip()}) {_OPS[op]} bool {value}"
        return {"raw": {"error_ratio": f"1 - avg_over_time(({good})[{{{{window}}}}:1m])"}}
    raise SpecImportError(f"{where}: SLO has no ratioMetric(s) or thresholdMetric")
