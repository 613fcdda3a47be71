"""Tests written beside the rules: ``kpidsl.tools.testing`` and ``kpidsl test``.

Small rule sets are written inline to a temporary folder; the shipped rules' own tests must
pass and must notice a change of the drop-out maximum.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import kpidsl
from cohort import FIXTURE_RULES
from kpidsl.api import load_rules, rules_fingerprint
from kpidsl.cli import main
from kpidsl.tools.testing import build_dataset, render, run_test, run_tests

DROPOUT = '''\
define milestone1_starter for learner: milestone1_date is set

kpi learner_dropout:
  title: "Drop-out"
  population: learners where milestone1_starter
  counted when: withdrawal_date is set
  pending when: withdrawal_date is missing and completion_date is missing
  target: at most 20%
'''

ONE_IN_FIVE = '''
test NAME:
  """One of five starters withdrew and one is still in learning: 1 of the 4 decided is
  25%, so at risk."""
  as of: 2025-03-31
  given:
    provider P1
    bootcamp B1
    learner L1: learner_type = independent, milestone1_date = 2024-02-01,
                withdrawal_date = 2024-03-01
    learner L2: learner_type = independent, milestone1_date = 2024-02-01,
                completion_date = 2024-06-28
    learner L3: learner_type = independent, milestone1_date = 2024-02-01,
                completion_date = 2024-06-28
    learner L4: learner_type = independent, milestone1_date = 2024-02-01,
                completion_date = 2024-06-28
    learner L5: learner_type = independent, milestone1_date = 2024-02-01
  expect learner_dropout for bootcamp B1: EXPECT
'''


def one_in_five(expect: str, name: str = "one_in_five") -> str:
    """A test of one withdrawal and one learner still in learning among five starters."""
    return ONE_IN_FIVE.replace("NAME", name).replace("EXPECT", expect)


def write(tmp_path: Path, text: str) -> Path:
    """A rule folder holding one file; returns the file."""
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    path = folder / "r.kpi"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, fragment: str) -> int:
    """The 1-based line of the first line of ``path`` containing ``fragment``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if fragment in line)


# ---- the runner -----------------------------------------------------------------------------


def test_a_passing_test(tmp_path):
    path = write(tmp_path, DROPOUT + one_in_five("at_risk, 1 of 5, 1 pending"))
    report = run_tests(kpidsl.load_rules(path.parent))
    (outcome,) = report.outcomes
    assert outcome.passed and outcome.name == "one_in_five"
    assert outcome.location == f"{path}:{line_of(path, 'test one_in_five')}"
    assert (report.passed, report.failed, report.ok) == (1, 0, True)


def test_a_failing_expectation_says_where_and_what(tmp_path):
    path = write(tmp_path, DROPOUT + one_in_five("met, 1 of 5"))
    report = run_tests(kpidsl.load_rules(path.parent))
    (outcome,) = report.outcomes
    assert not outcome.passed and not report.ok
    (failure,) = outcome.failures
    assert failure.location == f"{path}:{line_of(path, 'expect learner_dropout')}"
    assert failure.message == "expect learner_dropout for bootcamp B1"
    assert failure.expected == "met, 1 of 5"
    assert failure.actual == "at_risk, 1 of 5, 1 pending"


def test_counts_left_out_are_not_checked_but_given_ones_are(tmp_path):
    path = write(tmp_path, DROPOUT + one_in_five("at_risk, 2 of 5"))
    (failure,) = run_tests(kpidsl.load_rules(path.parent)).outcomes[0].failures
    assert (failure.expected, failure.actual) == ("at_risk, 2 of 5", "at_risk, 1 of 5, 1 pending")


def test_an_expectation_of_a_group_that_does_not_exist(tmp_path):
    text = DROPOUT + one_in_five("at_risk").replace("for bootcamp B1", "for bootcamp B9")
    path = write(tmp_path, text)
    (failure,) = run_tests(kpidsl.load_rules(path.parent)).outcomes[0].failures
    assert failure.message == "expect learner_dropout for bootcamp B9: there is no such result"
    assert failure.actual == "bootcamp results: B1"


