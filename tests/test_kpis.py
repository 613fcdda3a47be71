"""The seven KPIs of the shipped rules on small cohorts, against numbers worked out by hand.

Every expected (status, k, n, p) follows from KPI-SPEC §2–§3; the comment beside it says why.
The cohorts (providers, bootcamps, employers) are described in ``cohort.py``.
"""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

import pytest

import kpidsl
from cohort import (
    FIXTURE_RULES,
    GROUPS,
    KPIS,
    LATE,
    D,
    co_funded,
    completer,
    dataset,
    engagement,
    interview,
    learner,
    one,
    payment,
    report,
    results,
    starter,
    withdrawn,
)

# ---- learner drop-out: Milestone 1 starters, counted when withdrawn, at most 20% ---------------


def test_dropout_one_of_five_is_exactly_twenty_percent_and_met():
    cohort = [withdrawn("W"), *(completer(f"C{i}") for i in range(4))]
    r = results(dataset(cohort))
    assert r["learner_dropout", "B1"] == ("met", 1, 5, 0)  # 1/5 = 20% ≤ 20%, exact
    assert r["learner_dropout", "P1"] == ("met", 1, 5, 0)
    assert r["learner_dropout", "all"] == ("met", 1, 5, 0)


def test_dropout_two_of_five_is_not_met():
    cohort = [withdrawn("W1"), withdrawn("W2"), *(completer(f"C{i}") for i in range(3))]
    assert one(dataset(cohort), "learner_dropout") == ("not_met", 2, 5, 0)  # 40% > 20%


@pytest.mark.parametrize(
    ("out", "total", "expected"),
    [
        (1, 10, ("met", 1, 10, 0)),  # 10%
        (2, 10, ("met", 2, 10, 0)),  # 20% exactly, again
        (3, 10, ("not_met", 3, 10, 0)),  # 30%
        (0, 3, ("met", 0, 3, 0)),  # nobody dropped out
    ],
)
def test_dropout_rates(out, total, expected):
    cohort = [withdrawn(f"W{i}") for i in range(out)]
    cohort += [completer(f"C{i}") for i in range(total - out)]
    assert one(dataset(cohort), "learner_dropout") == expected


@pytest.mark.parametrize(
    ("out", "training", "done", "expected"),
    [
        (0, 1, 4, ("met", 0, 5, 1)),  # at worst 1/5 = 20%: met already
        (1, 1, 3, ("at_risk", 1, 5, 1)),  # 20%..40%; decided 1/4 = 25% > 20%
        (0, 2, 3, ("on_track", 0, 5, 2)),  # 0%..40%; decided 0/3
        (2, 1, 2, ("not_met", 2, 5, 1)),  # at best 2/5 = 40%
        (0, 5, 0, ("on_track", 0, 5, 5)),  # nobody decided yet
    ],
)
def test_dropout_learners_in_training_are_pending(out, training, done, expected):
    cohort = [withdrawn(f"W{i}") for i in range(out)]
    cohort += [starter(f"T{i}") for i in range(training)]
    cohort += [completer(f"C{i}") for i in range(done)]
    assert one(dataset(cohort), "learner_dropout") == expected


def test_dropout_before_milestone1_is_not_measured():
    cohort = [learner("EARLY", withdrawal_date="2024-01-10"), completer("C")]  # no Milestone 1
    assert one(dataset(cohort), "learner_dropout") == ("met", 0, 1, 0)  # only C


def test_dropout_as_of_hides_later_withdrawals_and_milestones():
    cohort = [withdrawn("W", "2024-03-01"), starter("LATE_M1", milestone1_date="2024-03-01"),
              *(completer(f"C{i}", "2024-02-01") for i in range(4))]
    ds = dataset(cohort)
    # 2024-02-29: W has not withdrawn yet (pending), LATE_M1 is not a starter yet: [0, 1/5]
    assert one(ds, "learner_dropout", as_of=D("2024-02-29")) == ("met", 0, 5, 1)
    # 2024-03-01: W withdrew (1/6), LATE_M1 started and is pending: [1/6, 2/6]; decided 1/5
    assert one(ds, "learner_dropout", as_of=D("2024-03-01")) == ("on_track", 1, 6, 1)


# ---- career progression: completers, positive outcome by the deadline, at least 75% ----------

JOB = {"outcome": "new_job", "outcome_date": "2024-05-01"}


def test_progression_exactly_75_percent_is_met():
    cohort = [completer(f"P{i}", "2024-03-31", **JOB) for i in range(3)]
    cohort.append(completer("N", "2024-03-31"))  # deadline 2024-09-30 long past
    assert one(dataset(cohort), "career_progression") == ("met", 3, 4, 0)  # 3/4 = 75%


