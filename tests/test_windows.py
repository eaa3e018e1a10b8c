"""The closed list of SLO windows: each has a sound burn-rate table, anything else is refused at validate.

Expected factors come from Sloth's own generated rules (its integration test outputs for the 30d default,
28d, and the custom 7d windows file) and from hand computation, never from rules/windows.yaml.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from catalog.durations import Duration, Window
from rules.windows import alert_windows, sli_windows
from tests.conftest import FIXTURES, run_cli

SLOTH_OUT = FIXTURES / "slo_sloth" / "integration_testdata" / "testdata"
SUPPORTED = ["7d", "28d", "30d", "week", "month", "quarter"]
_CONDITION = re.compile(r"slo:sli_error:ratio_rate(\w+)\{[^}]*\} > \(([\d.]+) \*")


def _sloth_windows(name: str) -> list[tuple[str, str, str, float]]:
    """(severity, long, short, factor) of every burn-rate condition in one of Sloth's generated outputs."""
    rows = []
    text = re.sub(r"\{\{[^}]*\}\}", "templated", (SLOTH_OUT / name).read_text())  # Go template fields
    for group in yaml.safe_load(text)["groups"]:
        for rule in group["rules"]:
            if "alert" not in rule:
                continue
            found = _CONDITION.findall(rule["expr"])
            # Sloth writes each condition as (short window) and (long window), with the same factor.
            for (short, f1), (long, f2) in zip(found[::2], found[1::2], strict=True):
                assert f1 == f2
                rows.append((rule["labels"]["sloth_severity"], long, short, round(float(f1), 6)))
    return rows


@pytest.mark.parametrize(
    ("window", "sloth_output"),
    [
        ("30d", "out-base.yaml.tpl"),  # Sloth's default google-30d windows
        ("month", "out-base.yaml.tpl"),  # a calendar month alerts like a 30-day SLO
        ("quarter", "out-base.yaml.tpl"),  # a quarter too: the 30d burn rates (docs/rules.md says why)
        ("28d", "out-base-28d.yaml.tpl"),  # Sloth's google-28d windows
        ("7d", "out-base-custom-windows-7d.yaml.tpl"),  # Sloth's examples/windows/7d.yaml
        ("week", "out-base-custom-windows-7d.yaml.tpl"),
    ],
)
def test_each_supported_window_alerts_like_sloths_own_output(window: str, sloth_output: str) -> None:
    mine = [
        (w.severity, str(w.long), str(w.short), round(w.factor, 6))
        for w in alert_windows(Window.parse(window))
    ]
    assert mine == _sloth_windows(sloth_output)


@pytest.mark.parametrize(
    ("window", "factors"),
    [
        # factor = budget% x period / long window (SRE Workbook ch. 5), by hand:
        ("30d", [14.4, 6, 3, 1]),  # 2% x 720h / 1h, 5% x 720h / 6h, 10% x 720h / 24h, 10% x 720h / 72h
        ("28d", [13.44, 5.6, 2.8, 0.933333]),  # the same with 672h
        (
            "7d",
            [13.44, 3.5, 1.4, 0.98],
        ),  # 8% x 168h / 1h, 12.5% x 168h / 6h, 20% x 168h / 24h, 42% x 168h / 72h
    ],
)
def test_factors_by_hand(window: str, factors: list[float]) -> None:
    assert [round(w.factor, 6) for w in alert_windows(Window.parse(window))] == factors


@pytest.mark.parametrize("window", SUPPORTED)
def test_every_table_is_sound(window: str) -> None:
    """Page only when the budget would run out well before the period ends (factor > 1), and ticket every
    burn that would exhaust the budget within the period: some ticket factor is at most 1, so a steady
    burn above 1 always ends in a ticket once its long window has seen it."""
    windows = alert_windows(Window.parse(window))
    pages = [w.factor for w in windows if w.severity == "page"]
    tickets = [w.factor for w in windows if w.severity == "ticket"]
    assert pages and min(pages) > 1, pages
    assert tickets and min(tickets) <= 1, tickets
    assert all(w.short < w.long for w in windows)


def test_the_nominal_period_resolves_to_the_same_table_as_the_window() -> None:
    """Callers that pass `slo.window.period` (a Duration) get the same windows as for the Window itself."""
    for name in SUPPORTED:
        window = Window.parse(name)
        assert alert_windows(window.period) == alert_windows(window), name
        assert sli_windows(window.period) == sli_windows(window), name


@pytest.mark.parametrize("text", ["1d", "3d", "14d", "2w", "60d", "90d", "365d", "400d", "1h"])
def test_periods_without_a_table_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="7d, 28d or 30d, or a calendar window \\(week, month, quarter\\)"):
        Window.parse(text)


@pytest.mark.parametrize(
    ("text", "canonical"), [("1w", "7d"), ("4w", "28d"), ("720h", "30d"), ("30d", "30d")]
)
def test_equal_durations_are_the_same_window(text: str, canonical: str) -> None:
    assert str(Window.parse(text)) == canonical


def test_an_unknown_period_has_no_table() -> None:
    with pytest.raises(ValueError, match="no burn-rate table for a 14d period"):
        alert_windows(Duration.parse("14d"))


CATALOG = """teams:
  - name: platform
    owners: [oncall@example.com]
services:
  - {name: svc, team: platform, tier: critical}
slos:
  - name: short-period
    service: svc
    objective: 99.9
    window: 14d
    sli:
      events:
        errors: sum(rate(e[{{window}}]))
        total: sum(rate(t[{{window}}]))
"""


def test_validate_names_file_line_entry_and_the_supported_list(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(CATALOG)
    result = run_cli("validate", str(tmp_path / "c.yaml"))
    assert result.code == 1, result.output
    assert "c.yaml:10:" in result.output  # `window: 14d` is on line 10
    assert 'slos[0] "short-period".window' in result.output
    assert "'14d'" in result.output
    assert "use 7d, 28d or 30d, or a calendar window (week, month, quarter)" in result.output
    assert "Traceback" not in result.output


def test_sloth_import_refuses_a_period_without_a_table() -> None:
    from catalog.importers import SpecImportError
    from catalog.importers.sloth import import_sloth

    spec = FIXTURES / "slo_sloth" / "examples" / "getting-started.yml"
    assert import_sloth(spec, window="28d").slos[0]["window"] == "28d"
    with pytest.raises(SpecImportError, match=r"'14d'.*use 7d, 28d or 30d"):
        import_sloth(spec, window="14d")
