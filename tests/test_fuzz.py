"""A fuzzer for kpidsl: generated and mutated rule files, data sets, rule tests and command
lines, run in-process through :func:`kpidsl.cli.main`, checking the promises of issue 11:

- every command exits 0, 1 or 2 (3 is an internal error: a bug), and never hangs;
- every error is located: ``file:line:col`` in a rule file, file and line in a data file;
- no output line is longer than ``LINE_BOUND`` and none carries a control character;
- ``fmt`` keeps the meaning (same AST, same results) and is idempotent;
- harmless changes to a data set (a byte-order mark, CRLF line ends, another column order, an
  unknown column, quoting every cell) leave the results unchanged, and a corrupted cell gives a
  located error or the same results;
- a hostile ILR return (an entity bomb, an external entity or DTD, deep nesting, huge text, a
  cut or corrupted file) gives results or a located error, and never prints personal data.

The default run (``pytest``, ``nox -s tests``) is a short, derandomized profile (the same
inputs every run). ``nox -s fuzz`` runs the same properties on fresh random inputs for
``KPIDSL_FUZZ_SECONDS`` seconds (default 600) and prints how many inputs it ran. Every input that ever broke kpidsl is kept in ``tests/fuzz_regressions`` and replayed by
:func:`test_regressions` (a ``.kpi`` file is a rule file; a ``.args`` file a command line, one
argument a line, ``{sample}`` and ``{tmp}`` standing for the sample data and a scratch folder).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ilrxml
from cohort import FIXTURE_RULES
from kpidsl.cli import main
from kpidsl.contract.records import FIELDS
from kpidsl.errors import RuleError
from kpidsl.language.formatter import format_source
from kpidsl.language.parser import parse

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample"
RULES = FIXTURE_RULES  # the fuzzer mutates the frozen fixture rules, never the policy
REGRESSIONS = Path(__file__).resolve().parent / "fuzz_regressions"
AS_OF = "2025-03-31"
#: No line of any output may be longer (excerpts are cut at 300, messages at 400 characters;
#: a data cell holds at most 1,000).
LINE_BOUND = 1_500
#: Seconds for the long run (``nox -s fuzz``); unset: the short profile of the default run.
LONG = float(os.environ.get("KPIDSL_FUZZ_SECONDS", "0"))
SHORT_EXAMPLES = 8
RAN: Counter[str] = Counter()
"""Inputs run, by property (printed by the long run)."""

_HEADER = re.compile(r"^(\S.*?): (error|warning|note): ", re.M)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


# ---- running commands and checking the invariants ----------------------------------------


def run(*argv: str) -> tuple[int, str, str]:
    """``kpidsl argv`` in-process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def sound(code: int, out: str, err: str, *, rules: bool = True) -> None:
    """The invariants every command keeps, whatever its input."""
    assert code in (0, 1, 2), f"exit {code}:\n{err[-3000:]}"
    assert "Traceback" not in err and "internal error" not in err, err[-3000:]
    for line in (out + err).splitlines():
        assert len(line) <= LINE_BOUND, f"a line of {len(line)} characters: {line[:200]}…"
        assert not _CONTROL.search(line), f"a control character reaches the terminal: {line!r}"
    if code == 1:
        for loc, severity in _HEADER.findall(err):
            if severity != "error":
                continue
            if rules and ".kpi" in loc:
                assert re.search(r"\.kpi:\d+:\d+$", loc) or "cannot read" in err, \
                    f"an unlocated rule error: {loc}\n{err[:2000]}"
            elif ".csv" in loc:
                assert re.search(r"\.csv(:\d+(:\d+)?)?$", loc), f"bad data location: {loc}"
            elif ".xml" in loc:
                assert re.search(r"\.xml(:\d+(:\d+)?)?$", loc), f"bad return location: {loc}"
            assert loc != "<input>", f"an error without a place:\n{err[:2000]}"


