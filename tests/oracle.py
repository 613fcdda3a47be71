"""Hand-written evaluation of the seven Skills Bootcamps KPIs, straight from KPI-SPEC §2–§3.

This module shares no evaluation code with the rule language or its interpreter: it is the test
oracle that a rule set is checked against, and the "straightforward hand-written Python"
baseline that ``benchmarks/bench.py`` measures kpidsl against. ``delivery_against_profile`` is
not implemented here.

The policy's *numbers* are read from the rule set it is compared with (:class:`Policy`), so that
a policy change is a rule-file edit that this oracle follows: each KPI's target, the co-funding
rate table (the table that ``employer_cofunding`` looks up; the version in force on the as-of
date), the employer size threshold (the classification ``… when employees >= N``) and the
outcome window (``completion_date + N months``). They are found by their shape, not by their
names, so renaming a definition or a table is a policy edit this oracle follows too. Everything else — who is in
each population, what counts, what is pending — is KPI-SPEC §3 written out by hand; a change
to one of those is a change of the spec, and of this file.

Decisions on points the spec leaves open (each one a reading of its literal text):

- As of the evaluation date, a date after it reads as missing and an interview or co-funding
  row dated after it does not exist, nor does an engagement recorded after it (one without a
  ``recorded_date`` exists at every date); every other field keeps its value (so an
  ``outcome`` whose ``outcome_date`` is in the future is no positive outcome, because its
  date is missing).
- A comparison with a missing date is not true (an outcome without ``outcome_date`` is not
  dated ≤ deadline); a missing boolean is not true.
- ``learner_dropout`` counts any recorded withdrawal of a Milestone 1 starter, whatever its date
  relative to Milestone 1 or completion (the spec's "withdrawal_date set").
- A co-funded learner's rate is read from the size of the employer named on the learner.
- The status rules 3 and 4 range over the real interval [k/n, (k+p)/n]; because a target is a
  half-line, testing its two ends is exact.
- Results come per KPI (spec order), then each bootcamp and provider in data-set order, then
  ``all``. Counts are tallied per bootcamp and summed up to providers and the programme.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from fractions import Fraction

import attrs
from dateutil.relativedelta import relativedelta

from kpidsl.contract.records import Bootcamp, Employer, Interview, Learner
from kpidsl.data.dataset import Dataset
from kpidsl.language import ast
from kpidsl.language.checker import RuleSet

COUNTED, NOT_COUNTED, PENDING = "counted", "not counted", "pending"
AT_LEAST, AT_MOST = "at least", "at most"

CO_FUNDED_OUTCOMES = frozenset({"new_role", "new_responsibilities"})
SELF_EMPLOYED_OUTCOMES = frozenset({"action_plan", "new_contract"})
JOB_OUTCOMES = frozenset({"new_job", "accelerated_apprenticeship", "apprenticeship"})
JOB_OUTCOMES_ACCELERATED = JOB_OUTCOMES - {"apprenticeship"}
REFERRAL_KINDS = frozenset({"job", "training"})


class PolicyError(Exception):
    """The rule set says something the oracle cannot read as KPI-SPEC's shape."""


@attrs.frozen
class Policy:
    """The numbers of a rule set, read from its text: the oracle's only input from the rules."""

    targets: dict[str, tuple[str, Fraction]]
    """Each KPI's target: direction and rate (only KPIs whose target is one percentage)."""
    cofunding_rate: tuple[tuple[dt.date | None, dict[str, Fraction]], ...]
    """The co-funding rate table's versions: from which date (``None``: always), rates by
    employer size."""
    large_employer: int
    """An employer is large with at least this many employees."""
    outcome_window: relativedelta
    """A completer's deadline is this long after completion."""

    @classmethod
    def of(cls, rules: RuleSet) -> Policy:
        targets = {}
        for k in rules.kpis:
            t = k.target
            if t is not None and isinstance(t.expr, ast.Literal) and t.expr.kind == "percent":
                targets[k.name] = (t.direction, Fraction(t.expr.value))
        cofunding = rules.kpi("employer_cofunding").counted
        tables = [rules.tables[n.name] for n in _reachable(rules, cofunding)
                  if isinstance(n, ast.Call) and n.name in rules.tables]
        if len(tables) != 1:
            raise PolicyError("employer_cofunding should look up one rate table")
        versions = tuple((v.start, {r.key: _percent(r.value) for r in v.rows})
                         for v in tables[0].versions)
        size = _one(n.right.value for d in rules.definitions.values() for n in ast.walk(d)
                    if _compares(n, ">=", "employees", "integer"))
        window = _one(n.right.value for d in rules.definitions.values() for n in ast.walk(d)
                      if _compares(n, "+", "completion_date", "duration"))
        unit = {"month": relativedelta(months=1), "year": relativedelta(years=1),
                "day": relativedelta(days=1), "week": relativedelta(weeks=1)}
        return cls(targets=targets, cofunding_rate=versions, large_employer=int(size),
                   outcome_window=unit[window.unit.rstrip("s")] * window.amount)

    def rate(self, size: str, as_of: dt.date) -> Fraction | None:
        """The co-funding rate for an employer size in force on ``as_of`` (``None``: none)."""
        in_force = [(start, rows) for start, rows in self.cofunding_rate
                    if start is None or start <= as_of]
        if not in_force:
            return None
        return max(in_force, key=lambda v: v[0] or dt.date.min)[1].get(size)


