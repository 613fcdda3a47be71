"""The checker: whole messages for every kind of mistake, all problems at once, shipped rules.

Each message below was read as its reader would (a policy officer editing a ``.kpi`` file): it
says where, what is wrong, and how to fix it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

import kpidsl
from cohort import FIXTURE_RULES
from kpidsl.errors import RuleError
from kpidsl.language.checker import check
from kpidsl.language.parser import parse

SIZE = "define size for employer:\n  large when employees >= 250\n  sme otherwise\n"


def kpi(counted: str = "withdrawal_date is set", target: str = "at least 75%",
        population: str = "learners where completion_date is set", extra: str = "") -> str:
    """A KPI whose lines 3–5 are the population, the counted condition and the target."""
    return (f'kpi k:\n  title: "K"\n  population: {population}\n  counted when: {counted}\n'
            f"  target: {target}\n{extra}")


def errors(source: str) -> str:
    """The rendered problems of one rule file called ``r.kpi``."""
    with pytest.raises(RuleError) as e:
        check([parse(source, "r.kpi")])
    text = e.value.render()
    assert "Traceback" not in text
    return text


def test_the_helper_kpi_is_valid():
    rules = check([parse(kpi(), "r.kpi")])
    assert [k.name for k in rules.kpis] == ["k"]


CASES = [
    pytest.param(
        kpi(counted="completon_date is set"),
        """\
r.kpi:4:17: error: unknown name `completon_date` on learner
  3 |   population: learners where completion_date is set
  4 |   counted when: completon_date is set
    |                 ^^^^^^^^^^^^^^
  5 |   target: at least 75%
  hint: did you mean `completion_date`?

1 error""",
        id="unknown-field-with-suggestion",
    ),
    pytest.param(
        kpi(counted="bootcamp.cost > £5"),
        """\
r.kpi:4:26: error: unknown field `cost` on bootcamp
  3 |   population: learners where completion_date is set
  4 |   counted when: bootcamp.cost > £5
    |                          ^^^^
  5 |   target: at least 75%
  hint: bootcamp has bootcamp_id, provider_id, title, start_date, end_date, course_cost, \
accelerated_apprenticeship

1 error""",
        id="unknown-field-on-navigation",
    ),
    pytest.param(
        kpi(counted="learner_type = cofunded"),
        """\
r.kpi:4:32: error: `cofunded` is not a value of learner_type
  3 |   population: learners where completion_date is set
  4 |   counted when: learner_type = cofunded
    |                                ^^^^^^^^
  5 |   target: at least 75%
  hint: did you mean `co_funded`?

1 error""",
        id="unknown-enum-value-with-suggestion",
    ),
    pytest.param(
        kpi(counted="employer.size = lage", extra=SIZE),
        """\
r.kpi:4:33: error: `lage` is not a value of size
  3 |   population: learners where completion_date is set
  4 |   counted when: employer.size = lage
    |                                 ^^^^
  5 |   target: at least 75%
  hint: did you mean `large`?

1 error""",
        id="unknown-label-of-a-classification",
    ),
    pytest.param(
        kpi(counted="completion_date > 5"),
        """\
r.kpi:4:17: error: cannot compare a date with an integer using `>`
  3 |   population: learners where completion_date is set
  4 |   counted when: completion_date > 5
    |                 ^^^^^^^^^^^^^^^^^^^
  5 |   target: at least 75%
  hint: both sides must be the same kind of value

1 error""",
        id="date-compared-with-number",
    ),
    pytest.param(
        kpi(counted="completion_date + 6 > as_of"),
        """\
r.kpi:4:17: error: cannot compute a date + an integer
  3 |   population: learners where completion_date is set
  4 |   counted when: completion_date + 6 > as_of
    |                 ^^^^^^^^^^^^^^^^^^^
  5 |   target: at least 75%
  hint: dates take durations (`+ 6 months`); money takes percentages

1 error""",
        id="date-plus-number",
    ),
    pytest.param(
        kpi(counted="completion_date"),
        """\