def formats_soundly(text: str) -> None:
    """fmt keeps the meaning and is idempotent; or the text does not parse, with a place."""
    try:
        tree = parse(text, "x.kpi")
    except RuleError as e:
        assert all(d.file == "x.kpi" and d.line and d.column for d in e.diagnostics), e.render()
        return
    formatted = format_source(text, "x.kpi")
    assert parse(formatted, "x.kpi") == tree, "fmt changed the meaning"
    assert format_source(formatted, "x.kpi") == formatted, "fmt is not idempotent"


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="kpidsl-fuzz-") as tmp:
        yield Path(tmp)


def fuzz(name: str, strategy: st.SearchStrategy, check: Callable[..., None]) -> None:
    """Run ``check`` on examples of ``strategy``: a few in the short profile; batches until the
    long run's share of time is spent otherwise."""
    def once(example: object) -> None:
        RAN[name] += 1
        check(example)

    quick = settings(max_examples=SHORT_EXAMPLES, deadline=None, database=None,
                     suppress_health_check=list(HealthCheck))
    if not LONG:  # the same examples every run, so the default run is deterministic
        given(strategy)(settings(quick, derandomize=True)(once))()
        return
    stop = time.monotonic() + LONG / len(PROPERTIES)
    batch = given(strategy)(settings(quick, max_examples=25)(once))
    while time.monotonic() < stop:
        batch()  # each call draws new examples (no database, not derandomized)


# ---- strategies --------------------------------------------------------------------------

_LEARNER = FIELDS["learner"]
_DATES = [n for n, f in _LEARNER.items() if f.kind == "date"]
_NAMES = [*_LEARNER, "as_of", "bootcamp", "interviews", "d0", "d1", "d2", "learners", "x"]
_ODD = "\r\n\t\x1b\x07\u2028\ufeff\"'#%£,.:;(){}<>=!-+*/\\\u202e é0123456789"

_numbers = st.one_of(
    st.integers(0, 10**45).map(str),
    st.integers(0, 10**45).map(lambda n: f"{n}%"),
    st.integers(0, 10**30).map(lambda n: f"£{n:,}.{n % 100:02d}"),
    st.tuples(st.integers(0, 10**25), st.integers(0, 10**5)).map(lambda t: f"{t[0]}.{t[1]}"),
    st.tuples(st.integers(0, 9999), st.integers(0, 14), st.integers(0, 32)).map(
        lambda t: f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}"),
    st.tuples(st.integers(0, 10**3), st.sampled_from(["day", "weeks", "month", "years"])).map(
        lambda t: f"{t[0]} {t[1]}"),
)
_atoms = st.one_of(st.sampled_from(_NAMES), _numbers,
                   st.text(st.sampled_from(_ODD + "abc"), max_size=8).map(
                       lambda s: '"' + s.replace("\\", "").replace('"', "") + '"'),
                   st.sampled_from(["true", "false", "{learner_type, outcome}", "{}"]))
_BINARY = [" + ", " - ", " * ", " / ", " = ", " != ", " < ", " >= ", " and ", " or ", " in ",
           " where ", " not in "]


def _compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from(_BINARY), inner).map("".join),
        inner.map(lambda e: f"({e})"), inner.map(lambda e: f"-{e}"),
        inner.map(lambda e: f"not {e}"), inner.map(lambda e: f"{e} is set"),
        inner.map(lambda e: f"{e} is missing"), inner.map(lambda e: f"{e}.bootcamp"),
        st.tuples(st.sampled_from(["count", "sum", "any", "min", "max", "tolerance"]),
                  inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.integers(2, 120), st.sampled_from(["-", "not ", "("])).map(
            lambda t: t[1] * t[0] + "1" + (")" * t[0] if t[1] == "(" else "")),
    )


expressions = st.recursive(_atoms, _compound, max_leaves=12)


