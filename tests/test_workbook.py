"""Tests of the datasheet workbook: the template, and workbooks as data (issue 10, points 1-2).

Test workbooks are written with openpyxl, a writer independent of the one kpidsl uses, and
read back with openpyxl to check the template.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

import kpidsl
from cohort import FIXTURE_RULES, fixture_rules
from kpidsl.cli import main
from kpidsl.contract.fields import ENUMS
from kpidsl.contract.records import FIELDS, RECORD_TYPES
from kpidsl.data.csvfiles import MAX_DIAGNOSTICS, write_data
from kpidsl.data.csvfiles import load_data as load_folder
from kpidsl.data.datasheet import column_letter, load_workbook, write_workbook
from kpidsl.data.generate import generate
from kpidsl.errors import DataError

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "sample"

# The CSV test data set of test_data.py, as sheets of typed cells the way Excel holds them:
# real dates and numbers, booleans both as Excel booleans and as text.
D = dt.datetime
SHEETS: dict[str, list[list[object]]] = {
    "providers": [["provider_id", "name", "ukprn"], ["P1", "Acme Training", 10000001]],
    "bootcamps": [
        ["bootcamp_id", "provider_id", "title", "start_date", "end_date", "course_cost",
         "accelerated_apprenticeship"],
        ["B1", "P1", "Data", D(2024, 1, 8), "2024-03-29", 1500, False],
    ],
    "employers": [["employer_id", "name", "employees"], ["E1", "Big Co", 300]],
    "engagements": [
        ["bootcamp_id", "employer_id", "roles", "contact_attempts", "reached", "role_confirmed",
         "satisfaction"],
        ["B1", "E1", "co_design;delivery", 1, True, "true", 4],
    ],
    "learners": [
        ["learner_id", "bootcamp_id", "learner_type", "employer_id", "start_date",
         "completion_date"],
        ["L1", "B1", "co_funded", "E1", D(2024, 1, 8), D(2024, 3, 29)],
        ["L2", "B1", "independent", None, "2024-01-08", None],
    ],
    "interviews": [
        ["learner_id", "employer_id", "offer_date", "actual_job", "matches_skills"],
        ["L1", "E1", D(2024, 3, 1), "TRUE", "False"],
    ],
    "cofunding": [["learner_id", "amount_paid", "paid_date"], ["L1", 450.5, D(2024, 2, 1)]],
}


def book(tmp_path: Path, sheets: dict[str, list[list[object]] | None] | None = None,
         name: str = "data.xlsx") -> str:
    """SHEETS with some replaced (``None`` removes one), written by openpyxl; returns the
    workbook's path relative to ``tmp_path`` (the tests run there, so messages show it)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in {**SHEETS, **(sheets or {})}.items():
        if rows is None:
            continue
        ws = wb.create_sheet(title)
        for r, row in enumerate(rows, 1):
            for c, value in enumerate(row, 1):
                if value is not None:
                    cell = ws.cell(r, c, value)
                    if isinstance(value, dt.datetime):
                        cell.number_format = "yyyy-mm-dd"
    wb.save(tmp_path / name)
    return name


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder whose ``rules/`` is the fixture rule set."""
    shutil.copytree(FIXTURE_RULES, tmp_path / "rules")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def rendered(path: str) -> str:
    with pytest.raises(DataError) as excinfo:
        load_workbook(path)
    return str(excinfo.value)


def evaluated(data: kpidsl.Dataset, as_of: dt.date) -> dict:
    """The report's figures, findings and actions; not its audit, whose data fingerprint is
    of the files as read (``1500.00`` in CSV, the number 1500 in a workbook)."""
    report = kpidsl.evaluate(fixture_rules(), data, as_of=as_of).to_dict()
    del report["audit"]
    for e in (*report["findings"], *report["actions"]):  # at a sheet's row: as a file's line
        if "place" in e:
            e["file"] = e.pop("place").partition("!")[0] + ".csv"
    return report


# --------------------------------------------------------------------------- the template


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 3, 25, 26, 27, 51, 52, 701, 702)] == \
        ["A", "D", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]


def test_the_template_has_a_sheet_per_file_with_the_schema_columns(here: Path) -> None:
    write_workbook("template.xlsx")
    wb = openpyxl.load_workbook("template.xlsx")
    assert wb.sheetnames == ["instructions", "providers", "bootcamps", "employers",
                             "engagements", "learners", "interviews", "cofunding", "profiles"]
    assert wb.sheetnames[1:] == [t.file.removesuffix(".csv") for t in RECORD_TYPES]
    about = "\n".join(str(c.value) for c in wb["instructions"]["A"] if c.value)
    assert "kpidsl evaluate --data datasheet.xlsx" in about
    for t in RECORD_TYPES:
        ws = wb[t.file.removesuffix(".csv")]
        fields = FIELDS[t.name]
        assert [c.value for c in ws[1]] == list(fields)
        assert ws.max_row == 1  # only the header
        assert ws.freeze_panes == "A2"
        for cell in ws[1]:
            info = fields[cell.value]
            assert cell.comment is not None and cell.comment.text.startswith(info.doc)
            assert ("Required." in cell.comment.text) == info.required
            assert cell.font.b  # every header is bold
            assert (cell.fill.fgColor.rgb == "FF1F4E79") == info.required


def test_every_enumeration_and_boolean_has_a_drop_down_from_the_schema(here: Path) -> None:
    write_workbook("template.xlsx")
    wb = openpyxl.load_workbook("template.xlsx")
    for t in RECORD_TYPES:
        ws = wb[t.file.removesuffix(".csv")]
        lists = {str(dv.sqref).split(":")[0]: dv.formula1
                 for dv in ws.data_validations.dataValidation if dv.type == "list"}
        expected = {}
        for i, info in enumerate(FIELDS[t.name].values()):
            if info.kind == "enum":
                expected[f"{column_letter(i)}2"] = '"' + ",".join(ENUMS[info.enum]) + '"'
            elif info.kind == "boolean":
                expected[f"{column_letter(i)}2"] = '"true,false"'
        assert lists == expected, t.name


def test_date_month_and_money_columns_are_formatted(here: Path) -> None:
    write_workbook("template.xlsx")
    wb = openpyxl.load_workbook("template.xlsx")
    for t in RECORD_TYPES:
        ws = wb[t.file.removesuffix(".csv")]
        formats = {i - 1: d.number_format for d in ws.column_dimensions.values()
                   for i in range(d.min, d.max + 1)}  # openpyxl groups equal columns
        for i, info in enumerate(FIELDS[t.name].values()):
            fmt = formats[i]
            if info.month:
                assert fmt == "yyyy-mm", (t.name, info.name)
            elif info.kind == "date":
                assert fmt == "yyyy-mm-dd", (t.name, info.name)
            elif info.kind == "money":
                assert fmt == "#,##0.00", (t.name, info.name)


def test_the_blank_template_reads_as_an_empty_data_set(here: Path) -> None:
    write_workbook("template.xlsx")
    data = load_workbook("template.xlsx")
    assert all(data.of(t.name) == () for t in RECORD_TYPES)
    assert data.notices == ()


def test_the_template_filled_with_the_sample_evaluates_exactly_like_the_csv(here: Path) -> None:
    csv = load_folder(SAMPLE)
    write_workbook("sample.xlsx", csv)
    workbook = load_workbook("sample.xlsx")
    assert workbook == csv
    for as_of in (dt.date(2024, 6, 30), dt.date(2025, 3, 31), dt.date(2025, 7, 31)):
        assert evaluated(workbook, as_of) == evaluated(csv, as_of)


def test_the_shipped_sample_workbook_evaluates_exactly_like_the_sample_folder() -> None:
    csv = kpidsl.load_data(SAMPLE)
    workbook = kpidsl.load_data(ROOT / "examples" / "sample.xlsx")
    assert workbook == csv
    assert evaluated(workbook, dt.date(2025, 3, 31)) == evaluated(csv, dt.date(2025, 3, 31))


@pytest.mark.parametrize("seed", [2, 7, 13])
def test_generated_data_reads_the_same_from_a_workbook_and_from_csv(here: Path,
                                                                     seed: int) -> None:
    data = generate(80, seed=seed)
    write_data(data, "csv")
    write_workbook("book.xlsx", data)
    csv, workbook = load_folder("csv"), load_workbook("book.xlsx")
    assert workbook == csv == data
    assert [r.line for r in workbook.learners] == [r.line for r in csv.learners]
    for as_of in (dt.date(2024, 3, 31), dt.date(2025, 7, 31)):
        assert evaluated(workbook, as_of) == evaluated(csv, as_of)


def test_a_data_set_too_big_for_a_sheet_is_refused(here: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from kpidsl.data import datasheet

    monkeypatch.setattr(datasheet, "_MAX_ROWS", 100)
    with pytest.raises(ValueError) as excinfo:
        write_workbook("big.xlsx", load_folder(SAMPLE))
    assert str(excinfo.value) == ("150 learners do not fit in the learners sheet: a sheet holds "
                                  "99 records under its header; keep such a data set as CSV "
                                  "files")


def test_money_that_a_number_cannot_hold_exactly_is_written_as_text(here: Path) -> None:
    data = load_folder(SAMPLE)
    payment = data.payments[0]
    exact = Decimal("1234567890.123456789")
    changed = kpidsl.Dataset(**{t.plural: data.of(t.name) for t in RECORD_TYPES
                                if t.name != "payment"},
                             payments=[type(payment)(learner_id=payment.learner_id,
                                                     amount_paid=exact,
                                                     paid_date=payment.paid_date)])
    write_workbook("exact.xlsx", changed)
    assert load_workbook("exact.xlsx").payments[0].amount_paid == exact


# --------------------------------------------------------------------------- reading cells


def test_excel_values_and_contract_text_read_as_the_same_records(here: Path) -> None:
    data = load_workbook(book(here))
    learner = data.learners[0]
    assert learner.start_date == dt.date(2024, 1, 8)
    assert learner.completion_date == dt.date(2024, 3, 29)
    assert data.learners[1].start_date == dt.date(2024, 1, 8)  # text in the contract's spelling
    assert data.learners[1].employer_id is None
    assert data.bootcamps[0].course_cost == Decimal(1500)
    assert data.bootcamps[0].accelerated_apprenticeship is False
    assert data.payments[0].amount_paid == Decimal("450.5")
    assert data.providers[0].ukprn == "10000001"  # a number in a text column: its digits
    assert data.engagements[0].reached is True and data.engagements[0].role_confirmed is True
    assert data.engagements[0].roles == frozenset({"co_design", "delivery"})
    assert (data.interviews[0].actual_job, data.interviews[0].matches_skills) == (True, False)
    assert [r.line for r in data.learners] == [2, 3]  # a record's line is its row


def test_blank_rows_and_columns_around_the_data_are_ignored(here: Path) -> None:
    learners = [[None], [], *[[None, *row] for row in SHEETS["learners"]], [], [None, ""], []]
    data = load_workbook(book(here, {"learners": learners}))
    assert [r.learner_id for r in data.learners] == ["L1", "L2"]
    assert [r.line for r in data.learners] == [4, 5]
    bad = [[None], *[[None, *row] for row in SHEETS["learners"]]]
    bad[2][6] = "2024-13-01"
    assert rendered(book(here, {"learners": bad}, "bad.xlsx")) == (
        "bad.xlsx:learners!G3: error: completion_date: '2024-13-01' is not a date\n"
        "  hint: the month must be 01 to 12\n"
        "\n"
        "1 error"
    )


def test_months_are_read_from_dates_and_text(here: Path) -> None:
    profiles = [["provider_id", "month", "planned_starts"], ["P1", D(2024, 8, 1), 5],
                ["P1", "2024-09", 6.0]]
    data = load_workbook(book(here, {"profiles": profiles}))
    assert [(p.month, p.planned_starts) for p in data.profiles] == \
        [(dt.date(2024, 8, 1), 5), (dt.date(2024, 9, 1), 6)]


def test_the_instructions_sheet_is_ignored_and_an_unknown_sheet_is_a_notice(here: Path) -> None:
    data = load_workbook(book(here, {"instructions": [["read me"]], "Learner": [["x"]]}))
    assert [n.render() for n in data.notices] == [
        "data.xlsx: warning: sheet 'Learner' is not a sheet of the data contract; it is "
        "ignored\n  hint: did you mean `learners`?"
    ]


def test_an_absent_or_empty_sheet_is_read_as_having_no_records(here: Path) -> None:
    data = load_workbook(book(here, {"cofunding": None, "interviews": [], "profiles": None}))
    assert data.payments == () and data.interviews == () and data.profiles == ()
    assert [n.render() for n in data.notices] == [
        "data.xlsx: warning: sheet interviews is empty; read as having no interviews",
        "data.xlsx: warning: sheet cofunding is absent; read as having no payments",
    ]


def test_sheet_names_match_whatever_their_case(here: Path) -> None:
    sheets = {name.capitalize(): rows for name, rows in SHEETS.items()}
    data = load_workbook(book(here, {**dict.fromkeys(SHEETS), **sheets}))
    assert data == load_workbook(book(here, name="plain.xlsx"))


# --------------------------------------------------------------------------- bad workbooks


def test_a_bad_cell_in_every_sheet_is_reported_at_its_cell(here: Path) -> None:
    def spoil(sheet: str, row: int, col: int, value: object) -> list[list[object]]:
        rows = [list(r) for r in SHEETS[sheet]]
        rows[row][col] = value
        return rows

    path = book(here, {
        "providers": spoil("providers", 1, 2, "1234"),
        "bootcamps": spoil("bootcamps", 1, 5, "£1,500"),
        "employers": spoil("employers", 1, 2, 12.5),
        "engagements": spoil("engagements", 1, 2, "co_design;teaching"),
        "learners": spoil("learners", 2, 2, "cofunded"),
        "interviews": spoil("interviews", 1, 2, D(2024, 3, 1, 9, 30)),
        "cofunding": spoil("cofunding", 1, 1, -5),
        "profiles": [["provider_id", "month", "planned_starts"], ["P1", D(2024, 8, 15), 5]],
    })
    assert rendered(path) == (
        "data.xlsx:providers!C2: error: ukprn: '1234' is not exactly 8 digits\n"
        "\n"
        "data.xlsx:bootcamps!F2: error: course_cost: '£1,500' is not a number of pounds\n"
        "  hint: write 1500, without '£' or commas\n"
        "\n"
        "data.xlsx:employers!C2: error: employees: '12.5' is not a whole number\n"
        "  hint: expected a whole number, e.g. 3\n"
        "\n"
        "data.xlsx:engagements!C2: error: roles: 'teaching' is not one of the allowed values\n"
        "  hint: allowed values: co_design, needs_analysis, approved_solution, delivery, "
        "interviewing, own_staff\n"
        "\n"
        "data.xlsx:learners!C3: error: learner_type: 'cofunded' is not one of the allowed "
        "values\n"
        "  hint: did you mean `co_funded`?\n"
        "\n"
        "data.xlsx:interviews!C2: error: offer_date: '2024-03-01 09:30:00' is not a date\n"
        "  hint: write the date alone: 2024-03-01\n"
        "\n"
        "data.xlsx:cofunding!B2: error: amount_paid: '-5' is less than 0\n"
        "  hint: expected at least 0\n"
        "\n"
        "data.xlsx:profiles!B2: error: month: '2024-08-15' is not a month\n"
        "  hint: write the month alone: 2024-08\n"
        "\n"
        "8 errors"
    )


def test_integrity_problems_name_the_sheet_and_row(here: Path) -> None:
    learners = [*SHEETS["learners"], ["L1", "B9", "independent", None, D(2024, 1, 8)]]
    assert rendered(book(here, {"learners": learners})) == (
        "data.xlsx:learners!A4: error: duplicate learner: learner_id 'L1' appears earlier\n"
        "  hint: the first is on row 2\n"
        "\n"
        "data.xlsx:learners!B4: error: no bootcamp has bootcamp_id 'B9'\n"
        "  hint: add the bootcamp to the bootcamps sheet, or correct the id\n"
        "\n"
        "2 errors"
    )


def test_missing_and_unknown_columns(here: Path) -> None:
    employers = [["employer_id", "nmae", "employees"], ["E1", "Big Co", 300]]
    assert rendered(book(here, {"employers": employers})) == (
        "data.xlsx:employers!B1: warning: unknown column 'nmae' is ignored\n"
        "  hint: did you mean `name`?\n"
        "\n"
        "data.xlsx:employers!1:1: error: missing required column name\n"
        "  hint: is column `nmae` meant to be `name`?\n"
        "\n"
        "1 error"
    )


def test_an_excel_error_is_reported_never_read_as_blank(here: Path) -> None:
    employers = [["employer_id", "name", "employees"], ["E1", "#N/A", "#DIV/0!"]]
    learners = [list(r) for r in SHEETS["learners"]]
    learners[2][3] = "#REF!"  # an optional column: read as blank, it would pass unnoticed
    assert rendered(book(here, {"employers": employers, "learners": learners})) == (
        "data.xlsx:employers!B2: error: name: the cell holds the Excel error #N/A\n"
        "  hint: correct the formula or type the value; leave the cell empty for a value that "
        "is not recorded\n"
        "\n"
        "data.xlsx:employers!C2: error: employees: the cell holds the Excel error #DIV/0!\n"
        "  hint: correct the formula or type the value; leave the cell empty for a value that "
        "is not recorded\n"
        "\n"
        "data.xlsx:learners!D3: error: employer_id: the cell holds the Excel error #REF!\n"
        "  hint: correct the formula or type the value; leave the cell empty for a value that "
        "is not recorded\n"
        "\n"
        "3 errors"
    )


def test_diagnostics_are_capped_with_a_count_of_the_rest(here: Path) -> None:
    learners = [SHEETS["learners"][0],
                *([f"L{i}", "B1", "independent", None, "soon"] for i in range(300))]
    with pytest.raises(DataError) as excinfo:
        load_workbook(book(here, {"learners": learners}))
    first, *rest = excinfo.value.diagnostics
    assert first.render() == (f"data.xlsx: note: 300 problems found; only the first "
                              f"{MAX_DIAGNOSTICS} are listed")
    assert len(rest) == MAX_DIAGNOSTICS
    assert [d.place for d in rest[:2]] == ["learners!E2", "learners!E3"]


def test_a_workbook_without_data_sheets_is_an_error(here: Path) -> None:
    path = book(here, {**dict.fromkeys(SHEETS), "Sheet1": [["a"]]})
    assert rendered(path) == (
        "data.xlsx: error: no data sheets in data.xlsx: expected providers, bootcamps, "
        "employers, engagements, learners, interviews, cofunding\n"
        "\n"
        "data.xlsx: warning: sheet 'Sheet1' is not a sheet of the data contract; it is ignored\n"
        "\n"
        "1 error"
    )


def test_a_file_that_is_not_a_workbook(here: Path) -> None:
    Path("notes.xlsx").write_text("learner_id,bootcamp_id\n")
    message = rendered("notes.xlsx")
    assert message.startswith("notes.xlsx: error: cannot read the workbook: it is not an "
                              ".xlsx file (")
    assert "hint: save it from Excel (or LibreOffice) as an Excel Workbook (.xlsx)" in message
    assert rendered("nowhere.xlsx") == "nowhere.xlsx: error: workbook does not exist\n\n1 error"


# --------------------------------------------------------------------------- the command line


def test_every_data_command_takes_a_workbook(here: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["template", "--out", "sample.xlsx", "--data", str(SAMPLE)]) == 0
    assert capsys.readouterr().out == \
        "wrote the datasheet template to sample.xlsx, filled with 150 learners\n"
    for args in (["evaluate", "--as-of", "2025-03-31", "--format", "json"],
                 ["explain", "learner_dropout", "--as-of", "2025-03-31"],
                 ["history", "--from", "2024-10", "--to", "2025-03"],
                 ["diff", "rules", "rules", "--as-of", "2025-03-31"]):
        assert main([*args, "--data", "sample.xlsx"]) == 0
        from_workbook = at_csv_lines(without_fingerprints(capsys.readouterr().out))
        assert main([*args, "--data", str(SAMPLE)]) == 0
        assert from_workbook == without_fingerprints(capsys.readouterr().out), args


def without_fingerprints(output: str) -> str:
    """A command's output without the data's fingerprint, which is of the files as read (the
    text ``1500.00`` in CSV, the number 1500 in a workbook): everything else must be equal."""
    return re.sub(r'("data": "|data )[0-9a-f]{12,64}', r"\1…", output)


def at_csv_lines(output: str) -> str:
    """JSON output with its findings about records of a workbook located as if the records
    had come from CSV files (they are at ``sample.xlsx``'s rows, ``learners!36:36``)."""
    return re.sub(r'"file": "sample.xlsx", "line": (\d+), "place": "(\w+)!\d+:\d+"',
                  r'"file": "\2.csv", "line": \1', output)


def test_template_command(here: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["template", "--out", "datasheet.xlsx"]) == 0
    assert capsys.readouterr().out == "wrote the datasheet template to datasheet.xlsx\n"
    assert openpyxl.load_workbook("datasheet.xlsx").sheetnames[0] == "instructions"
    assert main(["template", "--out", "datasheet.csv"]) == 2
    assert "give a name ending in .xlsx" in capsys.readouterr().err
    assert main(["template", "--out", "missing/datasheet.xlsx"]) == 2
    assert "cannot write the workbook missing/datasheet.xlsx" in capsys.readouterr().err


def test_a_bad_workbook_exits_1_with_its_cells(here: Path, capsys: pytest.CaptureFixture) -> None:
    learners = [list(r) for r in SHEETS["learners"]]
    learners[1][4] = "08/01/2024"
    path = book(here, {"learners": learners})
    assert main(["evaluate", "--data", path]) == 1
    assert capsys.readouterr().err == (
        "data.xlsx:learners!E2: error: start_date: '08/01/2024' is not a date\n"
        "  hint: dates are written YYYY-MM-DD: write 2024-01-08\n"
        "\n"
        "1 error\n"
    )


def test_generate_writes_a_workbook(here: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["generate", "--out", "gen.xlsx", "--learners", "40", "--seed", "3"]) == 0
    assert main(["generate", "--out", "gen", "--learners", "40", "--seed", "3"]) == 0
    assert load_workbook("gen.xlsx") == load_folder("gen")


@pytest.mark.parametrize("name", ["duckdb", "python"])
def test_an_engine_given_a_workbook_reads_it(name: str) -> None:
    """Engine.load takes a workbook as kpidsl.load_data does, not only through the API."""
    from kpidsl.engines.run import engine
    from kpidsl.plan.lower import lower

    plan, when = lower(fixture_rules()), [dt.date(2025, 3, 31)]
    assert engine(name).load(ROOT / "examples" / "sample.xlsx").results(plan, when) == \
        engine(name).load(SAMPLE).results(plan, when)


def test_findings_on_workbook_data_are_located_at_its_sheet_and_row(
        here: Path, capsys: pytest.CaptureFixture) -> None:
    """Issue 21, item 9: a finding about a record read from a workbook is located as the
    workbook's data errors are (book:sheet!row:row), in every output, never at a CSV file
    the provider does not have."""
    learners = [[*r, None] for r in SHEETS["learners"]]
    learners[0][-1] = "withdrawal_date"
    learners[1][-1] = D(2024, 2, 1)  # L1, on row 2: withdrawn and completed
    interviews = [list(r) for r in SHEETS["interviews"]]
    interviews[1][2] = D(2023, 12, 1)  # before L1's start
    path = book(here, {"learners": learners, "interviews": interviews}, name="book.xlsx")
    withdrawn = "the learner is recorded as both withdrawn and completed"
    early = "the interview is dated before the learner's start"

    assert main(["evaluate", "--data", path, "--as-of", "2025-03-31", "--format", "json"]) == 0
    found = {(f["record"], f["file"], f["line"], f["place"])
             for f in json.loads(capsys.readouterr().out)["findings"]}
    assert found == {("learner L1", "book.xlsx", 2, "learners!2:2"),
                     ("interview of L1", "book.xlsx", 2, "interviews!2:2")}

    assert main(["evaluate", "--data", path, "--as-of", "2025-03-31"]) == 0
    text = capsys.readouterr().out
    assert ("Data-quality findings: 2\n"
            "  book.xlsx:learners!2:2: learner L1: the learner is recorded as both\n"
            "      withdrawn and completed\n"
            "  book.xlsx:interviews!2:2: interview of L1: the interview is dated before the\n"
            "      learner's start\n") in text

    assert main(["evaluate", "--data", path, "--as-of", "2025-03-31", "--format", "html",
                 "--out", "report.html"]) == 0
    page = Path("report.html").read_text(encoding="utf-8")
    assert ('<tr><th scope="row">learner L1</th><td>book.xlsx:learners!2:2</td><td>B1 — Data</td>'
            f"<td>withdrawn_and_completed</td><td>{withdrawn}</td></tr>") in page

    assert main(["evaluate", "--data", path, "--as-of", "2025-03-31", "--format", "xlsx",
                 "--out", "report.xlsx"]) == 0
    sheet = openpyxl.load_workbook("report.xlsx")["findings"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert rows[0] == ["Rule", "Record", "Bootcamp", "What to look at", "Where"]
    assert ["withdrawn_and_completed", "learner L1", "B1", withdrawn,
            "book.xlsx:learners!2:2"] in rows
    assert ["interview_before_start", "interview of L1", "", early,
            "book.xlsx:interviews!2:2"] in rows
    capsys.readouterr()
