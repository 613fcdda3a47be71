"""Reading ILR returns (issue 18): the mapping to the contract's records, the rules' choices,
the merge with a datasheet, located errors, hostile XML, and the command line.

Returns are built here element by element (:func:`ilr`), in the shape of DfE's schema, so each
test states the facts it is about. DfE's own example return is read where ``../shared/ilr``
exists (CI has it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pytest

import kpidsl
import kpidsl.contract.records
from cohort import FIXTURE_RULES, fixture_rules
from ilrxml import SECRETS, aim, employed, fam, ilr, learner, write
from kpidsl.cli import main
from kpidsl.errors import DataError, RuleError, UsageError

D = dt.date.fromisoformat
SHARED_ILR = Path(__file__).resolve().parents[2] / "shared" / "ilr"
EXAMPLE = SHARED_ILR / "ILR-99999999-2526-20250108-094401.xml"
needs_example = pytest.mark.skipif(not EXAMPLE.exists(), reason="../shared/ilr is absent")


def read(*paths: Path, rules: kpidsl.RuleSet | None = None) -> kpidsl.Dataset:
    return kpidsl.load_data(list(paths), rules or fixture_rules())


def one(data: kpidsl.Dataset, learner_id: str) -> kpidsl.Learner:
    return next(x for x in data.learners if x.learner_id == learner_id)


def messages(data: kpidsl.Dataset) -> str:
    return "\n".join(d.message for d in data.notices)


# ---- the mapping ----------------------------------------------------------------------------

def test_a_bootcamp_learner_becomes_the_contracts_records(tmp_path: Path):
    text = ilr(
        learner("A1", aim(1, end="2024-12-20", status=2, ach="2025-01-10"),
                aim(2, ref="Z0009734", kind=3, end="2024-12-20", status=2),
                aim(3, ref="Z0059747", kind=3, start="2024-11-01", plan_end="2024-11-01",
                    end="2024-11-01", status=2)),
        learner("W1", aim(1, status=3, end="2024-10-01")),
        learner("W0", aim(1, status=3, end="2024-09-05")),
        learner("NOTSB", aim(1, ref="ZPROG001", fund=36)))
    data = read(write(tmp_path, "r.xml", text))
    a1 = one(data, "A1")
    assert (a1.bootcamp_id, a1.learner_type, a1.start_date) == (
        "XSB-10000001-A000001", "independent", D("2024-09-02"))
    # Milestone 1 is the rules' 7 days after the start; completion the later of the end of
    # training and the interview offer; the outcome the rules' default for the type
    assert a1.milestone1_date == D("2024-09-09")
    assert a1.completion_date == D("2024-12-20")
    assert (a1.outcome, a1.outcome_date) == ("new_job", D("2025-01-10"))
    assert [(i.learner_id, i.offer_date, i.employer_id, i.result) for i in data.interviews] == [
        ("A1", D("2024-11-01"), None, "pending")]
    assert one(data, "W1").withdrawal_date == D("2024-10-01")
    assert one(data, "W1").milestone1_date == D("2024-09-09")
    assert one(data, "W0").milestone1_date is None  # withdrew before Milestone 1
    assert {x.learner_id for x in data.learners} == {"A1", "W1", "W0"}
    assert "1 learner is not on a Skills Bootcamp" in messages(data)
    (b,) = data.bootcamps
    assert (b.provider_id, b.start_date, b.end_date, b.title, b.course_cost) == (
        "10000001", D("2024-09-02"), D("2024-12-20"), None, None)
    assert data.providers[0].ukprn == "10000001"


def test_learner_types_and_employers(tmp_path: Path):
    text = ilr(
        learner("CO", aim(1, fams=fam("FFI", "2")),
                status=employed("2024-08-01", "123456789", ("OET", "2"))),
        learner("BIG", aim(1, fams=fam("FFI", "2")), status=employed("2024-08-01", "987654321")),
        learner("UNK", aim(1, fams=fam("FFI", "2")), status=employed()),
        learner("SE", aim(1, fams=fam("FFI", "1")),
                status=employed("2024-08-01", "999999999", ("SEI", "1"))))
    data = read(write(tmp_path, "r.xml", text))
    assert {x.learner_id: (x.learner_type, x.employer_id) for x in data.learners} == {
        "CO": ("co_funded", "123456789"), "BIG": ("co_funded", "987654321"),
        "UNK": ("co_funded", None), "SE": ("self_employed", None)}
    # the rules' stand-ins for an SME (OET 2) and for an employer not flagged
    assert {e.employer_id: (e.employees, e.name) for e in data.employers} == {
        "123456789": (1, None), "987654321": (250, None)}
    assert "employer_id is missing (1 learner: UNK)" in messages(data)
    assert "employees is the rules' stand-in" in messages(data)


def test_evi_records_from_august_2025(tmp_path: Path):
    later = dict(start="2025-09-01", plan_end="2025-12-19")
    text = ilr(
        learner("E1", aim(1, fams=fam("EVI", "1", "2025-11-03") + fam("EVI", "4", "2025-10-01")
                          + fam("EVI", "9", "2025-10-02"), **later),
                aim(2, ref="Z0009734", kind=3, status=2, end="2025-12-01", **later)),
        learner("E2", aim(1, fams=fam("FFI", "2") + fam("EVI", "2", "2025-12-05"), **later),
                aim(2, ref="Z0009734", kind=3, status=2, end="2025-12-01", **later),
                status=employed("2025-08-01")),
        year="2025-26", prepared="2026-01-10")
    data = read(write(tmp_path, "r.xml", text))
    e1, e2 = one(data, "E1"), one(data, "E2")
    assert e1.completion_date == D("2025-12-01")  # training ended after the interview offer
    assert [i.offer_date for i in data.interviews] == [D("2025-11-03")]
    assert (e2.new_role_evidence_date, e2.completion_date) == (D("2025-12-05"), D("2025-12-05"))
    unnamed = [d for d in data.notices if "EVI code '9'" in d.message]
    assert len(unnamed) == 1 and unnamed[0].record_id == "E1" and unnamed[0].line
    assert "R_152" not in messages(data)  # the encoding fits the start date


def test_the_encoding_that_does_not_fit_the_start_is_read_and_reported(tmp_path: Path):
    text = ilr(learner("OLD", aim(1, fams=fam("EVI", "1", "2024-10-01"))),
               learner("NEW", aim(1, start="2025-09-01"),
                       aim(2, ref="Z0059747", kind=3, start="2025-10-01", end="2025-10-01",
                           status=2, plan_end="2025-10-01")), year="2025-26")
    data = read(write(tmp_path, "r.xml", text))
    assert sorted((i.learner_id, i.offer_date) for i in data.interviews) == [
        ("NEW", D("2025-10-01")), ("OLD", D("2024-10-01"))]
    assert "R_152" in messages(data) and "R_154" in messages(data)


def test_breaks_several_programmes_and_shared_references(tmp_path: Path):
    first = ilr(learner("B6", aim(1, status=6, end="2024-10-01")),
                learner("TWO", aim(1), aim(2, con="XSB-10000001-A000002")),
                learner("SAME", aim(1)))
    second = ilr(learner("SAME", aim(1, con="XSB-10000001-A000001")), ukprn="10000002")
    data = read(write(tmp_path, "a.xml", first), write(tmp_path, "b.xml", second))
    assert one(data, "B6").withdrawal_date is None  # a break is not a withdrawal
    ids = {x.learner_id: x.bootcamp_id for x in data.learners}
    assert ids["TWO/1"] == "10000001:XSB-10000001-A000001"
    assert ids["TWO/2"] == "XSB-10000001-A000002"
    assert ids["10000001:SAME"] == "10000001:XSB-10000001-A000001"
    assert ids["10000002:SAME"] == "10000002:XSB-10000001-A000001"
    text = messages(data)
    assert "break in learning (CompStatus 6), which is not a withdrawal (1 learner: B6)" in text
    assert "several programme aims" in text and "another provider uses too" in text
    assert "ConRefNumber of several providers" in text


def test_findings_name_their_records_in_order_and_count_in_words(tmp_path: Path):
    """Ids sorted (numbers by value) whatever the order of the return; one offer is "1
    interview offer", not "1 interview offers"."""
    text = ilr(*(learner(ref, aim(1, status=6, end="2024-10-01")) for ref in ("B10", "B2", "A1")),
               learner("I1", aim(1), aim(2, ref="Z0059747", kind=3, start="2024-11-01",
                                         plan_end="2024-11-01", end="2024-11-01", status=2)))
    found = messages(read(write(tmp_path, "r.xml", text)))
    assert "(3 learners: A1, B2, B10)" in found
    assert "1 interview offer comes from the ILR" in found and "offers come" not in found


