"""Baseline: the seven KPIs as a straightforward hand-written Python program.

``python benchmarks/baseline_python.py DATA_DIR AS_OF`` prints the KPI-SPEC §4 results (JSON)
of the seven KPIs for every bootcamp, provider and the programme. It is written from KPI-SPEC
alone, with the standard library only, as a competent programmer would write it in an
afternoon: the ``csv`` module reads each file once, keeping the columns it needs; payments and
interviews are gathered per learner in dicts; one loop over the learners tallies each KPI's
population, counted and pending records per bootcamp; bootcamps add up to providers and the
programme; statuses are exact fractions. It shares nothing with kpidsl and does not check the
data (it assumes data that passes KPI-SPEC §1); it leaves out the framework rule, the findings
and the follow-up actions.

Decisions where the spec leaves room: a missing boolean is not true; a comparison with a
missing date is not true (so an outcome whose date is after the as-of date is no positive
outcome); a co-funded learner whose employer has 250 or more employees pays at the large rate,
any other at the SME rate.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import json
import os
import sys
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from operator import itemgetter

#: Each KPI's target: at least (True) or at most (False) a rate.
TARGETS = {
    "employer_engagement": (True, Fraction(1)),
    "employer_cofunding": (True, Fraction(1)),
    "learner_dropout": (False, Fraction(1, 5)),
    "new_skills": (True, Fraction(1)),
    "guaranteed_interview": (True, Fraction(1)),
    "career_progression": (True, Fraction(3, 4)),
    "referral": (True, Fraction(1)),
}
JOB_OUTCOMES = {"new_job", "accelerated_apprenticeship", "apprenticeship"}
OUTCOMES = {  # the positive outcomes of each kind of learner
    "job": JOB_OUTCOMES,
    "job, accelerated bootcamp": JOB_OUTCOMES - {"apprenticeship"},
    "co_funded": {"new_role", "new_responsibilities"},
    "self-employed": {"action_plan", "new_contract"},
}


def rows(folder: str, name: str, columns: list[str]) -> Iterator[tuple[str, ...]]:
    """The named columns of each row of ``name``.csv (``""`` for a column it does not have;
    no rows when the file is absent)."""
    path = os.path.join(folder, f"{name}.csv")
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        where = [header.index(c) if c in header else len(header) for c in columns]
        if any(c not in header for c in columns):
            reader = ([*row, ""] for row in reader)  # type: ignore[assignment]
        if len(where) == 1:
            yield from ((row[where[0]],) for row in reader)
        else:
            yield from map(itemgetter(*where), reader)


def true(text: str) -> bool:
    return text.lower() == "true"


def six_months_after(day: dt.date) -> dt.date:
    """The same day six calendar months on, clamped to the end of a shorter month."""
    month = day.month + 6
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def status(at_least: bool, target: Fraction, n: int, k: int, p: int) -> str:
    def holds(rate: Fraction) -> bool:
        return rate >= target if at_least else rate <= target

    if n == 0:
        return "no_data"
    low, high = holds(Fraction(k, n)), holds(Fraction(k + p, n))
    if low and high:
        return "met"
    if not low and not high:
        return "not_met"
    return "on_track" if n == p or holds(Fraction(k, n - p)) else "at_risk"


def main(folder: str, as_of_text: str) -> None:
    as_of = dt.date.fromisoformat(as_of_text)

    def seen(text: str) -> dt.date | None:
        """The date, if it is recorded and on or before the as-of date (else missing)."""
        if text:
            day = dt.date.fromisoformat(text)
            if day <= as_of:
                return day
        return None

    providers = [p for (p,) in rows(folder, "providers", ["provider_id"])]
    bootcamps: dict[str, tuple[str, Decimal, bool]] = {}
    for b, p, price, flag in rows(folder, "bootcamps", [
            "bootcamp_id", "provider_id", "course_cost", "accelerated_apprenticeship"]):
        bootcamps[b] = (p, Decimal(price), true(flag))
    large = {e for e, n in rows(folder, "employers", ["employer_id", "employees"])
             if int(n) >= 250}
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for learner, amount, day in rows(folder, "cofunding",
                                     ["learner_id", "amount_paid", "paid_date"]):
        if seen(day):
            paid[learner] += Decimal(amount)
    # learner -> (offer date, full apprenticeship) of each offer of a job that fits
    offers: dict[str, list[tuple[dt.date, bool]]] = defaultdict(list)
    unsuccessful: dict[str, int] = defaultdict(int)
    for learner, day, actual, matches, full, result in rows(folder, "interviews", [
            "learner_id", "offer_date", "actual_job", "matches_skills", "full_apprenticeship",
            "result"]):
        offered = seen(day)
        if offered is None:
            continue  # not happened yet
        if true(actual) and true(matches):
            offers[learner].append((offered, true(full)))
        if result == "unsuccessful":
            unsuccessful[learner] += 1

    # kpi -> bootcamp -> [population, counted, pending]
    tally: dict[str, dict[str, list[int]]] = {kpi: defaultdict(lambda: [0, 0, 0])
                                              for kpi in TARGETS}

    def add(kpi: str, bootcamp: str, counted: bool, pending: bool = False) -> None:
        t = tally[kpi][bootcamp]
        t[0] += 1
        if counted:
            t[1] += 1
        elif pending:
            t[2] += 1

    for bootcamp, reached, confirmed, satisfaction, recorded in rows(folder, "engagements", [
            "bootcamp_id", "reached", "role_confirmed", "satisfaction", "recorded_date"]):
        if true(reached) and (not recorded or seen(recorded)):
            add("employer_engagement", bootcamp,
                true(confirmed) and (not satisfaction or int(satisfaction) >= 3))

    for (learner, bootcamp, kind, employer, milestone1, withdrawal, completion, initial, final,
         skills, wants, evidence, outcome, outcome_date, referral, referral_kind) in rows(
            folder, "learners", [
                "learner_id", "bootcamp_id", "learner_type", "employer_id", "milestone1_date",
                "withdrawal_date", "completion_date", "initial_assessment_date",
                "final_assessment_date", "skills_gained", "wants_interview",
                "new_role_evidence_date", "outcome", "outcome_date", "referral_date",
                "referral_kind"]):
        _, cost, accelerated = bootcamps[bootcamp]
        co_funded = kind == "co_funded"
        wants_interview = true(wants)
        withdrawn = seen(withdrawal) is not None
        completed = seen(completion)
        if seen(milestone1):
            add("learner_dropout", bootcamp, withdrawn, not withdrawn and not completed)
            if co_funded:
                rate = 3 if employer in large else 1  # tenths: 30% large, 10% SME
                enough = paid.get(learner, 0) * 10 >= cost * rate
                add("employer_cofunding", bootcamp, enough, not completed and not withdrawn)
        if completed is None:
            continue
        add("new_skills", bootcamp, bool(seen(initial) and seen(final) and true(skills)))
        if wants_interview or co_funded:
            interviewed = any(day <= completed and not (accelerated and full)
                              for day, full in offers.get(learner, ()))
            add("guaranteed_interview", bootcamp,
                interviewed or (co_funded and seen(evidence) is not None))
        if co_funded:
            allowed = OUTCOMES["co_funded"]
        elif kind == "independent" or wants_interview:
            allowed = OUTCOMES["job, accelerated bootcamp" if accelerated else "job"]
        else:
            allowed = OUTCOMES["self-employed"]
        deadline = six_months_after(completed)
        outcome_day = seen(outcome_date)
        positive = outcome_day is not None and outcome_day <= deadline and outcome in allowed
        add("career_progression", bootcamp, positive, as_of <= deadline)
        if not positive and as_of > deadline and unsuccessful.get(learner, 0) >= 2:
            add("referral", bootcamp,
                seen(referral) is not None and referral_kind in ("job", "training"))

    results = []
    for kpi, (at_least, target) in TARGETS.items():
        per_provider = {p: [0, 0, 0] for p in providers}
        total = [0, 0, 0]
        groups: list[tuple[str, str, list[int]]] = []
        for bootcamp, (provider, _, _) in bootcamps.items():
            counts = tally[kpi].get(bootcamp, [0, 0, 0])
            groups.append(("bootcamp", bootcamp, counts))
            for i in range(3):
                per_provider[provider][i] += counts[i]
                total[i] += counts[i]
        groups += [("provider", p, c) for p, c in per_provider.items()]
        groups.append(("programme", "all", total))
        for scope, group, (n, k, pending) in groups:
            results.append({"kpi": kpi, "scope": scope, "group": group,
                            "status": status(at_least, target, n, k, pending),
                            "numerator": k, "denominator": n, "pending": pending})
    sys.stdout.write(json.dumps({"as_of": as_of_text, "results": results}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
