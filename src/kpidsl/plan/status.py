"""A group's status from its counts (KPI-SPEC §2): one pure function that every engine shares."""

from __future__ import annotations

from fractions import Fraction

from kpidsl.language.vocabulary import Status

NO_DATA, MET, NOT_MET, ON_TRACK, AT_RISK = (Status.NO_DATA, Status.MET, Status.NOT_MET,
                                            Status.ON_TRACK, Status.AT_RISK)


def status(direction: str, target: Fraction, n: int, k: int, p: int) -> Status:
    """The status of a KPI for one group (KPI-SPEC §2), with n records, k counted, p pending.

    With records still pending the rate will end somewhere in [k/n, (k+p)/n]; the KPI is
    already met (or can no longer be met) when every rate in that range meets (misses) the
    target. Otherwise the records decided so far say whether it is on track.
    """
    return status_of(direction, target.numerator, target.denominator, n, k, p)


def status_of(direction: str, a: int, b: int, n: int, k: int, p: int) -> Status:
    """:func:`status` against the target ``a/b`` (``b`` > 0) given by its two integers: a
    history judges tens of thousands of counts, and making each target a ``Fraction`` again
    would cost more than the judging."""
    at_least = direction == "at least"

    def ok(num: int, den: int) -> bool:
        """num/den meets the target, compared exactly in whole numbers (b and den > 0)."""
        return num * b >= a * den if at_least else num * b <= a * den

    if n == 0:
        return NO_DATA
    if p == 0:
        return MET if ok(k, n) else NOT_MET
    low, high = ok(k, n), ok(k + p, n)
    if low and high:
        return MET
    if not low and not high:
        return NOT_MET
    decided = n - p
    return ON_TRACK if decided == 0 or ok(k, decided) else AT_RISK