r.kpi:4:17: error: `counted when:` must be true or false, but this is a date
  3 |   population: learners where completion_date is set
  4 |   counted when: completion_date
    |                 ^^^^^^^^^^^^^^^
  5 |   target: at least 75%
  hint: did you mean `completion_date is set`?

1 error""",
        id="condition-not-boolean",
    ),
    pytest.param(
        kpi(counted="a", extra="define a for learner: b\ndefine b for learner: a\n"),
        """\
r.kpi:6:1: error: definition `a` depends on itself: a → b → a
  5 |   target: at least 75%
  6 | define a for learner: b
    | ^^^^^^^^^^^^^^^^^^^^^^^
  7 | define b for learner: a
  hint: a definition may not use itself, directly or through others

1 error""",
        id="definition-cycle",
    ),
    pytest.param(
        SIZE + "table rate by size:\n  large: 30%\n",
        """\
r.kpi:4:1: error: table rate has no row for sme
  3 |   sme otherwise
  4 | table rate by size:
    | ^
  5 |   large: 30%
  hint: add a row for every value of size

1 error""",
        id="table-missing-row",
    ),
    pytest.param(
        SIZE + "table rate by size:\n  large: 30%\n  sme: 10%\n  huge: 50%\n",
        """\
r.kpi:7:3: error: `huge` is not a value of size
  6 |   sme: 10%
  7 |   huge: 50%
    |   ^^^^^^^^^
  hint: the values are large, sme

1 error""",
        id="table-extra-row",
    ),
    pytest.param(
        SIZE + "table rate by size:\n  large: 30%\n  sme: 10%\n  sme: 20%\n",
        """\
r.kpi:7:3: error: `sme` has two rows in table rate
  6 |   sme: 10%
  7 |   sme: 20%
    |   ^^^^^^^^

1 error""",
        id="table-row-twice",
    ),
    pytest.param(
        SIZE + "table rate by sise:\n  large: 30%\n  sme: 10%\n",
        """\
r.kpi:4:15: error: unknown enumeration `sise`
  3 |   sme otherwise
  4 | table rate by sise:
    |               ^^^^
  5 |   large: 30%
  hint: did you mean `size`?

1 error""",
        id="table-keyed-by-unknown-enumeration",
    ),
    pytest.param(
        SIZE + "table rate by size:\n  large: 30%\n  co_funded: 10%\n",
        """\
r.kpi:4:1: error: table rate has no row for sme
  3 |   sme otherwise
  4 | table rate by size:
    | ^
  5 |   large: 30%
  hint: add a row for every value of size

r.kpi:6:3: error: `co_funded` is not a value of size
  5 |   large: 30%
  6 |   co_funded: 10%
    |   ^^^^^^^^^^^^^^
  hint: the values are large, sme

2 errors""",
        id="table-row-of-another-enumeration",
    ),
    pytest.param(
        'kpi k:\n  title: "K"\n  population: learners\n  counted when: completion_date is set\n',
        """\
r.kpi:1:5: error: kpi k has no `target:` clause
  1 | kpi k:
    |     ^
  2 |   title: "K"
  hint: a KPI needs a population, a counted condition and a target

1 error""",
        id="kpi-without-target",
    ),
    pytest.param(
        'kpi k:\n  title: "K"\n  counted when: completion_date is set\n  target: at least 5%\n',
        """\
r.kpi:1:5: error: kpi k has no `population:` clause
  1 | kpi k:
    |     ^
  2 |   title: "K"
  hint: a KPI needs a population, a counted condition and a target

1 error""",
        id="kpi-without-population",
    ),
    pytest.param(
        "kpi k:\n  population: learners\n  counted when: completion_date is set\n"
        "  target: at least 5%\n",
        """\
r.kpi:1:5: error: kpi k has no title
  1 | kpi k:
    |     ^
  2 |   population: learners
  hint: add a line `title: "…"`

1 error""",
        id="kpi-without-title",
    ),
    pytest.param(
        kpi(target="at least 75"),
        """\
r.kpi:5:20: error: a target is a percentage, but this is an integer
  4 |   counted when: withdrawal_date is set
  5 |   target: at least 75
    |                    ^^
  hint: write `at least 75%`