@st.composite
def rule_files(draw: st.DrawFn) -> str:
    """A generated rule file: definitions, a KPI, a finding, with comments, prose and odd
    layout (line ends, trailing blanks, tabs)."""
    items = []
    for i in range(draw(st.integers(0, 3))):
        subject = draw(st.sampled_from([" for learner", "", " for bootcamp"]))
        items.append(f"define d{i}{subject}: {draw(expressions)}")
    if draw(st.booleans()):
        items.append("kpi k:\n  title: \"T\"\n"
                     f"  population: learners where {draw(expressions)}\n"
                     f"  counted when: {draw(expressions)}\n"
                     f"  target: {draw(st.sampled_from(['at least', 'at most']))} "
                     f"{draw(_numbers)}")
    if draw(st.booleans()):
        items.append(f"finding f:\n  message: \"m\"\n  for: learners where {draw(expressions)}")
    if draw(st.booleans()):
        items.append('define p for learner:\n  """\n  ' + draw(st.text(_ODD + "ab ", max_size=30))
                     + '  \n  """\n  completion_date is set')
    comments = draw(st.lists(st.text(st.sampled_from(_ODD + "ab "), max_size=20), max_size=3))
    text = "\n".join(items + [f"# {c}" for c in comments]) + draw(st.sampled_from(["", "\n"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return text.replace("\n", newline)


def _mutate(text: str, draw: st.DrawFn) -> str:
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "duplicate", "newlines", "swap"]))
        if kind == "insert":
            text = text[:at] + draw(st.text(st.sampled_from(_ODD), min_size=1, max_size=4)) \
                + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        elif kind == "duplicate":
            text = text[:at] + text[at:at + draw(st.integers(1, 80))] + text[at:]
        elif kind == "newlines":
            text = text.replace("\n", draw(st.sampled_from(["\r", "\r\n", "\n\n"])))
        else:
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


_FILES = sorted(p.relative_to(RULES).as_posix() for p in RULES.rglob("*.kpi"))


@st.composite
def mutated_rules(draw: st.DrawFn) -> tuple[str, str]:
    """One rule file of the fixture rules (or a rule test file), mutated: (its path in the rules, its text)."""
    name = draw(st.sampled_from(_FILES))
    return name, _mutate((RULES / name).read_text(encoding="utf-8"), draw)


@st.composite
def rule_tests(draw: st.DrawFn) -> str:
    """A generated rule test: a tiny cohort and what the shipped KPIs must say about it."""
    records = ["provider P1", "bootcamp B1: provider_id = P1, course_cost = £1,000.00"]
    for i in range(draw(st.integers(0, 4))):
        fields = ["bootcamp_id = B1"]
        for name in draw(st.lists(st.sampled_from(_DATES), max_size=3, unique=True)):
            fields.append(f"{name} = {draw(_numbers.filter(lambda s: '-' in s) | _atoms)}")
        records.append(f"learner L{i}: " + ", ".join(fields))
    kpi = draw(st.sampled_from(["learner_dropout", "new_skills", "nope"]))
    status = draw(st.sampled_from(["met", "not_met", "on_track", "no_data", "great"]))
    counts = draw(st.sampled_from(["", ", 1 of 2", ", 0 of 0, 1 pending", ", 99999999999 of 1"]))
    return (f"test t:\n  as of: {draw(_numbers)}\n  given:\n"
            + "".join(f"    {r}\n" for r in records)
            + f"  expect {kpi} for programme all: {status}{counts}\n")


_TABLES = sorted(p.name for p in SAMPLE.glob("*.csv"))


