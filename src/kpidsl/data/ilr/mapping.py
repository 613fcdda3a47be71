"""From the facts of ILR returns to the contract's records (docs/ilr.rst has the table).

One learner of the contract is one programme aim (``ZPROG001``, aim type 1) of funding model
37: its ``learner_id`` is the ``LearnRefNumber``, its ``bootcamp_id`` the aim's
``ConRefNumber``. Exact: the provider (UKPRN), ``start_date`` (``LearnStartDate``),
``withdrawal_date`` (``LearnActEndDate`` with ``CompStatus`` 3), ``outcome_date``
(``AchDate``), ``learner_type`` (FFI 2: co-funded; SEI 1 at the start: self-employed).
Derived: the events (event aims before August 2025, EVI records after, read whichever is
there), and from them ``milestone1_date``, ``new_role_evidence_date``, the interview offers
and ``completion_date``: the later of the end of training (every component aim completed)
and the first qualifying event (an interview offer, a new role, a self-employment plan); with
no such event but an achievement date, the end of training, since an outcome is only paid
after the completion's event. Proxies (marked so, and replaced by the datasheet's values): the
default outcome, the employees of an employer, the interview's details. Every choice the ILR
leaves open is the rules' (:mod:`kpidsl.data.ilr.choices`).

Each value read from a return keeps where it came from (:class:`Origin`), for ``explain``.
"""

from __future__ import annotations

import datetime as dt
import heapq
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, NamedTuple

import attrs

from kpidsl.classes import fields_eq, fields_repr
from kpidsl.data.ilr.choices import Choices
from kpidsl.data.ilr.returns import Aim, Person
from kpidsl.errors import Diagnostic

PROGRAMME = 1
#: Event aims of programmes that started before 1 August 2025 (DfE's Provider Support
#: Manual 2024-25): the event's date is the aim's start date.
EVENT_AIMS = {"Z0059747": "interview_offer", "Z0059748": "new_role",
              "Z0059749": "self_employment_plan"}
#: From this day, programmes record events as EVI learning delivery FAMs (R_152, R_154).
EVI_FROM = dt.date(2025, 8, 1)
#: EmpId of an employer that is not on the Employer Data Service.
NOT_ON_SERVICE = "999999999"
#: The events that complete the programme with its training (Milestone 2).
QUALIFYING = ("interview_offer", "new_role", "self_employment_plan")


class Origin(NamedTuple):
    """Where a record's values were read: the return, the learner, and for each field the
    aim (``AimSeqNumber``) and the element. (A named tuple: worker processes send a hundred
    thousand of them back, and tuples travel fastest.)"""

    file: str
    learner: str
    """``LearnRefNumber``."""
    fields: dict[str, tuple[int | None, str]]

    def of(self, field: str) -> str | None:
        """``ILR-….xml: learner SB1, aim 1, LearnActEndDate (CompStatus 3)``, or ``None``."""
        if field not in self.fields:
            return None
        aim, element = self.fields[field]
        at = f", aim {aim}" if aim is not None else ""
        return f"{os.path.basename(self.file)}: learner {self.learner}{at}, {element}"


class _Pairs(dict[str, tuple[int | None, str]]):
    """The ``(aim, element)`` pairs of one aim, by element, each made once: a hundred thousand
    origins hold few objects, and a lookup here is quicker than making a pair to look up."""

    def __init__(self, aim: int | None) -> None:
        super().__init__()
        self.aim = aim

    def __missing__(self, element: str) -> tuple[int | None, str]:
        pair = self[element] = (self.aim, element)
        return pair


_PAIRS: dict[int | None, _Pairs] = {}


def _pairs(aim: int | None) -> _Pairs:
    pairs = _PAIRS.get(aim)
    if pairs is None:
        pairs = _PAIRS[aim] = _Pairs(aim)
    return pairs


def _pair(aim: int | None, element: str) -> tuple[int | None, str]:
    """One shared tuple per (aim, element)."""
    return _pairs(aim)[element]


@attrs.define
class Findings:
    """What reading the returns found, by kind: one finding per kind, naming the records."""

    __repr__ = fields_repr
    __eq__ = fields_eq

    ids: dict[tuple[str, str, str | None], dict[str, None]] = attrs.field(
        factory=lambda: defaultdict(dict))
    each: list[Diagnostic] = attrs.field(factory=list)

    def update(self, other: Findings) -> None:
        """Add what ``other`` found, after what this found."""
        for key, ids in other.ids.items():
            self.ids[key].update(ids)
        self.each += other.each

    def add(self, message: str, record: str, hint: str | None = None,
            kind: str = "learner") -> None:
        """``record`` (a ``kind``) is one of the records that ``message`` is about."""
        self.ids[message, kind, hint][record] = None

    def diagnostics(self) -> list[Diagnostic]:
        return [*self.each, *(Diagnostic(message=f"{message} ({counted(kind, list(ids))})",
                                         hint=hint, severity="warning", record_type=kind)
                              for (message, kind, hint), ids in self.ids.items())]