def _percent(expr: ast.Expr) -> Fraction:
    if isinstance(expr, ast.Literal) and expr.kind == "percent":
        return Fraction(expr.value)
    raise PolicyError(f"a cofunding_rate value is not a percentage: {expr}")


def _reachable(rules: RuleSet, node: object) -> Iterator[object]:
    """Every node of ``node``, and of the definitions it uses (each once)."""
    seen: set[str] = set()
    todo = [node]
    while todo:
        for n in ast.walk(todo.pop()):
            yield n
            if isinstance(n, ast.Name | ast.Attribute) and n.name not in seen:
                seen.add(n.name)
                todo += [d for (_, name), d in rules.definitions.items() if name == n.name]


def _compares(node: object, op: str, field: str, kind: str) -> bool:
    """``node`` is ``field OP literal`` with a literal of ``kind`` (``employees >= 250``)."""
    return (isinstance(node, ast.Binary) and node.op == op
            and isinstance(node.left, ast.Name) and node.left.name == field
            and isinstance(node.right, ast.Literal) and node.right.kind == kind)


def _one(values: Iterable):
    found = set(values)
    if len(found) != 1:
        raise PolicyError(f"the rules should state this number once, not {sorted(found)}")
    return found.pop()


def status(k: int, p: int, n: int, direction: str, target: Fraction) -> str:
    """Status of one group by KPI-SPEC §2 rules 1–5 (k counted, p pending, n population)."""

    def holds(rate: Fraction) -> bool:
        return rate >= target if direction == AT_LEAST else rate <= target

    if n == 0:
        return "no_data"
    low, high = Fraction(k, n), Fraction(k + p, n)
    if p == 0:
        return "met" if holds(low) else "not_met"
    if holds(low) and holds(high):
        return "met"
    if not holds(low) and not holds(high):
        return "not_met"
    decided = n - p
    return "on_track" if decided == 0 or holds(Fraction(k, decided)) else "at_risk"


class Snapshot:
    """The data set as it stood on ``as_of``, with the indexes the KPIs need."""

    def __init__(self, data: Dataset, as_of: dt.date, policy: Policy) -> None:
        self.as_of = as_of
        self.policy = policy
        self.engagements = [e for e in data.engagements
                            if e.recorded_date is None or e.recorded_date <= as_of]
        self.bootcamps: dict[str, Bootcamp] = {b.bootcamp_id: b for b in data.bootcamps}
        self.employers: dict[str, Employer] = {e.employer_id: e for e in data.employers}
        self.interviews: dict[str, list[Interview]] = defaultdict(list)
        for i in data.interviews:
            if i.offer_date <= as_of:
                self.interviews[i.learner_id].append(i)
        self.paid: dict[str, Decimal] = defaultdict(Decimal)
        for pay in data.payments:
            if pay.paid_date <= as_of:
                self.paid[pay.learner_id] += pay.amount_paid

    def date(self, d: dt.date | None) -> dt.date | None:
        """A date as known on the as-of date: one after it has not happened yet."""
        return d if d is not None and d <= self.as_of else None

    def positive_outcome(self, learner: Learner, deadline: dt.date) -> bool:
        """The completer's outcome is allowed for them and dated on or before their deadline."""
        outcome_date = self.date(learner.outcome_date)
        if outcome_date is None or outcome_date > deadline:
            return False
        if learner.learner_type == "co_funded":
            allowed = CO_FUNDED_OUTCOMES
        elif learner.learner_type == "independent" or learner.wants_interview is True:
            accelerated = self.bootcamps[learner.bootcamp_id].accelerated_apprenticeship
            allowed = JOB_OUTCOMES_ACCELERATED if accelerated else JOB_OUTCOMES
        else:
            allowed = SELF_EMPLOYED_OUTCOMES
        return learner.outcome in allowed

    def valid_interview(self, learner: Learner, completion: dt.date) -> bool:
        """An interview for an actual job matching the skills, offered by completion."""
        accelerated = self.bootcamps[learner.bootcamp_id].accelerated_apprenticeship
        return any(
            i.actual_job
            and i.matches_skills
            and i.offer_date <= completion
            and not (accelerated and i.full_apprenticeship)
            for i in self.interviews.get(learner.learner_id, ())
        )

    def unsuccessful_attempts(self, learner: Learner) -> int:
        return sum(i.result == "unsuccessful" for i in self.interviews.get(learner.learner_id, ()))


