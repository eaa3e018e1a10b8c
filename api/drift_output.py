"""How `watchkeeper drift run` and `drift serve` show a run: its table, a one-line summary, the plan."""

from __future__ import annotations

from typing import TYPE_CHECKING

from api.drift_common import when

if TYPE_CHECKING:
    from rich.console import Console

    from drift.run import RunOutcome
    from drift.schedule import Plan


def print_table(outcome: RunOutcome, console: Console) -> None:
    """The run's columns: test, score, threshold, verdict; then its problems and what it did."""
    from rich.markup import escape
    from rich.table import Table

    result = outcome.result
    if result is None:
        console.print(
            f"[bold]{escape(outcome.monitor)}[/]: [red]no verdict[/]: {escape(outcome.error or '')}"
        )
        return
    verdict = "[red]DRIFT[/]" if result.dataset_drift else "[green]no drift[/]"
    title = (
        f"{outcome.monitor}: {result.drifted}/{len(result.columns)} columns drifted "
        f"(share {result.drift_share:.3f}, threshold {result.drift_share_threshold:g})"
    )
    table = Table(title=escape(title), title_justify="left")
    for name, justify in (
        ("column", "left"),
        ("test", "left"),
        ("score", "right"),
        ("threshold", "right"),
        ("verdict", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for c in result.columns:
        score = "-" if c.score is None else f"{c.score:.6g}"
        shown = (
            f"[yellow]problem[/]: {escape(c.problem)}"
            if c.problem
            else ("[red]drift[/]" if c.drift else "ok")
        )
        threshold = "-" if c.problem else f"{c.threshold:g}"  # an untested column has no threshold
        table.add_row(escape(c.column), escape(c.stattest), score, threshold, shown)
    console.print(table)
    console.print(
        f"dataset: {verdict} ({result.engine} engine, {result.reference_rows} reference / "
        f"{result.current_rows} current rows, {outcome.duration:.2f} s)"
    )
    for problem in outcome.problems:
        console.print(f"[yellow]problem:[/] {escape(problem)}")
    for note in outcome.notes:
        console.print(f"note: {escape(note)}")
    for key in ("publish_error", "report_error", "trigger_error"):
        if getattr(outcome, key):
            console.print(f"[red]error:[/] {escape(getattr(outcome, key))}")
    if outcome.published:
        console.print(f"pushed {escape(outcome.published)}")
    if outcome.report:
        console.print(f"report {escape(str(outcome.report))}")
    if outcome.trigger:
        console.print(f"retraining: {escape(outcome.trigger)}")


def summary(outcome: RunOutcome) -> str:
    """One line per run, for `serve`'s log."""
    if outcome.error:
        text = f"no verdict: {outcome.error}"
        for extra in (outcome.publish_error, outcome.trigger_error):
            if extra:
                text += f"; {extra}"
        return text
    assert outcome.result is not None
    text = "DRIFT" if outcome.result.dataset_drift else "no drift"
    text += f" ({outcome.result.drifted}/{len(outcome.result.columns)} columns, {outcome.duration:.1f} s)"
    if outcome.problems:
        text += f"; {len(outcome.problems)} problem(s): {outcome.problems[0]}"
    for extra in (outcome.publish_error, outcome.report_error, outcome.trigger, outcome.trigger_error):
        if extra:
            text += f"; {extra}"
    return text


def show_plan(console: Console, plan: Plan, last: dict[str, str]) -> None:
    """The next run of every monitor, with its last run's summary."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="next drift runs", title_justify="left")
    for name in ("monitor", "next run (UTC)", "every", "last run"):
        table.add_column(name)
    for name, at in plan.upcoming():
        table.add_row(escape(name), when(at), f"{plan.schedules[name]:g}s", escape(last.get(name, "-")))
    console.print(table)