@st.composite
def harmless_changes(draw: st.DrawFn) -> dict[str, str]:
    """Data files rewritten in ways that must not change any result."""
    out = {}
    for name in draw(st.lists(st.sampled_from(_TABLES), min_size=1, max_size=3, unique=True)):
        rows = list(_rows(name))
        order = draw(st.permutations(range(len(rows[0]))))
        if draw(st.booleans()):  # an unknown column
            rows = [[*r, "extra" if i == 0 else draw(st.sampled_from(["", "x", "1"]))]
                    for i, r in enumerate(rows)]
            order = [*order, len(rows[0]) - 1]
        quote = draw(st.booleans())
        lines = [",".join(('"' + r[i].replace('"', '""') + '"') if quote else _csv_cell(r[i])
                          for i in order) for r in rows]
        newline = draw(st.sampled_from(["\n", "\r\n"]))
        bom = "\ufeff" if draw(st.booleans()) else ""
        out[name] = bom + newline.join(lines) + newline
    return out


@st.composite
def corrupted_cells(draw: st.DrawFn) -> tuple[str, str, str]:
    """One cell of one data file replaced by junk: (file, column, new file text)."""
    name = draw(st.sampled_from(_TABLES))
    rows = list(_rows(name))
    if len(rows) < 2:
        return name, "", "\n".join(",".join(map(_csv_cell, r)) for r in rows) + "\n"
    row, col = draw(st.integers(1, len(rows) - 1)), draw(st.integers(0, len(rows[0]) - 1))
    junk = st.one_of(st.text(st.sampled_from(_ODD + "aZ"), max_size=12),
                     st.integers(-10**50, 10**50).map(str),
                     st.sampled_from(["1E+999999999", "NaN", "-0", "2024-02-30", "9999-12-31",
                                      "0001-01-01", "TRUE", "\ufeff", " ", "1e3"]))
    rows[row][col] = draw(junk)
    return name, rows[0][col], "\n".join(",".join(map(_csv_cell, r)) for r in rows) + "\n"


def _rows(name: str) -> list[list[str]]:
    import csv

    with open(SAMPLE / name, encoding="utf-8", newline="") as f:
        return [row for row in csv.reader(f)]


def _csv_cell(cell: str) -> str:
    if any(c in cell for c in ',"\r\n') or cell != cell.strip():
        return '"' + cell.replace('"', '""') + '"'
    return cell


_DATES_ARG = st.one_of(st.sampled_from(["2025-03-31", "0001-01-01", "9999-12-31", "2025-02-30",
                                        "20250331", "", "x"]), _numbers)
_COMMANDS = {
    "check": lambda d: ["check", *d(st.lists(st.sampled_from(["{rules}", "{tmp}/nope",
                                                              "{sample}"]), max_size=2))],
    "evaluate": lambda d: ["evaluate", "--data", d(st.sampled_from(["{sample}", "{tmp}", "x"])),
                           "--as-of", d(_DATES_ARG),
                           *d(st.sampled_from([[], ["--format", "json"], ["--format", "csv"],
                                               ["--format", "json", "--explain"],
                                               ["--explain"], ["--scope", "provider"]]))],
    "explain": lambda d: ["explain", d(st.sampled_from(["learner_dropout", "nope", "",
                                                        "delivery_against_profile"])),
                          "--data", "{sample}", "--as-of", d(_DATES_ARG),
                          *d(st.sampled_from([[], ["--group", "all"], ["--group", "P001"],
                                              ["--group", "BC0001"], ["--group", "zz"],
                                              ["--format", "json"]]))],
    "history": lambda d: ["history", "--data", "{sample}",
                          "--from", d(st.sampled_from(["2020-07", "2024-13", "0001-01", "x"])),
                          "--to", d(st.sampled_from(["2020-10", "9999-11", "9999-12", "2025-01"])),
                          *d(st.sampled_from([[], ["--chart", "{tmp}/c.svg"], ["--format", "json"],
                                              ["--kpi", "nope"]]))],
    "generate": lambda d: ["generate", "--learners",
                           d(st.sampled_from(["0", "3", "-1", "9" * 20, "x"])),
                           "--out", d(st.sampled_from(["{tmp}/g", "{sample}/learners.csv"])),
                           "--seed", d(st.sampled_from(["1", "-5", "9" * 30]))],
    "diff": lambda d: ["diff", "{rules}", d(st.sampled_from(["{rules}", "{tmp}/nope"])),
                       "--data", "{sample}", "--as-of", d(_DATES_ARG)],
    "fmt": lambda d: ["fmt", "--check", d(st.sampled_from(["{rules}", "{tmp}/nope"]))],
    "test": lambda d: ["test", "{rules}"],
    "sql": lambda d: ["sql", *d(st.sampled_from([["learner_dropout"], ["nope"], [],
                                                 ["--schema"], ["delivery_against_profile"]])),
                      *d(st.sampled_from([[], ["--dialect", "postgres"], ["--dialect", "zz"],
                                          ["--records"]]))],
    "junk": lambda d: d(st.lists(st.text(st.sampled_from("-abcxz=12 \x1b"), max_size=6),
                                 max_size=4)),
}


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    return _COMMANDS[draw(st.sampled_from(sorted(_COMMANDS)))](draw)


