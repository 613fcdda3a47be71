"""Hostile and extreme inputs: every one gets a located error or a sensible result, never a
traceback, and evaluation stays linear in the data."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

import kpidsl
from cohort import FIXTURE_RULES
from kpidsl.cli import main
from kpidsl.engines.python import reused_definitions
from kpidsl.plan.lower import lower

D = dt.date
SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample"


def _rules(tmp_path: Path, text: str, *, shipped: bool = False) -> Path:
    folder = tmp_path / "rules"
    if shipped:
        shutil.copytree(FIXTURE_RULES, folder)
    else:
        folder.mkdir()
    (folder / "extra.kpi").write_text(text, encoding="utf-8")
    return folder


def _errors(folder: Path) -> str:
    with pytest.raises(kpidsl.RuleError) as e:
        kpidsl.load_rules(folder)
    return e.value.render()


@pytest.mark.parametrize("as_of", [D(1, 1, 1), D(2, 6, 1), D(2020, 9, 30), D(2022, 10, 30),
                                   D(9999, 12, 31)])
def test_any_as_of_date_evaluates(as_of):
    """Dates at the ends of the calendar, and before the first version of a dated table."""
    report = kpidsl.evaluate(kpidsl.load_rules(FIXTURE_RULES), kpidsl.load_data(SAMPLE), as_of=as_of)
    assert {r.status for r in report.results} <= {"met", "not_met", "on_track", "at_risk",
                                                  "no_data"}


def test_a_target_with_no_version_in_force_is_no_data_with_a_finding():
    """The tolerances start in 2020/21; on 30 September 2020 the point judged is R12 of
    2019/20, before them: no status can be given, and the report says why."""
    report = kpidsl.evaluate(kpidsl.load_rules(FIXTURE_RULES), kpidsl.load_data(SAMPLE),
                             as_of=D(2020, 9, 30))
    delivery = [r for r in report.results if r.kpi == "delivery_against_profile"]
    assert delivery and {r.status for r in delivery} == {"no_data"}
    assert all(r.target is None for r in delivery)
    assert [f.message for f in report.findings if f.name == "delivery_against_profile"] == [
        "no target is in force on 2020-09-30: a dated table the target reads has no version "
        "then, so every status is no_data"]
    # the spec's R12 of 2021/22 (judged on 30 October 2022) has its 5% tolerance
    later = kpidsl.evaluate(kpidsl.load_rules(FIXTURE_RULES), kpidsl.load_data(SAMPLE), as_of=D(2022, 10, 30))
    r = later.result("delivery_against_profile", "programme", "all")
    assert r.target is not None and r.target == 1 - Decimal("0.05")


def test_a_decimal_target_is_exact(tmp_path):
    """`10% * 2.0` is worked out in Decimals; the status compares it exactly with 1 of 5."""
    folder = _rules(tmp_path, 'kpi k:\n  title: "T"\n  population: learners\n'
                    '  counted when: withdrawal_date is set\n  target: at most 10% * 2.0\n')
    rules = kpidsl.load_rules(folder)
    learners = [kpidsl.Learner(learner_id=f"L{i}", bootcamp_id="B1", learner_type="independent",
                               start_date=D(2024, 1, 1),
                               withdrawal_date=D(2024, 2, 1) if i == 0 else None)
                for i in range(5)]
    data = kpidsl.Dataset(
        providers=[kpidsl.Provider(provider_id="P1", name="P")],
        bootcamps=[kpidsl.Bootcamp(bootcamp_id="B1", provider_id="P1", title="B",
                                   start_date=D(2024, 1, 1), end_date=D(2024, 6, 1),
                                   course_cost=Decimal(1000))],
        learners=learners)
    r = kpidsl.evaluate(rules, data, as_of=D(2025, 1, 1)).result("k")
    assert (r.status, r.numerator, r.denominator) == ("met", 1, 5)  # exactly 20%


def test_sums_of_money_are_never_rounded(tmp_path):
    """Decimal's default 28 digits would round this sum to the amount due and miss by 0.01."""
    folder = _rules(tmp_path, 'kpi k:\n  title: "T"\n  population: learners\n'
                    '  counted when: sum(payments.amount_paid) >= bootcamp.course_cost * 10%\n'
                    '  target: at least 100%\n')
    cost = Decimal("1000000000000000000000000000000.10")
    data = kpidsl.Dataset(
        providers=[kpidsl.Provider(provider_id="P1", name="P")],
        bootcamps=[kpidsl.Bootcamp(bootcamp_id="B1", provider_id="P1", title="B",
                                   start_date=D(2024, 1, 1), end_date=D(2024, 6, 1),
                                   course_cost=cost)],
        learners=[kpidsl.Learner(learner_id="L1", bootcamp_id="B1", learner_type="independent",
                                 start_date=D(2024, 1, 1))],
        payments=[kpidsl.Payment(learner_id="L1", amount_paid=Decimal(a), paid_date=D(2024, 2, 1))
                  for a in ("100000000000000000000000000000.00", "0.01")])
    # due: 100000000000000000000000000000.010; paid: …000.01, so it is met to the penny
    r = kpidsl.evaluate(kpidsl.load_rules(folder), data, as_of=D(2025, 1, 1)).result("k")
    assert (r.status, r.numerator) == ("met", 1)


