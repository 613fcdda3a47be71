"""The command line a person expects: filters honoured in every format, help on every option,
"did you mean", spreadsheet-safe CSV, progress only at a terminal."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path

import pytest

import kpidsl.cli
import kpidsl.cli.terminal
from cohort import completer, dataset, withdrawn
from kpidsl.cli import main
from kpidsl.data.csvfiles import write_data

AS_OF = ["--as-of", "2026-12-31"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cohort_dir(tmp_path: Path) -> Path:
    """On B1, 1 of 5 Milestone 1 starters withdrew (learner_dropout met, 1/5); P1 runs B1."""
    folder = tmp_path / "data"
    write_data(dataset([withdrawn("W"), *(completer(f"C{i}") for i in range(4))]), folder)
    return folder


def evaluate_json(capsys, folder: Path, *options: str) -> list[dict[str, object]]:
    code, out, err = run(capsys, "evaluate", "--data", str(folder), *AS_OF, "--format", "json",
                         *options)
    assert code == 0, err
    return json.loads(out)["results"]


def evaluate_csv(capsys, folder: Path, *options: str) -> list[dict[str, str]]:
    code, out, err = run(capsys, "evaluate", "--data", str(folder), *AS_OF, "--format", "csv",
                         *options)
    assert code == 0, err
    return list(csv.DictReader(io.StringIO(out)))


# ---- filters ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_scope_is_honoured_in_json_and_csv(capsys, cohort_dir, fmt):
    rows = (evaluate_json if fmt == "json" else evaluate_csv)(capsys, cohort_dir, "--scope",
                                                              "programme")
    assert rows and {r["scope"] for r in rows} == {"programme"}


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_kpi_group_and_status_filters(capsys, cohort_dir, fmt):
    rows = (evaluate_json if fmt == "json" else evaluate_csv)(
        capsys, cohort_dir, "--kpi", "learner_dropout", "--kpi", "new_skills", "--group", "B1",
        "--group", "all")
    assert {(r["kpi"], r["group"]) for r in rows} == {
        ("learner_dropout", "B1"), ("learner_dropout", "all"), ("new_skills", "B1"),
        ("new_skills", "all")}
    everything = evaluate_json(capsys, cohort_dir)
    met = (evaluate_json if fmt == "json" else evaluate_csv)(capsys, cohort_dir, "--status",
                                                             "met")
    assert len(met) == sum(r["status"] == "met" for r in everything) > 0
    assert {r["status"] for r in met} == {"met"}


def test_filters_in_the_table(capsys, cohort_dir):
    code, out, err = run(capsys, "evaluate", "--data", str(cohort_dir), *AS_OF, "--kpi",
                         "learner_dropout", "--status", "met", "--group", "B1")
    assert code == 0, err
    rows = [line.split() for line in out.splitlines() if line.startswith("  ")
            and line.split()[0] in ("bootcamp", "provider", "programme")]
    assert rows == [["bootcamp", "B1", "B1", "met", "20%", "1", "5", "0"]]  # B1's title: B1
    assert [line for line in out.splitlines() if "(target:" in line] == [
        "learner_dropout  (target: at most 20%)"]


@pytest.mark.parametrize(("argv", "message"), [
    (["--kpi", "learner_dropuot"], "no KPI called 'learner_dropuot'; did you mean "
                                   "`learner_dropout`?"),
    (["--group", "BB1"], "no group 'BB1'; did you mean `B1`?"),
    (["--status", "mett"], "invalid choice: 'mett'"),
])
def test_a_bad_filter_is_a_usage_error(capsys, cohort_dir, argv, message):
    code, out, err = run(capsys, "evaluate", "--data", str(cohort_dir), *AS_OF, *argv)
    assert (code, out) == (2, "")
    assert message in err


def test_explain_filters_by_verdict(capsys, cohort_dir):
    base = ["explain", "learner_dropout", "--data", str(cohort_dir), *AS_OF, "--format", "json"]
    code, out, err = run(capsys, *base)
    assert code == 0, err
    every = json.loads(out)["records"]
    code, out, err = run(capsys, *base, "--verdict", "not_counted")
    assert code == 0, err
    chosen = json.loads(out)["records"]
    assert chosen == [r for r in every if r["verdict"] == "not counted"]
    assert len(chosen) == 4
    for printed in {r["verdict"] for r in every}:  # every spelling the JSON prints is taken
        code, out, err = run(capsys, *base, "--verdict", printed)
        assert code == 0, err
        assert json.loads(out)["records"] == [r for r in every if r["verdict"] == printed]
    code, out, err = run(capsys, *base[:-2], "--verdict", "counted")
    assert code == 0, err
    assert "learner W (B1): counted" in out and "learner C0" not in out


def test_history_filters_by_kpi_and_status(capsys, cohort_dir):
    code, out, err = run(capsys, "history", "--data", str(cohort_dir), "--from", "2026-11",
                         "--to", "2026-12", "--format", "json", "--kpi", "learner_dropout",
                         "--kpi", "new_skills", "--status", "met")
    assert code == 0, err
    months = json.loads(out)["months"]
    results = [r for m in months for r in m["results"]]
    assert results and {r["kpi"] for r in results} <= {"learner_dropout", "new_skills"}
    assert {r["status"] for r in results} == {"met"}


# ---- CSV for spreadsheets -----------------------------------------------------------------


def test_csv_rates_are_exact_and_a_percentage(capsys, cohort_dir):
    rows = evaluate_csv(capsys, cohort_dir, "--kpi", "learner_dropout")
    b1 = next(r for r in rows if r["group"] == "B1")
    assert (b1["rate"], b1["rate_percent"]) == ("1 of 5", "20%")  # never 1/5: the 1st of May
    assert all("/" not in r["rate"] for r in rows)
    empty = next(r for r in rows if r["group"] == "P3")  # a provider without bootcamps
    assert (empty["rate"], empty["rate_percent"], empty["status"]) == ("", "", "no_data")


def test_json_rates_are_exact_and_a_percentage(capsys, cohort_dir):
    b1 = next(r for r in evaluate_json(capsys, cohort_dir, "--kpi", "learner_dropout")
              if r["group"] == "B1")
    assert (b1["rate"], b1["rate_percent"]) == ("1/5", "20%")


# ---- generate -----------------------------------------------------------------------------


@pytest.mark.parametrize("n", ["0", "-5"])
def test_generate_needs_at_least_one_learner(capsys, tmp_path, n):
    code, out, err = run(capsys, "generate", "--out", str(tmp_path / "g"), "--learners", n)
    assert (code, out) == (2, "")
    assert err == f"kpidsl generate: error: --learners must be at least 1, not {n}\n"
    assert not (tmp_path / "g").exists()


# ---- help ---------------------------------------------------------------------------------


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = kpidsl.cli.parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_option_has_help_and_says_its_default(command):
    for action in _commands()[command]._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"{command} {action.option_strings or action.dest}: no help"
        takes_a_value = action.nargs != 0  # not a flag, which is off unless given
        if action.option_strings and not action.required and takes_a_value:
            assert "default" in action.help, f"{command} {action.option_strings}: no default"


def test_generate_help_shows_the_defaults(capsys):
    code, out, _ = run(capsys, "generate", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "(default: 1000)" in text and "(default: 0)" in text


# ---- did you mean -------------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "message"), [
    (["evalute"], "invalid choice: 'evalute'"),
    (["evaluate", "--data", "x", "--format", "tabel"], "invalid choice: 'tabel'"),
    (["evaluate", "--data", "x", "--sope", "bootcamp"], "unrecognized arguments: --sope"),
    (["history", "--data", "x", "--from", "2025-01", "--to", "2025-02", "--grop", "all"],
     "unrecognized arguments: --grop"),
])
def test_misspelt_commands_and_options_get_a_suggestion(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    expected = {"evalute": "`evaluate`", "tabel": "`table`", "--sope": "`--scope`",
                "--grop": "`--group`"}
    word = next(w for w in expected if w in argv)
    assert message in err and f"did you mean {expected[word]}?" in err


# ---- progress -----------------------------------------------------------------------------


def _history(capsys, folder: Path) -> tuple[int, str, str]:
    return run(capsys, "history", "--data", str(folder), "--from", "2026-09", "--to", "2026-12")


def test_no_progress_when_stderr_is_not_a_terminal(capsys, cohort_dir, monkeypatch):
    monkeypatch.setattr(kpidsl.cli.terminal, "PROGRESS_AFTER", 0.0)
    code, _, err = _history(capsys, cohort_dir)
    assert code == 0 and err == ""


def test_progress_at_a_terminal_for_slow_work(capsys, cohort_dir, monkeypatch):
    import time

    import kpidsl.api

    real = kpidsl.api.run

    def slow_run(*args, **kw):  # what history_report evaluates with
        time.sleep(0.5)
        return real(*args, **kw)

    monkeypatch.setattr(kpidsl.api, "run", slow_run)
    monkeypatch.setattr(kpidsl.cli.terminal, "PROGRESS_AFTER", 0.05)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, _, err = _history(capsys, cohort_dir)
    assert code == 0
    assert err == "\rkpidsl: evaluating 2026-09 to 2026-12…\r\x1b[K"  # cleared when done


def test_slow_evaluation_shows_progress_at_a_terminal(capsys, cohort_dir, monkeypatch):
    import time

    import kpidsl.api

    real = kpidsl.api.evaluate

    def slow_evaluate(*args, **kw):
        time.sleep(0.5)
        return real(*args, **kw)

    monkeypatch.setattr(kpidsl.api, "evaluate", slow_evaluate)
    monkeypatch.setattr(kpidsl.cli.terminal, "PROGRESS_AFTER", 0.05)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = run(capsys, "evaluate", "--data", str(cohort_dir), *AS_OF)
    assert code == 0 and out.splitlines()[1] == "KPIs as of 2026-12-31"
    assert err == "\rkpidsl: evaluating…\r\x1b[K"


@pytest.mark.parametrize("command", ["evaluate", "explain", "history", "diff", "verify"])
def test_data_help_names_the_databases_it_takes(capsys, command):
    """Every --data evaluates in a database too (issue 19): its help says so, with the URLs."""
    code, out, _ = run(capsys, command, "--help")
    text = " ".join(out.split())
    assert code == 0
    assert "postgresql://user@host/db" in text and "sqlite:///file.db" in text
    assert "duckdb:///file.duckdb" in text
    assert "on a data folder" not in text


def test_a_status_or_scope_is_taken_as_the_tables_print_it(capsys, cohort_dir):
    """Issue 21, item 1: ``--status "not met"``, as the table prints it, is ``not_met``; the
    command line reads the words as ``Report.select`` does."""
    assert evaluate_json(capsys, cohort_dir, "--status", "not met", "--scope", "Bootcamp") == \
        evaluate_json(capsys, cohort_dir, "--status", "not_met", "--scope", "bootcamp") != []