def counted(noun: str, ids: list[str]) -> str:
    """``3 learners: SB1, SB2, SB10``; past five, ``and 12 more``. The ids are sorted (numbers
    in them by value), so the same records are named the same way whatever order they were
    read in, and a reader finds one among them."""
    first = heapq.nsmallest(5, ids, key=_natural)  # as sorted(...)[:5], without the sort
    shown = ", ".join(first) + (f" and {len(ids) - 5:,} more" if len(ids) > 5 else "")
    return f"{len(ids):,} {noun}{'' if len(ids) == 1 else 's'}: {shown}"


_DIGITS = re.compile(r"(\d+)")


def _natural(ident: str) -> list[int | str]:
    """``SB10`` after ``SB9``: the numbers in an id by value."""
    return [int(p) if p.isdigit() else p for p in _DIGITS.split(ident)]


class Enrolment(NamedTuple):
    """The records of one programme aim: the learner's values, its interviews, its employer
    and where each came from."""

    ukprn: str
    ref: str
    con_ref: str
    start: dt.date
    plan_end: dt.date
    learner: dict[str, Any]
    interviews: list[dict[str, Any]]
    employer: dict[str, Any] | None
    origin: Origin


def _first(events: Iterable[tuple[str, dt.date, tuple[int | None, str]]]
           ) -> dict[str, tuple[dt.date, tuple[int | None, str]]]:
    out: dict[str, tuple[dt.date, tuple[int | None, str]]] = {}
    for event, day, where in events:
        if event not in out or day < out[event][0]:
            out[event] = (day, where)
    return out


def enrolments(person: Person, choices: Choices, found: Findings) -> list[Enrolment]:
    """The programme aims of one learner of a return, as records (see the module's text)."""
    programmes = [a for a in person.aims if a.aim_type == PROGRAMME]
    if len(programmes) > 1:
        programmes.sort(key=lambda a: a.seq)
    if not programmes:
        found.add("bootcamp aims but no programme aim (ZPROG001, aim type 1): skipped",
                  person.ref, "a Skills Bootcamps learner has one programme aim per bootcamp")
        return []
    several = len(programmes) > 1
    if several:
        found.add("several programme aims: each is a learner of its own, whose id is the "
                  "LearnRefNumber, a slash and the aim's AimSeqNumber", person.ref)
    return [e for pa in programmes
            if (e := _enrolment(person, pa, choices, found, several)) is not None]


