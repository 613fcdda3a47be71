"""The status of a KPI for one group (KPI-SPEC §2 rules 1–5): a table of cases, then properties.

``status(direction, target, n, k, p)``: n records, k counted, p pending.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpidsl.plan.status import status

LEAST, MOST = "at least", "at most"
RANK = {"not_met": 0, "at_risk": 1, "on_track": 2, "met": 3}


@pytest.mark.parametrize(
    ("direction", "target", "n", "k", "p", "expected"),
    [
        # rule 1: nobody in the population
        (LEAST, Fraction(1), 0, 0, 0, "no_data"),
        (MOST, Fraction(1, 5), 0, 0, 0, "no_data"),
        # rule 2: nothing pending; rates are exact, so the boundary is met
        (MOST, Fraction(1, 5), 5, 1, 0, "met"),  # 1/5 = 20% ≤ 20%
        (MOST, Fraction(1, 5), 5, 2, 0, "not_met"),  # 40%
        (MOST, Fraction(1, 5), 10, 2, 0, "met"),  # 2/10 = 20%
        (MOST, Fraction(1, 5), 9, 2, 0, "not_met"),  # 22.2%
        (LEAST, Fraction(3, 4), 4, 3, 0, "met"),  # exactly 75%
        (LEAST, Fraction(3, 4), 4, 2, 0, "not_met"),  # 50%
        (LEAST, Fraction(1), 3, 3, 0, "met"),
        (LEAST, Fraction(1), 3, 2, 0, "not_met"),
        (LEAST, Fraction(0), 3, 0, 0, "met"),  # at least 0% always holds
        # rule 3: every rate in [k/n, (k+p)/n] meets the target
        (MOST, Fraction(1, 5), 5, 0, 1, "met"),  # [0%, 20%]
        (LEAST, Fraction(3, 4), 5, 4, 1, "met"),  # [80%, 100%]
        # rule 4: no rate in the range meets it
        (MOST, Fraction(1, 5), 5, 2, 1, "not_met"),  # [40%, 60%]
        (LEAST, Fraction(3, 4), 5, 2, 1, "not_met"),  # [40%, 60%]
        (LEAST, Fraction(1), 5, 0, 4, "not_met"),  # one already decided not counted
        # rule 5: the range straddles the target; judged on the decided records
        (MOST, Fraction(1, 5), 5, 1, 1, "at_risk"),  # [20%, 40%]; decided 1/4 = 25%
        (MOST, Fraction(1, 5), 5, 0, 2, "on_track"),  # [0%, 40%]; decided 0/3
        (MOST, Fraction(1, 5), 5, 0, 5, "on_track"),  # nothing decided yet
        (LEAST, Fraction(3, 4), 5, 3, 1, "on_track"),  # [60%, 80%]; decided 3/4 = 75%
        (LEAST, Fraction(3, 4), 5, 2, 2, "at_risk"),  # [40%, 80%]; decided 2/3
        (LEAST, Fraction(1), 5, 4, 1, "on_track"),  # 100% only if the last one comes good
        (LEAST, Fraction(1), 1, 0, 1, "on_track"),  # nothing decided yet
    ],
)
def test_status_table(direction, target, n, k, p, expected):
    assert status(direction, target, n, k, p) == expected


# ---- properties -------------------------------------------------------------------------------

targets = st.fractions(min_value=0, max_value=1, max_denominator=200)
directions = st.sampled_from([LEAST, MOST])


@st.composite
def groups(draw, min_n: int = 0):
    """(n, k, p) with k + p ≤ n."""
    n = draw(st.integers(min_n, 60))
    k = draw(st.integers(0, n))
    p = draw(st.integers(0, n - k))
    return n, k, p


@settings(max_examples=150, deadline=None)
@given(directions, targets, groups())
def test_no_data_iff_empty(direction, target, g):
    n, k, p = g
    assert (status(direction, target, n, k, p) == "no_data") == (n == 0)


@settings(max_examples=150, deadline=None)
@given(directions, targets, groups(min_n=1))
def test_without_pending_it_is_decided(direction, target, g):
    n, k, _ = g
    s = status(direction, target, n, k, 0)
    assert s in ("met", "not_met")
    rate = Fraction(k, n)
    assert (s == "met") == (rate >= target if direction == LEAST else rate <= target)


@settings(max_examples=150, deadline=None)
@given(directions, targets, groups(min_n=1))
def test_met_and_not_met_are_final(direction, target, g):
    """met (not_met) with records pending means: however they end, met (not_met)."""
    n, k, p = g
    s = status(direction, target, n, k, p)
    ends = {status(direction, target, n, k + j, 0) for j in range(p + 1)}
    if s == "met":
        assert ends == {"met"}
    elif s == "not_met":
        assert ends == {"not_met"}
    else:
        assert s in ("on_track", "at_risk")
        assert ends == {"met", "not_met"}, "undecided only while both ends are possible"


@settings(max_examples=150, deadline=None)
@given(targets, groups(min_n=1))
def test_at_least_more_counted_is_never_worse(target, g):
    n, k, p = g
    if k + p < n:  # room for one more counted record, taken from the not-counted ones
        before = status(LEAST, target, n, k, p)
        after = status(LEAST, target, n, k + 1, p)
        assert RANK[after] >= RANK[before], (before, after)


@settings(max_examples=150, deadline=None)
@given(targets, groups(min_n=1))
def test_at_most_more_counted_is_never_better(target, g):
    n, k, p = g
    if k + p < n:
        before = status(MOST, target, n, k, p)
        after = status(MOST, target, n, k + 1, p)
        assert RANK[after] <= RANK[before], (before, after)


@settings(max_examples=150, deadline=None)
@given(targets, groups(min_n=1))
def test_at_least_t_of_counted_is_at_most_one_minus_t_of_the_rest(target, g):
    """Counting the other records flips the direction and the target (1 − T)."""
    n, k, p = g
    assert status(LEAST, target, n, k, p) == status(MOST, 1 - target, n, n - k - p, p)


@settings(max_examples=100, deadline=None)
@given(directions, targets, groups(min_n=1), st.integers(2, 5))
def test_scaling_a_group_keeps_its_status(direction, target, g, m):
    """Status depends on the proportions only: m copies of a group stand where it stands."""
    n, k, p = g
    assert status(direction, target, n, k, p) == status(direction, target, m * n, m * k, m * p)
