"""Auditable results: every report says what produced it, and an evidence bundle can be checked.

The fingerprints are checked against what an auditor computes without kpidsl (``sha256sum`` of
a data file) and by their properties (the same files anywhere give the same fingerprint; any
edit changes it), not against values kpidsl printed before.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

import kpidsl
from cohort import FIXTURE_RULES, LATE, completer, dataset, fixture_rules, withdrawn
from kpidsl.cli import main
from kpidsl.contract.records import RECORD_TYPES
from kpidsl.data.csvfiles import file_fingerprints, load_data, write_data

HEX64 = re.compile(r"[0-9a-f]{64}")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def sha256sums(folder: Path) -> str:
    """A data set's fingerprint as an auditor works it out: from ``sha256sum`` of each of the
    contract's files in ``folder`` (``-`` for a file not there)."""
    return hashlib.sha256("".join(
        f"{t.file} {hashlib.sha256((folder / t.file).read_bytes()).hexdigest()}\n"
        if (folder / t.file).exists() else f"{t.file} -\n"
        for t in RECORD_TYPES).encode()).hexdigest()


@pytest.fixture
def cohort_dir(tmp_path: Path) -> Path:
    """On B1, 1 of 5 Milestone 1 starters withdrew (learner_dropout met, 1/5)."""
    folder = tmp_path / "data"
    write_data(dataset([withdrawn("W"), *(completer(f"C{i}") for i in range(4))]), folder)
    return folder


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, folder)
    return folder


def edit_cell(folder: Path, file: str, row_id: str, changes: dict[str, str]) -> None:
    path = folder / file
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    (row,) = (r for r in rows if next(iter(r.values())) == row_id)
    row.update(changes)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


# ---- what every report carries ------------------------------------------------------------


def test_the_report_says_what_produced_it(cohort_dir):
    rules, data = fixture_rules(), load_data(cohort_dir)
    report = kpidsl.evaluate(rules, data, as_of=LATE)
    assert report.version == kpidsl.__version__ and report.engine == "python"
    assert HEX64.fullmatch(report.rules_fingerprint) and HEX64.fullmatch(report.data_fingerprint)
    assert report.audit() == {"kpidsl": kpidsl.__version__, "engine": "python",
                              "as_of": "2026-12-31", "rules": report.rules_fingerprint,
                              "data": report.data_fingerprint}
    assert json.loads(report.to_json())["audit"] == report.audit()


def test_the_table_footer_json_and_csv(capsys, cohort_dir):
    report = kpidsl.evaluate(fixture_rules(), load_data(cohort_dir), as_of=LATE)
    base = ["evaluate", "--data", str(cohort_dir), "--as-of", "2026-12-31"]
    code, out, _ = run(capsys, *base, "--engine", "duckdb")
    assert code == 0
    assert out.splitlines()[-2:] == [  # the engine that evaluated it
        f"Evaluated by kpidsl {kpidsl.__version__} (duckdb engine) as of 2026-12-31;",
        f"rules {report.rules_fingerprint[:12]}, data {report.data_fingerprint[:12]} "
        "(sha256 fingerprints, first digits)"]
    code, out, _ = run(capsys, *base, "--format", "json", "--kpi", "learner_dropout",
                       "--engine", "python")
    assert json.loads(out)["audit"] == report.audit()  # filters do not change what produced it
    code, out, _ = run(capsys, *base, "--format", "csv")
    assert "python" not in out and report.rules_fingerprint[:12] not in out  # plain rows


def test_a_data_file_fingerprint_is_its_sha256(cohort_dir):
    files = file_fingerprints(load_data(cohort_dir))
    assert files["learners.csv"] == hashlib.sha256(
        (cohort_dir / "learners.csv").read_bytes()).hexdigest()
    assert files["profiles.csv"] is None  # no such file


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_a_folder_has_the_fingerprint_of_its_files_as_they_are(cohort_dir, engine):
    # evaluate hashes the files as it starts, beside the evaluation: a hash is used only
    # while its file is as it was hashed (here, edited after an evaluation that failed)
    learners = (cohort_dir / "learners.csv").read_bytes()
    for failed in (kpidsl.DataError, kpidsl.UsageError):  # before the files are read, or after
        (cohort_dir / "learners.csv").write_bytes(learners.replace(b",B1,", b",B9,", 1))
        with pytest.raises(failed):
            kpidsl.evaluate(fixture_rules(), cohort_dir, as_of=LATE,
                            engine=engine if failed is kpidsl.DataError else "nonesuch")
        (cohort_dir / "learners.csv").write_bytes(learners)
        assert kpidsl.data_fingerprint(cohort_dir) == sha256sums(cohort_dir)
    report = kpidsl.evaluate(fixture_rules(), cohort_dir, as_of=LATE, engine=engine)
    assert report.data_fingerprint == sha256sums(cohort_dir)
    edit_cell(cohort_dir, "learners.csv", "W", {"withdrawal_date": ""})
    assert kpidsl.evaluate(fixture_rules(), cohort_dir, as_of=LATE,
                           engine=engine).data_fingerprint == sha256sums(cohort_dir)
    edit_cell(cohort_dir, "learners.csv", "W", {"withdrawal_date": "2026-06-30"})
    history = kpidsl.api.history_report(fixture_rules(), cohort_dir, "2026-11", "2026-12",
                                        engine=engine)  # a history hashes them as it starts too
    assert history.audit["data"] == sha256sums(cohort_dir)