def test_the_latest_return_of_a_provider_and_year_is_read(tmp_path: Path):
    early = ilr(learner("L1", aim(1)), prepared="2024-11-01", made="2024-11-01T08:00:00")
    late = ilr(learner("L1", aim(1, status=3, end="2025-01-15")), prepared="2025-02-01",
               made="2025-02-01T08:00:00")
    folder = tmp_path / "returns"
    write(folder, "ILR-10000001-2425-20250201-080000-03.xml", late)
    write(folder, "ILR-10000001-2425-20241101-080000-01.xml", early)
    data = read(folder)
    assert one(data, "L1").withdrawal_date == D("2025-01-15")
    assert "replaced by the later return ILR-10000001-2425-20250201" in messages(data)
    write(folder, "copy.xml", late)
    with pytest.raises(DataError, match="have the same date"):
        read(folder)


def test_a_learner_continuing_into_the_next_year_is_read_from_the_later_year(tmp_path: Path):
    y1 = ilr(learner("C1", aim(1, start="2025-06-02", plan_end="2025-09-30")),
             prepared="2025-07-31", made="2025-07-31T08:00:00")
    y2 = ilr(learner("C1", aim(1, start="2025-06-02", plan_end="2025-09-30", status=3,
                               end="2025-09-01")), year="2025-26", prepared="2025-10-15",
             made="2025-10-15T08:00:00")
    data = read(write(tmp_path, "y2.xml", y2), write(tmp_path, "y1.xml", y1))
    assert [(x.learner_id, x.withdrawal_date) for x in data.learners] == [
        ("C1", D("2025-09-01"))]