# Each KPI yields (bootcamp_id, verdict) for every record of its population.
Verdicts = Iterator[tuple[str, str]]


def employer_engagement(data: Dataset, s: Snapshot) -> Verdicts:
    for e in s.engagements:
        if e.reached is not True:
            continue
        ok = e.role_confirmed is True and (e.satisfaction is None or e.satisfaction >= 3)
        yield e.bootcamp_id, COUNTED if ok else NOT_COUNTED


def employer_cofunding(data: Dataset, s: Snapshot) -> Verdicts:
    for learner in data.learners:
        if learner.learner_type != "co_funded" or s.date(learner.milestone1_date) is None:
            continue
        employer = s.employers[learner.employer_id]  # type: ignore[index]
        size = "large" if employer.employees >= s.policy.large_employer else "sme"
        rate = s.policy.rate(size, s.as_of)
        due = None if rate is None else Fraction(s.bootcamps[learner.bootcamp_id].course_cost) * rate
        if due is not None and Fraction(s.paid.get(learner.learner_id, Decimal(0))) >= due:
            verdict = COUNTED
        elif s.date(learner.completion_date) is None and s.date(learner.withdrawal_date) is None:
            verdict = PENDING
        else:
            verdict = NOT_COUNTED
        yield learner.bootcamp_id, verdict


def learner_dropout(data: Dataset, s: Snapshot) -> Verdicts:
    for learner in data.learners:
        if s.date(learner.milestone1_date) is None:
            continue
        if s.date(learner.withdrawal_date) is not None:
            verdict = COUNTED
        elif s.date(learner.completion_date) is None:
            verdict = PENDING
        else:
            verdict = NOT_COUNTED
        yield learner.bootcamp_id, verdict


def new_skills(data: Dataset, s: Snapshot) -> Verdicts:
    for learner in data.learners:
        if s.date(learner.completion_date) is None:
            continue
        ok = (
            s.date(learner.initial_assessment_date) is not None
            and s.date(learner.final_assessment_date) is not None
            and learner.skills_gained is True
        )
        yield learner.bootcamp_id, COUNTED if ok else NOT_COUNTED


def guaranteed_interview(data: Dataset, s: Snapshot) -> Verdicts:
    for learner in data.learners:
        completion = s.date(learner.completion_date)
        if completion is None:
            continue
        co_funded = learner.learner_type == "co_funded"
        if not (co_funded or learner.wants_interview is True):
            continue
        ok = s.valid_interview(learner, completion) or (
            co_funded and s.date(learner.new_role_evidence_date) is not None
        )
        yield learner.bootcamp_id, COUNTED if ok else NOT_COUNTED


def career_progression(data: Dataset, s: Snapshot) -> Verdicts:
    for learner in data.learners:
        completion = s.date(learner.completion_date)
        if completion is None:
            continue
        deadline = completion + s.policy.outcome_window
        if s.positive_outcome(learner, deadline):
            verdict = COUNTED
        elif s.as_of <= deadline:
            verdict = PENDING
        else:
            verdict = NOT_COUNTED
        yield learner.bootcamp_id, verdict


def referral(data: Dataset, s: Snapshot) -> Verdicts:
    for learner in data.learners:
        completion = s.date(learner.completion_date)
        if completion is None:
            continue
        deadline = completion + s.policy.outcome_window
        if (
            s.as_of <= deadline
            or s.positive_outcome(learner, deadline)
            or s.unsuccessful_attempts(learner) < 2
        ):
            continue
        ok = s.date(learner.referral_date) is not None and learner.referral_kind in REFERRAL_KINDS
        yield learner.bootcamp_id, COUNTED if ok else NOT_COUNTED