DEFAULTS = DROPOUT + '''
test defaults:
  as of: 2025-03-31
  given:
    provider P1
    bootcamp B1: course_cost = 1500
    employer E1
    engagement G1: bootcamp_id = B1, employer_id = E1, roles = {co_design, delivery}
    learner L1: learner_type = co_funded, employer_id = E1, milestone1_date = 2024-02-01,
                completion_date = 2024-06-28
    interview I1: learner_id = L1, employer_id = E1, offer_date = 2024-01-15
    interview I2: learner_id = L1, employer_id = E1
    payment Y1: learner_id = L1, amount_paid = £150.00
    profile Q1: provider_id = P1, month = 2024-08-01
  expect learner_dropout for programme all: met
'''


def test_required_fields_left_out_get_neutral_defaults(tmp_path):
    path = write(tmp_path, DEFAULTS)
    (test,) = kpidsl.load_rules(path.parent).tests
    data, failures = build_dataset(test)
    assert failures == []
    (provider,), (bootcamp,), (employer,) = data.providers, data.bootcamps, data.employers
    assert (provider.provider_id, provider.name) == ("P1", "P1")
    assert bootcamp.provider_id == "P1"  # the only provider
    assert bootcamp.title == "B1"
    assert bootcamp.course_cost == Decimal(1500) and isinstance(bootcamp.course_cost, Decimal)
    assert bootcamp.start_date == bootcamp.end_date == dt.date(2000, 1, 1)
    assert (employer.name, employer.employees) == ("E1", 0)
    (learner,) = data.learners
    assert learner.bootcamp_id == "B1"  # the only bootcamp
    # the earliest date given on the learner or its interviews: no "before start" finding
    assert learner.start_date == dt.date(2024, 1, 15)
    _, i2 = data.interviews
    assert i2.offer_date == learner.start_date
    assert (i2.actual_job, i2.matches_skills, i2.result) == (False, False, "pending")
    (payment,) = data.payments
    assert (payment.amount_paid, payment.paid_date) == (Decimal("150.00"), learner.start_date)
    (engagement,) = data.engagements
    assert engagement.roles == frozenset({"co_design", "delivery"})
    assert engagement.reached is None and engagement.contact_attempts == 0
    (profile,) = data.profiles
    assert (profile.month, profile.planned_starts) == (dt.date(2024, 8, 1), 0)
    report = kpidsl.evaluate(kpidsl.load_rules(path.parent), data, as_of=test.as_of)
    assert report.findings == ()


BROKEN = DROPOUT + '''
test broken:
  as of: 2025-03-31
  given:
    provider P1
    provider P2
    bootcamp B1
    bootcamp B2: provider_id = P1
    learner L1: bootcamp_id = B9, learner_type = independent
    learner L1: bootcamp_id = B2, learner_type = independent
    learner L2: bootcamp_id = B2
    learner L3: bootcamp_id = B2, learner_type = co_funded
    engagement G1: bootcamp_id = B2, satisfaction = 7
    profile Q1: provider_id = P1, month = 2024-08-15
  expect learner_dropout for programme all: met
'''


