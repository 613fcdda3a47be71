"""The hand-written oracle against numbers worked out by hand from KPI-SPEC §2–§3.

The oracle reads the policy's numbers from a rule set; here it is the fixture rule set, whose
numbers are KPI-SPEC's (20% drop-out, 30% and 10% co-funding, 250 employees, 6 months).

Each cohort is built from records in Python and pins one boundary of the spec; the expected
(status, numerator, denominator, pending) carries a comment saying why.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from cohort import fixture_rules
from kpidsl.contract.records import (
    Bootcamp,
    Employer,
    Engagement,
    Interview,
    Learner,
    Payment,
    Provider,
)
from kpidsl.data.dataset import Dataset
from oracle import AT_LEAST, AT_MOST, KPIS, evaluate_by_hand, status

D = dt.date.fromisoformat
LATE = D("2026-12-31")  # an as-of date after every event below

PROVIDERS = (Provider(provider_id="P1", name="One"), Provider(provider_id="P2", name="Idle"))
BOOTCAMPS = (
    Bootcamp(
        bootcamp_id="B1",
        provider_id="P1",
        title="Data",
        start_date=D("2024-01-01"),
        end_date=D("2024-06-30"),
        course_cost=Decimal("1234.50"),
    ),
    Bootcamp(
        bootcamp_id="ACC",
        provider_id="P1",
        title="Accelerated",
        start_date=D("2024-01-01"),
        end_date=D("2024-06-30"),
        course_cost=Decimal("1000"),
        accelerated_apprenticeship=True,
    ),
    Bootcamp(
        bootcamp_id="EMPTY",
        provider_id="P1",
        title="Nobody",
        start_date=D("2024-01-01"),
        end_date=D("2024-06-30"),
        course_cost=Decimal("500"),
    ),
)
EMPLOYERS = (
    Employer(employer_id="SME", name="Small", employees=249),
    Employer(employer_id="BIG", name="Large", employees=250),
)


def learner(learner_id: str, **kw) -> Learner:
    kw.setdefault("bootcamp_id", "B1")
    kw.setdefault("learner_type", "independent")
    kw.setdefault("start_date", D("2024-01-01"))
    return Learner(learner_id=learner_id, **kw)


def completer(learner_id: str, completion: str = "2024-06-30", **kw) -> Learner:
    kw.setdefault("milestone1_date", D("2024-01-15"))
    return learner(learner_id, completion_date=D(completion), **kw)


def interview(learner_id: str, offer: str = "2024-06-01", **kw) -> Interview:
    kw.setdefault("actual_job", True)
    kw.setdefault("matches_skills", True)
    return Interview(learner_id=learner_id, employer_id="SME", offer_date=D(offer), **kw)


def data(learners=(), interviews=(), payments=(), engagements=()) -> Dataset:
    ds = Dataset(
        providers=PROVIDERS,
        bootcamps=BOOTCAMPS,
        employers=EMPLOYERS,
        engagements=engagements,
        learners=learners,
        interviews=interviews,
        payments=payments,
    )
    assert list(ds.problems()) == []
    return ds


def results(ds: Dataset, as_of: dt.date = LATE) -> dict[tuple[str, str], tuple]:
    """(kpi, group) → (status, numerator, denominator, pending)."""
    out = {}
    for r in evaluate_by_hand(fixture_rules(), ds, as_of):
        assert (r["kpi"], r["group"]) not in out
        out[r["kpi"], r["group"]] = (r["status"], r["numerator"], r["denominator"], r["pending"])
    return out


# --- the status function, §2 rules 1–5 ---------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "p", "n", "direction", "target", "expected"),
    [
        (0, 0, 0, AT_MOST, Fraction(1, 5), "no_data"),  # rule 1
        (1, 0, 5, AT_MOST, Fraction(1, 5), "met"),  # 1/5 is exactly 20%
        (2, 0, 10, AT_MOST, Fraction(1, 5), "met"),  # 2/10 is exactly 20% too
        (2, 0, 9, AT_MOST, Fraction(1, 5), "not_met"),  # 22.2% > 20%
        (0, 1, 5, AT_MOST, Fraction(1, 5), "met"),  # every rate in [0, 1/5] is ≤ 20%
        (2, 1, 5, AT_MOST, Fraction(1, 5), "not_met"),  # no rate in [2/5, 3/5] is ≤ 20%
        (1, 1, 5, AT_MOST, Fraction(1, 5), "at_risk"),  # [1/5, 2/5] straddles; decided 1/4 > 20%
        (0, 2, 5, AT_MOST, Fraction(1, 5), "on_track"),  # [0, 2/5] straddles; decided 0/3
        (0, 5, 5, AT_MOST, Fraction(1, 5), "on_track"),  # straddles and nothing decided yet
        (4, 1, 5, AT_LEAST, Fraction(3, 4), "met"),  # 4/5 ≥ 75% already
        (3, 1, 5, AT_LEAST, Fraction(3, 4), "on_track"),  # [3/5, 4/5] straddles; decided 3/4
        (2, 2, 5, AT_LEAST, Fraction(3, 4), "at_risk"),  # [2/5, 4/5] straddles; decided 2/3 < 75%
        (2, 1, 5, AT_LEAST, Fraction(3, 4), "not_met"),  # at best 3/5 < 75%
        (3, 0, 4, AT_LEAST, Fraction(3, 4), "met"),  # exactly 75%
        (4, 1, 5, AT_LEAST, Fraction(1), "on_track"),  # 100% only if the pending one comes good
        (0, 0, 3, AT_LEAST, Fraction(1), "not_met"),  # 0 of 3
    ],
)
def test_status_rules(k, p, n, direction, target, expected):
    assert status(k, p, n, direction, target) == expected


# --- learner drop-out --------------------------------------------------------------------------


def test_dropout_exactly_twenty_percent_is_met():
    learners = [completer(f"L{i}") for i in range(4)]
    learners.append(learner("W", milestone1_date=D("2024-01-15"), withdrawal_date=D("2024-03-01")))
    r = results(data(learners))
    assert r["learner_dropout", "B1"] == ("met", 1, 5, 0)  # 1 of 5 withdrew: exactly 20%
    assert r["learner_dropout", "P1"] == ("met", 1, 5, 0)  # the provider's only learners
    assert r["learner_dropout", "all"] == ("met", 1, 5, 0)


def test_dropout_not_a_milestone1_starter_is_outside_the_population():
    learners = [completer("C"), learner("W0", withdrawal_date=D("2024-01-05"))]  # no M1
    assert results(data(learners))["learner_dropout", "B1"] == ("met", 0, 1, 0)  # only C


def _dropout_cohort(withdrawn: int, in_training: int, total: int = 5) -> list[Learner]:
    m1 = D("2024-01-15")
    out = [
        learner(f"W{i}", milestone1_date=m1, withdrawal_date=D("2024-03-01"))
        for i in range(withdrawn)
    ]
    out += [learner(f"T{i}", milestone1_date=m1) for i in range(in_training)]
    out += [completer(f"C{i}") for i in range(total - withdrawn - in_training)]
    return out


@pytest.mark.parametrize(
    ("withdrawn", "expected"),
    [
        (0, ("met", 0, 5, 1)),  # even if the pending learner drops out: 1/5 = 20%
        (1, ("at_risk", 1, 5, 1)),  # 20% or 40% to come; decided 1/4 = 25% > 20%
        (2, ("not_met", 2, 5, 1)),  # already 2/5 = 40%
    ],
)
def test_dropout_one_of_five_pending(withdrawn, expected):
    cohort = _dropout_cohort(withdrawn, in_training=1)
    assert results(data(cohort))["learner_dropout", "B1"] == expected


def test_dropout_everyone_still_in_training_is_on_track():
    cohort = _dropout_cohort(0, in_training=5)
    assert results(data(cohort))["learner_dropout", "B1"] == ("on_track", 0, 5, 5)  # none decided


# --- career progression, deadlines and referral ------------------------------------------------


@pytest.mark.parametrize(
    ("positives", "expected"),
    [
        (4, ("met", 4, 5, 1)),  # 4/5 = 80% ≥ 75% whatever the pending one does
        (3, ("on_track", 3, 5, 1)),  # [60%, 80%]; decided 3/4 = 75%
        (2, ("not_met", 2, 5, 1)),  # at best 3/5 = 60%
    ],
)
def test_career_progression_one_of_five_pending(positives, expected):
    as_of = D("2025-01-31")
    old = [
        completer(
            f"O{i}",
            "2024-03-31",
            **({"outcome": "new_job", "outcome_date": D("2024-05-01")} if i < positives else {}),
        )
        for i in range(4)
    ]  # deadline 2024-09-30 has passed
    recent = completer("R", "2024-12-01")  # deadline 2025-06-01: still pending
    assert results(data([*old, recent]), as_of)["career_progression", "B1"] == expected


def test_career_progression_at_risk():
    as_of = D("2025-01-31")
    old = [
        completer("O1", "2024-03-31", outcome="new_job", outcome_date=D("2024-05-01")),
        completer("O2", "2024-03-31"),
    ]
    recent = [completer(f"R{i}", "2024-12-01") for i in range(3)]
    # [1/5, 4/5] straddles 75%; decided 1/2 = 50% < 75%
    assert results(data([*old, *recent]), as_of)["career_progression", "B1"] == ("at_risk", 1, 5, 3)


def _unsuccessful(learner_id: str, count: int = 2) -> list[Interview]:
    return [interview(learner_id, f"2024-09-0{i + 1}", result="unsuccessful") for i in range(count)]


def test_deadline_clamps_to_end_of_february():
    ds = data(
        [completer("L", "2024-08-31", referral_date=D("2024-12-01"), referral_kind="job")],
        _unsuccessful("L"),
    )
    before = results(ds, D("2025-02-28"))  # deadline 2025-02-28: as_of ≤ deadline
    assert before["career_progression", "B1"] == ("on_track", 0, 1, 1)  # pending, none decided
    assert before["referral", "B1"] == ("no_data", 0, 0, 0)  # not past the deadline yet
    after = results(ds, D("2025-03-01"))  # past the deadline
    assert after["career_progression", "B1"] == ("not_met", 0, 1, 0)  # decided: no outcome
    assert after["referral", "B1"] == ("met", 1, 1, 0)  # 2 unsuccessful attempts, referred to a job


def test_deadline_in_leap_year_and_outcome_on_the_deadline():
    on_deadline = completer("A", "2023-08-31", outcome="new_job", outcome_date=D("2024-02-29"))
    day_late = completer("B", "2023-08-31", outcome="new_job", outcome_date=D("2024-03-01"))
    early = completer("C", "2023-08-31", outcome="new_job", outcome_date=D("2023-05-01"))
    r = results(data([on_deadline, day_late, early]))
    # A on the deadline 2024-02-29 and C before completion count; B a day late does not
    assert r["career_progression", "B1"] == ("not_met", 2, 3, 0)


def test_outcomes_allowed_by_learner_type():
    job = {"outcome": "new_job", "outcome_date": D("2024-08-01")}
    plan = {"outcome": "action_plan", "outcome_date": D("2024-08-01")}
    role = {"outcome": "new_role", "outcome_date": D("2024-08-01")}
    learners = [
        completer("SE1", learner_type="self_employed", **plan),  # wants_interview missing: plan ok
        completer("SE2", learner_type="self_employed", wants_interview=False, **job),  # not ok
        completer("SE3", learner_type="self_employed", wants_interview=True, **job),  # job ok
        completer("SE4", learner_type="self_employed", wants_interview=True, **plan),  # not ok
        completer("IN1", **role),  # independent: new_role not allowed
        completer("CF1", learner_type="co_funded", employer_id="SME", **role),  # ok
        completer("CF2", learner_type="co_funded", employer_id="SME", **job),  # not ok
        completer("X", outcome="new_job"),  # no outcome date: not positive
    ]
    # positive: SE1, SE3, CF1 → 3 of 8 after every deadline
    assert results(data(learners))["career_progression", "B1"] == ("not_met", 3, 8, 0)


def test_accelerated_apprenticeship_bootcamp():
    def done(learner_id: str, bootcamp: str, outcome: str) -> Learner:
        return completer(
            learner_id,
            bootcamp_id=bootcamp,
            wants_interview=True,
            outcome=outcome,
            outcome_date=D("2024-08-01"),
        )

    learners = [
        done("A1", "ACC", "apprenticeship"),  # not positive on an accelerated bootcamp
        done("A2", "ACC", "accelerated_apprenticeship"),  # positive
        done("A3", "ACC", "new_job"),  # positive
        done("B1a", "B1", "apprenticeship"),  # positive elsewhere
    ]
    interviews = [
        interview("A1", full_apprenticeship=True),  # not valid on an accelerated bootcamp
        interview("A2", full_apprenticeship=False),  # valid
        interview("B1a", full_apprenticeship=True),  # valid elsewhere
    ]
    r = results(data(learners, interviews))
    assert r["career_progression", "ACC"] == ("not_met", 2, 3, 0)  # A2, A3 of A1–A3
    assert r["career_progression", "B1"] == ("met", 1, 1, 0)  # B1a
    assert r["guaranteed_interview", "ACC"] == ("not_met", 1, 3, 0)  # only A2's interview is valid
    assert r["guaranteed_interview", "B1"] == ("met", 1, 1, 0)
    assert r["career_progression", "P1"] == ("met", 3, 4, 0)  # 3/4 = 75% over both bootcamps


def test_referral_population_and_kinds():
    outcome = {"outcome": "new_job", "outcome_date": D("2024-08-01")}
    learners = [
        completer("R1", referral_date=D("2025-01-10"), referral_kind="training"),  # counted
        completer("R2", referral_date=D("2025-01-10"), referral_kind="skills_bootcamp"),  # not
        completer("R3", referral_kind="job"),  # no referral date: not counted
        completer("ONE", referral_date=D("2025-01-10"), referral_kind="job"),  # 1 attempt: out
        completer("POS", **outcome),  # positive outcome: out of the population
    ]
    interviews = [
        *_unsuccessful("R1"),
        # R2: an invalid interview and one after completion still count as attempts
        interview("R2", "2024-05-01", actual_job=False, result="unsuccessful"),
        interview("R2", "2024-10-01", result="unsuccessful"),
        *_unsuccessful("R3", 3),
        *_unsuccessful("ONE", 1),
        interview("ONE", "2024-09-05", result="declined"),
        *_unsuccessful("POS"),
    ]
    r = results(data(learners, interviews))
    assert r["referral", "B1"] == ("not_met", 1, 3, 0)  # R1 of R1–R3


# --- co-funding --------------------------------------------------------------------------------


def test_cofunding_sme_249_large_250_and_to_the_penny():
    def cf(learner_id: str, employer: str) -> Learner:
        return completer(learner_id, learner_type="co_funded", employer_id=employer)

    learners = [
        cf("S_ok", "SME"),
        cf("S_short", "SME"),
        cf("L_ok", "BIG"),
        cf("L_short", "BIG"),
        cf("S_ten", "SME"),
        cf("L_ten", "BIG"),
    ]
    pay = [
        # course 1234.50: SME (249 staff) owes 10% = 123.45; large (250 staff) owes 30% = 370.35
        ("S_ok", "100.00"),
        ("S_ok", "23.45"),  # exactly 123.45 in two payments: counted
        ("S_short", "123.44"),  # a penny short: not counted
        ("L_ok", "370.35"),  # exactly 30%: counted
        ("L_short", "370.00"),
        ("L_short", "0.34"),  # 370.34: a penny short
        ("S_ten", "123.45"),  # counted
        ("L_ten", "123.45"),  # 10% is not enough for a large employer
    ]
    payments = [
        Payment(learner_id=i, amount_paid=Decimal(a), paid_date=D("2024-02-01")) for i, a in pay
    ]
    r = results(data(learners, payments=payments))
    assert r["employer_cofunding", "B1"] == ("not_met", 3, 6, 0)  # S_ok, L_ok, S_ten


def test_cofunding_counted_beats_pending_and_open_learners_are_pending():
    m1 = D("2024-01-15")
    learners = [
        learner("PAID", learner_type="co_funded", employer_id="SME", milestone1_date=m1),
        learner("OPEN", learner_type="co_funded", employer_id="SME", milestone1_date=m1),
        learner(
            "GONE",
            learner_type="co_funded",
            employer_id="SME",
            milestone1_date=m1,
            withdrawal_date=D("2024-02-01"),
        ),
        learner("NOM1", learner_type="co_funded", employer_id="SME"),  # not an M1 starter
        completer("IND"),  # not co-funded
    ]
    payments = [Payment(learner_id="PAID", amount_paid=Decimal("500"), paid_date=D("2024-02-01"))]
    # PAID counted (not pending though still training), OPEN pending, GONE not counted:
    # [1/3, 2/3] all below 100% → not_met
    r = results(data(learners, payments=payments))
    assert r["employer_cofunding", "B1"] == ("not_met", 1, 3, 1)


# --- new skills, guaranteed interview, engagement ----------------------------------------------


def test_new_skills():
    a, b = D("2024-01-10"), D("2024-06-20")
    learners = [
        completer("OK", initial_assessment_date=a, final_assessment_date=b, skills_gained=True),
        completer("NOFINAL", initial_assessment_date=a, skills_gained=True),
        completer("NOSKILL", initial_assessment_date=a, final_assessment_date=b),  # missing bool
        learner("NOTDONE", milestone1_date=a, initial_assessment_date=a),  # not a completer
    ]
    assert results(data(learners))["new_skills", "B1"] == ("not_met", 1, 3, 0)  # only OK of 3


def test_guaranteed_interview_population_and_validity():
    learners = [
        completer("W1", wants_interview=True),  # valid interview
        completer("W2", wants_interview=True),  # offered the day after completion: not valid
        completer("W3", wants_interview=True),  # not matching skills: not valid
        completer("NW", wants_interview=False),  # did not ask: outside the population
        completer("NA"),  # wants_interview missing: outside the population
        completer(
            "CF1",
            learner_type="co_funded",
            employer_id="BIG",
            new_role_evidence_date=D("2024-07-01"),
        ),  # evidence of a new role: counted
        completer("CF2", learner_type="co_funded", employer_id="BIG"),  # nothing: not counted
    ]
    interviews = [
        interview("W1", "2024-06-30"),  # on the completion date
        interview("W2", "2024-07-01"),
        interview("W3", matches_skills=False),
        interview("NA"),
    ]
    r = results(data(learners, interviews))
    assert r["guaranteed_interview", "B1"] == ("not_met", 2, 5, 0)  # W1, CF1 of W1–3, CF1–2


def test_employer_engagement():
    def eng(employer: str, bootcamp: str, **kw) -> Engagement:
        return Engagement(bootcamp_id=bootcamp, employer_id=employer, **kw)

    engagements = [
        eng("SME", "B1", reached=True, role_confirmed=True),  # satisfaction missing: counted
        eng("BIG", "B1", reached=True, role_confirmed=True, satisfaction=3),  # counted
        eng("SME", "ACC", reached=True, role_confirmed=True, satisfaction=2),  # too low
        eng("BIG", "ACC", reached=True, satisfaction=5),  # role not confirmed (missing)
        eng("SME", "EMPTY", contact_attempts=3, role_confirmed=True),  # not reached: outside
    ]
    r = results(data(engagements=engagements))
    assert r["employer_engagement", "B1"] == ("met", 2, 2, 0)
    assert r["employer_engagement", "ACC"] == ("not_met", 0, 2, 0)
    assert r["employer_engagement", "EMPTY"] == ("no_data", 0, 0, 0)  # nobody reached
    assert r["employer_engagement", "P1"] == ("not_met", 2, 4, 0)


# --- as-of masking -----------------------------------------------------------------------------


def test_as_of_masks_future_completion_interview_and_payment():
    as_of = D("2024-06-30")
    learners = [
        completer("NOW", "2024-06-30", wants_interview=True),  # completed on the as-of date
        completer("LATER", "2024-07-01", wants_interview=True),  # completion not happened yet
        learner(
            "CF",
            learner_type="co_funded",
            employer_id="SME",
            milestone1_date=D("2024-01-15"),
            completion_date=D("2024-07-15"),
        ),
    ]
    interviews = [interview("NOW", "2024-06-30"), interview("LATER", "2024-06-01")]
    payments = [Payment(learner_id="CF", amount_paid=Decimal("200"), paid_date=D("2024-07-01"))]
    ds = data(learners, interviews, payments)
    r = results(ds, as_of)
    assert r["guaranteed_interview", "B1"] == ("met", 1, 1, 0)  # only NOW is a completer yet
    assert r["learner_dropout", "B1"] == ("on_track", 0, 3, 2)  # LATER and CF still in training
    assert r["employer_cofunding", "B1"] == ("on_track", 0, 1, 1)  # payment not made yet: pending
    later = results(ds, D("2024-07-31"))
    assert later["employer_cofunding", "B1"] == ("met", 1, 1, 0)  # 200 ≥ 123.45, paid
    # LATER's interview now valid; CF, a co-funded completer since 07-15, has no evidence
    assert later["guaranteed_interview", "B1"] == ("not_met", 2, 3, 0)

    # an interview offered after the as-of date does not exist yet, nor does its result
    ds2 = data(
        [completer("X", "2024-03-31", wants_interview=True)],
        [
            interview("X", "2024-03-01", result="unsuccessful"),
            interview("X", "2024-11-01", result="unsuccessful"),
        ],
    )
    assert results(ds2, D("2024-10-31"))["referral", "B1"] == ("no_data", 0, 0, 0)  # 1 attempt
    assert results(ds2, D("2024-11-01"))["referral", "B1"] == ("not_met", 0, 1, 0)  # now 2


def test_as_of_masks_future_withdrawal_milestone_and_outcome():
    ds = data(
        [
            learner("W", milestone1_date=D("2024-01-15"), withdrawal_date=D("2024-05-01")),
            learner("M", milestone1_date=D("2024-05-01")),
            completer("O", "2024-03-31", outcome="new_job", outcome_date=D("2024-05-01")),
        ]
    )
    r = results(ds, D("2024-04-30"))
    assert r["learner_dropout", "B1"] == ("on_track", 0, 2, 1)  # W not withdrawn yet; M not in M1
    assert r["career_progression", "B1"] == ("on_track", 0, 1, 1)  # O's outcome not dated yet
    r = results(ds, D("2024-05-01"))
    assert r["learner_dropout", "B1"] == ("not_met", 1, 3, 1)  # W withdrawn: already 1/3 > 20%
    assert r["career_progression", "B1"] == ("met", 1, 1, 0)


# --- groups ------------------------------------------------------------------------------------


def test_empty_groups_are_no_data_and_every_group_is_reported():
    r = results(data([completer("L")]))
    groups = {g for _, g in r}
    assert groups == {"B1", "ACC", "EMPTY", "P1", "P2", "all"}
    assert len(r) == len(KPIS) * 6  # 3 bootcamps + 2 providers + programme, per KPI
    for kpi in KPIS:
        assert r[kpi, "EMPTY"] == ("no_data", 0, 0, 0)  # a bootcamp without learners
        assert r[kpi, "P2"] == ("no_data", 0, 0, 0)  # a provider without bootcamps
    assert r["new_skills", "all"] == ("not_met", 0, 1, 0)  # L has no assessments


def test_empty_data_set():
    out = evaluate_by_hand(fixture_rules(), Dataset(), LATE)
    assert out == [
        {
            "kpi": k,
            "scope": "programme",
            "group": "all",
            "status": "no_data",
            "numerator": 0,
            "denominator": 0,
            "pending": 0,
        }
        for k in KPIS
    ]


def test_scopes_and_provider_rollup():
    extra = Bootcamp(
        bootcamp_id="B2",
        provider_id="P2",
        title="Other",
        start_date=D("2024-01-01"),
        end_date=D("2024-06-30"),
        course_cost=Decimal("100"),
    )
    ds = Dataset(
        providers=PROVIDERS,
        bootcamps=(*BOOTCAMPS, extra),
        employers=EMPLOYERS,
        learners=[
            completer("A"),
            completer("B", bootcamp_id="B2"),
            completer("C", bootcamp_id="ACC"),
        ],
    )
    rows = {(r["kpi"], r["scope"], r["group"]): r for r in evaluate_by_hand(fixture_rules(), ds, LATE)}
    assert rows["new_skills", "provider", "P1"]["denominator"] == 2  # A (B1) and C (ACC)
    assert rows["new_skills", "provider", "P2"]["denominator"] == 1  # B (B2)
    assert rows["new_skills", "programme", "all"]["denominator"] == 3
    assert rows["new_skills", "bootcamp", "B2"]["denominator"] == 1


def test_the_hand_written_spec_policy_is_what_the_fixture_rules_say():
    """The benchmark's hand-written baseline uses ``oracle.SPEC``; the tests read the numbers
    from the rules. On the fixture (KPI-SPEC's numbers) the two are the same."""
    from oracle import SPEC, Policy

    assert Policy.of(fixture_rules()) == SPEC
