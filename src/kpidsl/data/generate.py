"""Synthetic data sets in the contract of KPI-SPEC §1, for examples, tests and benchmarks.

:func:`generate` builds a :class:`~kpidsl.data.dataset.Dataset` shaped like a real programme, so
that evaluating it gives the statuses a contract manager would see, not just ``met`` or
``no_data``. The shape follows the published Skills Bootcamps statistics: about 64% of
Milestone 1 starters complete and about 57% of completers reach a positive outcome within six
months; the rest withdraw (most after Milestone 1, some before) or are still in learning.

The data set is a *snapshot* taken on 31 July at the end of its last teaching year: nothing is
dated after that day. So the latest cohorts are still in learning, the latest completers are
still inside their six-month window, and evaluating as of earlier month-ends (KPI-SPEC §2) gives
a mix of ``met``, ``not_met``, ``on_track``, ``at_risk`` and pending records. Bootcamps differ
in how well they are run (their completion and outcome rates and how often their evidence is
missing vary around the programme averages), so groups differ too.

About 0.5% of learners carry a data-quality contradiction (withdrawn and completed, an outcome
or Milestone 1 dated before the start, completion before Milestone 1): loadable, reported as
findings. Integrity always holds: ``list(generate(...).problems()) == []``.

Reproducible: every draw comes from ``random.Random(seed)`` (the engagements' recorded dates
from a second stream seeded from the same seed); nothing reads the clock or the global random
state and no set is iterated, so equal arguments give equal data sets in any
process. Dates and amounts are interned (one object per distinct value), which keeps a million
learners in a few hundred megabytes.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from kpidsl.contract import records
from kpidsl.data.dataset import Dataset

_T = TypeVar("_T")


def _made_right(cls: type[_T]) -> Callable[..., _T]:
    """A record class without its checks on construction: every value here is made of the
    right type and within range (and the data set's ``problems()`` checks them all again,
    column by column), so a million learners do not pay for the checks twice."""
    init, new = records.plain_init(cls), object.__new__

    def make(**values: Any) -> _T:
        record = new(cls)
        init(record, **values)
        return record

    return make


Provider = _made_right(records.Provider)
Bootcamp = _made_right(records.Bootcamp)
Employer = _made_right(records.Employer)
Engagement = _made_right(records.Engagement)
Interview = _made_right(records.Interview)
Learner = _made_right(records.Learner)
Payment = _made_right(records.Payment)
Profile = _made_right(records.Profile)

#: The last teaching year covered when none is given: 1 Aug 2024 – 31 Jul 2025.
DEFAULT_TEACHING_YEAR = 2024
#: Share of Milestone 1 starters who complete (programme average; bootcamps vary ±15 points).
COMPLETION_RATE = 0.64
#: Share of completers with a positive outcome within six months (bootcamps vary ±20 points).
POSITIVE_OUTCOME_RATE = 0.57
#: Share of starters who withdraw before Milestone 1 (outside the dropout KPI).
EARLY_WITHDRAWAL_RATE = 0.08
#: Share of Milestone 1 starters whose record shows neither completion nor withdrawal even
#: after the course ended (break in learning, late return); the rest of the non-completers
#: withdraw.
OPEN_RECORD_RATE = 0.04
#: Cumulative shares of learner types: 60% independent, 25% co-funded, 15% self-employed.
LEARNER_TYPES = ((0.60, "independent"), (0.85, "co_funded"), (1.0, "self_employed"))
#: Share of bootcamps leading to an accelerated apprenticeship.
ACCELERATED_SHARE = 0.15
#: Share of employers with 250 or more employees.
LARGE_EMPLOYER_SHARE = 0.25
#: Share of learners with a data-quality contradiction.
CONTRADICTION_RATE = 0.005
#: Share of engagements without a recorded_date (older records); the others are recorded up to
#: eight weeks before their bootcamp starts (most) or while it runs.
UNDATED_ENGAGEMENT_SHARE = 0.08
#: Co-funding due, in percent of the course cost, for a large employer and an SME. Only used to
#: shape realistic payments; the policy itself lives in the rule files.
COFUNDING_PERCENT = {True: 30, False: 10}

_SUBJECTS = (
    "Software Development",
    "Data Analytics",
    "Cyber Security",
    "Cloud Engineering",
    "Digital Marketing",
    "UX and Web Design",
    "HGV Driving (Category C)",
    "Construction Site Management",
    "Retrofit and Green Construction",
    "Electric Vehicle Maintenance",
    "Welding and Fabrication",
    "Project Management",
    "Leadership in Adult Social Care",
    "Advanced Manufacturing",
    "Rail Engineering",
    "Heat Pump Installation",
    "Accounting and Finance",
    "Logistics and Supply Chain",
)
_PLACES = (
    "Midlands",
    "Black Country",
    "Coventry",
    "Birmingham",
    "Solihull",
    "Walsall",
    "Wolverhampton",
    "Dudley",
    "Sandwell",
    "Arden",
)
_PROVIDER_KINDS = ("Skills Academy", "College", "Training Ltd", "Digital Institute", "Learning")
_EMPLOYER_WORDS = (
    "Apex", "Beacon", "Canal", "Forge", "Harbour", "Iron", "Jewel", "Kestrel", "Lantern",
    "Meridian", "Oak", "Pinnacle", "Quarry", "Severn", "Tame", "Unity", "Vale", "Wren",
)  # fmt: skip
_EMPLOYER_KINDS = (
    "Engineering", "Logistics", "Software", "Care", "Construction", "Motors", "Foods",
    "Analytics", "Energy", "Retail", "Housing", "Finance",
)  # fmt: skip
_ROLES = ("co_design", "needs_analysis", "approved_solution", "delivery", "interviewing")
_ROLE_CHANCES = (0.4, 0.5, 0.5, 0.4, 0.6)


class _Draw:
    """The one random source of a generation, and the snapshot day it must not go past.

    ``day`` and ``money`` intern their results: a million learners share a few thousand date
    and Decimal objects instead of holding eight million of their own.
    """

    __slots__ = ("_days", "_money", "last", "random", "recorded", "rng")

    def __init__(self, seed: int, last: int) -> None:
        self.rng = random.Random(seed)
        self.random = self.rng.random
        # engagements' recorded dates draw from a stream of their own, so that adding them
        # left every other value of a seed's data set as it was
        self.recorded = random.Random(f"{seed}:recorded_date").random
        self.last = last
        self._days: dict[int, dt.date] = {}
        self._money: dict[int, Decimal] = {}

    def between(self, a: int, b: int) -> int:
        """A whole number from a to b inclusive (faster than ``randint``, which matters here)."""
        return a + int(self.random() * (b - a + 1))

    def pick(self, items: Sequence[_T]) -> _T:
        """One item of a non-empty sequence."""
        return items[int(self.random() * len(items))]

    def date(self, ordinal: int) -> dt.date:
        """The date of a day ordinal."""
        d = self._days.get(ordinal)
        if d is None:
            d = self._days[ordinal] = dt.date.fromordinal(ordinal)
        return d

    def day(self, ordinal: int | None) -> dt.date | None:
        """The date of an event's day ordinal, or None when it is after the snapshot: an event
        that has not happened yet is not recorded."""
        if ordinal is None or ordinal > self.last:
            return None
        d = self._days.get(ordinal)
        return d if d is not None else self.date(ordinal)

    def money(self, pence: int) -> Decimal:
        """An amount in pounds with two decimals."""
        m = self._money.get(pence)
        if m is None:
            m = self._money[pence] = Decimal(pence).scaleb(-2)
        return m


class _Camp:
    """A bootcamp being generated: its record plus what its learners are drawn from.

    ``completion``, ``positive`` and ``slack`` make bootcamps differ: the first two vary around
    the programme rates (keeping their average); ``slack`` (0–3, mean 0.75, mostly small) scales
    how often evidence is missing or wrong.
    """

    __slots__ = (
        "accelerated",
        "cofunders",
        "completion",
        "cost",
        "end",
        "interviewers",
        "positive",
        "provider",
        "record",
        "slack",
        "start",
    )
    record: records.Bootcamp
    provider: int  # index into the providers
    start: int  # day ordinals
    end: int
    cost: int  # in pence
    accelerated: bool
    completion: float
    positive: float
    slack: float
    cofunders: list[int]  # employer indexes of the own_staff engagements
    interviewers: list[records.Employer]  # employers of the interviewing engagements


def generate(learners: int, seed: int = 0, *, teaching_year: int | None = None) -> Dataset:
    """A realistic synthetic data set of ``learners`` learners, the same for the same arguments.

    It covers teaching years ``teaching_year − 1`` and ``teaching_year`` (default
    :data:`DEFAULT_TEACHING_YEAR`, so 1 Aug 2023 – 31 Jul 2025) and is a snapshot at the end of
    the second: nothing is dated after 31 July ``teaching_year + 1``. There is a bootcamp per
    25–40 learners, a provider per about 8 bootcamps (at least a few, to compare) and an employer
    per 8 learners, a quarter of them large. ``profiles.csv`` plans each provider's monthly
    Milestone 1 starts close to what it delivered, some providers over-planning.
    """
    if learners < 1:
        raise ValueError(f"learners must be at least 1, not {learners}")
    year = DEFAULT_TEACHING_YEAR if teaching_year is None else teaching_year
    first = dt.date(year - 1, 8, 1).toordinal()
    d = _Draw(seed, dt.date(year + 1, 7, 31).toordinal())

    sizes = _cohort_sizes(d, learners)
    n_camps = len(sizes)
    providers = _providers(d, max(1, round(n_camps / 8), min(3, n_camps // 2)))
    employers = _employers(d, max(8, learners // 8))
    large = [e.employees >= 250 for e in employers]
    camps = _camps(d, n_camps, providers, first)

    engagements: list[records.Engagement] = []
    people: list[records.Learner] = []
    interviews: list[records.Interview] = []
    payments: list[records.Payment] = []
    width = max(6, len(str(learners)))
    for camp, size in zip(camps, sizes, strict=True):
        engagements.extend(_engagements(d, camp, employers))
        for _ in range(size):
            lid = f"L{len(people) + 1:0{width}d}"
            people.append(_learner(d, lid, camp, employers, large, interviews, payments))

    return Dataset(
        providers=providers,
        bootcamps=[c.record for c in camps],
        employers=employers,
        engagements=engagements,
        learners=people,
        interviews=interviews,
        cofunding=payments,
        profiles=_profiles(d, providers, camps, sizes, people, year),
    )


def _cohort_sizes(d: _Draw, learners: int) -> list[int]:
    """Learners per bootcamp: 25–40 each, the last one taking what is left."""
    sizes: list[int] = []
    left = learners
    while left > 0:
        size = min(left, d.between(25, 40))
        sizes.append(size)
        left -= size
    return sizes


def _providers(d: _Draw, n: int) -> list[records.Provider]:
    """Providers with plausible names and distinct 8-digit UKPRNs (real ones start with 10)."""
    ukprns = sorted(d.rng.sample(range(10_000_000, 10_000_000 + max(100_000, 20 * n)), n))
    width = max(3, len(str(n)))
    return [
        Provider(
            provider_id=f"P{i + 1:0{width}d}",
            name=f"{d.pick(_PLACES)} {d.pick(_PROVIDER_KINDS)}",
            ukprn=str(ukprns[i]),
        )
        for i in range(n)
    ]


def _employers(d: _Draw, n: int) -> list[records.Employer]:
    """Employers, :data:`LARGE_EMPLOYER_SHARE` of them large; sizes spread on a log scale.

    Large employers are evenly spaced (every fourth) rather than drawn, so even a tiny data set
    has both sizes; which employers a bootcamp engages is random, so this makes no pattern.
    """
    width = max(4, len(str(n)))
    out = []
    for i in range(n):
        large = int((i + 1) * LARGE_EMPLOYER_SHARE) > int(i * LARGE_EMPLOYER_SHARE)
        # large: 250 … 20,000 staff; SME: 2 … 249
        employees = int(250 * 80 ** d.random()) if large else int(2 * 125 ** d.random())
        name = f"{d.pick(_EMPLOYER_WORDS)} {d.pick(_EMPLOYER_KINDS)} Ltd"
        out.append(Employer(employer_id=f"E{i + 1:0{width}d}", name=name, employees=employees))
    return out


def _camps(d: _Draw, n: int, providers: list[records.Provider], first: int) -> list[_Camp]:
    """Bootcamps starting on Mondays over the two teaching years, numbered in start order.

    Starts run until eight weeks before the snapshot, so the last cohorts are still in learning
    on it. Every provider gets at least one bootcamp.
    """
    latest = d.last - 56
    starts = sorted(d.between(first, latest) for _ in range(n))
    n_providers = len(providers)
    owners = list(range(min(n, n_providers)))
    owners += [int(d.random() * n_providers) for _ in range(n - len(owners))]
    d.rng.shuffle(owners)
    width = max(4, len(str(n)))
    camps = []
    for i, start in enumerate(starts):
        start -= (start - 1) % 7  # back to Monday (ordinal 1 was a Monday)
        if start < first:
            start += 7
        camp = _Camp()
        camp.start = start
        camp.end = start + 7 * d.pick((6, 8, 10, 12, 12, 14, 16)) - 3  # a Friday
        camp.cost = 50 * d.between(30, 90) * 100  # £1,500 … £4,500 in £50 steps, in pence
        camp.accelerated = d.random() < ACCELERATED_SHARE
        camp.provider = owners[i]
        camp.completion = COMPLETION_RATE + 0.30 * (d.random() - 0.5)
        camp.positive = POSITIVE_OUTCOME_RATE + 0.40 * (d.random() - 0.5)
        camp.slack = 3 * d.random() ** 3  # mean 0.75: most bootcamps are run well
        subject = d.pick(_SUBJECTS)
        camp.record = Bootcamp(
            bootcamp_id=f"BC{i + 1:0{width}d}",
            provider_id=providers[camp.provider].provider_id,
            title=f"{subject} (accelerated apprenticeship)" if camp.accelerated else subject,
            start_date=d.date(start),
            end_date=d.date(camp.end),
            course_cost=d.money(camp.cost),
            accelerated_apprenticeship=camp.accelerated,
        )
        camps.append(camp)
    return camps


def _engagements(d: _Draw, camp: _Camp, employers: list[records.Employer]
                 ) -> list[records.Engagement]:
    """3–7 employers engaged with the bootcamp; sets who co-funds and who interviews.

    The first one or two train their own staff on it (``own_staff``; co-funded learners are
    theirs), the next one always interviews. Some employers were not contacted yet, some could
    not be reached (at 3+ attempts that is an escalation), a few did not confirm their role or
    scored satisfaction below 3 — more often on a slack bootcamp.
    """
    chosen = d.rng.sample(range(len(employers)), min(len(employers), d.between(3, 7)))
    n_cofunders = 1 + (d.random() < 0.4)
    camp.cofunders = chosen[:n_cofunders]
    camp.interviewers = []
    slack = camp.slack
    out = []
    for j, e in enumerate(chosen):
        roles = [r for r, p in zip(_ROLES, _ROLE_CHANCES, strict=True) if d.random() < p]
        if j < n_cofunders:
            roles.append("own_staff")
        elif j == n_cofunders and "interviewing" not in roles:
            roles.append("interviewing")
        elif not roles:
            roles.append(d.pick(_ROLES))
        if "interviewing" in roles:
            camp.interviewers.append(employers[e])
        attempts, reached, confirmed, satisfaction = 0, None, None, None
        if d.random() < 0.9:
            if d.random() < 1 - 0.12 * slack:
                attempts, reached = d.between(1, 2), True
                confirmed = True if d.random() < 1 - 0.05 * slack else d.pick((False, None))
                if d.random() < 0.75:
                    low = d.random() < 0.08 * slack
                    satisfaction = d.pick((1, 2)) if low else d.pick((3, 4, 4, 5, 5))
            else:
                attempts, reached = d.between(1, 5), False
        out.append(
            Engagement(
                bootcamp_id=camp.record.bootcamp_id,
                employer_id=employers[e].employer_id,
                roles=frozenset(roles),
                contact_attempts=attempts,
                reached=reached,
                role_confirmed=confirmed,
                satisfaction=satisfaction,
                recorded_date=_recorded(d, camp),
            )
        )
    return out


def _recorded(d: _Draw, camp: _Camp) -> dt.date | None:
    """When an engagement was first recorded: mostly at the design stage, up to eight weeks
    before the start; some during delivery; :data:`UNDATED_ENGAGEMENT_SHARE` not at all (older
    records), which exist at every as-of date."""
    r = d.recorded()
    if r < UNDATED_ENGAGEMENT_SHARE:
        return None
    if r < 0.8:
        return d.day(camp.start - int(d.recorded() * 57))
    return d.day(camp.start + int(d.recorded() * (camp.end - camp.start + 1)))


def _learner_type(d: _Draw) -> str:
    """Independent, co-funded or self-employed, in the programme's proportions."""
    r = d.random()
    for cumulative, kind in LEARNER_TYPES:
        if r < cumulative:
            return kind
    return LEARNER_TYPES[-1][1]