1 error""",
        id="target-not-a-percentage",
    ),
    pytest.param(
        kpi(counted="count(learners) > 3"),
        """\
r.kpi:4:23: error: `learners` (every learner) cannot be used inside a condition about a learner
  3 |   population: learners where completion_date is set
  4 |   counted when: count(learners) > 3
    |                       ^^^^^^^^
  5 |   target: at least 75%
  hint: every record of a kind can only be listed in a population, a finding, an action or a \
definition without `for`

1 error""",
        id="all-learners-inside-a-learner-condition",
    ),
    pytest.param(
        kpi(counted="bootcamp.n > 3", extra="define n for bootcamp: count(learners)\n"),
        """\
r.kpi:4:17: error: `bootcamp.n` reads the related records of another record
  3 |   population: learners where completion_date is set
  4 |   counted when: bootcamp.n > 3
    |                 ^^^^^^^^^^
  5 |   target: at least 75%
  hint: definition `n` lists related records, so it can only be used for the record a clause \
is about

1 error""",
        id="definition-listing-another-records-relations",
    ),
    pytest.param(
        kpi(counted="cont(interviews) > 3"),
        """\
r.kpi:4:17: error: unknown function or table `cont`
  3 |   population: learners where completion_date is set
  4 |   counted when: cont(interviews) > 3
    |                 ^^^^^^^^^^^^^^^^
  5 |   target: at least 75%
  hint: did you mean `count`?

1 error""",
        id="unknown-function-with-suggestion",
    ),
    pytest.param(
        kpi(counted="median(interviews) > 3"),
        """\
r.kpi:4:17: error: unknown function or table `median`
  3 |   population: learners where completion_date is set
  4 |   counted when: median(interviews) > 3
    |                 ^^^^^^^^^^^^^^^^^^
  5 |   target: at least 75%
  hint: functions are count, any, sum, earliest, latest

1 error""",
        id="unknown-function",
    ),
    pytest.param(
        'kpi k:\n  title: "K"\n  population: interviews\n  counted when: actual_job\n'
        "  target: at least 5%\n",
        """\
r.kpi:3:15: error: the population is a list of interviews, which belong to no bootcamp
  2 |   title: "K"
  3 |   population: interviews
    |               ^^^^^^^^^^
  4 |   counted when: actual_job
  hint: results are reported per bootcamp: use learners or engagements

1 error""",
        id="population-without-bootcamp",
    ),
    pytest.param(
        kpi(extra='  follow up when pending: "chase"\n'),
        """\
r.kpi:6:3: error: no record is ever pending for a follow-up to be useful
  5 |   target: at least 75%
  6 |   follow up when pending: "chase"
    |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^

1 error""",
        id="follow-up-on-pending-without-pending-clause",
    ),
]


@pytest.mark.parametrize(("source", "message"), CASES)
def test_check_error_message(source: str, message: str):
    assert errors(source) == message


def test_another_records_list_is_refused_with_a_hint_that_works():
    # `bootcamp.learners` from a learner would make evaluation quadratic, so it is refused;
    # the hint must not send the author to a fix the checker refuses in turn (a definition
    # `for bootcamp` listing `learners`, used from a learner: see the case
    # "definition-listing-another-records-relations").
    assert errors(kpi(counted="count(bootcamp.learners) > 3")) == """\
r.kpi:4:23: error: `bootcamp.learners` lists the learners of another record
  3 |   population: learners where completion_date is set
  4 |   counted when: count(bootcamp.learners) > 3
    |                       ^^^^^^^^^^^^^^^^^
  5 |   target: at least 75%
  hint: related records are only listed for the record a clause is about, so that evaluation \
stays linear; to judge each bootcamp by its learners, write a KPI whose population is bootcamps \
and use `learners` there

