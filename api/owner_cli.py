"""`watchkeeper owner`: who owns a team, service, SLO, source, consumer group, topic, queue, Spark application
or an alert (its labels as JSON on stdin). Exit 0 when found, 1 when nothing matches, 2 on bad input."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from catalog.claims import Claim, ClaimKind
    from catalog.model import Catalog
    from catalog.model.services import Service
    from catalog.model.teams import Team

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE = 0, 1, 2
MAX_STDIN = 1_000_000
"""The most stdin read for an alert's labels (a webhook payload is a few kilobytes)."""
KINDS = ("team", "service", "slo", "source", "group", "topic", "queue", "app")
CLAIM_KIND: dict[str, ClaimKind] = {
    "group": "kafka_group",
    "topic": "kafka_topic",
    "queue": "yarn_queue",
    "app": "spark_app",
}


class OwnerError(Exception):
    """A question that cannot be answered: the message says why and what to do; `code` is the exit code."""

    def __init__(self, message: str, code: int = EXIT_NOT_FOUND) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Answer:
    """What the question matched, and who owns it."""

    matched: str
    """The kind and name matched, e.g. `kafka group orders-etl on prod`."""
    team: Team
    service: Service | None
    claim: Claim | None

    def as_dict(self) -> dict[str, Any]:
        svc = self.service
        claim = self.claim
        return {
            "matched": self.matched,
            "team": self.team.name,
            "owners": list(self.team.owners),
            "channels": channels(self.team),
            "service": svc.name if svc else None,
            "tier": svc.tier.value if svc else None,
            "runbook": svc.runbook if svc else None,
            "claim": (
                {
                    "kind": claim.kind,
                    "source": claim.source,
                    "pattern": claim.pattern,
                    "service": claim.service,
                }
                if claim
                else None
            ),
        }


def channels(team: Team) -> dict[str, str]:
    """Where the team's alerts go, by channel kind (secrets are references, never values)."""
    ch = team.channels
    out: dict[str, str] = {}
    if ch.pagerduty is not None:
        out["pagerduty"] = f"routing key from {ch.pagerduty.routing_key_env or ch.pagerduty.routing_key_file}"
    if ch.slack is not None:
        out["slack"] = ch.slack.channel
    if ch.email is not None:
        out["email"] = ", ".join(ch.email.to)
    if ch.webhook is not None:
        out["webhook"] = ch.webhook.url
    return out


def _of_service(catalog: Catalog, matched: str, service: str, claim: Claim | None = None) -> Answer:
    svc = catalog.service(service)
    return Answer(matched, catalog.team(svc.team), svc, claim)


_SOURCE_SECTIONS = ("hdfs", "yarn", "spark", "kafka", "freshness", "inference")
_QUEUE_PATH = re.compile(r"root(\.[^.\s]+)*")
_CLAIM_SECTION = {"kafka_group": "kafka", "kafka_topic": "kafka", "yarn_queue": "yarn", "spark_app": "spark"}
_KIND_WORDS = {
    "kafka_group": "kafka group",
    "kafka_topic": "kafka topic",
    "yarn_queue": "yarn queue",
    "spark_app": "spark application",
}


def part_owner(catalog: Catalog, kind: ClaimKind, name: str, source: str | None = None) -> list[Answer]:
    """The owner of a part on every source of its kind (or on `source`): the winning claim's service, or
    the source's own service when nobody claims it."""
    from catalog.claims import ClaimIndex

    index = ClaimIndex.of(catalog)
    sources = list(getattr(catalog.sources, _CLAIM_SECTION[kind]))
    if source is not None:
        sources = [s for s in sources if s.name == source]
        if not sources:
            known = ", ".join(s.name for s in getattr(catalog.sources, _CLAIM_SECTION[kind])) or "none"
            raise OwnerError(
                f"unknown {_CLAIM_SECTION[kind]} source {source!r}: the catalog defines none of that name "
                f"(defined: {known})"
            )
    if kind == "yarn_queue" and not _QUEUE_PATH.fullmatch(name):
        raise OwnerError(
            f"{name!r} is not a YARN queue path: write it from root with '.' between levels, e.g. "
            f"root.{name.strip('.') or 'analytics'}",
            EXIT_USAGE,
        )
    out = []
    for src in sources:
        claim = index.resolve(kind, src.name, name)
        matched = f"{_KIND_WORDS[kind]} {name} on {src.name}"
        out.append(_of_service(catalog, matched, claim.service if claim else src.service, claim))
    return out