def _wants_interview(d: _Draw, kind: str) -> bool | None:
    """Independent learners nearly all want an interview; some self-employed do too."""
    r = d.random()
    if kind == "independent":
        return True if r < 0.95 else (None if r < 0.98 else False)
    if kind == "self_employed":
        return True if r < 0.3 else (False if r < 0.9 else None)
    return True if r < 0.05 else (False if r < 0.8 else None)


def _job_outcome(d: _Draw, accelerated: bool) -> str:
    """A job outcome that counts: no full apprenticeship from an accelerated bootcamp."""
    if accelerated:
        return d.pick(("accelerated_apprenticeship", "new_job"))
    return "apprenticeship" if d.random() < 0.2 else "new_job"


def _outcome(
    d: _Draw, kind: str, wants: bool | None, camp: _Camp, end: int
) -> tuple[str | None, int | None, bool]:
    """The learner's outcome, its day ordinal and whether it is positive, after completing on
    day ``end``.

    A positive outcome falls at most 170 days after completion (inside six months in every
    case); the others are missing, dated after seven months or more, or of a kind that does not
    count for this learner (a full apprenticeship from an accelerated bootcamp, a co-funded
    learner leaving for a new job …).
    """
    job_seeker = kind == "independent" or (kind == "self_employed" and wants is True)
    if d.random() < camp.positive:
        if job_seeker:
            return _job_outcome(d, camp.accelerated), end + d.between(-14, 170), True
        if kind == "co_funded":
            return d.pick(("new_role", "new_responsibilities")), end + d.between(-20, 90), True
        return d.pick(("action_plan", "new_contract")), end + d.between(-7, 120), True
    r = d.random()
    if r < 0.7:
        return None, None, False
    if r < 0.9:
        late = end + d.between(215, 330)
        if job_seeker:
            return _job_outcome(d, camp.accelerated), late, False
        return ("new_role" if kind == "co_funded" else "new_contract"), late, False
    wrong = ("apprenticeship" if camp.accelerated else "new_contract") if job_seeker else "new_job"
    return wrong, end + d.between(0, 170), False