def test_personal_data_is_never_kept_or_written(tmp_path: Path, capsys):
    path = write(tmp_path, "r.xml", ilr(learner("P1", aim(1))))
    out = tmp_path / "out"
    assert main(["ilr", str(path), "--rules", str(FIXTURE_RULES), "--out", str(out)]) == 0
    written = "".join(p.read_text() for p in out.iterdir()) + "".join(capsys.readouterr())
    data = read(path)
    kept = repr(data) + repr(list(data.origins.values()))
    for secret in SECRETS:
        assert secret not in written and secret not in kept


# ---- the rules' choices ---------------------------------------------------------------------

def edited_rules(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, folder)
    path = folder / "ilr.kpi"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return folder


def test_the_funders_choices_are_rules(tmp_path: Path):
    returns = write(tmp_path, "r.xml", ilr(learner("A1", aim(1, ach="2025-01-10", status=2,
                                                              end="2024-12-20"))))
    rules = kpidsl.load_rules(edited_rules(tmp_path, "  7 days", "  2 weeks"))
    assert one(read(returns, rules=rules), "A1").milestone1_date == D("2024-09-16")
    rules = kpidsl.load_rules(edited_rules(tmp_path / "b", 'independent: "new_job"',
                                           'independent: "apprenticeship"'))
    assert one(read(returns, rules=rules), "A1").outcome == "apprenticeship"


def test_a_bad_choice_is_a_located_rule_error(tmp_path: Path):
    returns = write(tmp_path, "r.xml", ilr(learner("A1", aim(1))))
    rules = kpidsl.load_rules(edited_rules(tmp_path, 'independent: "new_job"',
                                           'independent: "new_jobs"'))
    with pytest.raises(RuleError) as e:
        read(returns, rules=rules)
    (d,) = e.value.diagnostics
    assert d.file.endswith("ilr.kpi") and d.line and d.column
    assert "'new_jobs' is not an outcome" in d.message and "new_job" in (d.hint or "")
    rules = kpidsl.load_rules(edited_rules(tmp_path / "b", 'new_role: {"2"}',
                                           'new_role: {"1"}'))
    with pytest.raises(RuleError, match="EVI code '1' is named for both"):
        read(returns, rules=rules)


def test_rules_without_the_choices_say_what_to_add(tmp_path: Path, capsys):
    returns = write(tmp_path, "r.xml", ilr(learner("A1", aim(1))))
    folder = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, folder)
    (folder / "ilr.kpi").unlink()
    with pytest.raises(RuleError) as e:
        read(returns, rules=kpidsl.load_rules(folder))
    (d,) = e.value.diagnostics  # one problem, said once: not one per table
    assert d.message == "reading ILR returns needs the tables ilr_event_codes, " \
        "ilr_milestone1_after, ilr_default_outcome, ilr_sme_employees, ilr_large_employees " \
        "in the rules"
    assert "copy ilr.kpi" in (d.hint or "")
    assert main(["evaluate", "--data", str(returns), "--rules", str(folder)]) == 1
    assert capsys.readouterr().err.count("needs the table") == 1
    with pytest.raises(UsageError, match="needs the rules"):
        kpidsl.load_data(returns)


# ---- with the datasheet ---------------------------------------------------------------------

def datasheet(folder: Path, **files: str) -> Path:
    for name, text in files.items():
        write(folder, f"{name}.csv", text)
    return folder


def test_the_datasheet_gives_what_the_ilr_lacks(tmp_path: Path):
    returns = write(tmp_path, "r.xml", ilr(
        learner("A1", aim(1, status=2, end="2024-12-20", ach="2025-01-10")),
        learner("A2", aim(1))))
    sheet = datasheet(
        tmp_path / "sheet",
        providers="provider_id,name,ukprn\nP1,Provider One,10000001\n",
        bootcamps="bootcamp_id,title,course_cost\nXSB-10000001-A000001,Data,1500.00\n",
        learners="learner_id,outcome,start_date,completion_date,bootcamp_id,learner_type\n"
                 "A1,apprenticeship,2024-09-02,2024-12-19,,\nA2,,2024-09-03,,,\n"
                 "A3,,2024-09-04,,XSB-10000001-A000001,independent\n",
        interviews="learner_id,employer_id,offer_date,actual_job,matches_skills\n"
                   "A1,E1,2024-11-01,true,true\n",
        employers="employer_id,name,employees\nE1,Employer,12\n")
    data = read(returns, sheet)
    a1, a2 = one(data, "A1"), one(data, "A2")
    assert (data.providers[0].provider_id, data.providers[0].name) == ("P1", "Provider One")
    assert data.bootcamps[0].provider_id == "P1"
    assert (data.bootcamps[0].title, str(data.bootcamps[0].course_cost)) == ("Data", "1500.00")
    assert (a1.outcome, a1.completion_date) == ("apprenticeship", D("2024-12-19"))
    assert a2.start_date == D("2024-09-02")  # the ILR holds it exactly: its value wins
    assert [(i.learner_id, i.employer_id) for i in data.interviews] == [("A1", "E1")]
    text = messages(data)
    assert "start_date is 2024-09-02 in r.xml: learner A2, aim 1, LearnStartDate but " \
        "2024-09-03 in the datasheet" in text
    conflict = next(d for d in data.notices if "2024-09-03" in d.message)
    assert conflict.file.endswith("learners.csv") and conflict.line == 3
    assert "in the datasheet but in no ILR return, kept (1 learner: A3)" in text
    assert (one(data, "A3").bootcamp_id, one(data, "A3").start_date) == (
        "XSB-10000001-A000001", D("2024-09-04"))