def test_problems_in_the_given_records_are_errors_at_their_lines(tmp_path):
    path = write(tmp_path, BROKEN)
    (outcome,) = run_tests(kpidsl.load_rules(path.parent)).outcomes
    assert not outcome.passed
    got = [(f.line, f.message) for f in outcome.failures]
    at = lambda fragment: line_of(path, fragment)  # noqa: E731
    assert got == [
        (at("bootcamp B1"), "bootcamp B1 needs `provider_id`: the test gives 2 providers"),
        (at("learner L1: bootcamp_id = B9"), "learner L1: no bootcamp has bootcamp_id 'B9'"),
        (at("learner L1: bootcamp_id = B2"),
         "learner L1: duplicate learner: learner_id 'L1' appears earlier"),
        (at("learner L2"), "learner L2 needs `learner_type`: give it"),
        (at("learner L3"), "learner L3: a co-funded learner must name its employer"),
        (at("engagement G1"), "engagement G1: satisfaction: 7 is more than 5"),
        (at("engagement G1"), "engagement G1 needs `employer_id`: give it"),
        (at("profile Q1"),
         "profile Q1: month: 2024-08-15 is not the first day of a month"),
    ]
    assert all(f.file == str(path) and f.expected is None for f in outcome.failures)


# ---- coverage -------------------------------------------------------------------------------


def test_coverage_counts_verdicts_statuses_and_clause_parts(tmp_path):
    path = write(tmp_path, DROPOUT + one_in_five("at_risk, 1 of 5, 1 pending"))
    (cov,) = run_tests(kpidsl.load_rules(path.parent)).coverage
    assert cov.kpi == "learner_dropout" and cov.tests == 1
    assert cov.verdicts == ("counted", "not counted", "pending")
    assert cov.statuses == ("at_risk",)
    parts = {(p.clause, p.text): (p.true, p.false) for p in cov.parts}
    assert parts == {
        ("population", "milestone1_starter"): (True, False),  # every learner started
        ("counted when", "withdrawal_date is set"): (True, True),
        # asked only of the records not counted, which never have a withdrawal
        ("pending when", "withdrawal_date is missing"): (True, False),
        ("pending when", "completion_date is missing"): (True, True),
    }
    gaps = cov.gaps()
    assert "statuses never expected: met, not_met, on_track" in gaps
    assert any(g.startswith("population (") and g.endswith("`milestone1_starter` never false")
               for g in gaps)


def test_coverage_looks_inside_the_definitions_a_clause_names(tmp_path):
    """A definition's own ``and``/``or`` parts (and those of the definitions they name) are
    judged on the clause's records, as a clause's parts are, and located in the definition."""
    text = DROPOUT.replace(
        "define milestone1_starter for learner: milestone1_date is set",
        "define seeks_job for learner: learner_type = independent or learner_type = self_employed\n"
        "define milestone1_starter for learner: milestone1_date is set and seeks_job")
    path = write(tmp_path, text + one_in_five("at_risk, 1 of 5, 1 pending"))
    (cov,) = run_tests(kpidsl.load_rules(path.parent)).coverage
    parts = [(p.clause, p.text, p.line, p.true, p.false) for p in cov.parts]
    assert parts[:4] == [
        ("population", "milestone1_starter", 6, True, False),
        ("milestone1_starter in population", "milestone1_date is set", 2, True, False),
        ("milestone1_starter in population", "seeks_job", 2, True, False),
        # every learner is independent
        ("seeks_job in milestone1_starter in population", "learner_type = independent", 1,
         True, False),
    ]
    assert parts[4] == ("seeks_job in milestone1_starter in population",
                        "learner_type = self_employed", 1, False, True)
    assert [p[0] for p in parts[5:]] == ["counted when", "pending when", "pending when"]
    assert f"seeks_job in milestone1_starter in population ({path}:1): " \
           "`learner_type = self_employed` never true" in cov.gaps()


def test_coverage_quotes_each_part_even_after_a_line_break_python_alone_sees(tmp_path):
    # str.splitlines also breaks at a form feed; the rule file's lines are its "\n" lines.
    path = write(tmp_path, "# page one \x0c page two\n" + DROPOUT
                 + one_in_five("at_risk, 1 of 5, 1 pending"))
    (cov,) = run_tests(kpidsl.load_rules(path.parent)).coverage
    assert [(p.clause, p.text) for p in cov.parts] == [
        ("population", "milestone1_starter"),
        ("counted when", "withdrawal_date is set"),
        ("pending when", "withdrawal_date is missing"),
        ("pending when", "completion_date is missing"),
    ]