def lookup(catalog: Catalog, name: str, kind: str | None = None, source: str | None = None) -> list[Answer]:
    """Every answer for `name`: of the given kind, or (without one) every team, service, SLO, source of that
    name and every claim covering it. OwnerError when nothing matches."""
    from catalog.claims import ClaimIndex

    if kind is not None and kind not in KINDS:
        raise OwnerError(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}", EXIT_USAGE)
    if source is not None and kind not in CLAIM_KIND:
        known = sorted({s.name for sec in _SOURCE_SECTIONS for s in getattr(catalog.sources, sec)})
        if source not in known:
            raise OwnerError(
                f"unknown source {source!r}: --source names a source of the catalog "
                f"(defined: {', '.join(known) or 'none'})"
            )
    if kind in CLAIM_KIND:
        answers = part_owner(catalog, CLAIM_KIND[kind], name, source)
        if not answers:
            raise OwnerError(f"the catalog has no {_CLAIM_SECTION[CLAIM_KIND[kind]]} source to own {name!r}")
        return answers
    out: list[Answer] = []
    if kind in (None, "team"):
        out += [Answer(f"team {t.name}", t, None, None) for t in catalog.teams if t.name == name]
    if kind in (None, "service"):
        out += [_of_service(catalog, f"service {s.name}", s.name) for s in catalog.services if s.name == name]
    if kind in (None, "slo"):
        out += [_of_service(catalog, f"SLO {s.name}", s.service) for s in catalog.slos if s.name == name]
    if kind in (None, "source"):
        for section in _SOURCE_SECTIONS:
            for src in getattr(catalog.sources, section):
                if src.name == name and (source is None or source == name):
                    out.append(_of_service(catalog, f"{section} source {src.name}", src.service))
    if kind is None:
        index = ClaimIndex.of(catalog)
        for claim_kind, src_name in index.sources():
            if source is not None and src_name != source:
                continue
            won = index.resolve(claim_kind, src_name, name)
            if won is not None:
                matched = f"{_KIND_WORDS[claim_kind]} {name} on {src_name}"
                out.append(_of_service(catalog, matched, won.service, won))
    if not out:
        what = kind or "team, service, SLO, source or claimed group, topic, queue or application"
        raise OwnerError(
            f"no {what} named {name!r} in the catalog; check the spelling, or give --kind group/topic/queue/app "
            "to ask who owns an unclaimed part of a shared source"
        )
    return out


_PART_LABELS: tuple[tuple[str, ClaimKind, str], ...] = (
    ("group", "kafka_group", "cluster"),
    ("topic", "kafka_topic", "cluster"),
    ("queue", "yarn_queue", "source"),
    ("app_name", "spark_app", "source"),
)


def alert_owner(catalog: Catalog, labels: dict[str, str]) -> list[Answer]:
    """The owner of an alert from its labels: its parts (group, topic, queue, app_name; every one it names)
    on their source when it has one, else its SLO, service, source or team, most specific first."""
    parts: list[Answer] = []
    for label, claim_kind, source_label in _PART_LABELS:
        if label not in labels:
            continue
        section = _CLAIM_SECTION[claim_kind]
        known = [s.name for s in getattr(catalog.sources, section)]
        if source_label not in labels:
            raise OwnerError(
                f"the alert has label {label}={labels[label]!r} but no {source_label} label: give "
                f"{source_label}, the {section} source it is on (defined: {', '.join(known) or 'none'})",
                EXIT_USAGE,
            )
        if labels[source_label] not in known:
            raise OwnerError(
                f"unknown {section} {source_label} {labels[source_label]!r} for {label} "
                f"{labels[label]!r}: the catalog defines {', '.join(known) or 'no ' + section + ' source'}"
            )
        parts += part_owner(catalog, claim_kind, labels[label], labels[source_label])
    if parts:
        return parts
    for label, kind in (("slo", "slo"), ("service", "service")):
        if label in labels:
            return lookup(catalog, labels[label], kind)
    if "source" in labels:
        return lookup(catalog, labels["source"], "source")
    if "team" in labels:
        return lookup(catalog, labels["team"], "team")
    raise OwnerError(
        "the alert's labels name no part, SLO, service, source or team of the catalog; give at least one "
        f"of group, topic, queue, app_name (with cluster or source), slo, service, source, team (got: "
        f"{', '.join(sorted(labels)) or 'none'})"
    )