KPIS: dict[str, Callable[[Dataset, Snapshot], Verdicts]] = {
    "employer_engagement": employer_engagement,
    "employer_cofunding": employer_cofunding,
    "learner_dropout": learner_dropout,
    "new_skills": new_skills,
    "guaranteed_interview": guaranteed_interview,
    "career_progression": career_progression,
    "referral": referral,
}


def _results(kpi: str, verdicts: Iterable[tuple[str, str]], data: Dataset,
             target: tuple[str, Fraction]) -> list[dict]:
    """Tally verdicts per bootcamp, add them up per provider and programme, and judge each."""
    per_bootcamp: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # n, k, p
    for bootcamp_id, verdict in verdicts:
        counts = per_bootcamp[bootcamp_id]
        counts[0] += 1
        counts[1] += verdict == COUNTED
        counts[2] += verdict == PENDING
    per_provider: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    programme = [0, 0, 0]
    for b in data.bootcamps:
        for i, c in enumerate(per_bootcamp.get(b.bootcamp_id, (0, 0, 0))):
            per_provider[b.provider_id][i] += c
            programme[i] += c

    direction, rate = target

    def result(scope: str, group: str, counts: Iterable[int]) -> dict:
        n, k, p = counts
        return {
            "kpi": kpi,
            "scope": scope,
            "group": group,
            "status": status(k, p, n, direction, rate),
            "numerator": k,
            "denominator": n,
            "pending": p,
        }

    out = [
        result("bootcamp", b.bootcamp_id, per_bootcamp.get(b.bootcamp_id, (0, 0, 0)))
        for b in data.bootcamps
    ]
    out += [
        result("provider", p.provider_id, per_provider.get(p.provider_id, (0, 0, 0)))
        for p in data.providers
    ]
    out.append(result("programme", "all", programme))
    return out


#: KPI-SPEC §3's numbers written by hand, for the hand-written baseline of ``benchmarks/``
#: (a program that does not read rule files); the tests always read them from the rules.
SPEC = Policy(
    targets={"employer_engagement": (AT_LEAST, Fraction(1)),
             "employer_cofunding": (AT_LEAST, Fraction(1)),
             "learner_dropout": (AT_MOST, Fraction(20, 100)),
             "new_skills": (AT_LEAST, Fraction(1)),
             "guaranteed_interview": (AT_LEAST, Fraction(1)),
             "career_progression": (AT_LEAST, Fraction(75, 100)),
             "referral": (AT_LEAST, Fraction(1))},
    cofunding_rate=((None, {"large": Fraction(30, 100), "sme": Fraction(10, 100)}),),
    large_employer=250, outcome_window=relativedelta(months=6))


def evaluate_by_hand(rules: RuleSet | Policy, data: Dataset, as_of: dt.date) -> list[dict]:
    """Each KPI's result for each bootcamp, each provider and the programme, as of ``as_of``,
    for the KPIs of ``KPIS`` that ``rules`` has, with ``rules``' numbers (or a
    :class:`Policy`'s)."""
    policy = rules if isinstance(rules, Policy) else Policy.of(rules)
    snapshot = Snapshot(data, as_of, policy)
    results: list[dict] = []
    for kpi, verdicts in KPIS.items():
        if kpi in policy.targets:
            results += _results(kpi, verdicts(data, snapshot), data, policy.targets[kpi])
    return results


Key = tuple[str, str, str]
Outcome = tuple[str, int, int, int]


def evaluate(rules: RuleSet, data: Dataset, as_of: dt.date) -> dict[Key, Outcome]:
    """(kpi, scope, group) → (status, numerator, denominator, pending), as
    :func:`comparable` gives kpidsl's results."""
    return {(r["kpi"], r["scope"], r["group"]):
            (r["status"], r["numerator"], r["denominator"], r["pending"])
            for r in evaluate_by_hand(rules, data, as_of)}


def comparable(results: Iterable) -> dict[Key, Outcome]:
    """kpidsl's results (``Report.results``) for the KPIs the oracle implements, keyed like
    :func:`evaluate`'s."""
    return {(r.kpi, r.scope, r.group): (r.status, r.numerator, r.denominator, r.pending)
            for r in results if r.kpi in KPIS}