def test_the_testing_page_shows_pass_and_fail_lines_as_they_are_printed(tmp_path):
    path = write(tmp_path, DROPOUT + one_in_five("at_risk", "passes")
                 + one_in_five("met", "fails"))
    printed = render(run_tests(kpidsl.load_rules(path.parent))).splitlines()
    page = (Path(__file__).parents[1] / "docs" / "testing.rst").read_text(encoding="utf-8")
    shown = [line.strip() for line in page.splitlines()
             if line.strip().startswith(("PASS  ", "FAIL  "))]
    assert shown and any(line.startswith("PASS") for line in shown)
    for line in shown:  # PASS  name; FAIL  name  file:line
        real = next(p for p in printed if p[:4] == line[:4])
        assert len(line.split()) == len(real.split()), (line, real)


def test_coverage_ignores_tests_that_expect_nothing_of_a_kpi(tmp_path):
    text = DROPOUT + '''
kpi completers:
  title: "Completers"
  population: learners
  counted when: completion_date is set
  target: at least 100%
''' + one_in_five("at_risk")
    path = write(tmp_path, text)
    cov = {c.kpi: c for c in run_tests(kpidsl.load_rules(path.parent)).coverage}
    assert cov["completers"].tests == 0
    assert cov["completers"].gaps() == ["no test expects anything of it"]
    # with a target of 100%, at_risk cannot happen, so it is not asked for
    assert cov["completers"].possible_statuses == ("met", "not_met")


def test_fixture_rules_have_tests_for_every_kpi_and_they_pass():
    report = run_tests(kpidsl.load_rules(FIXTURE_RULES))
    failures = [f"{o.name}: {f.location}: {f.message}: {f.expected} / {f.actual}"
                for o in report.outcomes for f in o.failures]
    assert failures == []
    for c in report.coverage:
        assert c.tests >= 2, c.kpi
        assert c.verdicts == c.possible_verdicts, c.kpi
        assert set(c.possible_statuses) <= set(c.statuses), c.kpi
    delivery = next(c for c in report.coverage if c.kpi == "delivery_against_profile")
    assert delivery.points == ("R04", "R08", "R12", "R14")


# ---- the command line -----------------------------------------------------------------------


def test_cli_all_pass(capsys, tmp_path):
    path = write(tmp_path, DROPOUT + one_in_five("at_risk, 1 of 5, 1 pending"))
    code = main(["test", str(path.parent)])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    fingerprint = rules_fingerprint(load_rules(path.parent))[:12]
    assert lines[0] == f"Rules: {path.parent} (fingerprint {fingerprint})"
    assert lines[1] == "PASS  one_in_five"  # a pass needs no location; a failure shows it
    assert lines[2] == "1 passed, 0 failed"
    assert "Coverage" in out and "learner_dropout: 1 test;" in out


