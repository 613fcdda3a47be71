"""Regression tests for hostile and careless inputs (issue 11): each case once broke a promise —
no hang, no internal error, no silent loss, every error located."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import pytest

import kpidsl
from cohort import FIXTURE_RULES, fixture_rules
from kpidsl import limits
from kpidsl.cli import main
from kpidsl.engines.python import reused_definitions
from kpidsl.language.parser import parse
from kpidsl.plan.lower import lower

D = dt.date
SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample"
AS_OF = ["--as-of", "2025-03-31"]


def _shipped(tmp_path: Path, extra: str | None = None) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, folder)
    if extra is not None:
        (folder / "extra.kpi").write_text(extra, encoding="utf-8")
    return folder


def _sample(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    return data


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---- High ------------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_old_mac_and_windows_line_ends_keep_every_kpi(tmp_path, newline):
    """A CR-only file whose first line is a comment was one long comment: the KPI vanished."""
    rules = _shipped(tmp_path)
    path = rules / "03_learner_dropout.kpi"
    path.write_bytes(path.read_bytes().replace(b"\n", newline.encode()))
    loaded = kpidsl.load_rules(rules)
    assert "learner_dropout" in [k.name for k in loaded.kpis]
    report = kpidsl.evaluate(loaded, kpidsl.load_data(SAMPLE), as_of=D(2025, 3, 31))
    assert report.result("learner_dropout").denominator > 0


def test_cr_only_line_ends_locate_errors_on_the_right_line(tmp_path):
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "x.kpi").write_bytes(b"# one\r# two\rdefine x for learner: completon_date is set\r")
    with pytest.raises(kpidsl.RuleError) as e:
        kpidsl.load_rules(folder)
    assert "x.kpi:3:23: error: unknown name `completon_date`" in e.value.render()


_CHAIN = "define c0 for learner: completion_date is set\n" + "".join(
    f"define c{i} for learner: c{i - 1} or c{i - 1}\n" for i in range(1, 26))
_CONSUMERS = {
    "finding": 'finding deep:\n  message: "m"\n  for: learners where c25\n',
    "action": 'action deep:\n  message: "m"\n  for: learners where c25\n',
    "measure": ('kpi deep:\n  title: "T"\n  per: provider\n'
                '  actual: count(learners where c25)\n  planned: count(learners)\n'
                '  target: at least 50%\n'),
}


@pytest.mark.parametrize("consumer", sorted(_CONSUMERS))
def test_a_definition_chain_is_remembered_for_every_consumer(tmp_path, consumer, capsys):
    """`c25` would take 2**25 steps per learner unless each `c` is remembered; before the fix
    only KPI clauses shared them, and a finding, an action or a measure ran for ever."""
    rules = kpidsl.load_rules(_shipped(tmp_path, _CHAIN + _CONSUMERS[consumer]))
    assert {("learner", f"c{i}") for i in range(1, 25)} <= reused_definitions(lower(rules))
    code, out, _ = _run(capsys, "evaluate", "--data", str(SAMPLE), "--rules",
                        str(tmp_path / "rules"), *AS_OF, "--format", "json")
    assert code == 0 and "deep" in out


def test_explain_remembers_the_chain_too(tmp_path, capsys):
    rules = _shipped(tmp_path, _CHAIN + 'kpi deep:\n  title: "T"\n  population: learners\n'
                     '  counted when: c25\n  target: at least 1%\n')
    code, out, _ = _run(capsys, "explain", "deep", "--data", str(SAMPLE), "--rules", str(rules),
                        *AS_OF)
    assert code == 0 and "counted" in out


@pytest.mark.parametrize("kind", ["dangling", "looping", "fifo", "device"])
def test_a_data_file_that_is_not_a_regular_file_is_refused(tmp_path, kind, capsys):
    """A broken link was read as an absent file (exit 0, co-funding changed); a FIFO blocked
    for ever; a link to /dev/zero ate all memory."""
    data = _sample(tmp_path)
    target = data / "cofunding.csv"
    target.unlink()
    if kind == "dangling":
        target.symlink_to(data / "nowhere.csv")
        why = f"it is a symbolic link to {data / 'nowhere.csv'}, which does not exist"
    elif kind == "looping":
        target.symlink_to(target)
        why = "it is a symbolic link that leads back to itself"
    elif kind == "fifo":
        os.mkfifo(target)
        why = "it is a named pipe (FIFO), not a regular file"
    else:
        target.symlink_to("/dev/zero")
        why = "it is a device, not a regular file"
    code, out, err = _run(capsys, "evaluate", "--data", str(data), *AS_OF)
    assert code == 1 and out == ""
    assert f"{target}: error: cannot read the file: {why}" in err


def test_a_rule_file_that_is_a_fifo_is_refused(tmp_path, capsys):
    rules = _shipped(tmp_path)
    os.mkfifo(rules / "pipe.kpi")
    code, _, err = _run(capsys, "check", str(rules))
    assert code == 1
    assert f"{rules / 'pipe.kpi'}: error: cannot read the rule file: it is a named pipe" in err


# ---- Medium ----------------------------------------------------------------------------


def test_explain_a_measure_with_no_tolerance_in_force(capsys):
    """On 30 September 2020 the point judged (R12 of 2019/20) predates every tolerance."""
    code, out, err = _run(capsys, "explain", "delivery_against_profile", "--data", str(SAMPLE),
                          "--as-of", "2020-09-30")
    assert (code, err) == (0, "")
    assert "as of 2020-09-30: no data (target: at least –)" in out
    code, out, err = _run(capsys, "evaluate", "--data", str(SAMPLE), "--as-of", "2020-09-30",
                          "--format", "json", "--explain")
    assert (code, err) == (0, "")


def test_history_chart_over_months_with_no_target(tmp_path, capsys):
    chart = tmp_path / "c.svg"
    code, _, err = _run(capsys, "history", "--data", str(SAMPLE), "--from", "2020-07",
                        "--to", "2020-11", "--chart", str(chart))
    assert (code, err) == (0, f"wrote the chart to {chart}\n")  # and nothing else
    assert chart.read_text(encoding="utf-8").startswith("<svg")


def _set_cell(path: Path, column: str, row: int, value: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(column)] = value
    lines[row] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("cell", ["1E+999999999999", "1E+99999999", "9" * 41])
def test_a_huge_amount_is_a_short_located_error(tmp_path, capsys, cell):
    """The first ran out of memory, the second printed a 100 MB message."""
    data = _sample(tmp_path)
    _set_cell(data / "bootcamps.csv", "course_cost", 1, cell)
    code, out, err = _run(capsys, "evaluate", "--data", str(data), *AS_OF)
    assert code == 1 and out == ""
    assert f"{data / 'bootcamps.csv'}:2:" in err and "course_cost: " in err
    assert max(map(len, err.splitlines())) < 500


def test_integers_within_the_limit_add_up_to_something_every_format_prints(tmp_path, capsys):
    """4,300-digit integers loaded, and their sum could not be printed (exit 3)."""
    data = _sample(tmp_path)
    lines = (data / "profiles.csv").read_text(encoding="utf-8").splitlines()
    big = "9" * limits.MAX_DIGITS
    rows = [line.rsplit(",", 1)[0] + "," + big for line in lines[1:]]
    (data / "profiles.csv").write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")
    for fmt in ("table", "json", "csv"):
        code, out, err = _run(capsys, "evaluate", "--data", str(data), *AS_OF, "--format", fmt)
        assert (code, err) == (0, "")
        assert re.search(r"[0-9]{41}", out)  # the programme's planned starts, printed whole
    code, _, err = _run(capsys, "explain", "delivery_against_profile", "--data", str(data),
                          *AS_OF)
    assert (code, err) == (0, "")
    _set_cell(data / "profiles.csv", "planned_starts", 1, "9" * (limits.MAX_DIGITS + 1))
    code, _, err = _run(capsys, "evaluate", "--data", str(data), *AS_OF)
    assert code == 1 and "has 41 digits; at most 40 are allowed" in err


def test_fmt_on_repeated_unary_minus(tmp_path, capsys):
    """Each minus laid its operand out twice: 2**n."""
    path = tmp_path / "neg.kpi"
    path.write_text("define n: " + "-" * 90 + "1\n", encoding="utf-8")
    assert _run(capsys, "fmt", str(path))[0] == 0
    formatted = path.read_text(encoding="utf-8")
    assert formatted == "define n:\n  " + "- " * 89 + "-1\n"  # too long for one line
    assert parse(formatted) == parse("define n: " + "-" * 90 + "1\n")


def test_a_classification_with_many_cases_checks(tmp_path):
    cases = "".join(f"  c{i} when employees = {i}\n" for i in range(2000))
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "x.kpi").write_text(f"define size for employer:\n{cases}  c5 when employees = 0\n"
                                  "  other otherwise\n", encoding="utf-8")
    with pytest.raises(kpidsl.RuleError) as e:
        kpidsl.load_rules(folder)
    assert [d.message for d in e.value.diagnostics] == ["label `c5` is used twice"]
    assert e.value.diagnostics[0].line == 2002


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_output_to_a_stdout_that_cannot_encode_it(encoding):
    import subprocess
    import sys

    env = {**os.environ, "PYTHONIOENCODING": encoding}
    done = subprocess.run([sys.executable, "-m", "kpidsl", "evaluate", "--data", str(SAMPLE),
                           "--as-of", "2020-09-30"], capture_output=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert b"delivery_against_profile" in done.stdout


# ---- Low -------------------------------------------------------------------------------


def _folder(tmp_path: Path, text: str | bytes) -> Path:
    folder = tmp_path / "r"
    folder.mkdir(exist_ok=True)
    path = folder / "x.kpi"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize(("literal", "column"), [("9" * 4400 + "%", 11), ("£" + "9" * 41, 11),
                                                 ("9" * 41 + ".5", 11)])
def test_check_and_fmt_refuse_the_same_huge_numbers(tmp_path, capsys, literal, column):
    folder = _folder(tmp_path, f"define m: {literal}\n")
    for command in ("check", "fmt"):
        code, _, err = _run(capsys, command, str(folder))
        assert code == 1
        assert f"x.kpi:1:{column}: error: this number has " in err
        assert "digits; at most 40 are allowed" in err


@pytest.mark.parametrize("text", [
    "define m: £123456789012345678901234567.00\n",  # 27 digits: past Decimal's 28 with pence
    "define p: " + "(" * 1000 + "1" + ")" * 1000 + "\n",
    "define x for learner: " + "not " * 90 + "completion_date is set\n",
])
def test_what_check_accepts_fmt_formats(tmp_path, capsys, text):
    folder = _folder(tmp_path, text)
    assert _run(capsys, "check", str(folder))[0] == 0
    code, _, err = _run(capsys, "fmt", str(folder))
    assert (code, err) == (0, "")
    formatted = (folder / "x.kpi").read_text(encoding="utf-8")
    assert parse(formatted) == parse(text)
    assert _run(capsys, "fmt", "--check", str(folder))[0] == 0


def test_fmt_locates_bytes_that_are_not_utf8(tmp_path, capsys):
    folder = _folder(tmp_path, "# ok\n# caf\u00e9\n".encode("latin-1"))
    code, _, err = _run(capsys, "fmt", str(folder))
    assert code == 1 and "x.kpi:2:6: error: byte 0xe9 is not UTF-8 text" in err


def test_explain_shows_money_of_27_digits(tmp_path, capsys):
    data = _sample(tmp_path)
    _set_cell(data / "bootcamps.csv", "course_cost", 1, "123456789012345678901234567.89")
    code, _, err = _run(capsys, "explain", "employer_cofunding", "--data", str(data), *AS_OF)
    assert (code, err) == (0, "")


@pytest.mark.parametrize("as_of", ["0001-01-01", "0001-12-31", "9999-12-31"])
def test_a_schedule_at_the_ends_of_the_calendar(tmp_path, capsys, as_of):
    """Years starting 1 January put the day before year 1 and points after 9999 in reach."""
    rules = _folder(tmp_path, "schedule late:\n  year starts: 1 January\n  A: 31 December\n"
                    "  B: 30 December\nkpi k:\n  title: \"T\"\n  population: learners\n"
                    "  counted when: late.date is set\n  target: at least 1%\n")
    code, _, err = _run(capsys, "evaluate", "--data", str(SAMPLE), "--rules", str(rules),
                        "--as-of", as_of, "--format", "json")
    assert (code, err) == (0, "")


def test_an_unreadable_data_folder_is_an_error_not_a_bug(tmp_path, capsys, monkeypatch):
    def refuse(path):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(os, "listdir", refuse)
    code, _, err = _run(capsys, "evaluate", "--data", str(SAMPLE), *AS_OF)
    assert code == 1
    assert f"{SAMPLE}: error: cannot list the data folder: Permission denied" in err


def test_fmt_on_a_file_it_cannot_write(tmp_path, capsys, monkeypatch):
    folder = _folder(tmp_path, "define x:   1\n")

    def refuse(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("kpidsl.language.formatter.open_output", refuse)
    code, _, err = _run(capsys, "fmt", str(folder))
    assert code == 1
    assert "x.kpi: error: cannot write the formatted rule file: Permission denied" in err


def test_generate_refuses_an_endless_number_of_learners(tmp_path, capsys):
    code, _, err = _run(capsys, "generate", "--learners", "9" * 20, "--out", str(tmp_path / "g"))
    assert code == 2 and "--learners must be at most 10,000,000, not 99,999,999,999,999,999,999" in err


def test_definitions_nested_deep_in_total_are_located(tmp_path):
    """30 definitions each 20 levels deep passed the per-rule limit and then overflowed the
    stack: `<input>: error`, with no file."""
    lines = []
    for i in range(30):
        body = f"d{i + 1}" if i < 29 else "completion_date is set"
        lines.append(f"define d{i} for learner: " + "not (" * 20 + body + ")" * 20)
    with pytest.raises(kpidsl.RuleError) as e:
        kpidsl.load_rules(_folder(tmp_path, "\n".join(lines) + "\n"))
    assert all(d.file and d.file.endswith("x.kpi") and d.line and d.column
               for d in e.value.diagnostics)
    assert "nests more than 200 levels deep, counting the definitions it uses" in e.value.render()


def test_control_characters_never_reach_the_terminal(tmp_path, capsys):
    folder = _folder(tmp_path, "define x for learner: \x1b[31mred\x07\n")
    code, _, err = _run(capsys, "check", str(folder))
    assert code == 1 and "\x1b" not in err and "\x07" not in err
    assert "unexpected character `\\x1b`" in err
    data = _sample(tmp_path)
    _set_cell(data / "bootcamps.csv", "course_cost", 1, "\x1b]0;pwned\x07")
    code, _, err = _run(capsys, "evaluate", "--data", str(data), *AS_OF)
    assert code == 1 and "\x1b" not in err and "\x07" not in err


def test_a_multi_line_token_is_quoted_by_its_first_line(tmp_path):
    folder = _folder(tmp_path, 'kpi k:\n  """first\n  second\n  """\n')
    with pytest.raises(kpidsl.RuleError) as e:
        kpidsl.load_rules(folder)
    assert e.value.diagnostics[0].message == 'unexpected `"""first…`'


def test_a_long_line_is_shown_around_the_caret(tmp_path):
    folder = _folder(tmp_path, "define x for learner: {" + "a, " * 500 + "b c}\n")
    with pytest.raises(kpidsl.RuleError) as e:
        kpidsl.load_rules(folder)
    rendered = e.value.render()
    excerpt = [x for x in rendered.splitlines() if x.startswith("  ") and " | " in x]
    assert len(excerpt) == 2 and max(map(len, excerpt)) <= limits.MAX_EXCERPT + 10
    line, caret = excerpt
    assert line[caret.index("^"):] == "c}"


def test_fmt_removes_blanks_at_line_ends_in_prose_and_comments(tmp_path, capsys):
    padded = ('define x for learner:   \n  """   \n  Some text.   \n\n  More.\t \n  """\n'
              "  completion_date is set   # c   \n")
    folder = _folder(tmp_path, padded)
    assert _run(capsys, "fmt", str(folder))[0] == 0
    assert (folder / "x.kpi").read_text(encoding="utf-8") == (
        'define x for learner:\n  """\n  Some text.\n\n  More.\n  """\n'
        "  completion_date is set  # c\n")


def test_history_over_ten_thousand_years_is_refused(capsys):
    """120,000 months of evaluation would run for hours: a usage error instead."""
    code, _, err = _run(capsys, "history", "--data", str(SAMPLE), "--from", "0001-01",
                        "--to", "9999-11")
    assert code == 2
    assert "spans 119,987 months; at most 600 are shown at once" in err


def test_a_data_set_built_in_python_is_held_to_the_same_digit_limit():
    """A data set built in code skips the loader; its 4,400-digit integer must not reach an
    output that cannot print it."""
    data = kpidsl.Dataset(
        providers=[kpidsl.Provider(provider_id="P1", name="P")],
        employers=[kpidsl.Employer(employer_id="E1", name="E", employees=10**4400)])
    with pytest.raises(kpidsl.DataError) as e:
        kpidsl.evaluate(fixture_rules(), data, as_of=D(2025, 3, 31))
    assert "employees: a number of more than 40 digits" in e.value.render()


def test_outputs_are_never_written_into_a_named_pipe(tmp_path, capsys):
    """Opening a FIFO nobody reads, to write a chart or a data set, would wait for ever."""
    os.mkfifo(tmp_path / "chart.svg")
    code, _, err = _run(capsys, "history", "--data", str(SAMPLE), "--from", "2024-08",
                        "--to", "2024-09", "--chart", str(tmp_path / "chart.svg"))
    assert code == 2
    assert "cannot write the chart to" in err and "named pipe (FIFO)" in err
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / "learners.csv")
    code, _, err = _run(capsys, "generate", "--learners", "5", "--out", str(out))
    assert code == 2 and "named pipe (FIFO)" in err


@pytest.mark.parametrize("opening", ['define x: "', 'define x for learner:\n  """'])
def test_an_unclosed_text_is_read_in_bounded_memory(tmp_path, opening):
    """A lazy `(.|\\n)*?` kept one regex-engine frame per character of an unclosed text: a
    9 MB file took 6.7 GB. Under a 1 GB address-space limit, the check must still answer."""
    import resource
    import subprocess
    import sys

    folder = _folder(tmp_path, opening + 'abc\\"def ' * 400_000)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))

    done = subprocess.run([sys.executable, "-m", "kpidsl", "check", str(folder)],
                          capture_output=True, preexec_fn=limit, check=False, timeout=600)
    assert done.returncode == 1, done.stderr[-2000:]
    assert re.search(rb"x\.kpi:[12]:\d+: error: this text is never closed", done.stderr)


def test_a_rule_the_sql_engine_cannot_translate_is_evaluated_and_reported(tmp_path, capsys):
    """The fuzzer's `define d0 for learner: 0 day`: the SQL generator has no constant
    duration; DuckDB says so with a place (not exit 3), the Python engine evaluates it, and
    `kpidsl sql` says why."""
    rules = _folder(tmp_path, "define d0 for learner: 0 day\nkpi k:\n  title: \"T\"\n"
                    "  population: learners\n  counted when: completion_date + d0 > as_of\n"
                    "  target: at least 1%\n")
    code, out, err = _run(capsys, "evaluate", "--data", str(SAMPLE), "--rules", str(rules),
                          *AS_OF, "--format", "json", "--engine", "duckdb")
    assert code == 1 and "x.kpi:1:" in err and "--engine python" in err
    code, out, err = _run(capsys, "evaluate", "--data", str(SAMPLE), "--rules", str(rules),
                          *AS_OF, "--format", "json", "--engine", "python")
    assert (code, err) == (0, "") and '"kpi": "k"' in out
    code, _, err = _run(capsys, "sql", "k", "--rules", str(rules))
    assert code == 1 and "x.kpi:2:1: error: kpi k cannot be written in SQL: a constant" in err


def test_rules_without_a_kpi_evaluate_on_duckdb(tmp_path, capsys):
    """The fuzzer's empty rule file: the SQL engine built an empty query (exit 3)."""
    rules = _folder(tmp_path, "")
    code, out, err = _run(capsys, "evaluate", "--data", str(SAMPLE), "--rules", str(rules),
                          *AS_OF, "--format", "json")
    assert (code, err) == (0, "") and '"results": []' in out