# ---- properties --------------------------------------------------------------------------


def _evaluate(rules: Path, data: Path = SAMPLE) -> tuple[int, str, str]:
    return run("evaluate", "--data", str(data), "--rules", str(rules), "--as-of", AS_OF,
               "--format", "json")


def same_history(rules: Path) -> None:
    """A history is sound on every engine and, where both compute it, the SQL engine's (which
    works each record out only where it may have changed) is the Python engine's."""
    runs = {engine: run("history", "--data", str(SAMPLE), "--rules", str(rules), "--from",
                        "2024-01", "--to", "2025-06", "--format", "json", "--engine", engine)
            for engine in ("python", "duckdb")}
    for outcome in runs.values():
        sound(*outcome)
    if all(code == 0 for code, _, _ in runs.values()):
        months = {e: json.loads(out)["months"] for e, (_, out, _) in runs.items()}
        assert months["duckdb"] == months["python"], "the engines' histories differ"


def check_generated_rules(text: str) -> None:
    formats_soundly(text)
    with scratch() as tmp:
        folder = tmp / "rules"
        folder.mkdir()
        path = folder / "x.kpi"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        code, out, err = run("check", str(folder))
        sound(code, out, err)
        sound(*run("fmt", "--check", str(path)))
        if code == 0:
            first = _evaluate(folder)
            sound(*first)
            same_history(folder)
            code, _, err = run("fmt", str(path))
            assert code == 0, err
            again = _evaluate(folder)
            assert again[0] == first[0] and (first[0] != 0 or _results(again[1]) == _results(first[1])), \
                "fmt changed the results"


def check_mutated_rules(case: tuple[str, str]) -> None:
    name, text = case
    formats_soundly(text)
    with scratch() as tmp:
        folder = tmp / "rules"
        shutil.copytree(RULES, folder)
        (folder / name).write_text(text, encoding="utf-8")
        code, out, err = run("check", str(folder))
        sound(code, out, err)
        sound(*run("fmt", "--check", str(folder / name)))
        if code == 0:
            first = _evaluate(folder)
            sound(*first)
            same_history(folder)
            assert run("fmt", str(folder / name))[0] == 0
            again = _evaluate(folder)
            assert again[0] == first[0] and (first[0] != 0 or _results(again[1]) == _results(first[1])), \
                "fmt changed the results"


def check_rule_tests(text: str) -> None:
    with scratch() as tmp:
        folder = tmp / "rules"
        shutil.copytree(RULES, folder)
        (folder / "tests" / "fuzz_test.kpi").write_text(text, encoding="utf-8")
        code, out, err = run("test", str(folder))
        sound(code, out, err)
        formats_soundly(text)


_BASELINE: dict[str, tuple[int, str, str]] = {}


def _baseline() -> tuple[int, str, str]:
    if "sample" not in _BASELINE:
        _BASELINE["sample"] = run("evaluate", "--data", str(SAMPLE), "--as-of", AS_OF,
                                  "--format", "json")
    return _BASELINE["sample"]


