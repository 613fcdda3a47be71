"""The framework rule ``delivery_against_profile`` (KPI-SPEC §3) on hand-made profiles.

Provider P1 plans 4 Milestone 1 starts a month in teaching year 2023 (Aug 2023 – Jul 2024,
48 in all) and 10 a month in teaching year 2024 (Aug 2024 – Jul 2025, 120 in all). P2 and P3
have no profile. Tolerances: R04 (31 Dec) 15%, R08 (30 Apr) 10%, R12 (31 Jul) 5%, R14 (31 Oct)
0%; the result is met when actual ≥ (1 − tolerance) × planned.
"""

from __future__ import annotations

import datetime as dt

import pytest

from cohort import D, dataset, results, starter
from kpidsl import Profile

KPI = "delivery_against_profile"


def _months(first: dt.date, count: int) -> list[dt.date]:
    out = []
    y, m = first.year, first.month
    for _ in range(count):
        out.append(dt.date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


PROFILES = [
    *(Profile(provider_id="P1", month=m, planned_starts=4) for m in _months(D("2023-08-01"), 12)),
    *(Profile(provider_id="P1", month=m, planned_starts=10)
      for m in _months(D("2024-08-01"), 12)),
]


def starts(count: int, m1: str, bootcamp: str = "B1", tag: str = "") -> list:
    """``count`` learners who reached Milestone 1 on ``m1``."""
    return [starter(f"{tag or m1}-{bootcamp}-{i}", bootcamp_id=bootcamp, start_date="2023-08-01",
                    milestone1_date=m1) for i in range(count)]


@pytest.mark.parametrize(
    ("as_of", "cohort", "expected"),
    [
        # R04 of 2024 (31 Dec 2024): planned Aug–Dec = 50; 15% tolerance: at least 42.5
        ("2024-12-31", [(43, "2024-09-15")], ("met", 43, 50, 0)),
        ("2024-12-31", [(42, "2024-09-15")], ("not_met", 42, 50, 0)),
        # still R04 on 15 Jan: a start of 10 Jan is after the point and does not count yet
        ("2025-01-15", [(43, "2024-09-15"), (5, "2025-01-10")], ("met", 43, 50, 0)),
        ("2025-01-15", [(40, "2024-09-15"), (5, "2025-01-10")], ("not_met", 40, 50, 0)),
        # R08 (30 Apr 2025): planned Aug–Apr = 90; 10%: at least 81, exactly
        ("2025-04-30", [(81, "2024-10-01")], ("met", 81, 90, 0)),
        ("2025-04-30", [(80, "2024-10-01")], ("not_met", 80, 90, 0)),
        # from 1 Aug to 30 Oct, R12 of the year just ended: planned 120; 5%: at least 114;
        # a start in August 2025 belongs to the next teaching year
        ("2025-08-15", [(114, "2025-07-31"), (9, "2025-08-05")], ("met", 114, 120, 0)),
        ("2025-08-15", [(113, "2025-07-31"), (9, "2025-08-05")], ("not_met", 113, 120, 0)),
        # R14 (31 Oct 2025), the final point: 0% tolerance, all 120
        ("2025-10-31", [(120, "2025-01-15")], ("met", 120, 120, 0)),
        ("2025-10-31", [(119, "2025-01-15"), (3, "2025-09-01")], ("not_met", 119, 120, 0)),
        # 30 Dec 2024: R14 of teaching year 2023 (31 Oct 2024): planned 48, no tolerance;
        # the 2024 year's starts do not count
        ("2024-12-30", [(48, "2024-03-15"), (43, "2024-09-15")], ("met", 48, 48, 0)),
        ("2024-12-30", [(47, "2024-03-15"), (43, "2024-09-15")], ("not_met", 47, 48, 0)),
        # 30 Oct 2024: R12 of teaching year 2023 (31 Jul 2024): 5% of 48: at least 45.6
        ("2024-10-30", [(46, "2024-03-15")], ("met", 46, 48, 0)),
        ("2024-10-30", [(45, "2024-03-15")], ("not_met", 45, 48, 0)),
        # a starter of the previous teaching year does not count in this one
        ("2024-12-31", [(43, "2024-07-31")], ("not_met", 0, 50, 0)),
    ],
)
def test_delivery_against_profile(as_of, cohort, expected):
    learners = [x for count, m1 in cohort for x in starts(count, m1)]
    r = results(dataset(learners, profiles=PROFILES), D(as_of))
    assert r[KPI, "P1"] == expected


def test_delivery_is_per_provider_and_programme_not_per_bootcamp():
    learners = [*starts(43, "2024-09-15"), *starts(5, "2024-09-15", bootcamp="ACC")]
    r = results(dataset(learners, profiles=PROFILES), D("2024-12-31"))
    assert not any(kpi == KPI and group in ("B1", "B2", "ACC", "EMPTY") for kpi, group in r)
    assert r[KPI, "P1"] == ("met", 43, 50, 0)
    # P2 has 5 actual starts but nothing planned: no data (numerator = actual)
    assert r[KPI, "P2"] == ("no_data", 5, 0, 0)
    assert r[KPI, "P3"] == ("no_data", 0, 0, 0)
    # the programme adds up actual (43 + 5) and planned (50): 96% ≥ 85%
    assert r[KPI, "all"] == ("met", 48, 50, 0)


def test_delivery_without_any_profile_has_no_data():
    r = results(dataset(starts(10, "2024-09-15")), D("2024-12-31"))
    assert r[KPI, "P1"][0] == "no_data" and r[KPI, "all"][0] == "no_data"