def _enrolment(person: Person, pa: Aim, choices: Choices, found: Findings,
               several: bool) -> Enrolment | None:
    ref = f"{person.ref}/{pa.seq}" if several else person.ref
    if not pa.con_ref:
        found.add("a programme aim without a ConRefNumber, so no bootcamp: skipped", ref,
                  "every Skills Bootcamps aim gives the contract's ConRefNumber")
        return None
    at, unaimed = _pairs(pa.seq), _pairs(None)
    fields: dict[str, tuple[int | None, str]] = {
        "learner_id": unaimed["LearnRefNumber"], "bootcamp_id": at["ConRefNumber"],
        "start_date": at["LearnStartDate"]}
    others = [a for a in person.aims if a.aim_type != PROGRAMME and a.con_ref == pa.con_ref]
    components = [a for a in others if a.ref not in EVENT_AIMS]
    events = [(EVENT_AIMS[a.ref], a.start, _pair(a.seq, f"event aim {a.ref}"))
              for a in others if a.ref in EVENT_AIMS]
    if events and pa.start >= EVI_FROM:
        found.add("event aims on a programme that started on or after 1 August 2025, where "
                  "EVI records replace them (R_154): read all the same", ref)
    codes = choices.events.at(pa.start) or {}
    for fam in pa.fams:
        if fam.type != "EVI":
            continue
        event = codes.get(fam.code)
        if pa.start < EVI_FROM:
            found.add("EVI records on a programme that started before 1 August 2025, where "
                      "event aims are used (R_152): read all the same", ref)
        if event is None:
            found.each.append(Diagnostic(
                message=f"learner {ref}: EVI code {fam.code!r} (aim {pa.seq}) is not named "
                "in the rules' ilr_event_codes: ignored", file=person.file, line=pa.line,
                severity="warning", record_type="learner", record_id=ref, value=fam.code,
                hint="name it in ilr_event_codes in ilr.kpi, as the event it records or as "
                "other"))
        elif fam.date_from is None:
            found.add("an EVI record without a LearnDelFAMDateFrom: ignored", ref,
                      "an EVI record's date is the day of the event (LearnDelFAMDateFrom_05)")
        else:
            events.append((event, fam.date_from, at[f"EVI {fam.code}"]))
    first = _first(events)

    ffi2 = next((a for a in (pa, *components) for f in a.fams
                 if f.type == "FFI" and f.code == "2"), None)
    status = None  # the latest status that applies at the start (the first of equals)
    for s in person.statuses:
        if s.applies <= pa.start and (status is None or s.applies > status.applies):
            status = s
    if ffi2 is not None:
        learner_type = "co_funded"
        fields["learner_type"] = _pair(ffi2.seq, "LearningDeliveryFAM FFI 2")
    elif status is not None and ("SEI", "1") in status.monitoring:
        learner_type = "self_employed"
        fields["learner_type"] = unaimed["EmploymentStatusMonitoring SEI 1"]
    else:
        learner_type = "independent"
        fields["learner_type"] = unaimed["no FFI 2 or SEI 1"]

    withdrawal = None
    if pa.comp_status == 3:
        if pa.end is None:
            found.add("a withdrawal (CompStatus 3) without a LearnActEndDate: read as not "
                      "withdrawn", ref, "a withdrawal's day is the aim's LearnActEndDate")
        else:
            withdrawal = pa.end
            fields["withdrawal_date"] = at["LearnActEndDate (CompStatus 3)"]
    elif pa.comp_status == 6:
        found.add("a break in learning (CompStatus 6), which is not a withdrawal", ref)

    if components:
        done = all(c.comp_status == 2 and c.end is not None for c in components)
        last = max(components, key=lambda c: c.end or dt.date.min)
        training = (last.end, _pair(last.seq, "LearnActEndDate")) \
            if done and last.end is not None else None
    else:
        training = (pa.end, at["LearnActEndDate"]) if pa.comp_status == 2 \
            and pa.end is not None else None
    qualifying = min((first[e] for e in QUALIFYING if e in first), key=lambda x: x[0],
                     default=None)
    if qualifying is None and pa.ach_date is not None and training is not None:
        qualifying = training  # an outcome shows the completion's event happened, undated
    completion = None
    if training is not None and qualifying is not None:
        day, where = max(training, qualifying, key=lambda x: x[0])
        completion = day
        fields["completion_date"] = where

    if "milestone1" in first:
        milestone1: dt.date | None = first["milestone1"][0]
        fields["milestone1_date"] = first["milestone1"][1]
    else:
        after = choices.milestone1_after.at(pa.start)
        milestone1 = pa.start + after if after is not None else None
        if milestone1 is not None and withdrawal is not None and withdrawal <= milestone1:
            milestone1 = None
        if milestone1 is not None:
            fields["milestone1_date"] = at["LearnStartDate + ilr_milestone1_after"]

    outcome = None
    if pa.ach_date is not None:
        outcome = (choices.default_outcome.at(pa.start) or {}).get(learner_type)
        fields["outcome_date"] = at["AchDate"]
        fields["outcome"] = at[f"AchDate; ilr_default_outcome({learner_type})"]
    new_role = first.get("new_role")
    if new_role is not None:
        fields["new_role_evidence_date"] = new_role[1]
    wants = True if learner_type == "self_employed" and "interview_offer" in first else None
    if wants:
        fields["wants_interview"] = first["interview_offer"][1]

    employer = None
    employer_id = None
    if learner_type == "co_funded":
        emp = status.emp_id if status is not None else None
        if emp and emp != NOT_ON_SERVICE:
            employer_id = emp
            fields["employer_id"] = unaimed["LearnerEmploymentStatus EmpId"]
            sme = status is not None and ("OET", "2") in status.monitoring
            employees = (choices.sme_employees if sme else choices.large_employees).at(pa.start)
            employer = {"employer_id": emp, "name": None, "employees": employees}
    interviews = [{"learner_id": ref, "employer_id": None, "offer_date": day,
                   "actual_job": True, "matches_skills": True, "full_apprenticeship": False,
                   "result": "pending"} for event, day, _ in sorted(events, key=lambda e: e[1])
                  if event == "interview_offer"] if events else []
    learner = {
        "learner_id": ref, "bootcamp_id": pa.con_ref, "learner_type": learner_type,
        "employer_id": employer_id, "start_date": pa.start, "milestone1_date": milestone1,
        "withdrawal_date": withdrawal, "completion_date": completion,
        "initial_assessment_date": None, "final_assessment_date": None, "skills_gained": None,
        "wants_interview": wants,
        "new_role_evidence_date": new_role[0] if new_role is not None else None,
        "outcome": outcome, "outcome_date": pa.ach_date, "referral_date": None,
        "referral_kind": None}
    return Enrolment(ukprn=person.ukprn, ref=ref, con_ref=pa.con_ref, start=pa.start,
                     plan_end=pa.plan_end, learner=learner, interviews=interviews,
                     employer=employer, origin=Origin(file=person.file, learner=person.ref,
                                                      fields=fields))