def _results(out: str) -> object:
    """The results of a JSON report, without the places of loader notices (a data file
    rewritten has its rows on other lines)."""
    report = json.loads(out)
    report.pop("audit", None)  # the fingerprints of the rule and data files, which changed
    report.pop("rules", None)
    report["findings"] = [f for f in report["findings"] if f.get("rule") != "loader"
                          and f.get("name") != "loader"]
    return report


def check_harmless_changes(files: dict[str, str]) -> None:
    with scratch() as tmp:
        data = tmp / "data"
        shutil.copytree(SAMPLE, data)
        for name, text in files.items():
            (data / name).write_bytes(text.encode("utf-8"))
        code, out, err = run("evaluate", "--data", str(data), "--as-of", AS_OF, "--format", "json")
        sound(code, out, err, rules=False)
        assert code == 0, err
        assert _results(out) == _results(_baseline()[1]), "a harmless change changed results"


def check_corrupted_cell(case: tuple[str, str, str]) -> None:
    name, column, text = case
    with scratch() as tmp:
        data = tmp / "data"
        shutil.copytree(SAMPLE, data)
        (data / name).write_bytes(text.encode("utf-8", "surrogatepass"))
        code, out, err = run("evaluate", "--data", str(data), "--as-of", AS_OF, "--format", "json")
        sound(code, out, err, rules=False)
        assert code in (0, 1), err
        if code == 1 and not column.endswith("_id"):  # a changed id is reported where used
            assert f"{data / name}:" in err, f"the error does not name {name}:\n{err[:2000]}"
        elif not column.endswith("_id") and column not in _MEANINGFUL:
            assert _results(out) == _results(_baseline()[1]), f"{column} changed results"


#: Columns whose value the shipped rules read: a valid new value may change results.
_MEANINGFUL = {n for fields in FIELDS.values() for n, f in fields.items()
               if f.kind != "text" or n in ("ukprn",)}


def check_command_line(argv: list[str]) -> None:
    with scratch() as tmp:
        rules = tmp / "rules"
        shutil.copytree(RULES, rules)
        args = [a.replace("{sample}", str(SAMPLE)).replace("{tmp}", str(tmp))
                .replace("{rules}", str(rules)) for a in argv]
        sound(*run(*args))


_RETURN = ilrxml.ilr(
    ilrxml.learner("A1", ilrxml.aim(1, status=2, end="2024-12-20", ach="2025-01-10"),
                   ilrxml.aim(2, ref="Z0059747", kind=3, start="2024-11-01",
                              plan_end="2024-11-01", end="2024-11-01", status=2)),
    ilrxml.learner("W1", ilrxml.aim(1, status=3, end="2024-10-01",
                                    fams=ilrxml.fam("FFI", "2") + ilrxml.fam("EVI", "7",
                                                                             "2024-09-30"))),
    ilrxml.learner("X1", ilrxml.aim(1, fund=36)))
_HOSTILE_HEADS = [
    '<!DOCTYPE Message [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n',
    '<!DOCTYPE Message [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n',
    '<!DOCTYPE Message SYSTEM "http://127.0.0.1:9/ilr.dtd">\n',
    '<!DOCTYPE Message [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>\n',
]