def read_labels(text: str) -> dict[str, str]:
    """An alert's labels from JSON: a label map, an alert with `labels`, or a webhook payload's first alert."""
    import json

    if len(text) > MAX_STDIN:
        raise OwnerError(
            f"stdin holds more than {MAX_STDIN:,} characters; an alert's labels are far smaller: pipe one "
            "alert (or its labels)",
            EXIT_USAGE,
        )
    try:
        data = json.loads(text)
    except RecursionError:
        raise OwnerError(
            "stdin is not JSON this command reads (nested too deeply); give the alert's labels, e.g. "
            '{"cluster": "prod", "group": "orders-etl"}',
            EXIT_USAGE,
        ) from None
    except json.JSONDecodeError as exc:
        raise OwnerError(
            f"stdin is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); give the alert's "
            'labels, e.g. {"alertname": "WatchkeeperKafkaConsumerLagging", "cluster": "prod", "group": "orders-etl"}',
            EXIT_USAGE,
        ) from None
    if isinstance(data, dict) and isinstance(data.get("alerts"), list) and data["alerts"]:
        data = data["alerts"][0]
    if isinstance(data, dict) and isinstance(data.get("labels"), dict):
        data = data["labels"]
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise OwnerError(
            "stdin must hold a JSON object of label names to string values (or an alert with `labels`)",
            EXIT_USAGE,
        )
    return data


def render_text(answers: list[Answer]) -> str:
    lines: list[str] = []
    for answer in answers:
        d = answer.as_dict()
        lines.append(f"{d['matched']}")
        lines.append(f"  team:     {d['team']} (owners: {', '.join(d['owners'])})")
        chans = "; ".join(f"{k}: {v}" for k, v in d["channels"].items()) or "none (default receiver only)"
        lines.append(f"  channels: {chans}")
        if d["service"]:
            lines.append(f"  service:  {d['service']} ({d['tier']})")
            lines.append(f"  runbook:  {d['runbook'] or '-'}")
        claim = d["claim"]
        lines.append(
            f"  claim:    {claim['pattern']} ({claim['kind']} on {claim['source']})"
            if claim
            else "  claim:    none"
        )
    return "\n".join(lines)


CatalogArg = Annotated[
    Path, typer.Argument(exists=True, readable=True, help="A catalog YAML file or a directory of them.")
]


def owner(
    catalog: CatalogArg,
    name: Annotated[
        str | None,
        typer.Argument(help="What to look up; '-' (or none) reads an alert's labels as JSON on stdin."),
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help=f"Only this kind: {', '.join(KINDS)}.", show_default=False)
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Only this source (a Kafka cluster, YARN or Spark source).")
    ] = None,
    output: Annotated[str, typer.Option("--format", help="text, or json for machines.")] = "text",
) -> None:
    """Who owns this? Prints the team, its channels, the service, its runbook and the claim that matched."""
    import json

    from rich.console import Console
    from rich.markup import escape

    err = Console(stderr=True, highlight=False, emoji=False, soft_wrap=True)
    try:
        if output not in {"text", "json"}:
            raise OwnerError(f"--format must be text or json, not {output!r}", EXIT_USAGE)
        from catalog import CatalogError, load_catalog

        try:
            cat = load_catalog(catalog).catalog
        except CatalogError as exc:
            for problem in exc.problems[:20]:
                err.print(f"[bold red]error:[/] {escape(str(problem))}")
            raise OwnerError("the catalog is invalid; run `watchkeeper validate` and fix it first") from None
        if name is None and sys.stdin.isatty():
            raise OwnerError(
                "give a name to look up, or pipe an alert's labels as JSON (with '-')", EXIT_USAGE
            )
        if name is None or name == "-":
            answers = alert_owner(cat, read_labels(sys.stdin.read(MAX_STDIN + 1)))
        else:
            answers = lookup(cat, name, kind, source)
    except OwnerError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(exc.code) from None
    if output == "json":
        typer.echo(json.dumps([a.as_dict() for a in answers], indent=2))
    else:
        typer.echo(render_text(answers))
