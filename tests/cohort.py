"""Small hand-made cohorts for the KPI tests, built from records in Python.

The programme: provider P1 runs B1 (course £1,500.00), B2 (£1,000.01) and EMPTY (nobody
enrolled); P2 runs ACC, a bootcamp leading to an accelerated apprenticeship; P3 runs nothing.
Employers: SME has 249 employees (an SME, 10%), BIG 250 (large, 30%), TINY 0.
Every learner starts on 2024-01-01; a Milestone 1 starter reached Milestone 1 on 2024-01-15.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import kpidsl
from kpidsl import (
    Bootcamp,
    Dataset,
    Employer,
    Engagement,
    Interview,
    Learner,
    Payment,
    Profile,
    Provider,
)

D = dt.date.fromisoformat
LATE = D("2026-12-31")  # after every event of every cohort: everything is decided
START, M1, DONE = D("2024-01-01"), D("2024-01-15"), D("2024-06-30")

PROVIDERS = (
    Provider(provider_id="P1", name="One"),
    Provider(provider_id="P2", name="Two"),
    Provider(provider_id="P3", name="Idle"),
)


def _bootcamp(bootcamp_id: str, provider: str, cost: str, accelerated: bool = False) -> Bootcamp:
    return Bootcamp(bootcamp_id=bootcamp_id, provider_id=provider, title=bootcamp_id,
                    start_date=START, end_date=DONE, course_cost=Decimal(cost),
                    accelerated_apprenticeship=accelerated)


BOOTCAMPS = (
    _bootcamp("B1", "P1", "1500.00"),
    _bootcamp("B2", "P1", "1000.01"),
    _bootcamp("EMPTY", "P1", "500"),
    _bootcamp("ACC", "P2", "2000.00", accelerated=True),
)
EMPLOYERS = (
    Employer(employer_id="SME", name="Small", employees=249),
    Employer(employer_id="BIG", name="Large", employees=250),
    Employer(employer_id="TINY", name="Tiny", employees=0),
)
GROUPS = ("B1", "B2", "EMPTY", "ACC", "P1", "P2", "P3", "all")
#: The seven KPIs of KPI-SPEC §3 (reported per bootcamp, provider and programme).
KPIS = ("employer_engagement", "employer_cofunding", "learner_dropout", "new_skills",
        "guaranteed_interview", "career_progression", "referral")


def learner(learner_id: str, **kw) -> Learner:
    kw.setdefault("bootcamp_id", "B1")
    kw.setdefault("learner_type", "independent")
    kw.setdefault("start_date", START)
    for k, v in kw.items():
        if k.endswith("_date") and isinstance(v, str):
            kw[k] = D(v)
    return Learner(learner_id=learner_id, **kw)


def starter(learner_id: str, **kw) -> Learner:
    """A Milestone 1 starter still in training (unless ``kw`` says otherwise)."""
    kw.setdefault("milestone1_date", M1)
    return learner(learner_id, **kw)


def withdrawn(learner_id: str, when: str = "2024-03-01", **kw) -> Learner:
    return starter(learner_id, withdrawal_date=when, **kw)


def completer(learner_id: str, completion: str = "2024-06-30", **kw) -> Learner:
    return starter(learner_id, completion_date=completion, **kw)


def co_funded(learner_id: str, employer: str = "SME", **kw) -> Learner:
    """A co-funded completer (completed 2024-06-30, so no longer pending)."""
    kw.setdefault("completion_date", DONE)
    return starter(learner_id, learner_type="co_funded", employer_id=employer, **kw)


def interview(learner_id: str, offer: str = "2024-06-01", **kw) -> Interview:
    kw.setdefault("actual_job", True)
    kw.setdefault("matches_skills", True)
    return Interview(learner_id=learner_id, employer_id="BIG", offer_date=D(offer), **kw)


def payment(learner_id: str, amount: str, paid: str = "2024-02-01") -> Payment:
    return Payment(learner_id=learner_id, amount_paid=Decimal(amount), paid_date=D(paid))


def engagement(bootcamp: str, employer: str, **kw) -> Engagement:
    return Engagement(bootcamp_id=bootcamp, employer_id=employer, **kw)


def dataset(learners: Iterable[Learner] = (), interviews: Iterable[Interview] = (),
            payments: Iterable[Payment] = (), engagements: Iterable[Engagement] = (),
            profiles: Iterable[Profile] = ()) -> Dataset:
    ds = Dataset(providers=PROVIDERS, bootcamps=BOOTCAMPS, employers=EMPLOYERS,
                 engagements=tuple(engagements), learners=tuple(learners),
                 interviews=tuple(interviews), payments=tuple(payments),
                 profiles=tuple(profiles))
    assert ds.problems() == [], "a test cohort must itself be valid"
    return ds


#: The fixture rule set: a frozen copy of the rules at KPI-SPEC's numbers (20% drop-out, 30%
#: and 10% co-funding, …). The engine's tests pin its numbers, so a policy edit to ``rules/``
#: never breaks them; the shipped rules are tested by their own ``test`` blocks.
FIXTURE_RULES = Path(__file__).resolve().parent / "fixtures" / "rules"


@functools.lru_cache(maxsize=1)
def fixture_rules() -> kpidsl.RuleSet:
    return kpidsl.load_rules(FIXTURE_RULES)


def report(ds: Dataset, as_of: dt.date = LATE, rules: kpidsl.RuleSet | None = None
           ) -> kpidsl.Report:
    return kpidsl.evaluate(rules or fixture_rules(), ds, as_of=as_of)


def results(ds: Dataset, as_of: dt.date = LATE, rules: kpidsl.RuleSet | None = None
            ) -> dict[tuple[str, str], tuple[str, int, int, int]]:
    """(kpi, group) → (status, numerator k, denominator n, pending p)."""
    out = {}
    for r in report(ds, as_of, rules).results:
        assert (r.kpi, r.group) not in out
        out[r.kpi, r.group] = (r.status, r.numerator, r.denominator, r.pending)
    return out


def one(ds: Dataset, kpi: str, group: str = "B1", as_of: dt.date = LATE
        ) -> tuple[str, int, int, int]:
    """(status, k, n, p) of one KPI for one group."""
    return results(ds, as_of)[kpi, group]
