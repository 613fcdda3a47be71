"""Tests of the report page (issue 10, point 4): its content, its accessibility, and how it
renders in a real browser (headless Chromium, from the OS packages; ``.ci/run`` installs it).

Without Chromium the browser tests are skipped on a developer's machine, and fail in CI
(``CI=true``), where a skip would hide that the page was never rendered.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

import kpidsl
from cohort import fixture_rules
from kpidsl.cli import main
from kpidsl.language.words import percent
from kpidsl.outputs.html import COLOURS, STATUS_COLOURS, history_html, report_html
from kpidsl.outputs.svg import PALETTE

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "sample"
AS_OF = dt.date(2025, 3, 31)
DOCS = "https://docs.example.org/kpidsl"
SYMBOL = {"met": "✓", "not_met": "✗", "on_track": "·", "at_risk": "!", "no_data": "–"}


@pytest.fixture(scope="module")
def rules() -> kpidsl.RuleSet:
    return fixture_rules()


@pytest.fixture(scope="module")
def report(rules: kpidsl.RuleSet) -> kpidsl.Report:
    return kpidsl.evaluate(rules, kpidsl.load_data(SAMPLE), as_of=AS_OF)


@pytest.fixture(scope="module")
def months(rules: kpidsl.RuleSet):
    dates = kpidsl.api.month_ends(dt.date(2024, 4, 1), AS_OF)
    return kpidsl.api.history(rules, kpidsl.load_data(SAMPLE), dates)


# --------------------------------------------------------------------------- contrast


def luminance(colour: str) -> float:
    """WCAG 2.2 relative luminance of a ``#rrggbb`` colour."""
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_contrast_formula() -> None:
    # Reference values: black on white is 21:1; #767676 on white is the classic 4.54:1.
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("name,pair", [*STATUS_COLOURS.items(), *COLOURS.items()])
def test_every_text_colour_pair_meets_aa(name: str, pair: tuple[str, str]) -> None:
    assert contrast(*pair) >= 4.5, name


def test_status_text_reads_on_the_page_and_chart_lines_stand_out() -> None:
    for status, (_, background) in STATUS_COLOURS.items():
        assert contrast(COLOURS["text"][0], background) >= 4.5, status
    for colour in PALETTE:  # graphical objects: 3:1 against the white chart (WCAG 1.4.11)
        assert contrast(colour, "#ffffff") >= 3, colour


# --------------------------------------------------------------------------- the page


