"""YARN applications from `/ws/v1/cluster/apps`: failed and killed ones per queue, the longest-running ones.

Pure functions over the RM's answers; `exporters/yarn.py` asks for them and writes the series.
"""

from __future__ import annotations

from typing import Any

from exporters.errors import ScrapeError
from exporters.metric_set import number

APPS_PATH = "/ws/v1/cluster/apps"
APPS_LIMIT = 10_000
"""The RM's `limit` on each applications query; reaching it is reported (counts may be incomplete)."""
ENDED_STATES = ("failed", "killed")
OTHER_QUEUE = "(other)"
"""Where the ended-application counts of queues past `max_queues` are summed."""


def _millis(value: object) -> float | None:
    """A JSON number of milliseconds as the RM writes it; None for text, a boolean, NaN or nothing."""
    return number(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def queue_paths(paths: list[str]) -> dict[str, str]:
    """Full queue path by the names an application may report: the path itself, and a leaf name when only
    one queue has it (the capacity scheduler reports `a1` for `root.a.a1`; the fair scheduler full paths)."""
    leaves: dict[str, list[str]] = {}
    for path in paths:
        leaves.setdefault(path.rsplit(".", 1)[-1], []).append(path)
    found = {leaf: full[0] for leaf, full in leaves.items() if len(full) == 1}
    return {**found, **{path: path for path in paths}}


def app_list(payload: Any, url: str) -> list[dict[str, Any]]:
    """The applications of an answer: `{"apps": null}` (or `{}`) when there are none, and a lone
    application may come as an object rather than a one-item list."""
    if not isinstance(payload, dict) or "apps" not in payload:
        raise ScrapeError("parse", f"{url}{APPS_PATH}: no apps object")
    apps = payload["apps"]
    if apps is None or apps == {}:
        return []
    found = apps.get("app") if isinstance(apps, dict) else None
    if isinstance(found, dict):
        found = [found]
    if not isinstance(found, list) or not all(isinstance(app, dict) for app in found):
        raise ScrapeError("parse", f"{url}{APPS_PATH}: apps.app is not a list of objects")
    return found


def ended_by_queue(
    payload: Any, url: str, paths: list[str], since_ms: int, max_queues: int
) -> tuple[dict[tuple[str, str], int], int, int, int]:
    """((queue, state) → applications that ended failed or killed since `since_ms`, queues folded, most
    listed by one query, unreadable). Every queue the scheduler lists is there, at 0 when none ended; past `max_queues` (those
    with the fewest ended first) the counts are summed into `queue="(other)"`."""
    apps = app_list(payload, url)
    listed = payload.get("listed", len(apps)) if isinstance(payload, dict) else len(apps)
    full = queue_paths(paths)
    counts: dict[str, dict[str, int]] = {path: dict.fromkeys(ENDED_STATES, 0) for path in paths}
    bad = 0
    for app in apps:
        state, queue, finished = ended_state(app), app.get("queue"), _millis(app.get("finishedTime"))
        if state not in ENDED_STATES:
            continue  # not asked for: the RM filters by state; this guards against one that does not
        if not isinstance(queue, str) or not queue or finished is None:
            bad += 1
            continue
        if finished < since_ms:
            continue  # ended before the window (an RM that ignores finishedTimeBegin)
        counts.setdefault(full.get(queue, queue), dict.fromkeys(ENDED_STATES, 0))[state] += 1
    ranked = sorted(counts, key=lambda q: (-sum(counts[q].values()), q))
    kept, folded = ranked[:max_queues], ranked[max_queues:]
    if folded:
        kept.append(OTHER_QUEUE)
        counts[OTHER_QUEUE] = {s: sum(counts[q][s] for q in folded) for s in ENDED_STATES}
    out = {(queue, state): counts[queue][state] for queue in kept for state in ENDED_STATES}
    return out, len(folded), listed, bad


def ended_state(app: dict[str, Any]) -> str:
    """`failed` for state FAILED or FINISHED with final status FAILED, `killed` for KILLED, else the state."""
    state, final = str(app.get("state", "")).lower(), str(app.get("finalStatus", "")).lower()
    return "failed" if state == "finished" and final == "failed" else state


def longest_running(
    payload: Any, url: str, paths: list[str], limit: int
) -> tuple[list[tuple[str, str, str, str, float]], int, int]:
    """([(queue, app id, name, user, elapsed seconds)] of the `limit` RUNNING applications that have run
    longest, longest first (ties by id), listed, unreadable)."""
    apps = app_list(payload, url)
    full = queue_paths(paths)
    rows: list[tuple[float, str, dict[str, Any]]] = []
    bad = 0
    for app in apps:
        if str(app.get("state", "")).upper() != "RUNNING":
            continue
        elapsed, app_id, queue = _millis(app.get("elapsedTime")), app.get("id"), app.get("queue")
        if elapsed is None or not isinstance(app_id, str):
            bad += 1
            continue
        if not isinstance(queue, str) or not queue:
            bad += 1
            continue
        rows.append((elapsed, app_id, app))
    rows = list({row[1]: row for row in reversed(rows)}.values())  # an id listed twice: the first listing
    rows.sort(key=lambda row: (-row[0], row[1]))
    return (
        [
            (
                full.get(app["queue"], app["queue"]),
                app_id,
                str(app.get("name", "")),
                str(app.get("user", "")),
                ms / 1000,
            )
            for ms, app_id, app in rows[:limit]
        ],
        len(apps),
        bad,
    )


def apps_errors(url: str, states: str, listed: int, bad: int) -> list[ScrapeError]:
    """Entries that could not be read, and an answer cut at the RM's limit; the readable rest still count."""
    errors = []
    if bad:
        errors.append(
            ScrapeError(
                "parse",
                f"{url}{APPS_PATH}?states={states}: {bad} of {listed} applications lack a queue, an id, "
                "finishedTime or elapsedTime, or have one of the wrong type; they are not counted",
            )
        )
    if listed >= APPS_LIMIT:
        errors.append(
            ScrapeError(
                "too_large",
                f"{url}{APPS_PATH}?states={states}: {listed} applications, the limit asked for; counts may be "
                "incomplete (shorten applications_window)",
            )
        )
    return errors