def test_progression_two_of_four_is_not_met():
    cohort = [completer(f"P{i}", "2024-03-31", **JOB) for i in range(2)]
    cohort += [completer(f"N{i}", "2024-03-31") for i in range(2)]
    assert one(dataset(cohort), "career_progression") == ("not_met", 2, 4, 0)


@pytest.mark.parametrize(
    ("positive", "negative", "recent", "expected"),
    [
        (4, 0, 1, ("met", 4, 5, 1)),  # 80%..100%: met whatever the recent one does
        (3, 1, 1, ("on_track", 3, 5, 1)),  # 60%..80%; decided 3/4 = 75%
        (2, 1, 2, ("at_risk", 2, 5, 2)),  # 40%..80%; decided 2/3 < 75%
        (2, 2, 1, ("not_met", 2, 5, 1)),  # at best 3/5 = 60%
    ],
)
def test_progression_before_the_deadline_is_pending(positive, negative, recent, expected):
    # as of 2025-01-31: completions of 2024-03-31 are past their deadline (2024-09-30); those
    # of 2024-12-01 have until 2025-06-01 and are pending without an outcome.
    cohort = [completer(f"P{i}", "2024-03-31", **JOB) for i in range(positive)]
    cohort += [completer(f"N{i}", "2024-03-31") for i in range(negative)]
    cohort += [completer(f"R{i}", "2024-12-01") for i in range(recent)]
    assert one(dataset(cohort), "career_progression", as_of=D("2025-01-31")) == expected


def test_progression_outcome_before_the_deadline_is_counted_not_pending():
    ds = dataset([completer("R", "2024-12-01", outcome="new_job", outcome_date="2025-01-15")])
    assert one(ds, "career_progression", as_of=D("2025-01-31")) == ("met", 1, 1, 0)


def test_progression_deadline_clamps_to_28_february():
    ds = dataset([completer("L", "2024-08-31")])  # deadline 2025-02-28
    assert one(ds, "career_progression", as_of=D("2025-02-28")) == ("on_track", 0, 1, 1)
    assert one(ds, "career_progression", as_of=D("2025-03-01")) == ("not_met", 0, 1, 0)


def test_progression_deadline_clamps_to_29_february_in_a_leap_year():
    ds = dataset([completer("L", "2023-08-31")])  # deadline 2024-02-29
    assert one(ds, "career_progression", as_of=D("2024-02-29")) == ("on_track", 0, 1, 1)
    assert one(ds, "career_progression", as_of=D("2024-03-01")) == ("not_met", 0, 1, 0)


@pytest.mark.parametrize(
    ("completion", "outcome_date", "counted"),
    [
        ("2024-08-31", "2025-02-28", True),  # on the clamped deadline
        ("2024-08-31", "2025-03-01", False),  # a day late
        ("2023-08-31", "2024-02-29", True),  # on the leap-year deadline
        ("2023-08-31", "2024-03-01", False),
        ("2024-03-31", "2024-09-30", True),  # 31 March + 6 months = 30 September
        ("2024-03-31", "2024-10-01", False),
        ("2024-06-30", "2024-02-01", True),  # before completion: no lower bound
    ],
)
def test_progression_outcome_date_against_the_deadline(completion, outcome_date, counted):
    ds = dataset([completer("L", completion, outcome="new_job", outcome_date=outcome_date)])
    expected = ("met", 1, 1, 0) if counted else ("not_met", 0, 1, 0)
    assert one(ds, "career_progression") == expected


@pytest.mark.parametrize(
    ("who", "outcome", "positive"),
    [
        ({}, "new_job", True),  # independent
        ({}, "apprenticeship", True),
        ({}, "accelerated_apprenticeship", True),
        ({}, "new_role", False),
        ({}, "action_plan", False),
        ({"learner_type": "co_funded", "employer_id": "SME"}, "new_role", True),
        ({"learner_type": "co_funded", "employer_id": "SME"}, "new_responsibilities", True),
        ({"learner_type": "co_funded", "employer_id": "SME"}, "new_job", False),
        ({"learner_type": "self_employed"}, "action_plan", True),  # wants_interview missing
        ({"learner_type": "self_employed"}, "new_contract", True),
        ({"learner_type": "self_employed"}, "new_job", False),
        ({"learner_type": "self_employed", "wants_interview": False}, "new_contract", True),
        ({"learner_type": "self_employed", "wants_interview": True}, "new_job", True),
        ({"learner_type": "self_employed", "wants_interview": True}, "apprenticeship", True),
        ({"learner_type": "self_employed", "wants_interview": True}, "action_plan", False),
    ],
)
def test_progression_outcomes_allowed_by_learner_type(who, outcome, positive):
    ds = dataset([completer("L", outcome=outcome, outcome_date="2024-08-01", **who)])
    assert one(ds, "career_progression")[1] == (1 if positive else 0)


