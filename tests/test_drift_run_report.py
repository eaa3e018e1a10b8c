"""The per-run HTML report never looks healthier than the published verdict (review 14): a banner after
`<body>` carries the published verdict per column, the run's problems ("NO CLEAN VERDICT") and, when the
report saw a sample, the note that the verdict comes from the full data. Rendered by the real Evidently;
the banner's text is read back with the standard library's HTML parser."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd

from drift.report_html import banner, inject_banner
from drift.result import ColumnDrift, DriftResult
from tests.test_drift_run import N, _run, frames


class _Banner(HTMLParser):
    """The text inside `<div id="watchkeeper-verdict">`, and whether it comes right after `<body>`."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.text: list[str] = []
        self.after_body = False
        self._last_tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "div" and ("id", "watchkeeper-verdict") in attrs and self.depth == 0:
            self.after_body = self._last_tag == "body"
            self.depth = 1
        elif self.depth and tag == "div":
            self.depth += 1
        self._last_tag = tag

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag == "div":
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text.append(data)


def banner_text(page: str) -> tuple[str, bool]:
    parser = _Banner()
    parser.feed(page)
    return " ".join(" ".join(parser.text).split()), parser.after_body


def test_type_change_report_says_no_clean_verdict_and_names_the_problem(tmp_path: Path) -> None:
    ref, cur = frames()
    cur["age"] = ["forty"] * N  # schema drift: number -> string
    outcome = _run(tmp_path, ref, cur, reports=tmp_path / "reports")
    assert not outcome.ok and outcome.report is not None
    text, after_body = banner_text(outcome.report.read_text(encoding="utf-8"))
    assert after_body
    assert "NO CLEAN VERDICT" in text
    assert "schema drift" in text and "age" in text
    # the problem column is in the banner's table as a problem, with no threshold shown
    assert re.search(r"age \S+ — — problem: ", text), text


def test_clean_run_banner_has_the_published_verdict_per_column(tmp_path: Path) -> None:
    ref, cur = frames(shift=10.0)  # age moves by two standard deviations: drift; plan, income do not
    outcome = _run(tmp_path, ref, cur, reports=tmp_path / "reports")
    assert outcome.ok and outcome.report is not None
    text, _ = banner_text(outcome.report.read_text(encoding="utf-8"))
    assert "NO CLEAN VERDICT" not in text and "sample" not in text
    assert "1 of 3 columns drifted" in text  # age only; drift_share 0.5 -> no dataset drift
    assert re.search(r"\bage ks \S+ 0\.05 drift\b", text), text
    assert re.search(r"\bplan chisquare \S+ 0\.05 ok\b", text), text


def test_sampled_report_says_the_verdict_comes_from_the_full_data(tmp_path: Path) -> None:
    from drift.report_html import write_report

    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 2000)})
    cur = pd.DataFrame({"x": rng.normal(0, 1, 2000)})
    result = DriftResult("fast", [ColumnDrift("x", "num", "ks", 0.5, 0.05, False)], 0.5, 2000, 2000)
    path = write_report(tmp_path, "m", result, ref, cur, 1_800_000_000.0, max_rows=500)
    assert path is not None
    text, _ = banner_text(path.read_text(encoding="utf-8"))
    assert "computed on a sample of 500 reference / 500 current rows" in text
    assert "the verdict comes from the full data (engine fast)" in text


def test_banner_escapes_column_names_and_problems() -> None:
    hostile = '<script>alert("x")</script>'
    result = DriftResult(
        "fast", [ColumnDrift(hostile, "cat", "chisquare", None, 0.05, True, problem=hostile)], 0.5, 1, 1
    )
    page = inject_banner(
        "<html><body class='x'><p>evidently</p></body></html>", banner(result, [hostile], None)
    )
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert page.index("watchkeeper-verdict") < page.index("<p>evidently")
    assert page.startswith("<html><body class='x'><div")