def test_records_have_the_fingerprint_of_their_files(cohort_dir):
    records = dataset([withdrawn("W"), *(completer(f"C{i}") for i in range(4))])
    assert kpidsl.data_fingerprint(records) == kpidsl.data_fingerprint(load_data(cohort_dir))
    changed = dataset([withdrawn("W"), *(completer(f"C{i}") for i in range(3))])
    assert kpidsl.data_fingerprint(changed) != kpidsl.data_fingerprint(records)


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_records_evaluated_have_the_fingerprint_of_the_files_they_make(tmp_path, engine):
    # the DuckDB engine writes records out for itself, and fingerprints them on the way
    records = dataset([withdrawn("W"), *(completer(f"C{i}") for i in range(4))])
    report = kpidsl.evaluate(fixture_rules(), records, as_of=LATE, engine=engine)
    write_data(dataset([withdrawn("W"), *(completer(f"C{i}") for i in range(4))]), tmp_path)
    assert report.data_fingerprint == sha256sums(tmp_path)


def test_the_rules_fingerprint_follows_the_text_not_the_place(rules_copy, tmp_path):
    shipped = kpidsl.rules_fingerprint(fixture_rules())
    assert kpidsl.rules_fingerprint(kpidsl.load_rules(rules_copy)) == shipped  # another folder
    assert kpidsl.rules_fingerprint(kpidsl.load_rules(FIXTURE_RULES, tests=False)) == shipped  # tests: no figure
    for path in rules_copy.rglob("*.kpi"):  # Windows line ends
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert kpidsl.rules_fingerprint(kpidsl.load_rules(rules_copy)) == shipped
    dropout = rules_copy / "03_learner_dropout.kpi"
    dropout.write_text(dropout.read_text("utf-8").replace("Drop-Out", "Drop-out"), "utf-8")
    edited = kpidsl.rules_fingerprint(kpidsl.load_rules(rules_copy))
    assert edited != shipped  # a change to prose only is a change of the rule set
    dropout.rename(rules_copy / "03_dropout.kpi")
    assert kpidsl.rules_fingerprint(kpidsl.load_rules(rules_copy)) not in (shipped, edited)


# ---- evidence bundles ---------------------------------------------------------------------


def record(capsys, cohort_dir: Path, bundle: Path, *rules: str) -> None:
    code, _, err = run(capsys, "evaluate", "--data", str(cohort_dir), "--as-of", "2026-12-31",
                       "--record", str(bundle), "--kpi", "learner_dropout", *rules)
    assert code == 0, err


def test_a_bundle_holds_the_rules_the_report_and_the_fingerprints(capsys, cohort_dir, tmp_path):
    bundle = tmp_path / "evidence"
    record(capsys, cohort_dir, bundle)
    manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
    report = json.loads((bundle / "report.json").read_text("utf-8"))
    # the rules as evaluated (./rules, the fixture rules): not the tests beside them
    assert sorted(p.relative_to(bundle / "rules") for p in (bundle / "rules").rglob("*.kpi")) \
        == sorted(p.relative_to(FIXTURE_RULES) for p in FIXTURE_RULES.glob("*.kpi"))
    assert manifest["data"]["files"]["learners.csv"] == hashlib.sha256(
        (cohort_dir / "learners.csv").read_bytes()).hexdigest()
    assert manifest["rules"]["fingerprint"] == report["audit"]["rules"]
    assert (manifest["kpidsl"], manifest["engine"], manifest["as_of"]) == (
        kpidsl.__version__, "python", "2026-12-31")  # a small folder's default engine
    # the evidence holds every figure, whatever the filters of the command
    assert {r["kpi"] for r in report["results"]} > {"learner_dropout"}


def test_an_untouched_bundle_verifies(capsys, cohort_dir, tmp_path):
    bundle = tmp_path / "evidence"
    record(capsys, cohort_dir, bundle)
    code, out, err = run(capsys, "verify", str(bundle), "--data", str(cohort_dir))
    assert code == 0, err
    assert "data: as recorded" in out
    assert re.search(r"REPRODUCED: all \d+ results", out)
    outcome = kpidsl.verify(bundle, load_data(cohort_dir))
    assert outcome.reproduced and outcome.checked == len(outcome.report.results)