def test_a_record_only_in_the_datasheet_lacking_a_required_value_is_a_located_error(
        tmp_path: Path):
    """Nothing else gives what it lacks (it was kept without its bootcamp, and evaluating it
    failed inside the engine)."""
    returns = write(tmp_path, "r.xml", ilr(learner("A1", aim(1))))
    sheet = datasheet(tmp_path / "sheet", learners="learner_id,learner_type,start_date\n"
                      "A1,,\nS1,independent,2024-09-04\n")
    with pytest.raises(DataError) as e:
        read(returns, sheet)
    (d,) = e.value.diagnostics
    assert (d.file, d.line) == (str(sheet / "learners.csv"), 3)
    assert d.message == "learner S1: bootcamp_id: missing required value"
    assert "in no ILR return" in (d.hint or "")


def test_optional_fields_the_ilr_lacks_are_findings_until_a_column_gives_them(
        tmp_path: Path):
    """Assessments, skills gained and referrals: no rule requires them, but without them the
    KPIs that read them have nothing, so each column no source gives is a finding. A column
    of the datasheet gives them, an empty cell saying "not recorded"."""
    returns = write(tmp_path, "r.xml", ilr(learner("A1", aim(1)), learner("A2", aim(1))))
    fields = ("initial_assessment_date", "final_assessment_date", "skills_gained",
              "referral_date", "referral_kind")
    alone = messages(read(returns))
    for field in fields:
        assert f"{field} is missing (2 learners: A1, A2): the ILR does not hold it; the " \
            f"datasheet's learners sheet, column {field}, supplies it" in alone
    sheet = datasheet(tmp_path / "sheet", learners="learner_id,skills_gained,referral_date\n"
                      "A1,true,\nA2,,\n")
    found = messages(read(returns, sheet))
    assert [f for f in fields if f"{f} is missing" in found] == [
        "initial_assessment_date", "final_assessment_date", "referral_kind"]


def test_records_that_break_the_contract_once_merged_are_located(tmp_path: Path):
    returns = write(tmp_path, "r.xml", ilr(learner("A1", aim(1))))
    sheet = datasheet(tmp_path / "sheet", learners="learner_id,employer_id\nA1,NOBODY\n")
    with pytest.raises(DataError) as e:
        read(returns, sheet)
    (d,) = e.value.diagnostics
    assert d.file.endswith("learners.csv") and d.line == 2
    assert "no employer has employer_id 'NOBODY'" in d.message


def test_two_datasheets_are_a_usage_error(tmp_path: Path):
    a = datasheet(tmp_path / "a", learners="learner_id\nA1\n")
    b = datasheet(tmp_path / "b", learners="learner_id\nA1\n")
    with pytest.raises(UsageError, match="give one"):
        kpidsl.load_data([a, b])


def test_the_ilr_template_is_filled_with_what_the_returns_give(tmp_path: Path):
    """Ids, stand-ins and derived interviews: a column replaces the returns' value, so the
    template holds it, and its note says an empty cell is a missing value. Emptied, a cell
    is a finding."""
    openpyxl = pytest.importorskip("openpyxl")
    returns = write(tmp_path, "r.xml", ilr(
        learner("A1", aim(1, end="2024-12-20", status=2, ach="2025-01-10",
                          con="SBA-10000001-A1"),
                aim(2, ref="Z0059747", kind=3, start="2024-11-01", plan_end="2024-11-01",
                    end="2024-11-01", status=2, con="SBA-10000001-A1")),
        learner("CO", aim(1, fams=fam("FFI", "2")),
                status=employed("2024-08-01", "123456789", ("OET", "2")))))
    book = tmp_path / "sheet.xlsx"
    assert main(["template", "--ilr", str(returns), "--rules", str(FIXTURE_RULES),
                 "--out", str(book)]) == 0
    wb = openpyxl.load_workbook(book)

    def rows(sheet: str) -> list[dict[str, object]]:
        heads = [c.value for c in wb[sheet][1]]
        return [dict(zip(heads, (c.value for c in r), strict=True))
                for r in wb[sheet].iter_rows(min_row=2)]

    learners = {r["learner_id"]: r for r in rows("learners")}
    assert "start_date" not in learners["A1"]
    assert (learners["A1"]["outcome"], learners["CO"]["employer_id"]) == ("new_job",
                                                                          "123456789")
    assert [(r["bootcamp_id"], r["accelerated_apprenticeship"]) for r in rows("bootcamps")
            ] == [("SBA-10000001-A1", "true"), ("XSB-10000001-A000001", None)]
    assert [(r["employer_id"], r["employees"]) for r in rows("employers")] == [
        ("123456789", 1)]
    assert [(r["learner_id"], r["employer_id"], r["result"]) for r in rows("interviews")] == [
        ("A1", None, "pending")]
    notes = {c.value: c.comment.text for c in wb["learners"][1]}
    assert "leave blank" not in notes["outcome"] and "missing value" in notes["outcome"]
    assert "leave blank when not recorded" in notes["referral_date"]

    alone, back = read(returns), read(returns, book)
    for t in kpidsl.contract.records.RECORD_TYPES:
        assert back.of(t.name) == alone.of(t.name)
    assert "replace the returns' value" not in messages(back)

    heads = [c.value for c in wb["learners"][1]]
    row = next(r for r in wb["learners"].iter_rows(min_row=2) if r[0].value == "A1")
    row[heads.index("outcome")].value = None
    wb["bootcamps"].cell(2, [c.value for c in wb["bootcamps"][1]].index("title") + 1, "Cyber")
    wb.save(book)
    data = read(returns, book)
    assert one(data, "A1").outcome is None
    assert data.bootcamps[0].title == "Cyber"
    assert "outcome: the datasheet's empty cells replace the returns' value (1 learner: A1): " \
        "delete the column to keep the returns' values" in messages(data)