@pytest.mark.parametrize(
    ("outcome", "wants", "positive"),
    [
        ("apprenticeship", None, False),  # a full apprenticeship is not the aim here
        ("accelerated_apprenticeship", None, True),
        ("new_job", None, True),
        ("apprenticeship", True, False),  # self-employed seeking a job: the same
    ],
)
def test_progression_on_an_accelerated_apprenticeship_bootcamp(outcome, wants, positive):
    kind = {"learner_type": "self_employed", "wants_interview": True} if wants else {}
    ds = dataset([completer("L", bootcamp_id="ACC", outcome=outcome, outcome_date="2024-08-01",
                            **kind)])
    assert one(ds, "career_progression", "ACC")[1] == (1 if positive else 0)


def test_progression_outcome_without_a_date_or_dated_later_is_not_yet_positive():
    ds = dataset([
        completer("NODATE", "2024-03-31", outcome="new_job"),
        completer("LATER", "2024-03-31", outcome="new_job", outcome_date="2024-05-01"),
    ])
    # as of 2024-04-30 LATER's outcome has not happened: both pending (deadline 2024-09-30)
    assert one(ds, "career_progression", as_of=D("2024-04-30")) == ("on_track", 0, 2, 2)
    # from 2024-05-01 LATER counts; NODATE never will: [1/2, 2/2], decided 1/1
    assert one(ds, "career_progression", as_of=D("2024-05-01")) == ("on_track", 1, 2, 1)
    assert one(ds, "career_progression") == ("not_met", 1, 2, 0)


# ---- new skills: completers with both assessments and skills gained, at least 100% -----------

ASSESSED = {"initial_assessment_date": "2024-01-10", "final_assessment_date": "2024-06-20"}


def test_new_skills():
    cohort = [
        completer("OK", skills_gained=True, **ASSESSED),  # counted
        completer("NOFINAL", initial_assessment_date="2024-01-10", skills_gained=True),
        completer("NOINITIAL", final_assessment_date="2024-06-20", skills_gained=True),
        completer("FAILED", skills_gained=False, **ASSESSED),
        completer("UNKNOWN", **ASSESSED),  # skills_gained missing is not true
        starter("TRAINING", skills_gained=True, **ASSESSED),  # not a completer: outside
    ]
    assert one(dataset(cohort), "new_skills") == ("not_met", 1, 5, 0)  # OK of 5 completers
    assert one(dataset(cohort[:1]), "new_skills") == ("met", 1, 1, 0)


def test_new_skills_assessment_dated_after_as_of_is_missing():
    ds = dataset([completer("L", skills_gained=True, initial_assessment_date="2024-01-10",
                            final_assessment_date="2024-07-15")])
    assert one(ds, "new_skills", as_of=D("2024-07-14")) == ("not_met", 0, 1, 0)  # never pending
    assert one(ds, "new_skills", as_of=D("2024-07-15")) == ("met", 1, 1, 0)


# ---- guaranteed interview ---------------------------------------------------------------------


def test_guaranteed_interview_population_and_validity():
    cohort = [
        completer("W1", wants_interview=True),  # interview offered on the completion date
        completer("W2", wants_interview=True),  # offered the day after completion: invalid
        completer("W3", wants_interview=True),  # not an actual job: invalid
        completer("W4", wants_interview=True),  # does not match the skills: invalid
        completer("W5", wants_interview=True),  # an invalid and a valid one: counted
        completer("NW", wants_interview=False),  # did not ask: outside
        completer("NA"),  # wants_interview missing: outside
        completer("SE", learner_type="self_employed", wants_interview=True),  # valid: counted
        co_funded("CF1", new_role_evidence_date="2024-07-01"),  # evidence instead: counted
        co_funded("CF2"),  # neither: not counted
        co_funded("CF3"),  # valid interview: counted
        starter("T", wants_interview=True),  # not a completer: outside
    ]
    interviews = [
        interview("W1", "2024-06-30"),
        interview("W2", "2024-07-01"),
        interview("W3", actual_job=False),
        interview("W4", matches_skills=False),
        interview("W5", actual_job=False),
        interview("W5", "2024-06-29"),
        interview("NW"),
        interview("NA"),
        interview("SE"),
        interview("CF3"),
        interview("T"),
    ]
    # population W1–W5, SE, CF1–CF3 = 9; counted W1, W5, SE, CF1, CF3 = 5
    assert one(dataset(cohort, interviews), "guaranteed_interview") == ("not_met", 5, 9, 0)


def test_guaranteed_interview_all_valid_is_met():
    cohort = [completer("W1", wants_interview=True),
              co_funded("CF", employer="BIG", new_role_evidence_date="2024-06-30")]
    assert one(dataset(cohort, [interview("W1")]), "guaranteed_interview") == ("met", 2, 2, 0)