@st.composite
def hostile_returns(draw: st.DrawFn) -> str:
    """DfE-shaped returns, made hostile: entity bombs, external entities and DTDs, deep
    nesting, huge text, odd characters in a value, a cut or corrupted file."""
    text = _RETURN
    kind = draw(st.sampled_from(["head", "deep", "huge", "value", "cut", "byte", "entity"]))
    at = draw(st.integers(0, len(text) - 1))
    if kind == "head":
        text = text.replace("<Message", draw(st.sampled_from(_HOSTILE_HEADS)) + "<Message", 1)
    elif kind == "deep":
        depth = draw(st.integers(200, 3000))
        text = text.replace("</Learner>", "<d>" * depth + "</d>" * depth + "</Learner>", 1)
    elif kind == "huge":
        size = draw(st.sampled_from([1_000, 100_000, 11_000_000]))
        name = draw(st.sampled_from(["LearnRefNumber", "FamilyName", "ConRefNumber", "UKPRN"]))
        text = text.replace(f"<{name}>", f"<{name}>" + "x" * size, 1)
    elif kind == "value":
        name = draw(st.sampled_from(["LearnStartDate", "AchDate", "CompStatus", "AimSeqNumber",
                                     "LearnDelFAMCode", "EmpId", "FilePreparationDate"]))
        odd = draw(st.text(st.sampled_from(_ODD + "x9-"), max_size=12))
        odd = odd.replace("&", "&amp;").replace("<", "&lt;")
        text = re.sub(f"<{name}>[^<]*</{name}>", lambda _: f"<{name}>{odd}</{name}>", text,
                      count=1)
    elif kind == "cut":
        text = text[:at]
    elif kind == "byte":
        text = text[:at] + draw(st.sampled_from(["\x00", "<", "&", "\udcff", "]]>", "\x1b"])) \
            + text[at + 1:]
    else:
        text = text.replace("<LearnRefNumber>W1", "<LearnRefNumber>&b;&x;", 1)
    return text


def check_hostile_return(text: str) -> None:
    with scratch() as tmp:
        path = tmp / "ILR-10000001-2425-20250301-090000-01.xml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        code, out, err = run("evaluate", "--data", str(path), "--rules", str(RULES),
                             "--as-of", AS_OF, "--format", "json")
        sound(code, out, err)
        assert code in (0, 1), err
        for secret in ilrxml.SECRETS:
            assert secret not in out + err, f"personal data printed: {secret}"
        if code == 1:
            assert f"{path}:" in err, f"the error does not name the return:\n{err[:2000]}"


PROPERTIES: dict[str, tuple[st.SearchStrategy, Callable[..., None]]] = {
    "hostile returns": (hostile_returns(), check_hostile_return),
    "generated rules": (rule_files(), check_generated_rules),
    "mutated rules": (mutated_rules(), check_mutated_rules),
    "rule tests": (rule_tests(), check_rule_tests),
    "harmless data changes": (harmless_changes(), check_harmless_changes),
    "corrupted cells": (corrupted_cells(), check_corrupted_cell),
    "command lines": (command_lines(), check_command_line),
}


@pytest.mark.parametrize("name", sorted(PROPERTIES))
def test_fuzz(name: str) -> None:
    strategy, check = PROPERTIES[name]
    started = time.monotonic()
    fuzz(name, strategy, check)
    if LONG:
        print(f"\nfuzz: {name}: {RAN[name]} inputs in {time.monotonic() - started:.0f} s")


# ---- regressions -------------------------------------------------------------------------


def _regressions() -> list[Path]:
    return sorted(p for p in REGRESSIONS.iterdir() if p.suffix in (".kpi", ".args"))


@pytest.mark.parametrize("case", _regressions(), ids=lambda p: p.name)
def test_regressions(case: Path) -> None:
    """Every input that once broke kpidsl, replayed with the fuzzer's invariants."""
    if case.suffix == ".args":
        argv = [a for a in case.read_text(encoding="utf-8").split("\n") if a]
        return check_command_line(argv)
    raw = case.read_bytes()
    with scratch() as tmp:
        folder = tmp / "rules"
        shutil.copytree(RULES, folder)
        (folder / case.name).write_bytes(raw)
        sound(*run("check", str(folder)))
        sound(*run("fmt", "--check", str(folder / case.name)))
        code, out, err = _evaluate(folder)
        sound(code, out, err)
    with contextlib.suppress(UnicodeDecodeError):
        formats_soundly(raw.decode("utf-8"))
    return None