def test_one_edited_data_cell_names_the_changed_figure(capsys, cohort_dir, tmp_path):
    bundle = tmp_path / "evidence"
    record(capsys, cohort_dir, bundle)
    # completer C0 of B1 withdrew instead: drop-out on B1 becomes 2 of 5
    edit_cell(cohort_dir, "learners.csv", "C0",
              {"withdrawal_date": "2024-03-01", "completion_date": ""})
    code, out, _ = run(capsys, "verify", str(bundle), "--data", str(cohort_dir))
    assert code == 1
    assert "data: differs from the recorded data in learners.csv" in out
    first = next(line for line in out.splitlines() if line.startswith("NOT REPRODUCED"))
    assert first == ("NOT REPRODUCED: learner_dropout for bootcamp B1: recorded met, 1 of 5 "
                     "(target at most 20%); now not met, 2 of 5 (target at most 20%)")  # as tables print it


def test_data_that_differ_in_a_workbook_are_named_by_its_sheets(capsys, tmp_path):
    """A workbook has no ``learners.csv``: its changed data are named as its findings and
    errors are located, by the workbook and its sheet."""
    from kpidsl.data.datasheet import write_workbook

    learners = [withdrawn("W"), *(completer(f"C{i}") for i in range(4))]
    write_workbook(tmp_path / "book.xlsx", dataset(learners))
    write_workbook(tmp_path / "book2.xlsx", dataset(learners[::-1]))  # same records
    bundle = tmp_path / "evidence"
    code, _, err = run(capsys, "evaluate", "--data", str(tmp_path / "book.xlsx"), "--as-of",
                       "2026-12-31", "--record", str(bundle), "--kpi", "learner_dropout")
    assert code == 0, err
    book2 = str(tmp_path / "book2.xlsx")
    code, out, _ = run(capsys, "verify", str(bundle), "--data", book2)
    assert code == 1
    assert out.splitlines()[-2:] == [
        f"data: differs from the recorded data in {book2}:learners",
        f"NOT REPRODUCED: the data differ from the recorded data, in {book2}:learners; the "
        "figures are as recorded, but the evidence holds for the recorded data only "
        "(--figures-only compares the figures alone)"]
    assert kpidsl.verify(bundle, book2).data_changes == ("learners.csv",)


def test_data_that_differ_are_not_verified_where_the_figures_match(capsys, cohort_dir,
                                                                  tmp_path):
    """The evidence holds for the data recorded: another file with the same figures fails,
    unless only the figures are asked for, and then the output says the data differ."""
    bundle = tmp_path / "evidence"
    record(capsys, cohort_dir, bundle)
    # the file is written with Windows line ends: no record changes, so no figure does
    learners = cohort_dir / "learners.csv"
    learners.write_bytes(learners.read_bytes().replace(b"\n", b"\r\n"))  # same records
    code, out, _ = run(capsys, "verify", str(bundle), "--data", str(cohort_dir))
    assert code == 1
    assert out.splitlines()[-2:] == [
        "data: differs from the recorded data in learners.csv",
        "NOT REPRODUCED: the data differ from the recorded data, in learners.csv; the figures "
        "are as recorded, but the evidence holds for the recorded data only (--figures-only "
        "compares the figures alone)"]
    outcome = kpidsl.verify(bundle, cohort_dir)
    assert (outcome.reproduced, outcome.figures_reproduced, outcome.data_matched,
            outcome.data_changes) == (False, True, False, ("learners.csv",))
    code, out, _ = run(capsys, "verify", str(bundle), "--data", str(cohort_dir),
                       "--figures-only")
    checked = len(outcome.report.results)
    assert code == 0
    assert out.splitlines()[-1] == (
        f"REPRODUCED (figures only): all {checked} results, and the findings and actions, "
        "are as recorded, but the data differ from the recorded data, in learners.csv")
    assert kpidsl.verify(bundle, cohort_dir, figures_only=True).reproduced


def test_figures_that_differ_are_named_first_with_figures_only(capsys, cohort_dir, tmp_path):
    bundle = tmp_path / "evidence"
    record(capsys, cohort_dir, bundle)
    edit_cell(cohort_dir, "learners.csv", "C0",
              {"withdrawal_date": "2024-03-01", "completion_date": ""})
    code, out, _ = run(capsys, "verify", str(bundle), "--data", str(cohort_dir),
                       "--figures-only")
    assert code == 1
    assert out.splitlines()[3].startswith("NOT REPRODUCED: learner_dropout for bootcamp B1: ")