def _interviews(
    d: _Draw,
    lid: str,
    camp: _Camp,
    employers: list[records.Employer],
    end: int,
    hired: bool,
    out: list[records.Interview],
) -> int:
    """The interviews of a learner completing on day ``end``; returns how many were unsuccessful.

    Most are offered before completion (as Milestone 2 requires), some only after; a few are not
    for an actual job or do not match the skills, and accelerated bootcamps sometimes offer full
    apprenticeships. A learner who got a job was offered it at the last interview; the others
    collect unsuccessful, declined and still-pending results.
    """
    slack = camp.slack
    n = 1 + (d.random() < 0.4) + (d.random() < 0.15) if hired else d.pick((1, 1, 2, 2, 2, 3, 3, 4))
    offer = end - d.between(0, 21) if d.random() > 0.06 * slack else end + d.between(1, 40)
    unsuccessful = 0
    for i in range(n):
        if i:
            offer += d.between(7, 45)
        if hired:
            earlier = ("unsuccessful", "unsuccessful", "declined")
            result = "offered_job" if i == n - 1 else d.pick(earlier)
        else:
            r = d.random()
            result = "unsuccessful" if r < 0.75 else ("declined" if r < 0.85 else "pending")
        day = d.day(offer)
        if day is None:
            break
        unsuccessful += result == "unsuccessful"
        pool = camp.interviewers if camp.interviewers and d.random() < 0.8 else employers
        employer = d.pick(pool)
        full = d.random() < (0.15 if camp.accelerated else 0.05)
        out.append(
            Interview(
                learner_id=lid,
                employer_id=employer.employer_id,
                offer_date=day,
                actual_job=d.random() > 0.04 * slack,
                matches_skills=d.random() > 0.05 * slack,
                full_apprenticeship=full,
                result=result,
            )
        )
    return unsuccessful


