"""What expressions mean when evaluated: missing values, arithmetic, functions, navigation.

Each case is a one-KPI rule file whose ``counted when:`` is the expression under test, over a
population of one learner (or engagement); the expected value is worked out from the language's
documented semantics (interpreter.py): a date after the as-of date is missing, a comparison with
a missing value is false, a missing boolean is not true, arithmetic on a missing value is
missing, division by zero is missing, money is exact.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import kpidsl
from cohort import D, co_funded, completer, dataset, engagement, interview, learner, payment
from conftest import ENGINES, choice

AS_OF = D("2025-12-31")


def counted(tmp_path: Path, condition: str, ds: kpidsl.Dataset, population: str = "learners",
            as_of=AS_OF) -> bool:
    """Whether the single record of ``population`` satisfies ``condition``."""
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    (folder / "k.kpi").write_text(
        f'kpi k:\n  title: "K"\n  population: {population}\n  counted when: {condition}\n'
        "  target: at least 100%\n", encoding="utf-8")
    rules = kpidsl.load_rules(folder)
    results = {engine: kpidsl.evaluate(rules, ds, as_of=as_of, engine=choice(engine)
                                       ).result("k") for engine in ENGINES}
    r = results["python"]
    assert all(other == r for other in results.values()), results  # every engine agrees
    assert r.denominator == 1
    return r.numerator == 1


BLANK = dataset([learner("L")])  # an independent learner with nothing recorded
DONE = dataset([completer("L", wants_interview=True)],  # completed 2024-06-30
               [interview("L", "2024-05-01", result="unsuccessful"),
                interview("L", "2024-06-10", actual_job=False)])
PAID = dataset([co_funded("L")], payments=[payment("L", "100.00", "2024-02-01"),
                                           payment("L", "50.00", "2024-03-01")])
LEAP = dataset([completer("L", "2024-02-29")])
MONTH_END = dataset([completer("L", "2024-08-31")])


CASES = [
        # missing values
        (BLANK, "completion_date > 2024-01-01", False),
        (BLANK, "completion_date <= 2024-01-01", False),
        (BLANK, "completion_date != 2024-01-01", False),  # any comparison with missing
        (BLANK, "not (completion_date > 2024-01-01)", True),
        (BLANK, "completion_date is missing", True),
        (BLANK, "wants_interview", False),  # a missing boolean is not true
        (BLANK, "not wants_interview", True),
        (BLANK, "wants_interview = false", False),
        (BLANK, "outcome in {new_job}", False),
        (BLANK, "outcome not in {new_job}", False),
        (BLANK, "(completion_date + 6 months) is missing", True),  # arithmetic on missing
        (BLANK, "count(interviews) = 0 and sum(payments.amount_paid) = £0", True),
        (BLANK, "earliest(interviews.offer_date) is missing", True),
        (BLANK, "not any(interviews)", True),
        # dates and durations
        (DONE, "completion_date + 6 months = 2024-12-30", True),
        (DONE, "completion_date - 1 month = 2024-05-30", True),
        (DONE, "completion_date + 2 weeks = 2024-07-14", True),
        (DONE, "completion_date + 1 day = 2024-07-01", True),
        (LEAP, "completion_date + 1 year = 2025-02-28", True),  # clamped
        (LEAP, "completion_date + 6 months = 2024-08-29", True),
        (MONTH_END, "completion_date + 6 months = 2025-02-28", True),  # not 2025-03-03
        (MONTH_END, "completion_date + 1 month = 2024-09-30", True),
        (DONE, "as_of = 2025-12-31", True),
        # lists of related records and functions
        (DONE, "count(interviews) = 2", True),
        (DONE, "count(interviews where result = unsuccessful) = 1", True),
        (DONE, "any(interviews where actual_job and matches_skills)", True),
        (DONE, "any(interviews where result = offered_job)", False),
        (DONE, "earliest(interviews.offer_date) = 2024-05-01", True),
        (DONE, "latest(interviews.offer_date) = 2024-06-10", True),
        (PAID, "sum(payments.amount_paid) = £150", True),
        (PAID, "latest(payments.paid_date) = 2024-03-01", True),
        # navigation
        (DONE, 'bootcamp.provider.name = "One"', True),
        (DONE, "bootcamp.title = \"B1\" and not bootcamp.accelerated_apprenticeship", True),
        (PAID, "employer.employees = 249", True),
        (BLANK, "employer.employees is missing", True),  # no employer: navigation is missing
        # exact arithmetic on money
        (DONE, "bootcamp.course_cost * 10% = £150", True),
        (DONE, "bootcamp.course_cost / 3 = £500", True),
        (DONE, "bootcamp.course_cost * 1% = £15", True),
        (DONE, "bootcamp.course_cost / 7 * 700% = £1,500", True),  # no rounding on the way
        (DONE, "bootcamp.course_cost / 0 is missing", True),  # division by zero
        (DONE, "-bootcamp.course_cost < £0", True),
        (DONE, "2 + 3 * 4 = 14 and (2 + 3) * 4 = 20 and 7 - 2 - 1 = 4", True),
        (DONE, "1 / 3 + 1 / 3 + 1 / 3 = 1", True),  # exact fractions, not floats
        (DONE, "0.1 + 0.2 = 0.3", True),
        (DONE, "12.5% * 8 = 100%", True),
]


@pytest.mark.parametrize(("ds", "condition", "expected"), CASES)
def test_expression(tmp_path: Path, ds, condition: str, expected: bool):
    assert counted(tmp_path, condition, ds) is expected


def test_a_date_after_the_as_of_date_is_missing(tmp_path: Path):
    ds = dataset([completer("L", "2024-06-30")])
    assert counted(tmp_path, "completion_date is set", ds, as_of=D("2024-06-30"))
    assert not counted(tmp_path, "completion_date is set", ds, as_of=D("2024-06-29"))
    assert counted(tmp_path, "completion_date is missing", ds, as_of=D("2024-06-29"))


def test_related_rows_dated_after_the_as_of_date_do_not_exist_yet(tmp_path: Path):
    ds = PAID  # payments of 2024-02-01 and 2024-03-01
    assert counted(tmp_path, "count(payments) = 1", ds, as_of=D("2024-02-15"))
    assert counted(tmp_path, "sum(payments.amount_paid) = £100", ds, as_of=D("2024-02-15"))
    assert counted(tmp_path, "count(payments) = 0", ds, as_of=D("2024-01-31"))


def test_a_set_valued_field(tmp_path: Path):
    ds = dataset(engagements=[engagement("B1", "SME", roles=frozenset({"co_design",
                                                                        "delivery"}))])
    assert counted(tmp_path, "co_design in roles", ds, population="engagements")
    assert counted(tmp_path, "own_staff not in roles", ds, population="engagements")
    assert not counted(tmp_path, "interviewing in roles", ds, population="engagements")


def test_where_in_a_population_and_a_definition(tmp_path: Path):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "k.kpi").write_text(
        "define tries for learner: count(interviews where result = unsuccessful)\n"
        "define busy for learner: tries >= 1\n"
        'kpi k:\n  title: "K"\n  population: learners where busy\n'
        "  counted when: tries = 2\n  target: at least 50%\n", encoding="utf-8")
    ds = dataset([completer("A"), completer("B"), completer("C")],
                 [interview("A", result="unsuccessful"), interview("A", result="unsuccessful"),
                  interview("B", result="unsuccessful"), interview("C", result="declined")])
    r = kpidsl.evaluate(kpidsl.load_rules(folder), ds, as_of=AS_OF).result("k")
    # population A (2 tries) and B (1); C never unsuccessful; counted A: 1/2 = 50% ≥ 50%
    assert (r.status, r.numerator, r.denominator, r.pending) == ("met", 1, 2, 0)


def test_an_engagement_recorded_after_the_as_of_date_does_not_exist_yet(tmp_path: Path):
    """KPI-SPEC §2: an engagement with a recorded_date after the as-of date is read as
    missing; one without a recorded_date exists at every as-of date."""
    later = dataset(engagements=[engagement("B1", "SME", reached=True,
                                            recorded_date=D("2024-05-01"))])
    undated = dataset(engagements=[engagement("B1", "SME", reached=True)])
    kpi = (tmp_path / "rules")
    kpi.mkdir()
    (kpi / "k.kpi").write_text('kpi k:\n  title: "K"\n  population: engagements where reached\n'
                               "  counted when: true\n  target: at least 100%\n", encoding="utf-8")
    rules = kpidsl.load_rules(kpi)
    for when, ds, n in [("2024-04-30", later, 0), ("2024-05-01", later, 1),
                        ("2020-01-01", undated, 1)]:
        for engine in ENGINES:
            got = kpidsl.evaluate(rules, ds, as_of=D(when), engine=choice(engine)).result("k")
            assert got.denominator == n, engine