def test_guaranteed_interview_on_an_accelerated_apprenticeship_bootcamp():
    cohort = [
        completer("FULL", bootcamp_id="ACC", wants_interview=True),
        completer("ACCEL", bootcamp_id="ACC", wants_interview=True),
        completer("ELSEWHERE", wants_interview=True),  # on B1
    ]
    interviews = [
        interview("FULL", full_apprenticeship=True),  # not valid on ACC
        interview("ACCEL", full_apprenticeship=False),
        interview("ELSEWHERE", full_apprenticeship=True),  # valid on an ordinary bootcamp
    ]
    r = results(dataset(cohort, interviews))
    assert r["guaranteed_interview", "ACC"] == ("not_met", 1, 2, 0)
    assert r["guaranteed_interview", "B1"] == ("met", 1, 1, 0)
    assert r["guaranteed_interview", "all"] == ("not_met", 2, 3, 0)


def test_guaranteed_interview_evidence_dated_after_as_of_is_missing():
    ds = dataset([co_funded("CF", new_role_evidence_date="2024-07-10")])
    assert one(ds, "guaranteed_interview", as_of=D("2024-07-09")) == ("not_met", 0, 1, 0)
    assert one(ds, "guaranteed_interview", as_of=D("2024-07-10")) == ("met", 1, 1, 0)


# ---- referral ---------------------------------------------------------------------------------

REFER = "refer the learner to other job and training opportunities (not another Skills Bootcamp)"


def _two_unsuccessful(learner_id: str) -> list:
    return [interview(learner_id, "2024-03-01", result="unsuccessful"),
            interview(learner_id, "2024-03-15", result="unsuccessful")]


def test_referral_population_and_what_counts():
    # completions on 2024-03-31: deadline 2024-09-30, long past as of LATE
    cohort = [
        completer("R_JOB", "2024-03-31", referral_date="2024-10-15", referral_kind="job"),
        completer("R_TRAIN", "2024-03-31", referral_date="2024-10-15", referral_kind="training"),
        completer("R_SB", "2024-03-31", referral_date="2024-10-15",
                  referral_kind="skills_bootcamp"),  # another bootcamp does not count
        completer("R_NODATE", "2024-03-31", referral_kind="job"),  # no date: not referred
        completer("ANY", "2024-03-31"),  # attempts: an invalid one and one after completion
        completer("ONE", "2024-03-31"),  # one unsuccessful + one declined: outside
        completer("POS", "2024-03-31", outcome="new_job", outcome_date="2024-05-01"),  # outside
        starter("T"),  # not a completer: outside
    ]
    interviews = [
        *_two_unsuccessful("R_JOB"), *_two_unsuccessful("R_TRAIN"), *_two_unsuccessful("R_SB"),
        *_two_unsuccessful("R_NODATE"), *_two_unsuccessful("POS"), *_two_unsuccessful("T"),
        interview("ANY", "2024-03-01", actual_job=False, result="unsuccessful"),
        interview("ANY", "2024-05-01", result="unsuccessful"),
        interview("ONE", "2024-03-01", result="unsuccessful"),
        interview("ONE", "2024-03-02", result="declined"),
    ]
    rep = report(dataset(cohort, interviews))
    r = rep.result("referral", "bootcamp", "B1")
    # population R_JOB, R_TRAIN, R_SB, R_NODATE, ANY; counted R_JOB, R_TRAIN
    assert (r.status, r.numerator, r.denominator, r.pending) == ("not_met", 2, 5, 0)
    # every record not counted is a learner to refer
    refer = sorted((a.record, a.message, a.group) for a in rep.actions if a.name == "referral")
    assert refer == [("learner ANY", REFER, "B1"), ("learner R_NODATE", REFER, "B1"),
                     ("learner R_SB", REFER, "B1")]
    assert all(a.kind == "action" for a in rep.actions)


def test_referral_waits_for_the_deadline():
    ds = dataset([completer("L", "2024-08-31")], _two_unsuccessful("L"))  # deadline 2025-02-28
    assert one(ds, "referral", as_of=D("2025-02-28")) == ("no_data", 0, 0, 0)
    assert one(ds, "referral", as_of=D("2025-03-01")) == ("not_met", 0, 1, 0)


def test_referral_attempts_and_referral_dated_after_as_of_do_not_exist_yet():
    ds = dataset(
        [completer("L", "2024-03-31", referral_date="2024-11-15", referral_kind="training")],
        [interview("L", "2024-03-01", result="unsuccessful"),
         interview("L", "2024-11-01", result="unsuccessful")],
    )
    assert one(ds, "referral", as_of=D("2024-10-31")) == ("no_data", 0, 0, 0)  # 1 attempt
    assert one(ds, "referral", as_of=D("2024-11-01")) == ("not_met", 0, 1, 0)  # 2, not referred
    assert one(ds, "referral", as_of=D("2024-11-15")) == ("met", 1, 1, 0)