def test_count_where_with_a_missing_boolean(tmp_path):
    """An empty `reached` is not true: it is simply not counted."""
    folder = _rules(tmp_path, 'action few:\n  message: "m"\n'
                    '  for: bootcamps where count(engagements where reached) < 2\n')
    data = kpidsl.Dataset(
        providers=[kpidsl.Provider(provider_id="P1", name="P")],
        bootcamps=[kpidsl.Bootcamp(bootcamp_id="B1", provider_id="P1", title="B",
                                   start_date=D(2024, 1, 1), end_date=D(2024, 6, 1),
                                   course_cost=Decimal(1))],
        employers=[kpidsl.Employer(employer_id=e, name=e, employees=5) for e in ("E1", "E2")],
        engagements=[kpidsl.Engagement(bootcamp_id="B1", employer_id="E1", reached=True),
                     kpidsl.Engagement(bootcamp_id="B1", employer_id="E2", reached=None)])
    report = kpidsl.evaluate(kpidsl.load_rules(folder), data, as_of=D(2025, 1, 1))
    assert [a.record for a in report.actions] == ["bootcamp B1"]


def test_a_date_past_year_9999_is_missing(tmp_path):
    folder = _rules(tmp_path, "finding late:\n  message: \"m\"\n"
                    "  for: learners where completion_date + 1 year > 2000-01-01\n")
    data = kpidsl.Dataset(
        providers=[kpidsl.Provider(provider_id="P1", name="P")],
        bootcamps=[kpidsl.Bootcamp(bootcamp_id="B1", provider_id="P1", title="B",
                                   start_date=D(2024, 1, 1), end_date=D(2024, 6, 1),
                                   course_cost=Decimal(1))],
        learners=[kpidsl.Learner(learner_id=i, bootcamp_id="B1", learner_type="independent",
                                 start_date=D(2024, 1, 1), completion_date=c)
                  for i, c in (("L1", D(9999, 6, 1)), ("L2", D(2024, 6, 1)))])
    report = kpidsl.evaluate(kpidsl.load_rules(folder), data, as_of=D(2025, 1, 1))
    assert [f.record for f in report.findings] == ["learner L2"]  # L1's date has no next year


def test_a_list_of_every_record_cannot_enter_a_record_condition(tmp_path):
    """Counting every learner again for each learner would cost n² — refused, located."""
    text = ("define everyone: learners\n"
            "kpi k:\n  title: \"T\"\n"
            "  population: learners where count(everyone where completion_date is set) > 0\n"
            "  counted when: completion_date is set\n  target: at least 1%\n")
    message = _errors(_rules(tmp_path, text))
    assert ("extra.kpi:4:36: error: `everyone` is a list of records, so it cannot be used "
            "inside a condition about a learner") in message


@pytest.mark.parametrize("text", ["table a: b\ntable b: a\n", "table a: a + 1%\n",
                                  "define x: a\ntable a: b\ntable b: a\n"])
def test_tables_hold_values_not_calculations(tmp_path, text):
    message = _errors(_rules(tmp_path, text))
    assert "a table holds values, such as 30% or £1,500.00, not calculations" in message


def test_rules_nested_too_deeply_get_a_located_error(tmp_path):
    deep = "define d for learner: " + " and ".join(["completion_date is set"] * 300) + "\n"
    assert "extra.kpi:1:23: error: this rule nests more than 100 levels deep" in _errors(
        _rules(tmp_path, deep))


def test_a_long_chain_of_definitions_gets_a_located_error(tmp_path):
    chain = "".join(f"define d{i} for learner: d{i + 1}\n" for i in range(400))
    chain += "define d400 for learner: completion_date is set\n"
    assert "error: definitions use each other more than 50 deep here" in _errors(
        _rules(tmp_path, chain))


def test_a_huge_number_in_a_rule_is_located(tmp_path):
    assert "extra.kpi:1:13: error: this number has 5000 digits" in _errors(
        _rules(tmp_path, "define big: " + "9" * 5000 + "\n"))


def test_a_rule_file_that_is_not_utf8_is_located(tmp_path):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "latin.kpi").write_bytes("# ok\n# caf\u00e9\n".encode("latin-1"))
    message = _errors(folder)
    assert "latin.kpi:2:6: error: byte 0xe9 is not UTF-8 text" in message
    assert "hint: save the file as UTF-8" in message


def test_excerpts_count_lines_as_the_parser_does(tmp_path):
    """A line separator inside a comment is not a line break for the parser (nor the caret)."""
    text = "# a\u2028b\n# c\ndefine x for learner: completon_date is set\n"
    message = _errors(_rules(tmp_path, text))
    assert "  3 | define x for learner: completon_date is set\n" in message


def test_reused_definitions_are_analysed_once_each(tmp_path):
    """Twenty definitions each using the next twice would be 2**20 walks without memory."""
    chain = "".join(f"define d{i} for learner: d{i + 1} and (d{i + 1} or completer)\n"
                    for i in range(20))
    chain += ("define d20 for learner: completion_date is set\n"
              "kpi k:\n  title: \"T\"\n  population: learners where d0\n"
              "  counted when: d0\n  target: at least 1%\n")
    rules = kpidsl.load_rules(_rules(tmp_path, chain, shipped=True))
    assert ("learner", "d0") in reused_definitions(lower(rules))  # population and counted both read it


def test_a_test_file_is_run_with_its_rule_set(capsys):
    test_file = FIXTURE_RULES / "tests" / "03_learner_dropout_test.kpi"
    assert main(["test", str(test_file)]) == 0
    assert "0 failed" in capsys.readouterr().out