class Page(HTMLParser):
    """The parts of a page the tests look at: tags with their attributes, tables as rows of
    cell texts, captions, links and the text of each element kind."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: list[dict] = []
        self.links: list[tuple[str, str]] = []
        self._stack: list[str] = []
        self._text: list[str] = []
        self._href: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "table":
            self.tables.append({"caption": None, "rows": [], "first": None, "scopes": []})
        elif tag == "tr":
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th", "caption"):
            self._text = []
            if tag == "th":
                self.tables[-1]["scopes"].append(a.get("scope"))
        elif tag == "a":
            self._href, self._link = a.get("href"), []
        if self.tables and self.tables[-1]["first"] is None and tag != "table" and \
                self._stack and self._stack[-1] == "table":
            self.tables[-1]["first"] = tag
        self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self._stack and self._stack.pop() != tag:
            pass
        text = " ".join("".join(self._text).split())
        if tag in ("td", "th"):
            self.tables[-1]["rows"][-1].append(text)
        elif tag == "caption":
            self.tables[-1]["caption"] = text
        elif tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._link).split())))
            self._href = None

    def handle_data(self, data: str) -> None:
        self._text.append(data)
        if self._href is not None:
            self._link.append(data)

    def table(self, caption: str) -> dict:
        return next(t for t in self.tables if t["caption"] == caption)


def test_the_page_is_self_contained(report: kpidsl.Report, rules: kpidsl.RuleSet) -> None:
    html = report_html(report, rules, docs_url=DOCS)
    page = Page(html)
    kinds = {tag for tag, _ in page.tags}
    assert not kinds & {"script", "link", "img", "iframe", "object", "embed", "base"}
    assert not any(k.startswith("on") for _, a in page.tags for k in a)  # no event handlers
    assert "url(" not in html and "@import" not in html
    assert all(href.startswith(("#", DOCS)) for href, _ in page.links)
    assert page.tags[0] == ("html", {"lang": "en"})
    footer = html[html.index("<footer>"):]  # what produced the figures, for an auditor
    assert report.rules_fingerprint[:12] in footer and report.data_fingerprint[:12] in footer
    assert ("meta", {"charset": "utf-8"}) in page.tags


def test_tables_have_captions_and_scoped_headers(report: kpidsl.Report,
                                                 rules: kpidsl.RuleSet) -> None:
    page = Page(report_html(report, rules))
    assert len(page.tables) == 1 + len(rules.kpis) + 2  # summary, one per KPI, findings, actions
    for t in page.tables:
        assert t["first"] == "caption" and t["caption"]
        assert t["scopes"] and set(t["scopes"]) <= {"col", "row"}
        assert all(row[0] for row in t["rows"])  # every row starts with its header cell


def test_every_result_is_on_the_page_with_its_status_in_words(report: kpidsl.Report,
                                                              rules: kpidsl.RuleSet) -> None:
    page = Page(report_html(report, rules))
    for kpi in rules.kpis:
        title = kpi.meta_value("title")
        rows = page.table(f"{title}: status of each group")["rows"][1:]
        results = [r for r in report.results if r.kpi == kpi.name]
        where = {"programme": "the programme", "provider": "provider ", "bootcamp": "bootcamp "}
        expected = sorted(
            [where[r.scope] + ("" if r.scope == "programme" else r.group),
             report.names.get((r.scope, r.group), ""),
             f"{SYMBOL[r.status]} {r.status.replace('_', ' ')}", percent(r.rate), str(r.numerator),
             str(r.denominator), *([str(r.pending)] if kpi.per is None else [])]
            for r in results)
        assert sorted(rows) == expected, kpi.name
    summary = page.table("Each KPI for the whole programme")["rows"][1:]
    assert [row[0] for row in summary] == [k.meta_value("title") for k in rules.kpis]
    findings = page.table(f"Data-quality findings ({len(report.findings)})")["rows"][1:]
    assert [(row[0], row[1], row[4]) for row in findings] == \
        [(e.record, e.location, e.message) for e in report.findings]
    actions = page.table(f"Follow-up actions ({len(report.actions)})")["rows"][1:]
    assert [(row[0], row[1], row[4]) for row in actions] == \
        [(e.record, e.location, e.message) for e in report.actions]


def test_groups_are_named_and_a_measured_kpi_says_what_it_counts(
        report: kpidsl.Report, rules: kpidsl.RuleSet, tmp_path: Path,
        capsys: pytest.CaptureFixture) -> None:
    """Issue 21, item 8: each group's name (a provider's, a bootcamp's title, whole) beside
    its id, and the per-provider KPI's figures labelled actual and planned, not counted and
    population, with no pending records (it has none to wait for)."""
    html = report_html(report, rules)
    page = Page(html)
    table = page.table("Delivery against profile: status of each group")["rows"]
    assert table[0] == ["Group", "Name", "Status", "Rate", "Actual (k)", "Planned (n)"]
    assert [row[:2] for row in table[1:]] == [["the programme", ""],
                                              ["provider P001", "Walsall College"],
                                              ["provider P002", "Dudley Training Ltd"]]
    table = page.table("Learner Drop-Out: status of each group")["rows"]
    assert table[0][4:6] == ["Counted (k)", "Population (n)"]
    assert ["bootcamp BC0003", "Retrofit and Green Construction (accelerated apprenticeship)"] \
        in [row[:2] for row in table]
    summary = page.table("Each KPI for the whole programme")["rows"]
    top = report.result("delivery_against_profile")
    row = next(row for row in summary if row[0] == "Delivery against profile")
    assert row[4:7] == [f"{top.numerator} actual", f"{top.denominator} planned", ""]
    dropout = report.result("learner_dropout")
    row = next(row for row in summary if row[0] == "Learner Drop-Out")
    assert row[4:7] == [str(dropout.numerator), str(dropout.denominator), str(dropout.pending)]
    assert "Rate = counted ÷ population; for Delivery against profile, actual ÷ planned, " \
        "summed over the providers." in html
    findings = page.table(f"Data-quality findings ({len(report.findings)})")["rows"]
    assert ["learner L000035", "learners.csv:36", "BC0002 — Rail Engineering",
            "milestone1_before_start", "Milestone 1 is dated before the learner's start"] \
        in findings
    out = tmp_path / "trends.html"
    assert main(["history", "--data", str(SAMPLE), "--from", "2024-10", "--to", "2025-03",
                 "--group", "P001", "--format", "html", "--out", str(out)]) == 0
    capsys.readouterr()
    trends = out.read_text(encoding="utf-8")
    assert "<h2>Status at each month end, provider P001 — Walsall College</h2>" in trends
    assert '<p class="meta">Provider P001 — Walsall College, October 2024 to March 2025. ' \
        in trends  # its id and name as written


def test_titles_and_targets_link_to_the_rule_reference(report: kpidsl.Report,
                                                       rules: kpidsl.RuleSet) -> None:
    linked = Page(report_html(report, rules, docs_url=DOCS + "/")).links
    for kpi in rules.kpis:
        mine = [text for href, text in linked if href == f"{DOCS}/rules/{kpi.name}.html"]
        target = report.result(kpi.name, "provider" if kpi.per else "programme",
                               next(r.group for r in report.results if r.kpi == kpi.name)
                               if kpi.per else "all")
        assert kpi.meta_value("title") in mine
        assert f"{target.direction} {percent(target.target)}" in mine
    unlinked = Page(report_html(report, rules)).links
    assert all(href.startswith("#") for href, _ in unlinked)


def test_the_history_page_has_the_chart_and_its_numbers(months, rules: kpidsl.RuleSet) -> None:
    html = history_html(months, rules, docs_url=DOCS)
    page = Page(html)
    svg = next(a for tag, a in page.tags if tag == "svg")
    assert svg["role"] == "img" and svg["aria-labelledby"] == "chart-caption"
    assert ("figcaption", {"id": "chart-caption"}) in page.tags
    table = page.tables[0]
    assert table["rows"][0] == ["KPI", "Target", *(f"{d:%b %Y}" for d, _ in months)]
    assert len(table["rows"]) == 1 + len(rules.kpis)
    dropout = next(row for row in table["rows"] if row[0] == "Learner Drop-Out")
    for (d, results), cell in zip(months, dropout[2:], strict=True):
        r = next(r for r in results if (r.kpi, r.scope) == ("learner_dropout", "programme"))
        assert cell.endswith(f"{r.status.replace('_', ' ')} {percent(r.rate)}"), d


def test_the_command_line_writes_pages(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "report.html"
    assert main(["evaluate", "--data", str(SAMPLE), "--as-of", "2025-03-31", "--format", "html",
                 "--out", str(out), "--docs-url", DOCS]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    assert f'href="{DOCS}/rules/learner_dropout.html"' in out.read_text(encoding="utf-8")
    assert main(["history", "--data", str(SAMPLE), "--from", "2024-10", "--to", "2025-03",
                 "--format", "html"]) == 0
    assert capsys.readouterr().out.startswith("<!DOCTYPE html>")
    assert main(["evaluate", "--data", str(SAMPLE), "--docs-url", DOCS]) == 2
    assert "--docs-url is for --format html or xlsx" in capsys.readouterr().err


# --------------------------------------------------------------------------- in a browser


def chromium() -> str:
    """The Chromium executable; in CI its absence is a failure, not a skip."""
    found = next(filter(None, map(shutil.which, ("chromium", "chromium-browser",
                                                 "google-chrome"))), None)
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but Chromium is not installed: .ci/run installs it with "
                        "apt-get install chromium")
        pytest.skip("Chromium is not installed (apt-get install chromium); CI runs this test")
    return found


def browse(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium on ``page`` with ``args``, logging the console to stderr."""
    profile = tmp_path / "profile"
    return subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-dev-shm-usage",  # containers have a tiny /dev/shm
         f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         "--hide-scrollbars", *args, page.as_uri()],
        capture_output=True, text=True, timeout=180, check=True)


