"""Import Sloth specs: `prometheus/v1` and Kubernetes `PrometheusServiceLevel` (sloth.slok.dev/v1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from catalog.durations import Window
from catalog.fields import camel, normalize_window_placeholder
from catalog.importers.common import ImportResult, SpecImportError, read_documents, slug, split_labels

SUPPORTED = "version: prometheus/v1, or apiVersion: sloth.slok.dev/v1 with kind: PrometheusServiceLevel"
# Sloth's examples use the tier label as a number: 1 is the most important.
TIER_LABELS = {"0": "critical", "1": "critical", "2": "high", "3": "medium", "4": "low"}


def import_sloth(path: Path, team: str | None = None, window: str = "30d") -> ImportResult:
    """Convert every document of a Sloth file into catalog teams, services and SLOs.

    Sloth specs carry no period (it is `sloth generate --default-slo-period`, 30d unless set); `window`
    must be one of the supported windows, as Sloth itself only knows periods it has a window file for."""
    try:
        window = str(Window.parse(window))
    except ValueError as exc:
        raise SpecImportError(f"{path}: SLO period {window!r}: {exc}") from None
    result = ImportResult()
    for index, doc in enumerate(read_documents(path)):
        where = f"{path}" + (f" (document {index + 1})" if index else "")
        spec = _spec_of(doc, where)
        _convert_spec(spec, result, where, team, window)
    return result


def _spec_of(doc: dict[str, Any], where: str) -> dict[str, Any]:
    if "apiVersion" in doc:
        if doc.get("apiVersion") != "sloth.slok.dev/v1" or doc.get("kind") != "PrometheusServiceLevel":
            raise SpecImportError(
                f"{where}: unsupported Sloth Kubernetes object {doc.get('apiVersion')}/{doc.get('kind')}; "
                f"expected {SUPPORTED}"
            )
        spec = doc.get("spec")
        if not isinstance(spec, dict):
            raise SpecImportError(f"{where}: PrometheusServiceLevel has no spec mapping")
        return spec
    version = doc.get("version")
    if version != "prometheus/v1":
        raise SpecImportError(
            f"{where}: unsupported Sloth spec version {version!r}; expected {SUPPORTED}. "
            "Upgrade the spec to prometheus/v1 first"
        )
    return doc


def _query(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SpecImportError(f"{where} is missing or empty")
    return normalize_window_placeholder(value)


def _check_plugins(plugins: Any, result: ImportResult, label: str) -> None:
    """Accept chains of Sloth's core plugins (its default generation) and validators; refuse the rest."""
    if not plugins:
        return
    chain = plugins.get("chain", []) if isinstance(plugins, dict) else []
    ids = [str(p.get("id", "")) for p in chain if isinstance(p, dict)]
    foreign = [i for i in ids if not (i.startswith("sloth.dev/core/") or "/validate_" in i)]
    if foreign:
        raise SpecImportError(
            f"{label} uses the Sloth SLO plugin(s) {', '.join(foreign)}, which change the generated rules inside "
            "Sloth and cannot be converted; remove them from the plugin chain and import again"
        )
    result.notes.append(
        f"{label}: plugin chain {', '.join(ids)} is Sloth's default generation; not needed here"
    )
    if any("victoria_metrics" in i for i in ids):
        result.notes.append(
            f"{label}: queries are VictoriaMetrics MetricsQL; Prometheus cannot evaluate functions such as "
            "histogram_share, so rewrite them before generating Prometheus rules"
        )


def _get(data: dict[str, Any], snake: str) -> Any:
    """Read a key in either Sloth spelling (error_query or errorQuery)."""
    if snake in data:
        return data[snake]
    head, *rest = snake.split("_")
    return data.get(head + "".join(p.capitalize() for p in rest))