# ---- employer co-funding ----------------------------------------------------------------------


def test_cofunding_to_the_penny_on_a_1500_course():
    # B1 costs £1,500.00: an SME (249 staff) owes 10% = £150.00, a large employer
    # (250 staff) 30% = £450.00
    cohort = [co_funded("S150"), co_funded("S149"), co_funded("SPLIT"), co_funded("SPLITSHORT"),
              co_funded("BIG150", "BIG"), co_funded("BIG450", "BIG")]
    pays = [
        payment("S150", "150.00"),  # exactly 10%: counted
        payment("S149", "149.99"),  # a penny short
        payment("SPLIT", "100.00"), payment("SPLIT", "50.00"),  # adds up to 150.00: counted
        payment("SPLITSHORT", "100.00"), payment("SPLITSHORT", "49.99"),  # 149.99
        payment("BIG150", "150.00"),  # 10% is not enough for a large employer
        payment("BIG450", "450.00"),  # 30%: counted
    ]
    assert one(dataset(cohort, payments=pays), "employer_cofunding") == ("not_met", 3, 6, 0)
    assert one(dataset(cohort[:1], payments=pays[:1]), "employer_cofunding") == ("met", 1, 1, 0)


@pytest.mark.parametrize(
    ("employer", "paid", "counted"),
    [
        ("BIG", "300.00", False),  # 30% of 1000.01 is 300.003: £300.00 is short
        ("BIG", "300.01", True),
        ("SME", "100.00", False),  # 10% of 1000.01 is 100.001
        ("SME", "100.01", True),
        ("TINY", "100.01", True),  # 0 employees is an SME
    ],
)
def test_cofunding_due_is_not_rounded(employer, paid, counted):
    ds = dataset([co_funded("L", employer, bootcamp_id="B2")], payments=[payment("L", paid)])
    assert one(ds, "employer_cofunding", "B2") == (
        ("met", 1, 1, 0) if counted else ("not_met", 0, 1, 0))


def test_cofunding_pending_while_in_learning():
    as_of = D("2024-07-01")
    cohort = [
        co_funded("OPEN", completion_date=None),  # in learning, unpaid: pending
        co_funded("OPENPAID", completion_date=None),  # in learning, paid: counted
        co_funded("GONE", completion_date=None, withdrawal_date="2024-03-01"),  # unpaid: missed
        co_funded("LATEPAY"),  # completed 2024-06-30; pays on 2024-07-10, after as_of
        co_funded("NOM1", milestone1_date=None, completion_date=None),  # not a starter: outside
        completer("IND"),  # not co-funded: outside
    ]
    pays = [payment("OPENPAID", "150.00"), payment("LATEPAY", "150.00", "2024-07-10")]
    ds = dataset(cohort, payments=pays)
    # OPEN pending, OPENPAID counted, GONE and LATEPAY not: [1/4, 2/4], all below 100%
    assert one(ds, "employer_cofunding", as_of=as_of) == ("not_met", 1, 4, 1)
    # on 2024-07-10 LATEPAY's payment exists
    assert one(ds, "employer_cofunding", as_of=D("2024-07-10")) == ("not_met", 2, 4, 1)
    # only the learners still in learning: [1/2, 2/2]; decided 1/1 = 100%
    ds2 = dataset(cohort[:2], payments=pays[:1])
    assert one(ds2, "employer_cofunding", as_of=as_of) == ("on_track", 1, 2, 1)
    # a payment dated after the as-of date does not exist yet
    ds3 = dataset([co_funded("L", completion_date=None)],
                  payments=[payment("L", "150.00", "2024-07-02")])
    assert one(ds3, "employer_cofunding", as_of=as_of) == ("on_track", 0, 1, 1)
    assert one(ds3, "employer_cofunding", as_of=D("2024-07-02")) == ("met", 1, 1, 0)


# ---- employer engagement ----------------------------------------------------------------------

UNREACHABLE = "employer cannot be reached after 3 attempts"