def test_a_bundle_of_a_database_compares_the_figures_and_says_so(capsys, tmp_path):
    import duckdb

    con = duckdb.connect()
    folder = Path(__file__).resolve().parents[1] / "examples" / "sample"
    kpidsl.evaluate(fixture_rules(), folder, as_of="2025-03-31", engine=con)  # loads it
    report = kpidsl.evaluate(fixture_rules(), None, as_of="2025-03-31", engine=con)
    bundle = kpidsl.record_evidence(report, fixture_rules(), None, tmp_path / "evidence")
    assert json.loads((bundle / "manifest.json").read_text("utf-8"))["data"] == {
        "fingerprint": "", "files": {}}
    outcome = kpidsl.verify(bundle, folder)  # the same data, now as files
    assert (outcome.reproduced, outcome.data_matched, outcome.data_changes) == (True, None, ())
    from kpidsl.tools.evidence import render

    assert render(outcome, "ev").splitlines()[2:] == [
        "data: a database's own tables when recorded, not fingerprinted: only the figures are "
        "compared",
        f"REPRODUCED: all {len(report.results)} results, and the findings and actions, are as "
        "recorded (the figures only: the recorded data have no fingerprint)"]


def test_edited_bundle_rules_are_named(capsys, cohort_dir, tmp_path):
    bundle = tmp_path / "evidence"
    record(capsys, cohort_dir, bundle)
    rule = bundle / "rules" / "03_learner_dropout.kpi"
    rule.write_text(rule.read_text("utf-8").replace("at most 20%", "at most 25%"), "utf-8")
    code, out, _ = run(capsys, "verify", str(bundle), "--data", str(cohort_dir))
    assert code == 1
    assert "NOT REPRODUCED: the bundle's rules were changed after they were recorded: " \
           "03_learner_dropout.kpi" in out


def test_a_bundle_is_never_overwritten(capsys, cohort_dir, tmp_path):
    bundle = tmp_path / "evidence"
    record(capsys, cohort_dir, bundle)
    code, out, err = run(capsys, "evaluate", "--data", str(cohort_dir), "--record", str(bundle))
    assert (code, out) == (2, "")
    assert f"{bundle} exists and is not an empty folder" in err


def test_verify_needs_a_bundle(capsys, cohort_dir, tmp_path):
    code, _, err = run(capsys, "verify", str(cohort_dir), "--data", str(cohort_dir))
    assert code == 1
    assert "manifest.json: error: not in the evidence bundle" in err


def test_history_and_explain_say_what_produced_them(capsys, cohort_dir):
    report = kpidsl.evaluate(fixture_rules(), load_data(cohort_dir), as_of=LATE)
    code, out, _ = run(capsys, "explain", "learner_dropout", "--data", str(cohort_dir),
                       "--as-of", "2026-12-31", "--format", "json", "--engine", "python")
    assert code == 0 and json.loads(out)["audit"] == report.audit()  # explained in Python
    on_duckdb = kpidsl.evaluate(fixture_rules(), cohort_dir, as_of=LATE, engine="duckdb")
    code, out, _ = run(capsys, "explain", "learner_dropout", "--data", str(cohort_dir),
                       "--as-of", "2026-12-31", "--format", "json", "--engine", "duckdb")
    assert code == 0 and json.loads(out)["audit"] == on_duckdb.audit()
    assert on_duckdb.audit()["engine"] == "duckdb"
    code, out, _ = run(capsys, "history", "--data", str(cohort_dir), "--from", "2026-11",
                       "--to", "2026-12", "--format", "json", "--engine", "python")
    audit = {k: v for k, v in report.audit().items() if k != "as_of"}  # each month has its own
    assert code == 0 and json.loads(out)["audit"] == audit
    code, out, _ = run(capsys, "history", "--data", str(cohort_dir), "--from", "2026-11",
                       "--to", "2026-12")
    assert out.splitlines()[-1].startswith(f"rules {report.rules_fingerprint[:12]}, data "
                                           f"{report.data_fingerprint[:12]}")


def test_data_the_engine_holds_itself_has_no_fingerprint():
    import duckdb

    from kpidsl.outputs.text import audit_lines

    con = duckdb.connect()
    folder = Path(__file__).resolve().parents[1] / "examples" / "sample"
    kpidsl.evaluate(fixture_rules(), folder, as_of="2025-03-31", engine=con)  # loads it
    report = kpidsl.evaluate(fixture_rules(), None, as_of="2025-03-31", engine=con)
    assert (report.engine, report.data_fingerprint) == ("duckdb", "")
    assert audit_lines(report)[1].startswith(f"rules {report.rules_fingerprint[:12]}, data "
                                             "(the engine’s own tables)")