def _convert_spec(
    spec: dict[str, Any], result: ImportResult, where: str, team: str | None, window: str
) -> None:
    service = spec.get("service")
    if not isinstance(service, str) or not service:
        raise SpecImportError(f"{where}: spec has no service")
    _check_plugins(spec.get("slo_plugins") or spec.get("sloPlugins"), result, f"{where}: service {service!r}")
    labels = dict(spec.get("labels") or {})
    owner_key = next((k for k in ("owner", "team") if labels.get(k)), None)
    owner = team or (str(labels[owner_key]) if owner_key else service)
    tier = TIER_LABELS.get(str(labels.get("tier", "")), "medium")
    result.add_service(slug(service), slug(owner), tier)
    mapped: dict[str, str] = {}
    if str(labels.get("tier", "")) in TIER_LABELS:
        mapped["tier"] = f"is the service's tier: {tier}"
    elif "tier" in labels:
        mapped["tier"] = (
            f"dropped: Sloth tiers are 0 to 4 ({', '.join(f'{k}={v}' for k, v in TIER_LABELS.items())}); "
            "the service's tier is medium, set it in the catalog"
        )
    if owner_key and team is None:
        mapped[owner_key] = f"is the service's team: {slug(owner)}"
    common = split_labels(labels, result, f"service {service}", mapped)
    slos = spec.get("slos")
    if not isinstance(slos, list) or not slos:
        raise SpecImportError(f"{where}: service {service!r} has no slos")
    for slo in slos:
        result.slos.append(_convert_slo(slo, slug(service), common, result, where, window))


def _convert_slo(
    slo: dict[str, Any], service: str, common: dict[str, str], result: ImportResult, where: str, window: str
) -> dict[str, Any]:
    name = str(slo.get("name", ""))
    label = f"{where}: SLO {name!r}"
    _check_plugins(slo.get("plugins"), result, label)
    sli = slo.get("sli") or {}
    if "plugin" in sli:
        plugin_id = (sli.get("plugin") or {}).get("id", "?")
        raise SpecImportError(
            f"{label} uses the Sloth SLI plugin {plugin_id!r}; plugins are Go code inside Sloth and cannot be "
            "converted. Rewrite the SLI as events (error_query/total_query) or raw (error_ratio_query)"
        )
    converted: dict[str, Any] = {
        "name": slug(f"{service}-{name}"),
        "service": service,
        "objective": slo.get("objective"),
        "window": window,
    }
    if slo.get("description"):
        converted["description"] = str(slo["description"])
    if "events" in sli:
        events = sli["events"] or {}
        converted["sli"] = {
            "events": {
                "errors": _query(_get(events, "error_query"), f"{label}: events.error_query"),
                "total": _query(_get(events, "total_query"), f"{label}: events.total_query"),
            }
        }
    elif "raw" in sli:
        raw = _get(sli["raw"] or {}, "error_ratio_query")
        converted["sli"] = {"raw": {"error_ratio": _query(raw, f"{label}: raw.error_ratio_query")}}
    else:
        raise SpecImportError(f"{label} has no events, raw or plugin SLI")
    labels = {**common, **split_labels(slo.get("labels") or {}, result, f"SLO {name}")}
    if labels:
        converted["labels"] = labels
    alerting = _convert_alerting(slo.get("alerting") or {}, result, label)
    if alerting:
        converted["alerting"] = alerting
    return converted


def _convert_alerting(alerting: dict[str, Any], result: ImportResult, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in alerting:
        if not str(alerting["name"] or "").strip():
            raise SpecImportError(f"{where}: alerting.name is empty; give the alert a name or remove the key")
        out["name"] = camel(str(alerting["name"]))
    labels = split_labels(alerting.get("labels") or {}, result, where)
    if labels:
        out["labels"] = labels
    if alerting.get("annotations"):
        out["annotations"] = {str(k): str(v) for k, v in alerting["annotations"].items()}
    for sloth_key, ours in (("page_alert", "page"), ("ticket_alert", "ticket")):
        spec = _get(alerting, sloth_key) or {}
        if spec.get("disable"):
            out[ours] = False
            continue
        alert: dict[str, Any] = {}
        alert_labels = split_labels(spec.get("labels") or {}, result, f"{where} {ours} alert")
        if alert_labels:
            alert["labels"] = alert_labels
        if spec.get("annotations"):
            alert["annotations"] = {str(k): str(v) for k, v in spec["annotations"].items()}
        if alert:
            out[ours] = alert
    return out