def _engagements() -> list:
    return [
        engagement("B1", "SME", reached=True, role_confirmed=True),  # no score yet: counted
        engagement("B1", "BIG", reached=True, role_confirmed=True, satisfaction=3),  # counted
        engagement("B2", "SME", reached=True, role_confirmed=True, satisfaction=2),  # too low
        engagement("B2", "BIG", reached=True, role_confirmed=True, satisfaction=5),  # counted
        engagement("B2", "TINY", reached=True, satisfaction=4),  # role not confirmed
        engagement("ACC", "SME", reached=False, contact_attempts=3),  # outside; escalated
        engagement("ACC", "BIG", contact_attempts=4),  # reached missing: outside; escalated
        engagement("ACC", "TINY", reached=False, contact_attempts=2),  # outside; not yet
        engagement("EMPTY", "BIG", reached=True, role_confirmed=False, contact_attempts=5,
                   satisfaction=0),  # reached: measured, not counted, never escalated
    ]


def test_employer_engagement():
    r = results(dataset(engagements=_engagements()))
    assert r["employer_engagement", "B1"] == ("met", 2, 2, 0)
    assert r["employer_engagement", "B2"] == ("not_met", 1, 3, 0)
    assert r["employer_engagement", "ACC"] == ("no_data", 0, 0, 0)  # nobody reached
    assert r["employer_engagement", "EMPTY"] == ("not_met", 0, 1, 0)
    assert r["employer_engagement", "P1"] == ("not_met", 3, 6, 0)  # B1 + B2 + EMPTY
    assert r["employer_engagement", "P2"] == ("no_data", 0, 0, 0)
    assert r["employer_engagement", "all"] == ("not_met", 3, 6, 0)


@pytest.mark.parametrize(("score", "counted"), [(None, True), (0, False), (2, False),
                                                 (3, True), (5, True)])
def test_employer_engagement_satisfaction_threshold(score, counted):
    ds = dataset(engagements=[engagement("B1", "SME", reached=True, role_confirmed=True,
                                         satisfaction=score)])
    assert one(ds, "employer_engagement")[1] == (1 if counted else 0)


def test_unreachable_employers_are_escalated():
    rep = report(dataset(engagements=_engagements()))
    escalated = sorted((a.record, a.group) for a in rep.actions if a.name == "employer_unreachable")
    assert escalated == [("engagement ACC/BIG", "ACC"), ("engagement ACC/SME", "ACC")]
    for a in rep.actions:
        if a.name == "employer_unreachable":
            assert a.kind == "action" and UNREACHABLE in a.message


# ---- data-quality findings --------------------------------------------------------------------


def _contradictions():
    cohort = [
        completer("WC", withdrawal_date="2024-03-01"),
        completer("M1B", milestone1_date="2023-12-15"),
        completer("CBS", "2023-12-01"),  # before start and before Milestone 1 (2024-01-15)
        completer("CBM", "2024-02-01", milestone1_date="2024-03-01"),
        completer("ABS", initial_assessment_date="2023-12-20"),
        completer("FBS", final_assessment_date="2023-12-20"),
        completer("OBS", outcome="new_job", outcome_date="2023-12-01"),
        completer("IBS"),
        completer("CLEAN", outcome="new_job", outcome_date="2024-07-01"),
    ]
    return dataset(cohort, [interview("IBS", "2023-12-01"), interview("CLEAN")])


EXPECTED_FINDINGS = {
    ("withdrawn_and_completed", "learner WC"),
    ("milestone1_before_start", "learner M1B"),
    ("completion_before_start", "learner CBS"),
    ("completion_before_milestone1", "learner CBS"),
    ("completion_before_milestone1", "learner CBM"),
    ("assessment_before_start", "learner ABS"),
    ("assessment_before_start", "learner FBS"),
    ("outcome_before_start", "learner OBS"),
    ("interview_before_start", "interview of IBS"),
}


@pytest.mark.parametrize("as_of", [LATE, D("2023-06-30")])
def test_data_quality_findings_are_judged_on_the_data_as_written(as_of):
    rep = report(_contradictions(), as_of)
    got = [(f.name, f.record) for f in rep.findings]
    assert len(got) == len(set(got))
    assert set(got) == EXPECTED_FINDINGS  # the same whatever the as-of date
    for f in rep.findings:
        assert f.kind == "finding" and f.message
        if f.record.startswith("learner "):
            assert f.group == "B1"
    wc = next(f for f in rep.findings if f.record == "learner WC")
    assert wc.message == "the learner is recorded as both withdrawn and completed"


def test_contradictory_records_are_still_evaluated_as_written():
    cohort = [completer("WC", withdrawal_date="2024-03-01"),
              *(completer(f"C{i}") for i in range(4))]
    rep = report(dataset(cohort))
    # WC is withdrawn (counted as a drop-out) and a completer (in new_skills' population)
    r = rep.result("learner_dropout", "bootcamp", "B1")
    assert (r.status, r.numerator, r.denominator, r.pending) == ("met", 1, 5, 0)
    assert rep.result("new_skills", "bootcamp", "B1").denominator == 5
    assert [(f.name, f.record) for f in rep.findings] == [
        ("withdrawn_and_completed", "learner WC")]