def test_cli_a_failure_exits_1_with_expected_and_actual(capsys, tmp_path):
    path = write(tmp_path, DROPOUT + one_in_five("met") + one_in_five("at_risk", "again"))
    code = main(["test", str(path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "\n1 passed, 1 failed\n" in out
    assert re.search(r"^FAIL  one_in_five  .*r\.kpi:\d+$", out, re.M)
    expect_line = line_of(path, "expect learner_dropout for bootcamp B1: met")
    assert f"r.kpi:{expect_line}: expect learner_dropout for bootcamp B1\n" \
           "    expected: met\n    actual:   at_risk, 1 of 5, 1 pending" in out


def test_cli_rule_errors_exit_1_and_missing_paths_exit_2(capsys, tmp_path):
    path = write(tmp_path, DROPOUT.replace("population", "populaton"))
    assert main(["test", str(path)]) == 1
    assert "populaton" in capsys.readouterr().err
    assert main(["test", str(tmp_path / "nowhere")]) == 2


def test_cli_working_rules_as_a_real_process():
    done = subprocess.run([sys.executable, "-m", "kpidsl", "test"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^\d+ passed, 0 failed$", done.stdout, re.M)


def test_raising_the_dropout_maximum_alone_fails_the_rule_tests(capsys, tmp_path):
    """A policy edit that no test notices is a gap: 20% → 25% must fail a test."""
    rules = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, rules)
    dropout = rules / "03_learner_dropout.kpi"
    text = dropout.read_text(encoding="utf-8")
    assert text.count("target: at most 20%") == 1
    dropout.write_text(text.replace("target: at most 20%", "target: at most 25%"),
                       encoding="utf-8")
    assert main(["test", str(rules)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^FAIL  dropout_1_of_4_is_over_the_maximum ", out, re.M)
    assert re.search(r"^\d+ passed, [1-9]\d* failed$", out, re.M)
    assert "expected: not_met, 1 of 4, 0 pending\n    actual:   met, 1 of 4, 0 pending" in out


@pytest.mark.parametrize("edit", [("R04: 15%", "R04: 20%"), ("sme: 10%", "sme: 9%"),
                                  ("target: at least 75%", "target: at least 70%")])
def test_other_policy_edits_fail_the_rule_tests(capsys, tmp_path, edit):
    rules = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, rules)
    old, new = edit
    (path,) = [p for p in rules.glob("*.kpi") if old in p.read_text(encoding="utf-8")]
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    assert main(["test", str(rules)]) == 1
    capsys.readouterr()


def test_expected_counts_of_findings_and_actions(tmp_path):
    """`expect N action NAME` counts what a rule lists; a wrong count names what was listed."""
    folder = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, folder, ignore=shutil.ignore_patterns("tests"))
    (folder / "t.kpi").write_text(
        "test unreachable:\n"
        "  as of: 2025-03-31\n"
        "  given:\n"
        "    provider P1\n"
        "    bootcamp B1\n"
        "    employer E1\n"
        "    engagement G1: bootcamp_id = B1, employer_id = E1, contact_attempts = 3\n"
        "  expect 0 action employer_unreachable\n"
        "  expect 0 finding withdrawn_and_completed\n")
    report = run_tests(kpidsl.load_rules(folder))
    (outcome,) = report.outcomes
    (failure,) = outcome.failures
    assert (failure.line, failure.message) == (8, "expect 0 action employer_unreachable")
    assert (failure.expected, failure.actual) == ("0", "1: engagement B1/E1")


def test_expected_entries_must_name_a_rule(tmp_path):
    folder = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, folder, ignore=shutil.ignore_patterns("tests"))
    (folder / "t.kpi").write_text(
        "test t:\n  as of: 2025-03-31\n  given:\n    provider P1\n"
        "  expect 1 action employer_unreachabel\n")
    with pytest.raises(kpidsl.RuleError) as e:
        kpidsl.load_rules(folder)
    assert "t.kpi:5:3: error: no action is called `employer_unreachabel`" in e.value.render()
    assert "did you mean `employer_unreachable`?" in e.value.render()


def test_a_rule_test_reports_the_findings_evaluate_reports(tmp_path):
    """`kpidsl test` makes its report where `evaluate` does: on 30 September 2020 no
    tolerance is in force, and both say so in a finding."""
    folder = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, folder, ignore=shutil.ignore_patterns("tests"))
    (folder / "t.kpi").write_text(
        "test before_the_tolerances:\n  as of: 2020-09-30\n  given:\n    provider P1\n"
        "    bootcamp B1\n  expect delivery_against_profile for provider P1: no_data\n")
    rules = kpidsl.load_rules(folder)
    outcome, data, report = run_test(rules, rules.tests[0])
    assert outcome.passed and data is not None and report is not None
    assert report.findings == kpidsl.evaluate(rules, data, "2020-09-30", "python").findings
    assert [f.name for f in report.findings] == ["delivery_against_profile"]
