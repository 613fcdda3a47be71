"""The command line: ``kpidsl check | evaluate | generate``, in-process and as a real process.

Exit codes (cli.py): 0 success, 1 rule or data errors, 2 usage errors, 3 internal error.
"""

from __future__ import annotations

import csv
import datetime as dt
import filecmp
import io
import json
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import kpidsl
import kpidsl.cli
import kpidsl.language.rulesets
from cohort import FIXTURE_RULES, completer, dataset, fixture_rules, interview, withdrawn
from kpidsl.api import rules_fingerprint
from kpidsl.cli import main
from kpidsl.data.csvfiles import load_data, write_data

BAD_RULE = 'kpi x:\n  title: "X"\n  populaton: learners\n'
DATA_FILES = ("providers.csv", "bootcamps.csv", "employers.csv", "engagements.csv",
              "learners.csv", "interviews.csv", "cofunding.csv")
RESULT_KEYS = {"kpi", "scope", "group", "status", "numerator", "denominator", "pending"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def bad_rules(tmp_path: Path) -> Path:
    folder = tmp_path / "bad_rules"  # its own folder: a file is checked with its siblings
    folder.mkdir()
    path = folder / "bad.kpi"
    path.write_text(BAD_RULE, encoding="utf-8")
    return path


@pytest.fixture
def cohort_dir(tmp_path: Path) -> Path:
    """A data folder: on B1, 1 of 5 Milestone 1 starters withdrew (learner_dropout met, 1/5)."""
    folder = tmp_path / "data"
    write_data(dataset([withdrawn("W"), *(completer(f"C{i}") for i in range(4))]), folder)
    return folder


# ---- check ------------------------------------------------------------------------------------


def test_check_shipped_rules(capsys):
    code, out, err = run(capsys, "check")
    assert code == 0, err
    fingerprint = rules_fingerprint(kpidsl.load_rules(FIXTURE_RULES))[:12]
    m = re.fullmatch(rf"Rules: rules \(fingerprint {fingerprint}\)\n"
                     r"(\d+) rule files OK: (\d+) KPIs, .*\n", out)
    assert m, out
    assert int(m.group(1)) == len(list(FIXTURE_RULES.rglob("*.kpi")))
    assert int(m.group(2)) >= 7
    assert err == ""


def test_check_a_bad_file(capsys, bad_rules: Path):
    code, out, err = run(capsys, "check", str(bad_rules))
    assert code == 1
    assert out == f"Rules: {bad_rules} (with errors)\n"  # which rules, even when they fail
    assert err == f"""\
{bad_rules}:3:3: error: unexpected `populaton`
  2 |   title: "X"
  3 |   populaton: learners
    |   ^^^^^^^^^
  hint: did you mean `population`?

1 error
"""


def test_check_a_missing_path(capsys, tmp_path: Path):
    missing = tmp_path / "nope.kpi"
    code, out, err = run(capsys, "check", str(missing))
    assert code == 2
    assert out == ""
    assert err == f"kpidsl check: error: {missing}: no such file or folder\n"


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out == f"kpidsl {kpidsl.__version__}\n"


def test_no_command_is_a_usage_error(capsys):
    code, _, err = run(capsys)
    assert code == 2
    assert "usage: kpidsl" in err


# ---- evaluate ---------------------------------------------------------------------------------


def test_evaluate_json(capsys, cohort_dir: Path):
    code, out, err = run(capsys, "evaluate", "--data", str(cohort_dir), "--as-of", "2026-12-31",
                         "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) >= {"as_of", "results", "findings", "actions"}  # KPI-SPEC §4
    assert doc["as_of"] == "2026-12-31"
    assert doc["findings"] == [] and doc["actions"] == []
    for r in doc["results"]:
        assert set(r) >= RESULT_KEYS
        assert r["scope"] in ("bootcamp", "provider", "programme")
        assert r["status"] in ("met", "not_met", "on_track", "at_risk", "no_data")
        assert all(isinstance(r[k], int) for k in ("numerator", "denominator", "pending"))
    row = {(r["kpi"], r["group"]): r for r in doc["results"]}
    b1 = row["learner_dropout", "B1"]
    assert (b1["scope"], b1["status"], b1["numerator"], b1["denominator"], b1["pending"]) == (
        "bootcamp", "met", 1, 5, 0)  # 1/5 = 20% ≤ 20%
    assert row["learner_dropout", "all"]["scope"] == "programme"
    assert row["learner_dropout", "P3"]["status"] == "no_data"  # a provider without bootcamps


def test_evaluate_table_fits_80_columns(capsys, cohort_dir: Path):
    code, out, err = run(capsys, "evaluate", "--data", str(cohort_dir), "--as-of", "2026-12-31")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Rules: rules (fingerprint ")
    assert lines[1] == "KPIs as of 2026-12-31"
    too_wide = [line for line in lines if len(line) > 80]
    assert too_wide == []
    dropout = lines.index(next(x for x in lines if x.startswith("learner_dropout")))
    assert "at most 20%" in lines[dropout]
    b1 = next(x for x in lines[dropout:] if x.split()[:2] == ["bootcamp", "B1"])
    assert b1.split()[2:4] == ["B1", "met"] and "20%" in b1  # B1's title is B1


def test_evaluate_table_with_many_actions_fits_80_columns(capsys, tmp_path: Path):
    # generated data long after every deadline: many long referral actions to list
    assert run(capsys, "generate", "--out", str(tmp_path / "g"), "--learners", "400",
               "--seed", "5")[0] == 0
    code, out, err = run(capsys, "evaluate", "--data", str(tmp_path / "g"),
                         "--as-of", "2026-06-30")
    assert code == 0, err
    assert "Follow-up actions" in out
    assert [line for line in out.splitlines() if len(line) > 80] == []


def test_evaluate_csv(capsys, cohort_dir: Path):
    code, out, err = run(capsys, "evaluate", "--data", str(cohort_dir), "--as-of", "2026-12-31",
                         "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and set(rows[0]) >= RESULT_KEYS | {"as_of"}
    report = kpidsl.evaluate(kpidsl.load_rules(FIXTURE_RULES), load_data(cohort_dir),
                             as_of=dt.date(2026, 12, 31))
    assert len(rows) == len(report.results)
    b1 = next(r for r in rows if (r["kpi"], r["group"]) == ("learner_dropout", "B1"))
    assert (b1["status"], b1["numerator"], b1["denominator"], b1["pending"]) == (
        "met", "1", "5", "0")


def test_evaluate_scope_filter(capsys, cohort_dir: Path):
    code, out, _ = run(capsys, "evaluate", "--data", str(cohort_dir), "--as-of", "2026-12-31",
                       "--scope", "programme")
    assert code == 0
    rows = [x.split()[0] for x in out.splitlines() if x.startswith("  ") and x.split()
            and x.split()[0] in ("bootcamp", "provider", "programme")]
    assert rows and set(rows) == {"programme"}


@pytest.mark.parametrize("bad", ["2025-13-01", "31/03/2025", "yesterday"])
def test_evaluate_bad_as_of_is_a_usage_error(capsys, cohort_dir: Path, bad: str):
    code, out, err = run(capsys, "evaluate", "--data", str(cohort_dir), "--as-of", bad)
    assert code == 2
    assert out == ""
    assert "--as-of" in err and bad in err
    assert "Traceback" not in err


def test_evaluate_missing_data_folder_is_a_usage_error(capsys, tmp_path: Path):
    code, _, err = run(capsys, "evaluate", "--data", str(tmp_path / "nope"))
    assert code == 2
    assert "no such file or folder" in err


def test_evaluate_bad_data_file(capsys, cohort_dir: Path):
    learners = cohort_dir / "learners.csv"
    lines = learners.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines[2].count("2024-01-01") == 1  # line 3, the second learner: its start_date
    lines[2] = lines[2].replace("2024-01-01", "2024-13-01")
    learners.write_text("".join(lines), encoding="utf-8")
    code, out, err = run(capsys, "evaluate", "--data", str(cohort_dir), "--as-of", "2026-12-31")
    assert code == 1
    assert out == ""  # nothing is evaluated on half the data
    assert f"{learners}:3:" in err
    assert "start_date" in err and "2024-13-01" in err
    assert "Traceback" not in err


def test_evaluate_with_a_bad_rules_folder(capsys, cohort_dir: Path, bad_rules: Path):
    code, out, err = run(capsys, "evaluate", "--data", str(cohort_dir), "--rules",
                         str(bad_rules.parent))
    assert code == 1
    assert out == ""
    assert f"{bad_rules}:3:3: error: unexpected `populaton`" in err


def test_evaluate_with_edited_rules(capsys, cohort_dir: Path, tmp_path: Path):
    rules = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, rules)
    (path,) = rules.glob("*learner_dropout.kpi")
    path.write_text(path.read_text(encoding="utf-8").replace("at most 20%", "at most 10%"),
                    encoding="utf-8")
    code, out, err = run(capsys, "evaluate", "--data", str(cohort_dir), "--rules", str(rules),
                         "--as-of", "2026-12-31", "--format", "json")
    assert code == 0, err
    row = next(r for r in json.loads(out)["results"]
               if (r["kpi"], r["group"]) == ("learner_dropout", "B1"))
    assert row["status"] == "not_met"  # 1/5 = 20% > 10%


# ---- generate ---------------------------------------------------------------------------------


def test_generate_writes_a_loadable_data_set_and_is_reproducible(capsys, tmp_path: Path):
    one, two = tmp_path / "one", tmp_path / "two"
    for out in (one, two):
        code, text, err = run(capsys, "generate", "--out", str(out), "--learners", "50",
                              "--seed", "3")
        assert code == 0, err
        assert text.startswith("wrote 50 learners")
    for name in DATA_FILES:
        assert (one / name).is_file(), name
    names = sorted(os.listdir(one))
    assert names == sorted(os.listdir(two))
    match, mismatch, errors = filecmp.cmpfiles(one, two, names, shallow=False)
    assert (sorted(match), mismatch, errors) == (names, [], [])
    data = load_data(one)
    assert len(data.learners) == 50


def test_generate_another_seed_differs(capsys, tmp_path: Path):
    for seed in ("3", "4"):
        assert run(capsys, "generate", "--out", str(tmp_path / seed), "--learners", "50",
                   "--seed", seed)[0] == 0
    a = (tmp_path / "3" / "learners.csv").read_bytes()
    b = (tmp_path / "4" / "learners.csv").read_bytes()
    assert a != b


def test_generate_negative_learners_is_a_usage_error(capsys, tmp_path: Path):
    code, _, err = run(capsys, "generate", "--out", str(tmp_path / "g"), "--learners", "-1")
    assert code == 2
    assert "--learners" in err


# ---- the real console script ------------------------------------------------------------------


def _commands() -> list[list[str]]:
    commands = [[sys.executable, "-m", "kpidsl"]]
    script = shutil.which("kpidsl")
    if script is not None:
        commands.append([script])
    return commands


@pytest.mark.parametrize("command", _commands(),
                         ids=lambda c: "python -m kpidsl" if len(c) > 1 else "kpidsl script")
def test_console_script(command: list[str], bad_rules: Path, cohort_dir: Path):
    def proc(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*command, *argv], capture_output=True, text=True, timeout=60)

    ok = proc("check")
    assert ok.returncode == 0, ok.stderr
    assert "rule files OK" in ok.stdout

    bad = proc("check", str(bad_rules))
    assert bad.returncode == 1
    assert f"{bad_rules}:3:3: error: unexpected `populaton`" in bad.stderr
    assert "Traceback" not in bad.stderr

    ev = proc("evaluate", "--data", str(cohort_dir), "--as-of", "2026-12-31", "--format", "json")
    assert ev.returncode == 0, ev.stderr
    doc = json.loads(ev.stdout)
    assert doc["as_of"] == "2026-12-31" and doc["results"]


def test_evaluate_json_findings_point_at_the_csv_line(capsys, tmp_path: Path):
    folder = tmp_path / "data"
    # learners.csv: header on line 1, A on line 2, WC on line 3; interviews.csv: A's on line 2
    write_data(dataset([completer("A"), completer("WC", withdrawal_date="2024-03-01")],
                       [interview("A", "2023-12-01")]), folder)
    code, out, err = run(capsys, "evaluate", "--data", str(folder), "--as-of", "2026-12-31",
                         "--format", "json")
    assert code == 0, err
    found = {(f["name"], f["record"], f["file"], f["line"])
             for f in json.loads(out)["findings"]}
    assert ("withdrawn_and_completed", "learner WC", "learners.csv", 3) in found
    assert any(name == "interview_before_start" and file == "interviews.csv" and line == 2
               for name, _, file, line in found)
    assert len(found) == 2


# ---- usage errors and shared group ids ------------------------------------------------------


@pytest.mark.parametrize("out", ["a_file", "/proc/nope"])
def test_generate_out_that_cannot_be_a_folder_is_a_usage_error(capsys, tmp_path: Path, out: str):
    if out == "a_file":
        out = str(tmp_path / "a_file")
        Path(out).write_text("already here\n", encoding="utf-8")
    code, stdout, err = run(capsys, "generate", "--out", out, "--learners", "5")
    assert code == 2 and stdout == ""
    assert err.startswith("kpidsl generate: error: ") and out in err
    assert "is a file" in err if out.endswith("a_file") else "cannot write the data set" in err


@pytest.mark.parametrize("bad", ["20250331", "2025W141", "2025-W14-1", "2025-3-31", "2025-03-31 "])
def test_as_of_must_be_written_yyyy_mm_dd(capsys, cohort_dir: Path, bad: str):
    code, out, err = run(capsys, "evaluate", "--data", str(cohort_dir), "--as-of", bad)
    assert code == 2 and out == ""
    assert f"{bad!r} is not a date; write YYYY-MM-DD" in err


@pytest.mark.parametrize(("start", "end", "said"), [
    ("2024_1", "2025-01", "'2024_1' is not a month"),
    ("+202-01", "2025-01", "'+202-01' is not a month"),
    ("2024-01", "9999-12", "'9999-12' is past the last month kpidsl can evaluate, 9999-11"),
    ("9999-12", "9999-12", "'9999-12' is past the last month kpidsl can evaluate, 9999-11"),
])
def test_history_months_are_yyyy_mm_with_an_end(capsys, cohort_dir: Path, start, end, said):
    code, out, err = run(capsys, "history", "--data", str(cohort_dir), "--from", start,
                         "--to", end)
    assert code == 2 and out == ""
    assert said in err and "Traceback" not in err


def test_history_says_what_produced_its_page_and_workbook_and_draws_only_svg(
        capsys, cohort_dir: Path, tmp_path: Path):
    """The history page and workbook name the engine and the fingerprints, as every report
    does; a chart is an SVG drawing, so another file name is refused."""
    import openpyxl

    months = ["--data", str(cohort_dir), "--from", "2024-01", "--to", "2024-03"]
    page = tmp_path / "h.html"
    assert run(capsys, "history", *months, "--format", "html", "--out", str(page),
               "--engine", "duckdb")[0] == 0
    assert "(duckdb engine)" in page.read_text(encoding="utf-8")
    book = tmp_path / "h.xlsx"
    assert run(capsys, "history", *months, "--format", "xlsx", "--out", str(book),
               "--engine", "python")[0] == 0
    subtitle = openpyxl.load_workbook(book)["trend"]["A2"].value
    assert "(python engine)" in subtitle and "rules " in subtitle
    code, _, err = run(capsys, "history", *months, "--chart", str(tmp_path / "c.png"))
    assert code == 2 and "give a name ending in .svg" in err
    code, out, err = run(capsys, "history", *months, "--format", "json", "--chart",
                         str(tmp_path / "c.svg"))
    assert code == 0 and json.loads(out)["months"] and "wrote the chart to" in err


def test_history_up_to_the_last_month_that_has_an_end(capsys, cohort_dir: Path):
    code, out, err = run(capsys, "history", "--data", str(cohort_dir), "--from", "9999-10",
                         "--to", "9999-11", "--format", "json", "--kpi", "learner_dropout",
                         "--group", "all")
    assert code == 0, err
    assert [m["as_of"] for m in json.loads(out)["months"]] == ["9999-10-31", "9999-11-30"]


@pytest.fixture
def shared_id_dir(tmp_path: Path) -> Path:
    """``X`` is both a bootcamp (of provider P1) and a provider (running bootcamp B2). On
    bootcamp X 1 of 2 starters withdrew; on B2 none of 3 did."""
    from kpidsl import Bootcamp, Dataset, Provider

    def camp(bootcamp_id: str, provider_id: str) -> Bootcamp:
        return Bootcamp(bootcamp_id=bootcamp_id, provider_id=provider_id, title=bootcamp_id,
                        start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 6, 30),
                        course_cost=Decimal("1000"))

    folder = tmp_path / "shared"
    write_data(Dataset(
        providers=[Provider(provider_id="P1", name="One"), Provider(provider_id="X", name="X")],
        bootcamps=[camp("X", "P1"), camp("B2", "X")],
        learners=[withdrawn("W1", bootcamp_id="X"), completer("C1", bootcamp_id="X"),
                  *(completer(f"C{i}", bootcamp_id="B2") for i in (2, 3, 4))],
    ), folder)
    return folder


def test_a_group_id_that_is_a_bootcamp_and_a_provider_needs_its_scope(capsys,
                                                                       shared_id_dir: Path):
    base = ["--data", str(shared_id_dir), "--as-of", "2026-12-31"]
    for argv in (["explain", "learner_dropout", *base],
                 ["history", *base[:2], "--from", "2026-12", "--to", "2026-12"]):
        code, out, err = run(capsys, *argv, "--group", "X")
        assert code == 2 and out == ""
        assert "X is both a bootcamp and a provider: write bootcamp:X or provider:X" in err

    code, out, err = run(capsys, "explain", "learner_dropout", *base, "--group", "bootcamp:X",
                         "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert (doc["result"]["scope"], doc["result"]["group"]) == ("bootcamp", "X")
    assert (doc["result"]["numerator"], doc["result"]["denominator"]) == (1, 2)
    assert sorted(r["record"] for r in doc["records"]) == ["learner C1", "learner W1"]

    code, out, err = run(capsys, "explain", "learner_dropout", *base, "--group", "provider:X")
    assert code == 0, err
    assert out.splitlines()[1].startswith("learner_dropout for provider X as of 2026-12-31: met")
    assert "3 records: 0 counted, 3 not counted" in out and "W1" not in out

    code, out, err = run(capsys, "history", *base[:2], "--from", "2026-11", "--to", "2026-12",
                         "--group", "provider:X", "--kpi", "learner_dropout", "--format", "json")
    assert code == 0, err
    results = [r for m in json.loads(out)["months"] for r in m["results"]]
    assert [(r["scope"], r["group"], r["denominator"]) for r in results] == \
        [("provider", "X", 3)] * 2
    code, out, err = run(capsys, "history", *base[:2], "--from", "2026-12", "--to", "2026-12",
                         "--group", "bootcamp:X")
    assert code == 0, err
    assert "bootcamp X" in out.splitlines()[1]

    code, out, err = run(capsys, "explain", "learner_dropout", *base, "--group", "B2")
    assert code == 0 and "learner_dropout for bootcamp B2" in out  # an id of one kind: as before
    code, out, err = run(capsys, "explain", "learner_dropout", *base, "--group", "P9")
    assert code == 2 and "the groups are all, B2, bootcamp:X, P1, provider:X" in err


# ---- each command does its work once ----------------------------------------------------------


def test_check_finds_the_rule_files_once(capsys, monkeypatch):
    rulesets = kpidsl.language.rulesets
    calls = []
    real = rulesets.rule_files
    monkeypatch.setattr(rulesets, "rule_files", lambda *a: calls.append(a) or real(*a))
    code, out, _ = run(capsys, "check")
    assert code == 0 and f"{len(real([Path('rules')]))} rule files OK" in out  # ./rules
    assert len(calls) == 1


def test_explain_evaluates_only_the_kpis(capsys, monkeypatch, cohort_dir: Path):
    import kpidsl.api
    import kpidsl.engines.duckdb

    def unwanted(*args, **kwargs):
        raise AssertionError("explain needs no findings or actions")

    monkeypatch.setattr(kpidsl.engines.duckdb.DuckDBEngine, "entries", unwanted)
    monkeypatch.setattr(kpidsl.api, "evaluate", unwanted)
    code, out, err = run(capsys, "explain", "learner_dropout", "--data", str(cohort_dir),
                         "--as-of", "2026-12-31", "--group", "B1")
    assert code == 0, err
    assert out.splitlines()[1].startswith("learner_dropout for bootcamp B1 as of 2026-12-31: met")


def test_explain_names_its_group_beside_its_id(capsys, cohort_dir: Path):
    """As the tables, the page and the workbook do (issue 21, item 8): the provider's name,
    and in Python the explanation's ``name``; a name that only repeats the id is left out."""
    code, out, err = run(capsys, "explain", "learner_dropout", "--data", str(cohort_dir),
                         "--as-of", "2026-12-31", "--group", "P1")
    assert code == 0, err
    assert out.splitlines()[1] == ("learner_dropout for provider P1 — One as of 2026-12-31: "
                                   "met (target: at most 20%)")
    why = kpidsl.explain(fixture_rules(), cohort_dir, "learner_dropout", group="B1",
                         as_of="2026-12-31")
    assert why.name == "B1"  # the cohort's bootcamps are titled by their ids
    code, out, err = run(capsys, "explain", "learner_dropout", "--data", str(cohort_dir),
                         "--as-of", "2026-12-31", "--group", "B1")
    assert out.splitlines()[1].startswith("learner_dropout for bootcamp B1 as of 2026-12-31:")


# ---- which rules: --rules, else ./rules, else the shipped rules ------------------------------


def test_every_command_uses_the_working_folders_rules(capsys, monkeypatch, tmp_path, cohort_dir):
    """A policy officer's edit in ./rules is what every command sees, and each says so."""
    work = tmp_path / "work"
    shutil.copytree(FIXTURE_RULES, work / "rules")
    rule = work / "rules" / "03_learner_dropout.kpi"
    rule.write_text(rule.read_text(encoding="utf-8").replace("at most 20%", "at most 15%"),
                    encoding="utf-8")
    monkeypatch.chdir(work)
    line = f"Rules: rules (fingerprint {rules_fingerprint(kpidsl.load_rules(work / 'rules'))[:12]})"
    base = ("--data", str(cohort_dir), "--as-of", "2026-12-31")
    for argv in (["check"], ["test"], ["evaluate", *base], ["explain", "learner_dropout", *base],
                 ["history", "--data", str(cohort_dir), "--from", "2026-12", "--to", "2026-12"]):
        _, out, err = run(capsys, *argv)
        assert out.splitlines()[0] == line, (argv, err)
    _, out, _ = run(capsys, "evaluate", *base)
    assert "learner_dropout  (target: at most 15%)" in out
    _, out, _ = run(capsys, "evaluate", *base, "--format", "json")
    assert json.loads(out)["rules"] == {"folder": "rules", "shipped": False,
                                        "fingerprint": line.split()[-1][:-1]}
    dropout = next(r for r in json.loads(out)["results"]
                   if (r["kpi"], r["group"]) == ("learner_dropout", "B1"))
    assert dropout["status"] == "not_met"  # 1 of 5 is over 15%


def test_inside_the_rules_folder_its_files_are_the_ones_used(capsys, monkeypatch, tmp_path):
    """A policy officer editing in rules/ (or in rules/tests/) gets that folder's errors, and
    the first line says which rules; a draft kept beside rules/ is named as not read."""
    work = tmp_path / "work"
    shutil.copytree(FIXTURE_RULES, work / "rules")
    rule = work / "rules" / "02_employer_cofunding.kpi"
    rule.write_text(rule.read_text(encoding="utf-8").replace("large: 30%", "large: 30"),
                    encoding="utf-8")
    monkeypatch.chdir(work / "rules")
    code, out, err = run(capsys, "check")
    assert code == 1
    assert out == f"Rules: this folder, {work / 'rules'} (with errors)\n"
    assert err.startswith("02_employer_cofunding.kpi:7:10: error: this value is an integer")
    monkeypatch.chdir(work / "rules" / "tests")
    code, out, err = run(capsys, "test")
    assert code == 1
    assert out == f"Rules: the rules above this folder, {work / 'rules'} (with errors)\n"
    assert err.startswith("../02_employer_cofunding.kpi:7:10: error:")
    rule.write_text(rule.read_text(encoding="utf-8").replace("large: 30", "large: 30%"),
                    encoding="utf-8")
    code, out, _ = run(capsys, "test")
    assert code == 0 and out.startswith(
        f"Rules: the rules above this folder, {work / 'rules'} (fingerprint ")
    (work / "draft.kpi").write_text("kpi draft:\n", encoding="utf-8")
    monkeypatch.chdir(work)
    code, out, err = run(capsys, "check")
    assert code == 0 and out.startswith("Rules: rules (fingerprint ")
    assert err == ("note: using rules/; this folder's own draft.kpi is not read (move it into "
                   "rules/, or type --rules . to use this folder's files instead)\n")


def test_rules_option_overrides_the_working_folder(capsys, tmp_path, cohort_dir):
    other = tmp_path / "other"
    shutil.copytree(FIXTURE_RULES, other, ignore=shutil.ignore_patterns("tests"))
    (other / "extra.kpi").write_text(
        "kpi everyone:\n  title: \"Everyone\"\n  population: learners\n  counted when: completion_date is set\n"
        "  target: at least 50%\n", encoding="utf-8")
    code, out, err = run(capsys, "explain", "everyone", "--data", str(cohort_dir), "--as-of",
                         "2026-12-31", "--rules", str(other))
    assert code == 0, err
    assert out.splitlines()[0].startswith(f"Rules: {other} (fingerprint ")
    assert out.splitlines()[1].startswith("everyone for the programme as of 2026-12-31: met")
    code, out, err = run(capsys, "check", "--rules", str(other))
    assert code == 0 and out.startswith(f"Rules: {other} ")
    code, _, err = run(capsys, "explain", "everyone", "--data", str(cohort_dir))
    assert code == 2 and "no KPI called 'everyone'" in err  # ./rules (the fixture) has none


def test_without_a_rules_folder_the_shipped_rules_are_used_and_named(capsys, monkeypatch,
                                                                    tmp_path, cohort_dir):
    installed = tmp_path / "site-packages" / "kpidsl" / "rules"  # as pip installs them
    shutil.copytree(FIXTURE_RULES, installed)
    monkeypatch.setattr(kpidsl.language.rulesets, "default_rules_path", lambda: installed)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # no rules/ here
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert out.splitlines()[0] == (f"Rules: the shipped rules, {installed} "
                                   f"(fingerprint {rules_fingerprint(fixture_rules())[:12]})")
    _, out, _ = run(capsys, "evaluate", "--data", str(cohort_dir), "--format", "json")
    assert json.loads(out)["rules"]["shipped"] is True
    monkeypatch.chdir(tmp_path)  # a project folder holding its virtual environment
    code, out, _ = run(capsys, "check")
    assert code == 0 and out.startswith("Rules: the shipped rules, site-packages/kpidsl/rules ")


def test_the_fingerprint_is_of_the_text_not_the_place(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(FIXTURE_RULES, a)
    shutil.copytree(FIXTURE_RULES, b)
    same = rules_fingerprint(kpidsl.load_rules(a))
    assert rules_fingerprint(kpidsl.load_rules(b)) == same
    assert re.fullmatch(r"[0-9a-f]{64}", same)
    rule = b / "03_learner_dropout.kpi"
    rule.write_text(rule.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8")
    assert rules_fingerprint(kpidsl.load_rules(b)) != same
    assert kpidsl.load_rules(b).origin == str(b)


def test_evaluate_table_names_each_group_and_says_what_a_measured_kpi_counts(capsys):
    """Issue 21, item 8: each group's name beside its id (a long one shortened to fit 80
    columns), and a KPI measured per provider shows its actual and planned starts as such."""
    sample = Path(__file__).resolve().parent.parent / "examples" / "sample"
    code, out, err = run(capsys, "evaluate", "--data", str(sample), "--as-of", "2025-03-31")
    assert code == 0, err
    lines = out.splitlines()
    assert [line for line in lines if len(line) > 80] == []
    at = lines.index("delivery_against_profile  (target: at least 85%)")
    assert lines[at + 1].split() == ["scope", "group", "name", "status", "rate", "actual",
                                     "planned"]
    assert lines[at + 3].split() == ["provider", "P001", "Walsall", "College", "met", "92%",
                                     "23", "25"]
    assert lines[at + 4].split()[:5] == ["provider", "P002", "Dudley", "Training", "Ltd"]
    at = lines.index("learner_dropout  (target: at most 20%)")
    assert lines[at + 1].split() == ["scope", "group", "name", "status", "rate", "decided",
                                     "k", "n", "pending"]
    bc3 = next(x for x in lines[at:] if x.split()[:2] == ["bootcamp", "BC0003"])
    title = "Retrofit and Green Construction (accelerated apprenticeship)"
    shown = bc3[bc3.index("BC0003") + 8:].split("  ")[0]  # cut to fit, with …
    assert shown.endswith("…") and title.startswith(shown[:-1]) and len(shown) >= 12