1 error"""


def test_the_hints_advice_checks_and_evaluates():
    source = ('kpi k:\n  title: "K"\n  population: bootcamps\n'
              "  counted when: count(learners) >= 2\n  target: at least 50%\n")
    rules = check([parse(source, "r.kpi")])
    ds = kpidsl.Dataset(
        providers=[kpidsl.Provider(provider_id="P", name="P")],
        bootcamps=[kpidsl.Bootcamp(bootcamp_id=b, provider_id="P", title=b,
                                   start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 6, 30),
                                   course_cost=Decimal(100)) for b in ("B1", "B2")],
        learners=[kpidsl.Learner(learner_id=i, bootcamp_id=b, learner_type="independent",
                                 start_date=dt.date(2024, 1, 1))
                  for i, b in (("L1", "B1"), ("L2", "B1"), ("L3", "B2"))],
    )
    rep = kpidsl.evaluate(rules, ds, as_of=dt.date(2025, 1, 1))
    got = {r.group: (r.status, r.numerator, r.denominator) for r in rep.results}
    # B1 has 2 learners (counted), B2 one: 1 of 2 bootcamps = 50%
    assert got == {"B1": ("met", 1, 1), "B2": ("not_met", 0, 1), "P": ("met", 1, 2),
                   "all": ("met", 1, 2)}


def test_a_constant_definition_can_be_used_in_a_condition():
    # `define name: expr` (no `for`) is a constant of the whole evaluation (ast.Definition).
    rules = check([parse(kpi(counted="count(interviews) >= min_attempts",
                             extra="define min_attempts: 2\n"), "r.kpi")])
    assert (None, "min_attempts") in rules.definitions


def test_every_problem_of_one_file_is_reported_in_line_order():
    source = kpi(counted="completon_date is set and learner_type = cofunded",
                 target="at least 75") + "define a for learner: nope\n"
    with pytest.raises(RuleError) as e:
        check([parse(source, "r.kpi")])
    got = [(d.line, d.message) for d in e.value.diagnostics]
    assert got == [
        (4, "unknown name `completon_date` on learner"),
        (4, "`cofunded` is not a value of learner_type"),
        (5, "a target is a percentage, but this is an integer"),
        (6, "unknown name `nope` on learner"),
    ]
    assert e.value.render().endswith("\n\n4 errors")


# ---- several files ---------------------------------------------------------------------------


def test_duplicate_kpi_across_two_files(tmp_path: Path):
    a, b = tmp_path / "a.kpi", tmp_path / "b.kpi"
    a.write_text(kpi(), encoding="utf-8")
    b.write_text(kpi(), encoding="utf-8")
    with pytest.raises(RuleError) as e:
        kpidsl.load_rules([a, b])
    assert e.value.render() == f"""\
{b}:1:5: error: kpi `k` is declared twice
  1 | kpi k:
    |     ^
  2 |   title: "K"
  hint: the first is at {a}:1:5

