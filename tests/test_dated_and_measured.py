"""Dated parameters, schedules and the per-provider framework rule (KPI-SPEC §3).

Expected values are worked out by hand from the spec's table of management points.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

import kpidsl
from cohort import FIXTURE_RULES
from kpidsl.language.parser import parse
from kpidsl.plan.points import current_point

D = dt.date
RULES = FIXTURE_RULES


def _schedule():
    rules = kpidsl.load_rules(FIXTURE_RULES)
    return rules.schedules["management_point"]


# as-of date → (point, its date, teaching year start) — KPI-SPEC §3's table, with Y = 2024
POINTS = [
    (D(2024, 8, 1), "R12", D(2024, 7, 31), D(2023, 8, 1)),  # 1 Aug: R12 of the year just ended
    (D(2024, 10, 30), "R12", D(2024, 7, 31), D(2023, 8, 1)),  # up to 30 October
    (D(2024, 10, 31), "R14", D(2024, 10, 31), D(2023, 8, 1)),  # 31 October: its R14
    (D(2024, 12, 30), "R14", D(2024, 10, 31), D(2023, 8, 1)),  # to 30 December
    (D(2024, 12, 31), "R04", D(2024, 12, 31), D(2024, 8, 1)),  # R04 of the new year
    (D(2025, 4, 29), "R04", D(2024, 12, 31), D(2024, 8, 1)),
    (D(2025, 4, 30), "R08", D(2025, 4, 30), D(2024, 8, 1)),
    (D(2025, 7, 30), "R08", D(2025, 4, 30), D(2024, 8, 1)),
    (D(2025, 7, 31), "R12", D(2025, 7, 31), D(2024, 8, 1)),
    (D(2028, 2, 29), "R04", D(2027, 12, 31), D(2027, 8, 1)),  # a leap day far ahead
]


@pytest.mark.parametrize(("as_of", "label", "date", "year_start"), POINTS)
def test_most_recent_management_point(as_of, label, date, year_start):
    p = current_point(_schedule(), as_of)
    assert p is not None
    assert (p.label, p.date, p.year_start) == (label, date, year_start)
    assert p.year_end == D(year_start.year + 1, 7, 31)


def _profile_data() -> kpidsl.Dataset:
    """Provider P1 plans 10 starts a month from August 2024; P2 plans nothing."""
    providers = [kpidsl.Provider(provider_id="P1", name="One"),
                 kpidsl.Provider(provider_id="P2", name="Two")]
    bootcamps = [kpidsl.Bootcamp(bootcamp_id="B1", provider_id="P1", title="Data",
                                 start_date=D(2024, 8, 1), end_date=D(2025, 7, 31),
                                 course_cost=Decimal(1000))]
    profiles = [kpidsl.Profile(provider_id="P1", month=D(2024 + (m > 12), (m - 1) % 12 + 1, 1),
                               planned_starts=10) for m in range(8, 8 + 12)]
    # 2024/25 starts: 45 by 31 December, 40 more by 30 April, 20 more by 31 July;
    # one start in the year before, which must not count.
    dates = ([D(2024, 9, 15)] * 45 + [D(2025, 2, 10)] * 40 + [D(2025, 6, 1)] * 20
             + [D(2024, 7, 31)])
    learners = [kpidsl.Learner(learner_id=f"L{i}", bootcamp_id="B1", learner_type="independent",
                               start_date=d, milestone1_date=d) for i, d in enumerate(dates)]
    return kpidsl.Dataset(providers=providers, bootcamps=bootcamps, learners=learners,
                          profiles=profiles)


# as-of date → P1's (status, actual, planned), by hand:
#   R04 (31 Dec 2024): planned Aug–Dec = 50, actual 45, tolerance 15% → 45 ≥ 42.5 met
#   R08 (30 Apr 2025): planned Aug–Apr = 90, actual 85, tolerance 10% → 85 ≥ 81 met
#   R12 (31 Jul 2025): planned 120, actual 105, tolerance 5% → 105 < 114 not met
#   R14 (31 Oct 2025): planned 120 (the year's twelve months), actual 105, 0% → not met
DELIVERY = [
    (D(2024, 12, 31), "met", 45, 50),
    (D(2025, 4, 30), "met", 85, 90),
    (D(2025, 7, 31), "not_met", 105, 120),
    (D(2025, 10, 31), "not_met", 105, 120),
    (D(2025, 12, 31), "no_data", 0, 0),  # R04 of 2025/26: no plan for that year
]


@pytest.mark.parametrize(("as_of", "status", "actual", "planned"), DELIVERY)
def test_delivery_against_profile_at_each_point(as_of, status, actual, planned):
    report = kpidsl.evaluate(kpidsl.load_rules(FIXTURE_RULES), _profile_data(), as_of=as_of)
    r = report.result("delivery_against_profile", "provider", "P1")
    assert (r.status, r.numerator, r.denominator, r.pending) == (status, actual, planned, 0)
    empty = report.result("delivery_against_profile", "provider", "P2")
    assert (empty.status, empty.numerator, empty.denominator) == ("no_data", 0, 0)
    programme = report.result("delivery_against_profile", "programme", "all")
    assert (programme.numerator, programme.denominator) == (actual, planned)
    assert not [x for x in report.results
                if x.kpi == "delivery_against_profile" and x.scope == "bootcamp"]


def test_a_providers_status_is_asked_for_as_the_table_prints_it():
    """`--verdict "not met"` is `not_met`; a KPI measured per provider has nothing pending,
    so the statuses it names when refusing one are the three its providers can have."""
    rules, data, when = kpidsl.load_rules(FIXTURE_RULES), _profile_data(), D(2025, 7, 31)
    for asked, providers in ((["not met"], ["P1"]), (["not_met", "no data"], ["P1", "P2"])):
        why = kpidsl.explain(rules, data, "delivery_against_profile", as_of=when,
                             verdicts=asked)
        assert [v.record for v in why.verdicts] == [f"provider {p}" for p in providers]
    with pytest.raises(kpidsl.NotFoundError) as e:
        kpidsl.explain(rules, data, "delivery_against_profile", verdicts=["on_track"])
    assert e.value.diagnostics[0].message == (
        "verdict 'on_track' does not apply to delivery_against_profile: a provider of it is "
        "met, not met or no data")


def test_exactly_at_the_tolerance_is_met():
    """85 of 100 planned at R04 is exactly 15% short: met; 84 is not."""
    rules = kpidsl.load_rules(FIXTURE_RULES)
    for actual, status in ((85, "met"), (84, "not_met")):
        data = _profile_data()
        profiles = [kpidsl.Profile(provider_id="P1", month=D(2024, 8, 1), planned_starts=100)]
        learners = [kpidsl.Learner(learner_id=f"L{i}", bootcamp_id="B1",
                                   learner_type="independent", start_date=D(2024, 9, 1),
                                   milestone1_date=D(2024, 9, 1)) for i in range(actual)]
        data = kpidsl.Dataset(providers=data.providers, bootcamps=data.bootcamps,
                              learners=learners, profiles=profiles)
        r = kpidsl.evaluate(rules, data, as_of=D(2025, 1, 15)).result(
            "delivery_against_profile", "provider", "P1")
        assert (r.status, r.numerator, r.denominator) == (status, actual, 100)
        assert r.target == Fraction(85, 100)


DATED = '''
define size for employer:
  large when employees >= 250
  sme otherwise

table rate by size:
  from 2022-04-01:
    large: 30%
    sme: 10%
  from 2025-04-01:
    large: 25%
    sme: 10%

table limit:
  from 2020-01-01: 20%
  from 2025-01-01: 15%

define rate_now for learner: rate(employer.size)
define rate_at_start for learner: rate(employer.size, bootcamp.start_date)
'''


def _dated_rules(tmp_path: Path, body: str) -> kpidsl.RuleSet:
    (tmp_path / "rules.kpi").write_text(DATED + body)
    return kpidsl.load_rules(tmp_path)


def test_dated_table_picks_version_by_as_of_or_by_record_date(tmp_path):
    """A large employer: 30% before April 2025, 25% from then on. The as-of date picks the
    version for `rate(…)`; the bootcamp's start picks it for `rate(…, bootcamp.start_date)`."""
    body = '''
kpi at_as_of:
  title: "Rate in force on the as-of date is 25%"
  population: learners where learner_type = co_funded
  counted when: rate_now = 25%
  target: at least 100%

kpi at_start:
  title: "Rate in force when the bootcamp started is 30%"
  population: learners where learner_type = co_funded
  counted when: rate_at_start = 30%
  target: at least 100%

kpi plain:
  title: "A plain dated parameter"
  population: learners where learner_type = co_funded
  counted when: limit = 15%
  target: at least 100%
'''
    rules = _dated_rules(tmp_path, body)
    data = kpidsl.Dataset(
        providers=[kpidsl.Provider(provider_id="P1", name="One")],
        bootcamps=[kpidsl.Bootcamp(bootcamp_id="B1", provider_id="P1", title="T",
                                   start_date=D(2024, 9, 1), end_date=D(2025, 6, 30),
                                   course_cost=Decimal(1000))],
        employers=[kpidsl.Employer(employer_id="E1", name="Big", employees=250)],
        learners=[kpidsl.Learner(learner_id="L1", bootcamp_id="B1", learner_type="co_funded",
                                 employer_id="E1", start_date=D(2024, 9, 1))],
    )
    after = kpidsl.evaluate(rules, data, as_of=D(2025, 5, 1))
    assert after.result("at_as_of").status == "met"
    assert after.result("at_start").status == "met"
    assert after.result("plain").status == "met"
    before = kpidsl.evaluate(rules, data, as_of=D(2024, 12, 1))
    assert before.result("at_as_of").status == "not_met"  # 30% was in force then
    assert before.result("plain").status == "not_met"  # 20% was in force then