def test_the_ilr_template_handed_back_unchanged_gives_the_results_of_the_returns(
        tmp_path: Path):
    root = Path(__file__).resolve().parents[1] / "examples" / "ilr"
    book = tmp_path / "sheet.xlsx"
    assert main(["template", "--ilr", str(root), "--rules", str(FIXTURE_RULES),
                 "--out", str(book)]) == 0
    alone = kpidsl.evaluate(fixture_rules(), root, "2025-03-31")
    back = kpidsl.evaluate(fixture_rules(), [root, book], "2025-03-31")
    assert back.results == alone.results


def test_a_datasheets_interviews_that_leave_out_the_returns_offers_are_a_finding(
        tmp_path: Path):
    returns = write(tmp_path, "r.xml", ilr(learner("A1", aim(
        1, end="2024-12-20", status=2), aim(2, ref="Z0059747", kind=3, start="2024-11-01",
                                            plan_end="2024-11-01", end="2024-11-01",
                                            status=2))))
    sheet = datasheet(tmp_path / "sheet", interviews="learner_id,employer_id,offer_date,"
                      "actual_job,matches_skills\n")
    data = read(returns, sheet)
    assert data.interviews == ()
    assert "interviews sheet replaces the interview offers the ILR records, and leaves out " \
        "some (1 interview: A1 2024-11-01)" in messages(data)


# ---- errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "line", "expected"), [
    (ilr(learner("A1", aim(1, start="2024-13-01"))), 5,
     "Learner A1, aim 1: LearnStartDate: '2024-13-01' is not a date"),
    (ilr(learner("A-1", aim(1))), 5, "LearnRefNumber: 'A-1' is not 1 to 12 letters"),
    (ilr(learner("A1", aim(1, con="has space"))), 5, "ConRefNumber: 'has space' is not"),
    (ilr(learner("A1", aim(1)), year="2020-21"), 2, "ILR year 2020-21 is not supported"),
    ('<?xml version="1.0"?>\n<Other/>\n', 2, "not an ILR return: its root element is 'Other'"),
    (ilr(learner("A1", aim(1))).replace("</Learner>", "", 1), 6, "not well-formed XML"),
    ("col1,col2\n1,2\n", 1, "not well-formed XML"),
])
def test_a_bad_return_is_a_located_error(tmp_path: Path, text: str, line: int, expected: str):
    path = write(tmp_path, "r.xml", text)
    with pytest.raises(DataError) as e:
        read(path)
    (d,) = e.value.diagnostics
    assert (d.file, d.line) == (str(path), line)
    assert expected in d.message
    assert "Secret" not in e.value.render()


@pytest.mark.parametrize(("text", "expected", "hint"), [
    (ilr(learner("A1", aim(1, status=9))), "Learner A1, aim 1: CompStatus: 9 is not a code of "
     "the ILR specification", "expected 1 (continuing), 2 (completed), 3 (withdrawn) or 6 "
     "(break in learning), as the ILR specification lists them (CompStatus_01)"),
    (ilr(learner("A1", aim(1, kind=7))), "Learner A1, aim 1: AimType: 7 is not a code of the "
     "ILR specification", "expected 1 (programme aim), 3 (component aim), 4 (not part of a "
     "programme) or 5 (core aim), as the ILR specification lists them (AimType_01)"),
    (ilr(learner("A1", aim(1, start="20240902"))), "Learner A1, aim 1: LearnStartDate: "
     "'20240902' is not a date", "expected a date written YYYY-MM-DD"),
    (ilr(learner("A1", aim(1, fams=fam("EVI", "1", "01/10/2024")))), "Learner A1, aim 1: "
     "LearnDelFAMDateFrom: '01/10/2024' is not a date", "expected a date written YYYY-MM-DD"),
])
def test_a_value_the_ilr_specification_does_not_allow_is_located_with_what_it_allows(
        tmp_path: Path, text: str, expected: str, hint: str):
    """At the element's line and column: a code the specification does not list would be
    read as some meaning it may not have; a date not written as xs:date says how to write it."""
    path = write(tmp_path, "r.xml", text)
    with pytest.raises(DataError) as e:
        read(path)
    (d,) = e.value.diagnostics
    assert (d.file, d.line, d.message, d.hint) == (str(path), 5, expected, hint)
    name = expected.split(": ")[1]
    assert text.splitlines()[4][d.column - 1:].startswith(f"<{name}>")  # the column: its tag


def test_a_time_zone_on_a_date_is_as_the_schema_allows(tmp_path: Path):
    text = ilr(learner("A1", aim(1, start="2024-09-02Z", end="2024-12-20+01:00", status=2)))
    a1 = one(read(write(tmp_path, "r.xml", text)), "A1")
    assert a1.start_date == D("2024-09-02")