1 error"""


def test_names_are_shared_across_files(tmp_path: Path):
    (tmp_path / "defs.kpi").write_text("define done for learner: completion_date is set\n")
    (tmp_path / "kpi.kpi").write_text(kpi(counted="done"))
    rules = kpidsl.load_rules(tmp_path)
    assert [k.name for k in rules.kpis] == ["k"]
    assert ("learner", "done") in rules.definitions


def test_all_check_problems_of_several_files_at_once(tmp_path: Path):
    (tmp_path / "one.kpi").write_text(kpi(counted="completon_date is set"), encoding="utf-8")
    sub = tmp_path / "more"
    sub.mkdir()
    (sub / "two.kpi").write_text(
        kpi(counted="learner_type = cofunded").replace("kpi k:", "kpi k2:"), encoding="utf-8")
    with pytest.raises(RuleError) as e:
        kpidsl.load_rules(tmp_path)
    where = {(Path(d.file).name, d.line) for d in e.value.diagnostics}  # type: ignore[arg-type]
    assert where == {("one.kpi", 4), ("two.kpi", 4)}
    assert len(e.value.diagnostics) == 2
    text = e.value.render()
    assert "did you mean `completion_date`?" in text and "did you mean `co_funded`?" in text
    assert text.endswith("\n\n2 errors")


def test_all_syntax_problems_of_several_files_at_once(tmp_path: Path):
    (tmp_path / "a.kpi").write_text('kpi x:\n  title: "X"\n  populaton: learners\n')
    (tmp_path / "b.kpi").write_text("kpi y:\n  title: 'Y'\n")
    (tmp_path / "c.kpi").write_text("define d for learner: 2024-02-30\n")
    with pytest.raises(RuleError) as e:
        kpidsl.load_rules(tmp_path)
    got = [(Path(d.file).name, d.line, d.message) for d in e.value.diagnostics]  # type: ignore
    assert got == [
        ("a.kpi", 3, "unexpected `populaton`"),
        ("b.kpi", 2, "unexpected character `'`"),
        ("c.kpi", 1, "`2024-02-30` is not a real date"),
    ]
    assert e.value.render().endswith("\n\n3 errors")


def test_a_missing_rule_file_is_a_located_error(tmp_path: Path):
    with pytest.raises(RuleError) as e:
        kpidsl.load_rules([tmp_path / "nope.kpi"])
    assert e.value.render() == f"{tmp_path / 'nope.kpi'}: error: no such rule file\n\n1 error"


def test_a_folder_without_rules_is_an_error(tmp_path: Path):
    with pytest.raises(RuleError) as e:
        kpidsl.load_rules(tmp_path)
    assert "no .kpi rule files found" in e.value.render()


# ---- the fixture rules: the shipped rules at KPI-SPEC's numbers ------------------------------

SPEC_TARGETS = {  # KPI-SPEC §3, the table's last column
    "employer_engagement": ("at least", Fraction(1)),
    "employer_cofunding": ("at least", Fraction(1)),
    "learner_dropout": ("at most", Fraction(1, 5)),
    "new_skills": ("at least", Fraction(1)),
    "guaranteed_interview": ("at least", Fraction(1)),
    "career_progression": ("at least", Fraction(3, 4)),
    "referral": ("at least", Fraction(1)),
}


@pytest.fixture(scope="module")
def shipped() -> kpidsl.RuleSet:
    return kpidsl.load_rules(FIXTURE_RULES)


def test_the_fixture_rules_have_the_seven_kpis_of_the_spec(shipped: kpidsl.RuleSet):
    # the seven KPIs of §3, and the framework rule of §3 (WMCA performance management)
    assert sorted(k.name for k in shipped.kpis) == sorted(
        [*SPEC_TARGETS, "delivery_against_profile"])


@pytest.mark.parametrize("name", [*sorted(SPEC_TARGETS), "delivery_against_profile"])
def test_fixture_kpi_is_documented(shipped: kpidsl.RuleSet, name: str):
    k = shipped.kpi(name)
    assert k.meta_value("title"), "a title"
    assert k.policy is not None and len(k.policy.text) > 40, "a policy in prose"
    assert len(k.decisions) >= 1, "at least one decision"
    for d in k.decisions:
        assert d.key and d.text, "each decision has a title and a text"
    assert k.target is not None


@pytest.mark.parametrize("name", sorted(SPEC_TARGETS))
def test_fixture_kpi_target_is_the_spec_target(shipped: kpidsl.RuleSet, name: str):
    k = shipped.kpi(name)
    assert k.target is not None and k.target.direction == SPEC_TARGETS[name][0]
    assert k.target.expr.value == SPEC_TARGETS[name][1]  # type: ignore[union-attr]


def test_fixture_rules_pending_clauses_follow_the_spec(shipped: kpidsl.RuleSet):
    # KPI-SPEC §3: three KPIs have records pending, the others never.
    with_pending = {k.name for k in shipped.kpis if k.pending is not None}
    assert with_pending == {"employer_cofunding", "learner_dropout", "career_progression"}


def test_load_rules_accepts_one_path_or_several(shipped: kpidsl.RuleSet):
    folder = FIXTURE_RULES
    one = kpidsl.load_rules(str(folder))
    assert [k.name for k in one.kpis] == [k.name for k in shipped.kpis]
    files = sorted(folder.glob("*.kpi"))
    assert [k.name for k in kpidsl.load_rules(files).kpis] == [k.name for k in shipped.kpis]