def test_a_clean_cohort_has_no_findings_and_no_actions():
    rep = report(dataset([completer("A", outcome="new_job", outcome_date="2024-07-01")]))
    assert rep.findings == () and rep.actions == ()


# ---- groups -----------------------------------------------------------------------------------


def test_every_group_is_reported_and_empty_ones_have_no_data():
    ds = dataset([completer("A"), completer("B", bootcamp_id="B2"),
                  completer("C", bootcamp_id="ACC")])
    rep = report(ds)
    keys = [(r.kpi, r.scope, r.group) for r in rep.results if r.kpi in KPIS]
    assert len(keys) == len(set(keys)) == len(KPIS) * len(GROUPS)  # 7 × (4 + 3 + 1)
    assert {g for _, _, g in keys} == set(GROUPS)
    scopes = {g: s for _, s, g in keys}
    assert scopes == {"B1": "bootcamp", "B2": "bootcamp", "EMPTY": "bootcamp", "ACC": "bootcamp",
                      "P1": "provider", "P2": "provider", "P3": "provider", "all": "programme"}
    r = results(ds)
    for kpi in KPIS:
        assert r[kpi, "EMPTY"] == ("no_data", 0, 0, 0)  # a bootcamp nobody enrolled on
        assert r[kpi, "P3"] == ("no_data", 0, 0, 0)  # a provider without bootcamps
    assert r["new_skills", "P1"] == ("not_met", 0, 2, 0)  # A and B, no assessments
    assert r["new_skills", "P2"] == ("not_met", 0, 1, 0)  # C
    assert r["new_skills", "all"] == ("not_met", 0, 3, 0)


def test_providers_and_programme_add_up_records_not_statuses():
    cohort = [withdrawn("B1W"), *(completer(f"B1C{i}") for i in range(4))]  # B1: 1/5, met
    cohort += [withdrawn(f"B2W{i}", bootcamp_id="B2") for i in range(2)]
    cohort += [completer(f"B2C{i}", bootcamp_id="B2") for i in range(3)]  # B2: 2/5, not met
    cohort += [completer(f"AC{i}", bootcamp_id="ACC") for i in range(5)]  # ACC: 0/5, met
    cohort += [starter("AT", bootcamp_id="ACC")]  # ACC: one in training
    r = results(dataset(cohort))
    assert r["learner_dropout", "B1"] == ("met", 1, 5, 0)
    assert r["learner_dropout", "B2"] == ("not_met", 2, 5, 0)
    assert r["learner_dropout", "ACC"] == ("met", 0, 6, 1)  # at worst 1/6
    assert r["learner_dropout", "P1"] == ("not_met", 3, 10, 0)  # 30%: B1 + B2 + EMPTY
    assert r["learner_dropout", "P2"] == ("met", 0, 6, 1)
    # the programme: 3 of 16 with one pending: [3/16, 4/16] straddles 20%; decided 3/15 = 20%
    assert r["learner_dropout", "all"] == ("on_track", 3, 16, 1)


def test_report_lookup_and_json():
    rep = report(dataset([withdrawn("W"), *(completer(f"C{i}") for i in range(4))]))
    r = rep.result("learner_dropout")  # the programme by default
    assert (r.scope, r.group, r.numerator, r.denominator) == ("programme", "all", 1, 5)
    with pytest.raises(KeyError):
        rep.result("no_such_kpi")
    doc = json.loads(rep.to_json())
    assert doc["as_of"] == LATE.isoformat()
    assert set(doc) >= {"as_of", "results", "findings", "actions"}
    row = next(x for x in doc["results"] if (x["kpi"], x["group"]) == ("learner_dropout", "B1"))
    assert {k: row[k] for k in ("kpi", "scope", "group", "status", "numerator", "denominator",
                                "pending")} == {
        "kpi": "learner_dropout", "scope": "bootcamp", "group": "B1", "status": "met",
        "numerator": 1, "denominator": 5, "pending": 0}


def test_an_inconsistent_data_set_is_refused_naming_the_record():
    ds = kpidsl.Dataset(
        providers=[kpidsl.Provider(provider_id="P1", name="One")],
        bootcamps=[b for b in dataset().bootcamps if b.provider_id == "P1"],
        learners=[learner("L1", bootcamp_id="NOPE")],
    )
    with pytest.raises(kpidsl.DataError) as e:  # the documented exception of evaluate()
        kpidsl.evaluate(kpidsl.load_rules(FIXTURE_RULES), ds, as_of=LATE)
    assert "L1" in e.value.render()  # which learner is wrong
    assert "NOPE" in e.value.render()


# ---- policy lives in the rule files -----------------------------------------------------------


def _copy_rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, folder)
    return folder