def _payments(
    d: _Draw, lid: str, camp: _Camp, is_large: bool, start: int, out: list[records.Payment]
) -> None:
    """The co-funding an employer paid for one learner (amounts in pence until written).

    Most pay what is due, some round it up to £50; some (more on a slack bootcamp) have not
    paid yet or paid up to 5% short; one in seven splits it into two payments 1–4 months apart.
    """
    due = camp.cost * COFUNDING_PERCENT[is_large] // 100
    r = d.random()
    if r < 0.03 * camp.slack:
        return
    if r < 0.1 * camp.slack:
        total = due - d.between(100, max(100, due // 20))
    else:
        total = due if d.random() < 0.7 else -(-due // 5000) * 5000
    if d.random() < 0.15:
        half = due // 200 * 100
        amounts = [half, total - half]
    else:
        amounts = [total]
    first = start + d.between(-21, 30)
    for i, amount in enumerate(amounts):
        day = d.day(first + i * d.between(30, 120))
        if day is not None:
            out.append(Payment(learner_id=lid, amount_paid=d.money(amount), paid_date=day))


def _learner(
    d: _Draw,
    lid: str,
    camp: _Camp,
    employers: list[records.Employer],
    large: list[bool],
    interviews: list[records.Interview],
    payments: list[records.Payment],
) -> records.Learner:
    """One learner and their interviews and co-funding payments.

    Events are drawn as day ordinals in the order they happen; anything after the snapshot day
    is left unrecorded, which is what makes late learners still in learning or pending.
    """
    rnd = d.random
    slack = camp.slack
    kind = _learner_type(d)
    employer = d.pick(camp.cofunders) if kind == "co_funded" else None
    wants = _wants_interview(d, kind)
    start = camp.start + (0 if rnd() < 0.8 else d.between(1, 10))
    m1 = withdrawal = completion = None
    if rnd() < EARLY_WITHDRAWAL_RATE:
        withdrawal = start + d.between(1, 20)
    else:
        m1 = start + d.between(14, 35)
        r = rnd()
        if r < camp.completion:
            # Milestone 2 waits for the interview offer or the employer's evidence: most
            # complete within three weeks of the end, some up to three months later.
            lag = d.between(0, 21) if rnd() < 0.85 else d.between(22, 90)
            completion = camp.end + lag
        elif r < 1 - OPEN_RECORD_RATE:
            withdrawal = d.between(m1 + 1, max(m1 + 1, camp.end))
    if completion is not None and completion > d.last:
        completion = None

    initial = start + d.between(0, 10) if rnd() > 0.02 * slack else None
    final = skills = evidence = outcome = outcome_day = referral = referral_kind = None
    if completion is not None:
        if rnd() > 0.03 * slack:
            final = completion - d.between(0, 10)
            skills = True if rnd() > 0.02 * slack else d.pick((False, None))
        outcome, outcome_day, positive = _outcome(d, kind, wants, camp, completion)
        hired = positive and outcome in ("new_job", "apprenticeship", "accelerated_apprenticeship")
        if d.day(outcome_day) is None:
            outcome = outcome_day = None  # not happened by the snapshot
        unsuccessful = 0
        asked = wants is True or (kind == "co_funded" and rnd() < 0.1)
        if asked and rnd() > 0.03 * slack:
            unsuccessful = _interviews(d, lid, camp, employers, completion, hired, interviews)
        if kind == "co_funded" and rnd() < (0.98 - 0.05 * slack if positive else 0.9 - 0.1 * slack):
            evidence = completion + d.between(-20, 30)
        if not positive and rnd() < (0.9 - 0.1 * slack if unsuccessful >= 2 else 0.2):
            referral = completion + d.between(90, 240)
            r = rnd()
            referral_kind = "job" if r < 0.55 else ("training" if r < 0.9 else "skills_bootcamp")
            if d.day(referral) is None:
                referral = referral_kind = None

    if kind == "co_funded" and (m1 is not None or rnd() < 0.3):
        assert employer is not None  # a co-funded learner has an employer
        _payments(d, lid, camp, large[employer], start, payments)

    if rnd() < CONTRADICTION_RATE:
        m1, withdrawal, completion, outcome, outcome_day = _contradiction(
            d, start, m1, withdrawal, completion, outcome, outcome_day
        )

    day = d.day
    return Learner(
        learner_id=lid,
        bootcamp_id=camp.record.bootcamp_id,
        learner_type=kind,
        employer_id=employers[employer].employer_id if employer is not None else None,
        start_date=d.date(start),
        milestone1_date=day(m1),
        withdrawal_date=day(withdrawal),
        completion_date=day(completion),
        initial_assessment_date=day(initial),
        final_assessment_date=day(final),
        skills_gained=skills,
        wants_interview=wants,
        new_role_evidence_date=day(evidence),
        outcome=outcome,
        outcome_date=day(outcome_day),
        referral_date=day(referral),
        referral_kind=referral_kind,
    )


def _contradiction(
    d: _Draw,
    start: int,
    m1: int | None,
    withdrawal: int | None,
    completion: int | None,
    outcome: str | None,
    outcome_day: int | None,
) -> tuple[int | None, int | None, int | None, str | None, int | None]:
    """One of the contradictions the evaluation reports as data-quality findings, applied."""
    choices = ["outcome_before_start", "milestone_before_start"]
    if completion is not None:
        choices += ["withdrawn_and_completed", "completed_before_milestone"]
    what = d.pick(choices)
    if what == "outcome_before_start":
        outcome = outcome or "new_job"
        outcome_day = start - d.between(1, 60)
    elif what == "milestone_before_start":
        m1 = start - d.between(1, 10)
    elif what == "withdrawn_and_completed":
        assert completion is not None  # a choice only when there is a completion
        withdrawal = completion - d.between(0, 30)
    elif m1 is not None:
        completion = m1 - d.between(1, 10)
    return m1, withdrawal, completion, outcome, outcome_day


def _profiles(
    d: _Draw,
    providers: list[records.Provider],
    camps: list[_Camp],
    sizes: list[int],
    people: list[records.Learner],
    year: int,
) -> list[records.Profile]:
    """Each provider's planned Milestone 1 starts per month of the two teaching years.

    The plan is what the provider delivered, scaled by a provider-wide ambition (0.9–1.3: most
    providers plan a little more than they deliver) and ±15% monthly noise, so some providers
    meet their profile at each management point and some do not.
    """
    months = [(year - 1 + (m + 7) // 12, (m + 7) % 12 + 1) for m in range(24)]
    index = {ym: i for i, ym in enumerate(months)}
    actual = [[0] * 24 for _ in providers]
    pos = 0
    for camp, size in zip(camps, sizes, strict=True):
        row = actual[camp.provider]
        for learner in people[pos : pos + size]:
            m1 = learner.milestone1_date
            if m1 is not None:
                i = index.get((m1.year, m1.month))
                if i is not None:
                    row[i] += 1
        pos += size
    out = []
    for p, row in zip(providers, actual, strict=True):
        ambition = 0.9 + 0.4 * d.random()
        for (y, m), n in zip(months, row, strict=True):
            planned = int(n * ambition * (0.85 + 0.3 * d.random()) + 0.5)
            out.append(
                Profile(provider_id=p.provider_id, month=dt.date(y, m, 1), planned_starts=planned)
            )
    return out
