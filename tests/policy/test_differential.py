"""kpidsl with the rules under test (``--rules``, default ``rules/``) against the hand-written
oracle, on generated data sets and on random small cohorts drawn by hypothesis.

``oracle.evaluate`` shares no evaluation code with the rule language and reads only the policy's
numbers from the rules (targets, the co-funding table, the size threshold, the outcome window);
both must agree on every (kpi, scope, group) → (status, numerator, denominator, pending), at
as-of dates from before the first bootcamp starts to long after the last deadline.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kpidsl
import oracle
from cohort import BOOTCAMPS, EMPLOYERS, PROVIDERS
from conftest import rules_under_test
from kpidsl.contract.fields import ENUMS
from kpidsl.data.generate import generate
from oracle import KPIS

SEEDS = (0, 1, 7)
AS_OF = ("2023-12-31", "2024-06-30", "2025-03-31", "2025-08-31", "2026-06-30")


@pytest.fixture(scope="module")
def rules(request: pytest.FixtureRequest) -> kpidsl.RuleSet:
    return _rules(request.config)


@pytest.fixture(scope="module", params=SEEDS, ids=lambda s: f"seed{s}")
def data(request: pytest.FixtureRequest) -> kpidsl.Dataset:
    return generate(2000, seed=request.param)


@pytest.mark.parametrize("as_of", AS_OF)
def test_rules_agree_with_the_oracle(rules: kpidsl.RuleSet, data: kpidsl.Dataset, as_of: str,
                                     engine: str):
    when = dt.date.fromisoformat(as_of)
    ours = oracle.comparable(kpidsl.evaluate(rules, data, as_of=when, engine=engine).results)
    theirs = oracle.evaluate(rules, data, when)
    assert ours.keys() == theirs.keys()
    wrong = {k: (ours[k], theirs[k]) for k in ours if ours[k] != theirs[k]}
    assert wrong == {}


def test_the_generated_data_exercises_the_rules(rules: kpidsl.RuleSet, data: kpidsl.Dataset):
    """A differential test proves little on data where every KPI is trivially met or empty."""
    rep = kpidsl.evaluate(rules, data, as_of=dt.date(2025, 3, 31))
    programme = {r.kpi: r for r in rep.results if r.scope == "programme"}
    for kpi in KPIS:
        assert programme[kpi].denominator > 0, kpi
    statuses = {r.status for r in rep.results if r.kpi in KPIS}
    assert {"met", "not_met"} <= statuses
    assert any(r.pending for r in rep.results)
    assert any(r.numerator < r.denominator for r in rep.results if r.kpi == "referral")


# ---- random small cohorts: every field, missing or not, dates in any order --------------------

_EDGES = [dt.date(2023, 8, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 1), dt.date(2024, 8, 31),
          dt.date(2025, 2, 28), dt.date(2025, 3, 1), dt.date(2024, 12, 31)]
dates = st.one_of(st.dates(dt.date(2023, 6, 1), dt.date(2025, 12, 31)), st.sampled_from(_EDGES))
maybe_dates = st.none() | dates
maybe_bools = st.sampled_from([None, True, False])
bootcamp_ids = st.sampled_from([b.bootcamp_id for b in BOOTCAMPS])
employer_ids = st.sampled_from([e.employer_id for e in EMPLOYERS])


@st.composite
def learners(draw, learner_id: str) -> kpidsl.Learner:
    kind = draw(st.sampled_from(ENUMS["learner_type"]))
    return kpidsl.Learner(
        learner_id=learner_id, bootcamp_id=draw(bootcamp_ids), learner_type=kind,
        employer_id=draw(employer_ids) if kind == "co_funded" else None,
        start_date=draw(dates), milestone1_date=draw(maybe_dates),
        withdrawal_date=draw(maybe_dates), completion_date=draw(maybe_dates),
        initial_assessment_date=draw(maybe_dates), final_assessment_date=draw(maybe_dates),
        skills_gained=draw(maybe_bools), wants_interview=draw(maybe_bools),
        new_role_evidence_date=draw(maybe_dates),
        outcome=draw(st.none() | st.sampled_from(ENUMS["outcome"])),
        outcome_date=draw(maybe_dates), referral_date=draw(maybe_dates),
        referral_kind=draw(st.none() | st.sampled_from(ENUMS["referral_kind"])),
    )


@st.composite
def cohorts(draw) -> kpidsl.Dataset:
    ids = [f"L{i}" for i in range(draw(st.integers(0, 8)))]
    people = [draw(learners(i)) for i in ids]
    interviews, payments = [], []
    if ids:
        for _ in range(draw(st.integers(0, 10))):
            interviews.append(kpidsl.Interview(
                learner_id=draw(st.sampled_from(ids)), employer_id=draw(employer_ids),
                offer_date=draw(dates), actual_job=draw(st.booleans()),
                matches_skills=draw(st.booleans()), full_apprenticeship=draw(st.booleans()),
                result=draw(st.sampled_from(ENUMS["result"]))))
        for _ in range(draw(st.integers(0, 6))):
            payments.append(kpidsl.Payment(
                learner_id=draw(st.sampled_from(ids)), paid_date=draw(dates),
                amount_paid=Decimal(draw(st.integers(0, 60_000))) / 100))
    pairs = draw(st.sets(st.tuples(bootcamp_ids, employer_ids), max_size=6))
    engagements = [kpidsl.Engagement(
        bootcamp_id=b, employer_id=e, reached=draw(maybe_bools),
        role_confirmed=draw(maybe_bools), satisfaction=draw(st.none() | st.integers(0, 5)),
        contact_attempts=draw(st.integers(0, 4)), recorded_date=draw(maybe_dates))
        for b, e in sorted(pairs)]
    return kpidsl.Dataset(providers=PROVIDERS, bootcamps=BOOTCAMPS, employers=EMPLOYERS,
                          learners=people, interviews=interviews, payments=payments,
                          engagements=engagements)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=cohorts(), as_of=dates)
def test_random_cohorts_agree_with_the_oracle(rules: kpidsl.RuleSet, data: kpidsl.Dataset,
                                              as_of: dt.date):
    """Small cohorts of arbitrary (valid) records, including contradictory ones."""
    ours = oracle.comparable(kpidsl.evaluate(rules, data, as_of=as_of,
                                             engine="python").results)
    assert ours == oracle.evaluate(rules, data, as_of)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=cohorts(), as_of=dates)
def test_random_cohorts_give_the_same_report_on_every_engine(rules: kpidsl.RuleSet,
                                                             data: kpidsl.Dataset,
                                                             as_of: dt.date):
    """Results, findings and actions, field by field: the DuckDB engine against the Python
    reference (which the test above holds to the oracle)."""
    python = kpidsl.evaluate(rules, data, as_of=as_of, engine="python")
    duckdb = kpidsl.evaluate(rules, data, as_of=as_of, engine="duckdb")
    assert duckdb == python


_RULES: dict[str, kpidsl.RuleSet] = {}


def _rules(config: pytest.Config) -> kpidsl.RuleSet:
    """The rules under test, loaded once per session."""
    path = rules_under_test(config)
    if str(path) not in _RULES:
        _RULES[str(path)] = kpidsl.load_rules(path)
    return _RULES[str(path)]