def _edit(folder: Path, kpi: str, old: str, new: str) -> None:
    """Replace ``old`` (which must appear once) in the rule file of ``kpi``."""
    (path,) = folder.glob(f"*{kpi}.kpi")  # the file may carry an ordering prefix (03_…)
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should appear once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_changing_the_dropout_target_is_a_rule_file_edit(tmp_path: Path):
    cohort = dataset([withdrawn("W"), *(completer(f"C{i}") for i in range(4))])  # 1 of 5
    folder = _copy_rules(tmp_path)
    before = kpidsl.evaluate(kpidsl.load_rules(folder), cohort, as_of=LATE)
    _edit(folder, "learner_dropout", "target: at most 20%", "target: at most 10%")
    after = kpidsl.evaluate(kpidsl.load_rules(folder), cohort, as_of=LATE)
    b, a = (x.result("learner_dropout", "bootcamp", "B1") for x in (before, after))
    assert (b.status, b.numerator, b.denominator) == ("met", 1, 5)  # 20% ≤ 20%
    assert (a.status, a.numerator, a.denominator) == ("not_met", 1, 5)  # 20% > 10%
    assert (b.target, a.target) == (Fraction(1, 5), Fraction(1, 10))


def test_changing_a_cofunding_rate_is_a_rule_file_edit(tmp_path: Path):
    cohort = dataset([co_funded("S")], payments=[payment("S", "75.00")])  # 5% of £1,500
    folder = _copy_rules(tmp_path)
    assert one(cohort, "employer_cofunding") == ("not_met", 0, 1, 0)  # owes 10% = £150
    _edit(folder, "employer_cofunding", "sme: 10%", "sme: 5%")
    rules = kpidsl.load_rules(folder)
    assert results(cohort, rules=rules)["employer_cofunding", "B1"] == ("met", 1, 1, 0)


@pytest.mark.parametrize("group", ["B1", 'Q"uote\\d', "Ünïcödé – dash", "tab\there"])
@pytest.mark.parametrize("counts", [(0, 0, 0), (1, 5, 0), (3, 4, 1), (7, 7, 7)])
def test_a_result_written_by_template_is_the_json_of_its_dict(group, counts):
    """The report's JSON writes each result by a template (speed); it must be exactly what
    encoding :func:`result_json`'s dict gives, whatever the group's id holds."""
    from kpidsl.outputs.jsonout import _encode, result_json, result_line
    from kpidsl.plan.results import Result

    k, n, p = counts
    for target in (Fraction(1, 5), Fraction(1), Fraction(0), None):
        r = Result(kpi="learner_dropout", scope="bootcamp", group=group, status="on_track",
                   numerator=k, denominator=n, pending=p, direction="at most", target=target)
        assert result_line(r) == _encode(result_json(r)).encode()
        assert json.loads(result_line(r)) == result_json(r)


@pytest.mark.parametrize("text", ["L1", 'Q"uote\\d', "Ünïcödé – dash", "tab\there", "\x00"])
def test_an_entry_written_by_template_is_the_json_of_its_dict(text):
    """The report's JSON writes each finding and action by a template (speed); it must be
    exactly what encoding :func:`entry_json`'s dict gives, whichever fields it has."""
    from kpidsl.outputs.jsonout import _encode, entry_json, entry_lines
    from kpidsl.plan.results import Entry

    entries = [Entry(kind=kind, name=f"rule {text}", message=f"see {text}",
                     record=f"learner {text}", group=group, file=file, line=line, place=place)
               for kind in ("finding", "action") for group in (None, text)
               for file in (None, f"{text}.csv") for line in (None, 0, 36)
               for place in (None, f"{text}!36:36")]
    assert entry_lines(entries) == [_encode(entry_json(e)).encode() for e in entries]


@pytest.mark.parametrize(("value", "places", "text"), [
    (Fraction(1, 5), 1, "20%"), (Fraction(1, 3), 2, "33.33%"), (Fraction(2, 3), 2, "66.67%"),
    (Fraction(1, 8), 1, "12.5%"), (Fraction(1, 8), 0, "12%"), (Fraction(3, 8), 0, "38%"),
    (Fraction(1, 8000), 2, "0.01%"), (Fraction(3, 8000), 2, "0.04%"),
    (Fraction(5, 8000), 2, "0.06%"), (Fraction(-1, 8), 0, "-12%"), (Fraction(0), 2, "0%"),
    (Fraction(7, 4), 2, "175%"), (None, 2, "–"),
])
def test_percentages_are_rounded_half_to_even(value, places, text):
    """Display only, but exact: 12.5% to whole percents is 12%, 37.5% is 38% (half to even),
    as in Python's round of the exact fraction."""
    from kpidsl.language.words import percent

    assert percent(value, places) == text
