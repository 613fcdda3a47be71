"""The formatter: golden layouts, idempotence, meaning kept, comments kept, and ``kpidsl fmt``.

Golden files: ``tests/goldens/fmt/NAME.kpi`` formatted must equal ``NAME.formatted.kpi``. Run
pytest with ``--update-goldens`` to rewrite them, then review the diff by eye: they pin the
layout policy staff read.

The central property, ``parse(format(x)) == parse(x)``, is checked on every shipped rule file,
on whitespace-mangled copies of them, and with hypothesis on random ASTs printed by the
formatter (spans take no part in AST equality, so layout never matters to it).
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections import Counter
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from pathlib import Path

import lark
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohort import FIXTURE_RULES
from kpidsl.cli import main
from kpidsl.errors import RuleError, Span
from kpidsl.language import ast
from kpidsl.language.formatter import format_ast, format_source
from kpidsl.language.parser import parse

RULES = FIXTURE_RULES
FILES = sorted(RULES.rglob("*.kpi"))
GOLDENS = Path(__file__).parent / "goldens" / "fmt"
INPUTS = sorted(p for p in GOLDENS.glob("*.kpi") if not p.name.endswith(".formatted.kpi"))
META_ORDER = ast.META_KEYS


_GRAMMAR = resources.files("kpidsl.language").joinpath("kpi.lark").read_text(encoding="utf-8")
_FOUND: list[lark.Token] = []
_LEXER = lark.Lark(_GRAMMAR, parser="lalr", keep_all_tokens=True,
                   lexer_callbacks={"COMMENT": lambda t: _FOUND.append(t) or t})


def tokens(source: str) -> list[lark.Token]:
    """Every token of ``source``, comments included, in order (a lexer pass of its own)."""
    _FOUND.clear()
    tree = _LEXER.parse(source)
    code = tree.scan_values(lambda v: isinstance(v, lark.Token))
    return sorted([*code, *_FOUND], key=lambda t: t.start_pos)


def comments(source: str) -> Counter[str]:
    return Counter(t.rstrip() for t in tokens(source) if t.type == "COMMENT")


# ---- goldens -------------------------------------------------------------------------------


def test_the_goldens_are_there():
    assert {p.stem for p in INPUTS} >= {"kpi", "expressions", "literals", "items", "comments"}


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.stem)
def test_golden(path: Path, update_goldens: bool):
    source = path.read_text(encoding="utf-8")
    out = format_source(source, path.name)
    expected = path.with_name(path.stem + ".formatted.kpi")
    if update_goldens:
        expected.write_text(out, encoding="utf-8")
    assert expected.exists(), f"no golden {expected.name}: run pytest --update-goldens"
    assert out == expected.read_text(encoding="utf-8")
    assert format_source(out, path.name) == out
    assert parse(out, path.name) == parse(source, path.name)
    assert comments(out) == comments(source)


# ---- a whole rule set (the fixture rules) --------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(RULES)))
def test_a_formatted_rule_set_is_left_as_it_is(path: Path):
    source = path.read_text(encoding="utf-8")
    assert format_source(source, path.name) == source, (
        f"{path} is not formatted: run `kpidsl fmt` on it and review the diff")


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(RULES)))
def test_rule_files_keep_their_meaning_and_layout(path: Path):
    source = path.read_text(encoding="utf-8")
    out = format_source(source, path.name)
    assert parse(out, path.name) == parse(source, path.name)
    assert format_source(out, path.name) == out

    rng = random.Random(path.name)
    for _ in range(3):
        mangled = mangle(source, rng)
        assert parse(mangled, path.name) == parse(source, path.name)
        assert format_source(mangled, path.name) == out


def mangle(source: str, rng: random.Random) -> str:
    """``source`` with the space between every two tokens replaced at random (joined lines,
    split lines, odd indentation), keeping only what a comment needs: a line break after
    it, before it if it stood on its own line, and its blank line after."""
    out, end, previous = [], 0, None
    for t in tokens(source):
        gap = source[end:t.start_pos]
        if previous is not None and previous.type == "COMMENT":
            blank = "\n\n" if gap.count("\n") > 1 else "\n"
            space = blank + " " * rng.randrange(6)
        elif t.type == "COMMENT":
            space = "\n" + " " * rng.randrange(6) if "\n" in gap or previous is None \
                else " " * rng.randrange(1, 4)
        else:
            space = rng.choice([" ", "   ", "\t", "\n", "\n      ", "\n\n  ", " \n "])
        out += [space if previous is not None or t.type != "COMMENT" else gap, str(t)]
        end, previous = t.end_pos, t
    return "".join(out).lstrip(" \t") + "\n"


def test_every_comment_is_kept_wherever_it_is(tmp_path: Path):
    """Comments added before and after random lines of every file of a rule set (where the result
    still means the same) all come out of the formatter, which stays idempotent."""
    rng = random.Random(4)
    for path in FILES:
        lines = path.read_text(encoding="utf-8").split("\n")
        original = parse("\n".join(lines), path.name)
        for i in sorted(rng.sample(range(len(lines)), min(12, len(lines))), reverse=True):
            comment = f"# note {i}"
            for candidate in ([*lines[:i], comment, *lines[i:]],
                              [*lines[:i], lines[i] + "  " + comment, *lines[i + 1:]]):
                text = "\n".join(candidate)
                try:
                    same = parse(text, path.name) == original
                except RuleError:
                    same = False
                if same and comment in comments(text):
                    lines = candidate
                    break
        source = "\n".join(lines)
        out = format_source(source, path.name)
        assert comments(out) == comments(source), path.name
        assert parse(out, path.name) == original
        assert format_source(out, path.name) == out


def test_a_syntax_error_is_the_parsers_rule_error():
    with pytest.raises(RuleError) as e:
        format_source('kpi x:\n  title: "X"\n  populaton: learners\n', "bad.kpi")
    assert "bad.kpi:3:3" in e.value.render()


def test_an_empty_file_stays_empty():
    assert format_source("") == ""
    assert format_source("# only a comment\n\n\n") == "# only a comment\n"


# ---- hypothesis: random ASTs print and parse back -----------------------------------------

HERE = Span("<generated>", 1, 1, 1, 1)
NAMES = st.sampled_from(["a", "b", "learners", "completion_date", "size", "employer", "x1",
                         "amount_paid", "interviews", "Role_Confirmed", "_private"])
BINARY_OPS = ["or", "and", "=", "!=", "<", "<=", ">", ">=", "in", "not in", "+", "-", "*", "/"]


def lit(kind: str, value: object) -> ast.Literal:
    return ast.Literal(kind=kind, value=value, span=HERE)


one_line_texts = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
                         max_size=12)
words = st.lists(st.sampled_from(["Learners", "who", "drop", "out", "20%", "£1,500.00", "it's",
                                  '"quoted"', "# not a comment", "back\\slash", "—", "x"]),
                 min_size=1, max_size=5).map(" ".join)
prose_texts = st.builds(
    lambda first, rest: "\n".join([first, *rest]),
    words,
    st.lists(st.one_of(st.just(""), st.builds(str.__add__, st.sampled_from(["", "  ", "    "]),
                                               words)), max_size=3),
).map(lambda t: t.strip())
any_texts = st.one_of(one_line_texts, prose_texts)

literals = st.one_of(
    st.booleans().map(lambda v: lit("boolean", v)),
    st.integers(0, 10**7).map(lambda v: lit("integer", v)),
    st.from_regex(r"\A[0-9]{1,4}\.[0-9]{1,3}\Z").map(lambda s: lit("number", Decimal(s))),
    st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{1,2})?\Z").map(
        lambda s: lit("percent", Fraction(s) / 100)),
    st.integers(0, 10**9).map(lambda v: lit("money", Decimal(v) / 100)),
    st.dates().map(lambda v: lit("date", v)),
    one_line_texts.map(lambda v: lit("text", v)),
    st.builds(ast.Duration, amount=st.integers(0, 40),
              unit=st.sampled_from(["day", "week", "month", "year"])).map(
        lambda v: lit("duration", v)),
)
atoms = st.one_of(NAMES.map(lambda n: ast.Name(name=n, span=HERE)), literals)


def _compound(children: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Expr]:
    sets = st.lists(children, max_size=3).map(lambda xs: ast.SetLiteral(items=tuple(xs),
                                                                        span=HERE))
    return st.one_of(
        st.builds(ast.Binary, op=st.sampled_from(BINARY_OPS), left=children, right=children,
                  span=st.just(HERE)),
        st.builds(ast.Binary, op=st.sampled_from(["in", "not in"]), left=children, right=sets,
                  span=st.just(HERE)),
        st.builds(ast.Unary, op=st.sampled_from(["not", "-"]), operand=children,
                  span=st.just(HERE)),
        st.builds(ast.IsSet, operand=children, negated=st.booleans(), span=st.just(HERE)),
        st.builds(ast.Where, source=children, condition=children, span=st.just(HERE)),
        st.builds(ast.Call, name=NAMES, args=st.lists(children, max_size=3).map(tuple),
                  span=st.just(HERE)),
        st.builds(ast.Attribute, target=children, name=NAMES, name_span=st.just(HERE),
                  span=st.just(HERE)),
        sets,
    )


exprs = st.recursive(atoms, _compound, max_leaves=14)


def definition(body: st.SearchStrategy[ast.Expr | ast.Cases] = exprs
               ) -> st.SearchStrategy[ast.Definition]:
    return st.builds(ast.Definition, name=NAMES, subject=st.none() | NAMES,
                     doc=st.none() | prose_texts, body=body, span=st.just(HERE))


cases = st.builds(
    ast.Cases,
    cases=st.lists(st.builds(ast.Case, label=NAMES, condition=exprs, span=st.just(HERE)),
                   min_size=1, max_size=3).map(tuple),
    otherwise=NAMES, otherwise_span=st.just(HERE), span=st.just(HERE))


def _text(key: str, text: str) -> ast.Text:
    return ast.Text(key=key, text=text, span=HERE)


def _clause(kind: str, direction: str | None = None) -> st.SearchStrategy[ast.Clause | None]:
    return st.none() | exprs.map(lambda e: ast.Clause(kind=kind, expr=e, direction=direction,
                                                      span=HERE))


kpis = st.builds(
    ast.Kpi,
    name=NAMES,
    meta=st.lists(st.sampled_from(META_ORDER), unique=True).flatmap(
        lambda keys: st.tuples(*(any_texts.map(lambda t, k=k: _text(k, t))
                                 for k in sorted(keys, key=META_ORDER.index)))),
    policy=st.none() | any_texts.map(lambda t: _text("policy", t)),
    decisions=st.lists(st.builds(_text, one_line_texts, any_texts), max_size=2).map(tuple),
    population=_clause("population"), counted=_clause("counted"), pending=_clause("pending"),
    target=st.sampled_from(["at least", "at most"]).flatmap(lambda d: _clause("target", d)),
    follow_ups=st.lists(st.builds(ast.FollowUp,
                                  verdict=st.sampled_from(["counted", "not counted", "pending"]),
                                  message=any_texts, span=st.just(HERE)),
                        max_size=2).map(tuple),
    per=st.none() | NAMES, actual=_clause("actual"), planned=_clause("planned"),
    name_span=st.just(HERE), span=st.just(HERE),
)

rows = st.lists(st.builds(ast.Row, key=NAMES, value=exprs, span=st.just(HERE)), min_size=1,
                max_size=3).map(tuple)


def _version(start: dt.date | None) -> st.SearchStrategy[ast.Version]:
    return st.one_of(
        rows.map(lambda r: ast.Version(start=start, rows=r, value=None, span=HERE)),
        exprs.map(lambda v: ast.Version(start=start, rows=(), value=v, span=HERE)),
    )


tables = st.builds(
    ast.Table, name=NAMES, key_type=st.none() | NAMES, doc=st.none() | prose_texts,
    versions=st.one_of(_version(None).map(lambda v: (v,)),
                       st.lists(st.dates().flatmap(_version), min_size=1, max_size=3)
                       .map(tuple)),
    span=st.just(HERE))

days = st.tuples(st.integers(1, 12), st.integers(1, 28))
schedules = st.builds(
    lambda name, doc, start, points: ast.Schedule(
        name=name, doc=doc, start_month=start[0], start_day=start[1], span=HERE,
        points=tuple(ast.Point(label=lb, month=m, day=d, span=HERE) for lb, (m, d) in points)),
    NAMES, st.none() | prose_texts, days, st.lists(st.tuples(NAMES, days), min_size=1,
                                                      max_size=3))
notices = st.builds(ast.Notice, kind=st.sampled_from(["finding", "action"]), name=NAMES,
                    doc=st.none() | prose_texts, message=any_texts, records=exprs,
                    span=st.just(HERE))

field_values = st.one_of(
    literals, NAMES.map(lambda n: ast.Name(name=n, span=HERE)),
    st.lists(NAMES.map(lambda n: ast.Name(name=n, span=HERE)), max_size=3).map(
        lambda xs: ast.SetLiteral(items=tuple(xs), span=HERE)))
records = st.builds(ast.GivenRecord, type_name=NAMES, id=st.sampled_from(["L1", "B2", "P10"]),
                    fields=st.lists(st.tuples(NAMES, field_values), max_size=6).map(tuple),
                    span=st.just(HERE))
expects = st.builds(
    lambda kpi, group, status, counts, pending: ast.Expect(
        kpi=kpi, scope="bootcamp", group=group, status=status, numerator=counts and counts[0],
        denominator=counts and counts[1], pending=pending, span=HERE),
    NAMES, st.sampled_from(["B1", "all"]), st.sampled_from(["met", "not_met", "no_data"]),
    st.none() | st.tuples(st.integers(0, 9), st.integers(0, 9)), st.none() | st.integers(0, 9))
tests_ = st.builds(ast.Test, name=NAMES, doc=st.none() | prose_texts, as_of=st.dates(),
                   records=st.lists(records, max_size=3).map(tuple),
                   expects=st.lists(expects, min_size=1, max_size=2).map(tuple),
                   span=st.just(HERE))

rule_files = st.lists(
    st.one_of(kpis, definition(), definition(cases), tables, schedules, notices, tests_),
    max_size=4,
).map(lambda items: ast.RuleFile(path="generated.kpi", items=tuple(items), source=""))


def _definition_of(e: ast.Expr) -> ast.RuleFile:
    d = ast.Definition(name="d", subject=None, doc=None, body=e, span=HERE)
    return ast.RuleFile(path="generated.kpi", items=(d,), source="")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exprs)
def test_any_expression_prints_and_parses_back(e: ast.Expr):
    tree = _definition_of(e)
    text = format_ast(tree)
    assert parse(text, tree.path) == tree, text
    assert format_source(text, tree.path) == text


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_files)
def test_any_rule_file_prints_and_parses_back(tree: ast.RuleFile):
    text = format_ast(tree)
    assert parse(text, tree.path) == tree, text
    assert format_source(text, tree.path) == text


# ---- the command line ----------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_fmt_check_passes_on_a_formatted_rule_set(capsys):
    code, out, _ = run(capsys, "fmt", "--check", str(RULES))
    assert code == 0, out
    assert f"0 of {len(FILES)} rule files would be reformatted" in out


def test_fmt_check_fails_on_a_mangled_copy_and_writes_nothing(capsys, tmp_path: Path):
    path = tmp_path / "dropout.kpi"
    mangled = mangle((RULES / "03_learner_dropout.kpi").read_text(encoding="utf-8"),
                     random.Random(1))
    path.write_text(mangled, encoding="utf-8")
    code, out, _ = run(capsys, "fmt", "--check", str(tmp_path))
    assert code == 1
    assert f"would reformat {path}" in out
    assert f"+++ {path} (formatted)" in out
    assert "1 of 1 rule file would be reformatted" in out
    assert path.read_text(encoding="utf-8") == mangled


def test_fmt_check_counts_what_it_leaves_out_in_the_singular(capsys, tmp_path: Path):
    """A diff one line longer than fmt --check shows ends "… 1 more line", not "lines"."""
    lines = (RULES / "03_learner_dropout.kpi").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "dropout.kpi"
    # 18 lines with a trailing space: one hunk of 18 lines out and in, a context line on
    # each side, and the three header lines: 41 lines
    path.write_text("\n".join(line + " " * (2 <= i < 20) for i, line in enumerate(lines))
                    + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "fmt", "--check", str(path))
    assert code == 1
    assert out.splitlines()[0] == f"would reformat {path}"
    assert out.splitlines()[-2:] == ["… 1 more line", "1 of 1 rule file would be reformatted"]
    assert len(out.splitlines()) == 1 + 40 + 2  # 40 diff lines shown


def test_fmt_rewrites_a_file_in_place(capsys, tmp_path: Path):
    shipped = RULES / "03_learner_dropout.kpi"
    path = tmp_path / "dropout.kpi"
    shutil.copy(shipped, tmp_path / "as_is.kpi")
    path.write_text(mangle(shipped.read_text(encoding="utf-8"), random.Random(2)),
                    encoding="utf-8")
    code, out, _ = run(capsys, "fmt", str(path), str(tmp_path / "as_is.kpi"))
    assert code == 0
    assert out.splitlines() == [f"reformatted {path}", "1 of 2 rule files reformatted"]
    assert path.read_text(encoding="utf-8") == shipped.read_text(encoding="utf-8")
    assert run(capsys, "fmt", "--check", str(tmp_path))[0] == 0


def test_fmt_reports_a_syntax_error_and_leaves_the_file(capsys, tmp_path: Path):
    path = tmp_path / "bad.kpi"
    path.write_text('kpi x:\n  title: "X"\n  populaton: learners\n', encoding="utf-8")
    code, _, err = run(capsys, "fmt", str(path))
    assert code == 1
    assert f"{path}:3:3: error" in err
    assert "Traceback" not in err
    assert path.read_text(encoding="utf-8").startswith("kpi x:")


def test_fmt_on_a_missing_path_is_a_usage_error(capsys, tmp_path: Path):
    code, _, err = run(capsys, "fmt", str(tmp_path / "nowhere.kpi"))
    assert code == 2
    assert "no such file or folder" in err


def test_the_formatter_shares_the_parsers_grammar_and_month_names():
    import kpidsl.language.formatter
    import kpidsl.language.parser

    assert kpidsl.language.formatter._GRAMMAR is kpidsl.language.parser._GRAMMAR
    assert kpidsl.language.formatter._MONTHS is kpidsl.language.parser._MONTHS