def no_page_errors(stderr: str) -> None:
    """Nothing the page did went wrong: no console message, no failed load."""
    assert not re.findall(r".*(?:CONSOLE|Uncaught|ERR_FILE_NOT_FOUND|net::ERR_).*", stderr)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def written(tmp_path: Path, report: kpidsl.Report, rules: kpidsl.RuleSet, months) -> dict:
    pages = {"report": report_html(report, rules, docs_url=DOCS),
             "history": history_html(months, rules)}
    for name, html in pages.items():
        (tmp_path / f"{name}.html").write_text(html, encoding="utf-8")
    return {name: tmp_path / f"{name}.html" for name in pages}


def test_the_report_renders_in_chromium(written: dict, tmp_path: Path,
                                        report: kpidsl.Report, rules: kpidsl.RuleSet) -> None:
    run = browse(written["report"], tmp_path, "--dump-dom")
    no_page_errors(run.stderr)
    dom = Page(run.stdout)
    assert len(dom.tables) == 1 + len(rules.kpis) + 2
    assert all(t["first"] == "caption" for t in dom.tables)
    summary = dom.table("Each KPI for the whole programme")["rows"]
    assert len(summary) == 1 + len(rules.kpis)
    statuses = {"met", "not met", "on track", "at risk", "no data"}
    shown = [re.sub(r"^\W+ ", "", row[2]) for row in summary[1:]]
    assert set(shown) <= statuses
    assert shown[2] == report.result("learner_dropout").status.replace("_", " ")
    shot = tmp_path / "report.png"
    run = browse(written["report"], tmp_path, "--window-size=1200,1600", f"--screenshot={shot}")
    no_page_errors(run.stderr)
    assert png_size(shot) == (1200, 1600)
    assert shot.stat().st_size > 30_000  # text, tables and colours, not a blank page


def test_the_history_renders_in_chromium(written: dict, tmp_path: Path, months) -> None:
    run = browse(written["history"], tmp_path, "--dump-dom")
    no_page_errors(run.stderr)
    dom = Page(run.stdout)
    paths = [a for tag, a in dom.tags if tag == "path" and a.get("class") == "rate"]
    assert len(paths) == len({r.kpi for _, results in months for r in results})
    # small multiples: a panel for each KPI, each with its own rate and target line
    panels = [a["data-kpi"] for tag, a in dom.tags if tag == "g" and a.get("class") == "panel"]
    assert panels == [a["data-kpi"] for a in paths] == list(dict.fromkeys(
        r.kpi for _, results in months for r in results))
    assert not [a for tag, a in dom.tags if tag == "script"]
    assert dom.tables[0]["rows"][0][2:] == [f"{d:%b %Y}" for d, _ in months]
    shot = tmp_path / "history.png"
    run = browse(written["history"], tmp_path, "--window-size=1000,1200", f"--screenshot={shot}")
    no_page_errors(run.stderr)
    assert png_size(shot) == (1000, 1200)
    assert shot.stat().st_size > 30_000