def test_a_learner_returned_twice_in_one_return_is_a_located_error(tmp_path: Path):
    """R_06: one would replace the other without a word."""
    path = write(tmp_path, "r.xml", ilr(learner("A1", aim(1)), learner("B1", aim(1)),
                                        learner("A1", aim(1, status=3, end="2024-10-01"))))
    with pytest.raises(DataError) as e:
        read(path)
    (d,) = e.value.diagnostics
    assert (d.file, d.line, d.column) == (str(path), 7, 1)
    assert d.message == "Learner A1: its LearnRefNumber is returned twice in this return, " \
        "here and at line 5"
    assert "R_06" in (d.hint or "")


GOOD = ilr(learner("A1", aim(1)))


@pytest.mark.parametrize(("text", "place", "expected", "hint"), [
    (GOOD.replace("<LearnRefNumber>A1", "<LearnRefNumber>R&D A1"), (5, 29),
     "not well-formed XML: an & that starts no entity XML defines", "writes & as &amp;"),
    (GOOD.replace("<LearnRefNumber>A1", "<LearnRefNumber>&nbsp;A1"), (5, 32),
     "not well-formed XML: an & that starts no entity XML defines", "writes & as &amp;"),
    ("", (1, 1), "the file is empty", "export the return again"),
    ("\n  \n", (1, 1), "the file is empty", "export the return again"),
    (GOOD[:GOOD.index("<LearnStartDate>") + 5], (5, 650),
     "the file ends before its XML does", "copy or export the return again, whole"),
    (GOOD.rstrip()[:-4], (6, 7), "the file ends before its XML does", "again, whole"),
    (GOOD.replace("</Learner>", "", 1), (6, 11),
     "not well-formed XML: Opening and ending tag mismatch", "is this that file"),
])
def test_xml_that_is_not_well_formed_is_located_with_a_hint(
        tmp_path: Path, capsys, text: str, place: tuple[int, int], expected: str, hint: str):
    """At the parser's first fatal error (lxml's own message may be a later one at 0:0),
    with what to do for the usual causes; no text of the file, not even an entity's name."""
    path = write(tmp_path, "r.xml", text)
    with pytest.raises(DataError) as e:
        read(path)
    (d,) = e.value.diagnostics
    assert (d.file, d.line, d.column) == (str(path), *place)
    assert expected in d.message and hint in (d.hint or "")
    assert main(["evaluate", "--data", str(path), "--rules", str(FIXTURE_RULES)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:{place[0]}:{place[1]}: error: ")
    assert "Traceback" not in err and "Secret" not in err and "nbsp" not in err


@pytest.mark.parametrize("head", [
    '<!DOCTYPE Message [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n',
    '<!DOCTYPE Message [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n',
    '<!DOCTYPE Message SYSTEM "http://example.org/ilr.dtd">\n',
])
def test_a_doctype_is_refused_before_anything_is_expanded_or_fetched(tmp_path: Path,
                                                                     head: str):
    text = ilr(learner("&b;&x;", aim(1)), head=head)
    path = write(tmp_path, "r.xml", text)
    with pytest.raises(DataError) as e:
        read(path)
    (d,) = e.value.diagnostics
    assert "declares a DOCTYPE" in d.message and d.line == 2


def test_deep_nesting_and_huge_text_are_refused(tmp_path: Path):
    deep = ilr(learner("A1", aim(1))).replace("</Message>", "<x>" * 300 + "</x>" * 300
                                              + "</Message>")
    with pytest.raises(DataError, match="not well-formed XML"):
        read(write(tmp_path, "deep.xml", deep))
    huge = ilr(learner("A" * 11_000_000, aim(1)))
    with pytest.raises(DataError) as e:
        read(write(tmp_path, "huge.xml", huge))
    assert len(e.value.render()) < 2_000


# ---- explain, engines, command line ----------------------------------------------------------

def test_explain_names_where_each_value_was_read(tmp_path: Path):
    returns = write(tmp_path, "r.xml", ilr(learner("W1", aim(1, status=3, end="2024-10-01"))))
    why = kpidsl.explain(fixture_rules(), returns, "learner_dropout", as_of="2025-06-30")
    (v,) = why.verdicts
    assert dict(v.sources)["withdrawal_date"] == \
        "r.xml: learner W1, aim 1, LearnActEndDate (CompStatus 3)"


def test_explain_names_the_datasheet_for_the_values_it_gives(tmp_path: Path):
    """Its row, as a return's element is named for the values the returns give; a column
    with an empty cell gives a missing value, and says where."""
    returns = write(tmp_path, "r.xml", ilr(
        learner("W1", aim(1, status=3, end="2024-10-01")), learner("C1", aim(1)),
        learner("E1", aim(1))))
    sheet = datasheet(tmp_path / "sheet", learners="learner_id,completion_date\n"
                      "C1,2024-12-20\nE1,\n")
    why = kpidsl.explain(fixture_rules(), [returns, sheet], "learner_dropout",
                         as_of="2025-06-30")
    sources = {v.record: dict(v.sources) for v in why.verdicts}
    assert sources["learner W1"] == {
        "withdrawal_date": "r.xml: learner W1, aim 1, LearnActEndDate (CompStatus 3)"}
    assert sources["learner C1"] == {"completion_date": "the datasheet: learners.csv, line 2"}
    assert sources["learner E1"] == {"completion_date": "the datasheet: learners.csv, line 3"}
    openpyxl = pytest.importorskip("openpyxl")
    book = tmp_path / "sheet.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "learners"
    for row in (("learner_id", "completion_date"), ("C1", "2024-12-20")):
        wb.active.append(row)
    wb.save(book)
    why = kpidsl.explain(fixture_rules(), [returns, book], "learner_dropout",
                         as_of="2025-06-30")
    assert {v.record: dict(v.sources) for v in why.verdicts}["learner C1"] == {
        "completion_date": "the datasheet: sheet.xlsx, sheet learners, row 2"}


def test_evidence_fingerprints_each_return_and_the_datasheet(tmp_path: Path, capsys):
    """Not only the records they make: a change to a file that changes no record is a
    change to what was read, and verify names the file."""
    returns = write(tmp_path / "returns", "r.xml", ilr(learner("A1", aim(1))))
    sheet = datasheet(tmp_path / "sheet", bootcamps="bootcamp_id,title\n"
                      "XSB-10000001-A000001,Data\n")
    data = ["--data", str(returns.parent), "--data", str(sheet)]
    bundle = tmp_path / "evidence"
    assert main(["evaluate", *data, "--rules", str(FIXTURE_RULES), "--as-of", "2025-03-31",
                 "--record", str(bundle)]) == 0
    files = json.loads((bundle / "manifest.json").read_text())["data"]["files"]
    sha = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (returns,
                                                                   sheet / "bootcamps.csv")}
    assert files["returns/r.xml"] == sha[returns]
    assert files["datasheet/bootcamps.csv"] == sha[sheet / "bootcamps.csv"]
    assert files["datasheet/learners.csv"] is None and "learners.csv" in files  # the records
    returns.write_text(returns.read_text().replace("</Message>", "<!-- -->\n</Message>"))
    (sheet / "bootcamps.csv").write_text("bootcamp_id,title\r\nXSB-10000001-A000001,Data\r\n")
    capsys.readouterr()
    assert main(["verify", str(bundle), *data]) == 1  # the same figures, not the same files
    out = capsys.readouterr().out
    assert "data: differs from the recorded data in datasheet/bootcamps.csv, returns/r.xml" \
        in out and "NOT REPRODUCED: the data differ" in out
    assert main(["verify", str(bundle), *data, "--figures-only"]) == 0  # the same records
    assert "REPRODUCED (figures only)" in capsys.readouterr().out


def test_every_engine_gives_the_same_results(tmp_path: Path):
    returns = write(tmp_path, "r.xml", ilr(
        learner("A1", aim(1, end="2024-12-20", status=2, ach="2025-01-10"),
                aim(2, ref="Z0059747", kind=3, start="2024-11-01", plan_end="2024-11-01",
                    end="2024-11-01", status=2)),
        learner("W1", aim(1, status=3, end="2024-10-01")),
        learner("CO", aim(1, fams=fam("FFI", "2")), status=employed())))
    reports = {e: kpidsl.evaluate(fixture_rules(), returns, "2025-06-30", engine=e)
               for e in ("python", "duckdb")}
    assert reports["python"].results == reports["duckdb"].results
    assert [f.message for f in reports["python"].findings] == \
        [f.message for f in reports["duckdb"].findings]


def test_the_command_line_reads_returns_with_their_datasheet(tmp_path: Path, capsys):
    write(tmp_path / "returns", "r.xml", ilr(learner("A1", aim(1))))
    sheet = datasheet(tmp_path / "sheet", bootcamps="bootcamp_id,title\n"
                      "XSB-10000001-A000001,Data\n")
    args = ["--rules", str(FIXTURE_RULES), "--as-of", "2025-06-30", "--format", "json"]
    assert main(["evaluate", "--data", str(tmp_path / "returns"), "--data", str(sheet),
                 *args]) == 0
    out = capsys.readouterr().out
    assert '"learner_dropout"' in out and "title is missing" not in out
    assert main(["evaluate", "--data", str(tmp_path / "returns"), *args]) == 0
    assert "title is missing" in capsys.readouterr().out
    bad = write(tmp_path, "bad.xml", "<Message")
    assert main(["evaluate", "--data", str(bad), *args]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:1:" in err and "Traceback" not in err


def test_a_folder_of_returns_and_contract_files_is_a_usage_error(tmp_path: Path, capsys):
    """Which it is, is decided by the contract's file names: another CSV file beside the
    returns leaves them returns; a contract file beside them is refused, saying what to do."""
    folder = tmp_path / "both"
    write(folder, "r.xml", ilr(learner("A1", aim(1))))
    write(folder, "my_export.csv", "a,b\n1,2\n")
    assert [x.learner_id for x in read(folder).learners] == ["A1"]
    write(folder, "learners.csv", "learner_id\nA1\n")
    with pytest.raises(UsageError, match=r"holds both ILR returns \(\.xml files\) and the "
                       r"data contract's CSV files \(learners\.csv\)"):
        read(folder)
    assert main(["evaluate", "--data", str(folder), "--rules", str(FIXTURE_RULES)]) == 2
    err = capsys.readouterr().err
    assert "--data RETURNS --data DATASHEET" in err and "Traceback" not in err


def test_kpidsl_ilr_takes_one_datasheet(tmp_path: Path, capsys):
    returns = write(tmp_path, "r.xml", ilr(learner("A1", aim(1))))
    sheet = datasheet(tmp_path / "sheet", bootcamps="bootcamp_id,title\n"
                      "XSB-10000001-A000001,Data\n")
    other = datasheet(tmp_path / "other", learners="learner_id\nA1\n")
    assert main(["ilr", str(returns), "--data", str(sheet), "--data", str(other),
                 "--rules", str(FIXTURE_RULES), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "--data was given 2 times" in err and "takes one datasheet" in err
    assert not (tmp_path / "out").exists()


def test_kpidsl_ilr_says_its_files_lack_what_the_datasheet_supplies(tmp_path: Path, capsys):
    returns = write(tmp_path, "r.xml", ilr(learner("A1", aim(1))))
    sheet = datasheet(tmp_path / "sheet", bootcamps="bootcamp_id,title\n"
                      "XSB-10000001-A000001,Data\n")
    rules = ["--rules", str(FIXTURE_RULES)]
    assert main(["ilr", str(returns), *rules, "--out", str(tmp_path / "alone")]) == 0
    out = capsys.readouterr().out
    assert "without their datasheet (--data) the files lack every value it supplies" in out
    with pytest.raises(DataError, match="title: missing required value"):
        kpidsl.load_data(tmp_path / "alone")  # as it says: not a data set on its own
    assert main(["ilr", str(returns), "--data", str(sheet), *rules,
                 "--out", str(tmp_path / "with")]) == 0
    assert "lack" not in capsys.readouterr().out


@needs_example
def test_dfes_example_return_converts():
    data = read(EXAMPLE)
    assert sorted(x.learner_id for x in data.learners) == ["SBLearner", "SBLearnerEV"]
    assert "17 learners are not on a Skills Bootcamp" in messages(data)
    ev = one(data, "SBLearnerEV")
    assert (ev.completion_date, ev.outcome_date) == (D("2025-03-30"), D("2025-04-03"))
    assert one(data, "SBLearner").completion_date is None
    kept = repr(data) + messages(data)
    for secret in ("Parker", "Acacia", "0121951234", "2001-01-28", "name-name@xyz.com"):
        assert secret not in kept


def test_worker_processes_report_a_bad_return_where_it_is(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch):
    import kpidsl.data.ilr as reader

    monkeypatch.setattr(reader, "SHARED_BYTES", 0)  # as if the returns were big
    text = ilr(learner("A1", aim(1)))
    good = write(tmp_path, "a.xml", text)
    bad = write(tmp_path, "b.xml", text.replace("10000001", "10000002").replace(
        "2024-09-02", "2024-13-02"))
    with pytest.raises(DataError) as e:
        read(good, bad)
    (d,) = e.value.diagnostics
    assert (d.file, d.line) == (str(bad), 5) and "'2024-13-02' is not a date" in d.message


@pytest.mark.parametrize("shared", [False, True])
def test_a_bad_return_is_reported_before_the_datasheet_read_beside_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared: bool):
    """The datasheet is read while the returns are (by worker processes, when they are big):
    its errors are raised only when the returns have none, as when it was read after them."""
    import kpidsl.data.ilr as reader

    if shared:
        monkeypatch.setattr(reader, "SHARED_BYTES", 0)
    text = ilr(learner("A1", aim(1)))
    good = write(tmp_path, "a.xml", text)
    bad = write(tmp_path, "b.xml", text.replace("10000001", "10000002").replace(
        "2024-09-02", "2024-13-02"))
    sheet = datasheet(tmp_path / "sheet", learners="learner_id,start_date\nA1,someday\n")
    with pytest.raises(DataError) as e:
        read(good, bad, sheet)
    (d,) = e.value.diagnostics
    assert d.file == str(bad) and "'2024-13-02' is not a date" in d.message
    with pytest.raises(DataError) as e:
        read(good, sheet)
    assert (str(sheet / "learners.csv"), 2) in [(d.file, d.line) for d in e.value.diagnostics]


def test_every_command_that_takes_data_takes_returns(tmp_path: Path, capsys):
    """history, diff, explain and verify (after evaluate --record) read returns with their
    datasheet as evaluate does."""
    root = Path(__file__).resolve().parents[1] / "examples" / "ilr"
    data = ["--data", str(root), "--data", str(root / "datasheet")]
    rules = ["--rules", str(FIXTURE_RULES)]
    bundle = tmp_path / "evidence"
    assert main(["evaluate", *data, *rules, "--as-of", "2025-03-31", "--record",
                 str(bundle)]) == 0
    assert main(["verify", str(bundle), *data]) == 0
    assert "REPRODUCED: all" in capsys.readouterr().out
    assert main(["history", *data, *rules, "--from", "2025-01", "--to", "2025-03",
                 "--kpi", "learner_dropout"]) == 0
    assert "learner_dropout" in capsys.readouterr().out
    assert main(["diff", str(FIXTURE_RULES), str(FIXTURE_RULES), *data,
                 "--as-of", "2025-03-31"]) == 0
    assert main(["explain", "learner_dropout", *data, *rules, "--as-of", "2025-03-31",
                 "--group", "BC0001", "--verdict", "counted"]) == 0
    assert "LearnActEndDate (CompStatus 3)" in capsys.readouterr().out