@pytest.mark.parametrize(("body", "message"), [
    ("table bad by size:\n  from 2025-01-01:\n    large: 1%\n    sme: 1%\n"
     "  from 2024-01-01:\n    large: 2%\n    sme: 2%\n",
     "versions of table bad must be in date order"),
    ("table gap by size:\n  from 2025-01-01:\n    large: 1%\n",
     "table gap from 2025-01-01 has no row for sme"),
    ("define x for learner: rate(employer.size, 3) = 10%\n",
     "the last value given to table rate picks the version in force on a date, "
     "but this is an integer"),
    ("define y for learner: limit(employer.size) = 10%\n",
     "the last value given to table limit picks the version in force on a date, "
     "but this is a value of size"),
])
def test_dated_table_errors(tmp_path, body, message):
    with pytest.raises(kpidsl.RuleError) as e:
        _dated_rules(tmp_path, body)
    assert message in e.value.render()


def test_schedule_points_read_like_fields(tmp_path):
    """Year from 1 April: on 15 April 2025 the latest point is Q4 (31 March 2025) of the
    year 1 April 2024 – 31 March 2025; on 1 July 2025 it is Q1 of the next year."""
    (tmp_path / "s.kpi").write_text('''
schedule review:
  year starts: 1 April
  Q1: 30 June
  Q4: 31 March
kpi k:
  title: "T"
  population: learners where review = Q4 and review.date = 2025-03-31
  counted when: review.year_start = 2024-04-01 and review.year_end = 2025-03-31
  target: at least 100%
''')
    rules = kpidsl.load_rules(tmp_path)
    data = _profile_data()
    assert kpidsl.evaluate(rules, data, as_of=D(2025, 4, 15)).result("k").status == "met"
    assert kpidsl.evaluate(rules, data, as_of=D(2025, 7, 1)).result("k").status == "no_data"
    assert parse((tmp_path / "s.kpi").read_text(), "s.kpi").items[0].points[1].label == "Q4"
