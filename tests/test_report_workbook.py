"""Tests of the report workbook (issue 10, point 3), read back with openpyxl."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import zipfile
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest

import kpidsl
from cohort import fixture_rules
from kpidsl.cli import main
from kpidsl.outputs.html import STATUS_COLOURS

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = str(ROOT / "examples" / "sample")
DOCS = "https://docs.example.org/kpidsl"


#: The KPIs measured per provider (``per:``), whose pending cell is left empty: they have
#: no records to wait for.
MEASURED = {k.name for k in fixture_rules().kpis if k.per is not None}


def pending(kpi: str, value: int) -> int | None:
    return None if kpi in MEASURED else value


def rows(ws, first: int = 4) -> list[tuple]:
    """The data rows of a report sheet (its header is row 3)."""
    return [r for r in ws.iter_rows(min_row=first, values_only=True)]


def run(capsys: pytest.CaptureFixture, *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory):
    """The sample's report workbook as of 2025-03-31, and its JSON report with explanations."""
    out = tmp_path_factory.mktemp("report") / "report.xlsx"
    assert main(["evaluate", "--data", SAMPLE, "--as-of", "2025-03-31", "--format", "xlsx",
                 "--out", str(out), "--docs-url", DOCS]) == 0
    return openpyxl.load_workbook(out)


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("json") / "report.json"
    assert main(["evaluate", "--data", SAMPLE, "--as-of", "2025-03-31", "--format", "json",
                 "--explain", "--out", str(out)]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_the_sheets(evaluated, expected: dict) -> None:
    """Each KPI's sheet is named by its title, cut to Excel's 31 characters after a word."""
    assert evaluated.sheetnames == [
        "summary", "Employer Engagement", "Employer Co-Funding", "Learner Drop-Out",
        "New Skills", "Guaranteed Interview for each…", "Career Progression",
        "Referral to Alternative…", "Delivery against profile", "findings", "actions"]
    for ws in evaluated.worksheets:
        assert ws.freeze_panes == "A4"
        assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A3:")
        assert ws.auto_filter.ref.endswith(str(ws.max_row))  # the filter covers every row


def test_the_summary_holds_every_result_of_the_json_report(evaluated, expected: dict) -> None:
    got = []
    for kpi, _title, scope, group, _name, status, rate, direction, target, k, n, p in \
            rows(evaluated["summary"]):
        got.append((kpi, scope, group, status, k, n, p, direction, rate, target))
    want = []
    for r in expected["results"]:
        rate = Fraction(r["rate"]) if r["rate"] else None
        direction, percent = r["target"].split(" ")[:-1], r["target"].split(" ")[-1]
        want.append((r["kpi"], r["scope"], r["group"], r["status"].replace("_", " "),
                     r["numerator"], r["denominator"], pending(r["kpi"], r["pending"]),
                     " ".join(direction),
                     rate, Fraction(percent.removesuffix("%")) / 100))
    assert len(got) == len(want)
    assert sorted(g[:8] for g in got) == sorted(w[:8] for w in want)
    by_key = {w[:3]: w for w in want}
    for g in got:  # percentages are numbers for people to read: close to the exact rate
        w = by_key[g[:3]]
        assert (g[8] is None) == (w[8] is None)
        if w[8] is not None:
            assert g[8] == pytest.approx(float(w[8]))
        assert g[9] == pytest.approx(float(w[9]))


def test_the_summary_says_what_produced_it(evaluated, expected: dict) -> None:
    said = evaluated["summary"]["A2"].value
    assert said.startswith(f"Evaluated by kpidsl {expected['audit']['kpidsl']} (")
    assert expected["audit"]["rules"][:12] in said and expected["audit"]["data"][:12] in said


def test_statuses_have_their_colours_and_titles_link_to_the_rules(evaluated) -> None:
    ws = evaluated["summary"]
    for row in range(4, ws.max_row + 1):
        status = ws.cell(row, 6).value.replace(" ", "_")
        assert ws.cell(row, 6).fill.fgColor.rgb == "FF" + STATUS_COLOURS[status][1][1:].upper()
        assert ws.cell(row, 6).font.color.rgb == "FF" + STATUS_COLOURS[status][0][1:].upper()
        kpi = ws.cell(row, 1).value
        assert ws.cell(row, 2).hyperlink.target == f"{DOCS}/rules/{kpi}.html"
        if ws.cell(row, 7).value is not None:  # no rate without a population
            assert ws.cell(row, 7).number_format == "0.0%"
        else:
            assert ws.cell(row, 11).value == 0


def test_each_kpi_sheet_lists_every_record_with_its_verdict_and_reason(evaluated,
                                                                       expected: dict) -> None:
    for kpi, records in expected["explanations"].items():
        got = rows(evaluated[kpi_sheet(evaluated, kpi)])
        assert [(r[0], r[1], r[2]) for r in got] == \
            [(v["record"], v["bootcamp"] or "", v["verdict"]) for v in records]
        assert [tuple(r[5:8]) for r in got] == \
            [(v["record_type"], v["record_id"] or "", v["provider"] or "") for v in records]
        for r, v in zip(got, records, strict=True):
            assert r[3].split("\n") == [f"{x['clause']}: {x['source']}" for x in v["reasons"]]
            assert r[4].split("\n") == ["; ".join(f"{k} = {value or '—'}" for k, value
                                                  in x["values"].items())
                                        for x in v["reasons"]]


def kpi_sheet(book, kpi: str) -> str:
    """The sheet the summary links ``kpi`` to, which must be there and be the KPI's."""
    links = {c.hyperlink.location for c in book["summary"]["A"][3:] if c.value == kpi}
    assert len(links) == 1
    quoted, cell = links.pop().rsplit("!", 1)
    sheet = quoted[1:-1].replace("''", "'")
    assert (quoted[0], quoted[-1], cell) == ("'", "'", "A1")
    assert f" ({kpi}): each record in the programme as of " in book[sheet]["A1"].value
    return sheet


def test_findings_and_actions_sheets(evaluated, expected: dict) -> None:
    for sheet in ("findings", "actions"):
        got = [(r[0], r[1], r[2] or None, r[3]) for r in rows(evaluated[sheet])]
        assert got == [(e["name"], e["record"], e.get("group"), e["message"])
                       for e in expected[sheet]]
        assert evaluated[sheet]["A1"].value.endswith(f"({len(expected[sheet])})")


def test_the_history_workbook(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "history.xlsx"
    args = ["history", "--data", SAMPLE, "--from", "2024-10", "--to", "2025-03"]
    run(capsys, *args, "--format", "xlsx", "--out", str(out))
    history = json.loads(run(capsys, *args, "--format", "json"))
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["trend", "rates", "results"]
    got = sorted((a, kpi, scope, group, status, k, n, p)
                 for a, kpi, _t, scope, group, _name, status, _r, _d, _x, k, n, p
                 in rows(wb["results"]))
    want = sorted((m["as_of"], r["kpi"], r["scope"], r["group"], r["status"].replace("_", " "),
                   r["numerator"], r["denominator"], pending(r["kpi"], r["pending"]))
                  for m in history["months"] for r in m["results"])
    assert got == want
    programme = {(m["as_of"][:7], r["kpi"]): r["status"].replace("_", " ")
                 for m in history["months"] for r in m["results"] if r["scope"] == "programme"}
    months = [dt.date.fromisoformat(m["as_of"]) for m in history["months"]]
    for kpi, _title, *cells in rows(wb["trend"]):
        assert cells == [programme.get((f"{d:%Y-%m}", kpi)) for d in months]
    # a small chart per KPI, titled with its title and its latest target, not eight lines on
    # one chart named by id (issue 21, item 11, as the page's chart)
    last = {r["kpi"]: r["target"].replace("at least", "≥").replace("at most", "≤")
            for r in history["months"][-1]["results"] if r["scope"] == "programme"}
    with zipfile.ZipFile(out) as z:
        charts = [z.read(n).decode() for n in sorted(z.namelist()) if n.startswith(
            "xl/charts/chart")]
    titles = [re.search(r"<c:title>.*?<a:t>(.*?)</a:t>", c, re.S).group(1) for c in charts]
    assert sorted(titles) == sorted(f"{title} ({last[kpi]})".replace("&", "&amp;")
                                    for kpi, title, *_ in rows(wb["rates"]))


def test_the_command_says_what_it_wrote(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "report.xlsx"
    assert run(capsys, "evaluate", "--data", SAMPLE, "--format", "xlsx", "--out",
               str(out)) == f"wrote {out}\n"
    assert main(["evaluate", "--data", SAMPLE, "--format", "xlsx", "--out",
                 str(tmp_path / "missing" / "report.xlsx")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_a_report_workbook_needs_a_file(capsys: pytest.CaptureFixture) -> None:
    assert main(["evaluate", "--data", SAMPLE, "--format", "xlsx"]) == 2
    assert "--format xlsx writes a workbook: give its name with --out" in capsys.readouterr().err


def test_the_report_of_a_workbook_is_the_report_of_its_csv(tmp_path: Path) -> None:
    rules = fixture_rules()
    reports = []
    for data in (SAMPLE, str(ROOT / "examples" / "sample.xlsx")):
        out = tmp_path / f"{len(reports)}.xlsx"
        assert main(["evaluate", "--data", data, "--as-of", "2025-03-31", "--format", "xlsx",
                     "--out", str(out)]) == 0
        wb = openpyxl.load_workbook(out)
        reports.append({ws.title: rows(ws) for ws in wb.worksheets})
    for sheet in ("findings", "actions"):  # a record is at its sheet's row, not a file's line
        reports[1][sheet] = [(*r[:-1], re.sub(r"^.*sample\.xlsx:(\w+)!(\d+):\d+$",
                                              r"\1.csv:\2", r[-1])) for r in reports[1][sheet]]
    assert reports[0] == reports[1]
    assert len(reports[0]) == len(rules.kpis) + 3


def test_rows_beyond_a_sheet_s_limit_are_counted_not_dropped(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    from kpidsl.outputs import xlsx

    monkeypatch.setattr(xlsx, "_MAX_ROWS", 14)  # ten records and a note
    out = tmp_path / "report.xlsx"
    assert main(["evaluate", "--data", SAMPLE, "--as-of", "2025-03-31", "--format", "xlsx",
                 "--out", str(out)]) == 0
    population = len(kpidsl.explain(fixture_rules(), SAMPLE, "learner_dropout",
                                    as_of="2025-03-31").verdicts)
    got = rows(openpyxl.load_workbook(out)["Learner Drop-Out"])
    assert len(got) == 11
    assert got[-1][0] == f"… and {population - 10} more records: a sheet holds at most " \
        "1,048,576 rows (kpidsl evaluate --format json --explain lists them all)"
    out = tmp_path / "history.xlsx"
    assert main(["history", "--data", SAMPLE, "--from", "2025-01", "--to", "2025-03",
                 "--format", "xlsx", "--out", str(out)]) == 0
    results = rows(openpyxl.load_workbook(out)["results"])
    total = sum(len(r) for _, r in kpidsl.api.history(
        fixture_rules(), SAMPLE, kpidsl.api.month_ends(dt.date(2025, 1, 1),
                                                          dt.date(2025, 3, 1))))
    assert len(results) == 11
    assert results[-1][0] == f"… and {total - 10} more results: a sheet holds at most " \
        "1,048,576 rows (kpidsl history --format json lists them all)"


def test_groups_are_named_and_a_measured_kpi_says_what_it_counts(evaluated) -> None:
    """Issue 21, item 8: the summary names each group beside its id, and the per-provider
    KPI's counts read as actual and planned starts while staying numbers, with no pending."""
    summary = {(r[0], r[2], r[3]): r for r in rows(evaluated["summary"])}
    assert summary["learner_dropout", "provider", "P001"][4] == "Walsall College"
    assert summary["learner_dropout", "bootcamp", "BC0003"][4] == \
        "Retrofit and Green Construction (accelerated apprenticeship)"
    assert summary["learner_dropout", "programme", "all"][4] is None
    ws = evaluated["summary"]
    for row in range(4, ws.max_row + 1):
        measured = ws.cell(row, 1).value == "delivery_against_profile"
        k, n, pending = ws.cell(row, 10), ws.cell(row, 11), ws.cell(row, 12)
        assert isinstance(k.value, int) and isinstance(n.value, int)
        assert (k.number_format, n.number_format) == \
            (('0 "actual"', '0 "planned"') if measured else ("General", "General"))
        # a KPI measured per provider has no records to wait for: no "Pending 0"
        assert (pending.value is None) if measured else isinstance(pending.value, int)


def test_kpi_sheets_named_by_colliding_titles_are_cut_and_told_apart(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Titles with characters Excel forbids in a sheet's name lose them, are cut to 31
    characters, and two that are then the same get " (2)"; the summary's links reach each."""
    from cohort import FIXTURE_RULES

    rules = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, rules)
    for name in ("01_employer_engagement.kpi", "02_employer_cofunding.kpi"):
        path = rules / name
        text = path.read_text(encoding="utf-8")
        old = re.search(r'\n  title: "[^"]*"', text)[0]
        path.write_text(text.replace(old, '\n  title: "Employers: [engaged] / co-funding? '
                                     'a long title"', 1), encoding="utf-8")
    out = tmp_path / "report.xlsx"
    run(capsys, "evaluate", "--rules", str(rules), "--data", SAMPLE, "--as-of", "2025-03-31",
        "--format", "xlsx", "--out", str(out))
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[1:3] == ["Employers engaged co-funding…", "Employers engaged… (2)"]
    assert kpi_sheet(book, "employer_engagement") == "Employers engaged co-funding…"
    assert kpi_sheet(book, "employer_cofunding") == "Employers engaged… (2)"
