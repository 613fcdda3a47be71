"""A data set written as ILR returns and the datasheet that goes with them: the inverse of
:func:`kpidsl.data.sources.load_sources`, so that reading both back gives the same records.

Why: the reader needs returns to be tested on, and real ones hold personal data. Synthetic
returns of a generated data set (``kpidsl generate --ilr``) show the ILR route end to end,
and their round trip checks the reader against the data it came from.

The returns hold what the ILR holds exactly (:data:`~kpidsl.data.sources.EXACT`: the
provider's UKPRN, the learner's bootcamp, type, start, withdrawal and achievement dates),
with the events written as DfE says (event aims for programmes that started before 1 August
2025, EVI records after). The datasheet holds everything else: each learner column the
returns only derive or stand in for is written, even where it is empty, because a datasheet
column wins over the returns (:mod:`kpidsl.data.sources`), so the merge gives back each value
as it was.

One return is written per provider and ILR year (1 August to 31 July) in which one of its
learners is live: from the year the programme starts to the year of the last day the learner's
record holds (its end, its achievement, its last event), as a provider returns a learner until
its outcome is recorded. Each return is a snapshot taken at the end of its year: what had not
happened by then is left out (a programme that ended later is continuing, CompStatus 1). So a
learner returned in several years must be read from the latest one.

No personal data is written: the mandatory learner elements hold the ILR's "not known" codes.
Returns are written as text, one learner at a time, so memory holds no more than the records.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, TextIO
from xml.sax.saxutils import escape

from kpidsl.contract.records import BY_NAME, FIELDS, Bootcamp, Learner
from kpidsl.data.csvfiles import Writer, _cell
from kpidsl.data.dataset import Dataset
from kpidsl.data.ilr.choices import Choices
from kpidsl.data.ilr.mapping import EVENT_AIMS, EVI_FROM, NOT_ON_SERVICE
from kpidsl.data.ilr.returns import FIRST_YEAR, FUND_MODEL, PROG_TYPE
from kpidsl.data.sources import EXACT
from kpidsl.errors import DataError, Diagnostic
from kpidsl.files import open_output

__all__ = ["write_datasheet", "write_ilr", "write_returns"]

#: ``LearnRefNumber`` as the schema allows it, without a space at either end (the reader
#: strips those, so the id would not come back as it was).
_LEARN_REF = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 ]{0,10}[A-Za-z0-9])?")
#: ``ConRefNumber``: what both the schema (its restricted characters) and the reader allow.
_CON_REF = re.compile(r"[A-Za-z0-9~!@#$%&'()*+,\-./:;<=>?\[\\\]_{}^]{1,20}")
_AIM = {event: aim for aim, event in EVENT_AIMS.items()}
COMPONENT_AIM = "Z0009734"
"""The component aim written (DfE's example return uses it for a bootcamp's training)."""
#: Where the ILR says "not known" or "not provided": nothing personal is written.
_UNKNOWN_POSTCODE = "ZZ99 9ZZ"
_LEARNER_HEAD = ("<ULN>9999999999</ULN><Ethnicity>99</Ethnicity><Sex>F</Sex>"
                 "<LLDDHealthProb>9</LLDDHealthProb>"
                 f"<PostcodePrior>{_UNKNOWN_POSTCODE}</PostcodePrior>"
                 f"<Postcode>{_UNKNOWN_POSTCODE}</Postcode>")
MAX_AIMS = 98
"""``AimSeqNumber`` runs from 1 to 98."""


def ilr_year(day: dt.date) -> int:
    """The ILR year of ``day``, by its first calendar year: 2025 for 2025-08-01..2026-07-31."""
    return day.year if day.month >= 8 else day.year - 1


def _year_end(year: int) -> dt.date:
    return dt.date(year + 1, 7, 31)


def _yynn(year: int) -> str:
    """``2526`` for 2025-26."""
    return f"{year % 100:02d}{(year + 1) % 100:02d}"


def _el(name: str, value: object) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


class _Data:
    """The indexes of a data set that the returns need, checked: each problem is named."""

    def __init__(self, dataset: Dataset) -> None:
        self.bootcamps: dict[str, Bootcamp] = {b.bootcamp_id: b for b in dataset.bootcamps}
        self.employees = {e.employer_id: e.employees for e in dataset.employers}
        self.offers: dict[str, set[dt.date]] = defaultdict(set)
        for i in dataset.interviews:
            self.offers[i.learner_id].add(i.offer_date)
        ukprns = {p.provider_id: p.ukprn for p in dataset.providers}
        self.by_ukprn: dict[str, list[Learner]] = defaultdict(list)
        problems: list[Diagnostic] = []
        owner: dict[str, str] = {}
        for p in dataset.providers:
            if p.ukprn is not None and owner.setdefault(p.ukprn, p.provider_id) != p.provider_id:
                problems.append(_problem("provider", p.provider_id, "ukprn", p.ukprn,
                                         f"UKPRN {p.ukprn} is also provider "
                                         f"{owner[p.ukprn]}'s: one return per UKPRN and year "
                                         "cannot hold both"))
        unreturnable: set[str] = set()
        for learner in dataset.learners:
            bootcamp = self.bootcamps[learner.bootcamp_id]
            provider = bootcamp.provider_id
            ukprn = ukprns[provider]
            if ukprn is None or ukprn.startswith("0"):
                if provider not in unreturnable:
                    unreturnable.add(provider)
                    problems.append(_problem(
                        "provider", provider, "ukprn", ukprn, "has learners but "
                        f"{'no UKPRN' if ukprn is None else 'UKPRN ' + ukprn}: an ILR return "
                        "is the return of a UKPRN from 10000000 to 99999999"))
                continue
            problems += self.check(learner, bootcamp)
            self.by_ukprn[ukprn].append(learner)
        if problems:
            raise DataError(problems)

    def check(self, learner: Learner, bootcamp: Bootcamp) -> list[Diagnostic]:
        lid = learner.learner_id
        out = []
        if not _LEARN_REF.fullmatch(lid):
            out.append(_problem("learner", lid, "learner_id", lid, "is not a LearnRefNumber: "
                                "1 to 12 letters, digits or spaces, with no space at either "
                                "end (the ILR schema's rule)"))
        if not _CON_REF.fullmatch(bootcamp.bootcamp_id):
            out.append(_problem("bootcamp", bootcamp.bootcamp_id, "bootcamp_id",
                                bootcamp.bootcamp_id, "is not a ConRefNumber: 1 to 20 "
                                "characters without spaces (or \" ` |), as the ILR schema says"))
        if ilr_year(learner.start_date) < FIRST_YEAR:
            out.append(_problem("learner", lid, "start_date", learner.start_date,
                                f"is before 1 August {FIRST_YEAR}, when Skills Bootcamps "
                                "entered the ILR (funding model 37)"))
        elif learner.start_date < EVI_FROM and 3 + len(self.offers.get(lid, ())) > MAX_AIMS:
            # the programme, its component, a new role and each offer: one aim each
            out.append(_problem("learner", lid, "learner_id", lid, "has more interview offers "
                                f"than a learner's {MAX_AIMS} aims can record as event aims"))
        return out

    def last_day(self, learner: Learner) -> dt.date:
        """The last day the learner's record holds: the last year it is returned in."""
        days = (learner.withdrawal_date, learner.completion_date, learner.outcome_date,
                learner.new_role_evidence_date, learner.milestone1_date,
                *self.offers.get(learner.learner_id, ()))
        known: list[dt.date] = [learner.start_date, *(d for d in days if d is not None)]
        return max(known)


def _problem(kind: str, ident: str, field: str, value: Any, message: str) -> Diagnostic:
    return Diagnostic(message=f"{kind} {ident}: {field}: {message}", record_type=kind,
                      record_id=ident, field=field, value=value,
                      hint="change the data set, or write it as CSV files instead of ILR")


def write_returns(dataset: Dataset, folder: str | os.PathLike[str], choices: Choices
                  ) -> list[str]:
    """Write ``dataset``'s learners as ILR returns into ``folder``, one per provider and year
    (see the module's text), and give their paths; ``dataset`` holds together (its
    ``problems()`` are none). Events are coded as ``choices`` say. A provider with learners
    but no UKPRN, or an id the ILR cannot hold, is a :class:`DataError` naming each, raised
    before anything is written."""
    data = _Data(dataset)
    os.makedirs(folder, exist_ok=True)
    written = []
    for ukprn, learners in sorted(data.by_ukprn.items()):
        years = sorted({y for learner in learners for y in range(
            ilr_year(learner.start_date), ilr_year(data.last_day(learner)) + 1)})
        for year in years:
            end = _year_end(year)
            made = end.strftime("%Y%m%d") + "-000000"
            path = os.path.join(os.fspath(folder),
                                f"ILR-{ukprn}-{_yynn(year)}-{made}-01.xml")
            with io.TextIOWrapper(open_output(path), encoding="utf-8", newline="\n") as out:
                _write_return(out, ukprn, year, (
                    learner for learner in learners if learner.start_date <= end
                    and ilr_year(data.last_day(learner)) >= year), data, choices)
            written.append(path)
    return written


def _write_return(out: TextIO, ukprn: str, year: int, learners: Iterable[Learner],
                  data: _Data, choices: Choices) -> None:
    end = _year_end(year)
    label = f"{year}-{(year + 1) % 100:02d}"
    out.write(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        "<!-- Written by kpidsl from a contract data set: no personal data. -->\n"
        f'<Message xmlns="ESFA/ILR/{label}">\n'
        "  <Header>\n"
        f"    <CollectionDetails><Collection>ILR</Collection>"
        f"<Year>{_yynn(year)}</Year>"
        f"<FilePreparationDate>{end}</FilePreparationDate></CollectionDetails>\n"
        "    <Source><ProtectiveMarking>OFFICIAL-SENSITIVE-Personal</ProtectiveMarking>"
        f"<UKPRN>{ukprn}</UKPRN><SoftwarePackage>kpidsl</SoftwarePackage>"
        f"<SerialNo>01</SerialNo><DateTime>{end}T00:00:00</DateTime></Source>\n"
        "  </Header>\n"
        f"  <LearningProvider><UKPRN>{ukprn}</UKPRN></LearningProvider>\n")
    for learner in learners:
        out.write(_learner(learner, data, choices, end))
    out.write("</Message>\n")


def _learner(learner: Learner, data: _Data, choices: Choices, end: dt.date) -> str:
    """One ``Learner`` element as it stood on ``end``, the end of the return's year; its
    elements in the order of the schema's sequences."""
    def seen(day: dt.date | None) -> dt.date | None:
        return day if day is not None and day <= end else None

    start, kind = learner.start_date, learner.learner_type
    bootcamp = data.bootcamps[learner.bootcamp_id]
    con = learner.bootcamp_id
    status = ["<EmpStat>11</EmpStat>" if kind == "independent" else "<EmpStat>10</EmpStat>",
              _el("DateEmpStatApp", start - dt.timedelta(days=1))]
    if kind == "self_employed":
        status.append("<EmploymentStatusMonitoring><ESMType>SEI</ESMType><ESMCode>1</ESMCode>"
                      "</EmploymentStatusMonitoring>")
    elif kind == "co_funded":
        status.insert(2, _el("EmpId", NOT_ON_SERVICE))  # its EDS number is not in the data
        employees = data.employees.get(learner.employer_id or "")
        large = choices.large_employees.at(start)
        if employees is not None and large is not None and employees < large:
            status.append("<EmploymentStatusMonitoring><ESMType>OET</ESMType>"
                          "<ESMCode>2</ESMCode></EmploymentStatusMonitoring>")
    fams = [("SOF", "105", None), ("FFI", "2" if kind == "co_funded" else "1", None)]
    withdrawn, completed = seen(learner.withdrawal_date), seen(learner.completion_date)
    comp, ended = (3, withdrawn) if withdrawn else (2, completed) if completed else (1, None)
    achieved = seen(learner.outcome_date)
    plan_end = max(bootcamp.end_date, start)
    events = sorted(
        (day, event) for event, days in (
            ("interview_offer", data.offers.get(learner.learner_id, ())),
            ("new_role", (learner.new_role_evidence_date,)),
            ("milestone1", (learner.milestone1_date,)))
        for day in days if day is not None and day <= end)
    aims = [_delivery("ZPROG001", 1, 1, start, plan_end, con, comp, ended, achieved,
                      [*fams, *_evi(events, start, choices)]),
            _delivery(COMPONENT_AIM, 3, 2, start, plan_end, con, comp, ended, None, fams)]
    if start < EVI_FROM:  # event aims (DfE's Provider Support Manual 2024-25)
        aims += [_delivery(_AIM[event], 3, 3 + i, day, day, con, 2, day, None, fams, outcome=1)
                 for i, (day, event) in enumerate(e for e in events if e[1] in _AIM)]
    return (f"  <Learner>{_el('LearnRefNumber', learner.learner_id)}{_LEARNER_HEAD}\n"
            f"    <LearnerEmploymentStatus>{''.join(status)}</LearnerEmploymentStatus>\n"
            + "".join(f"    {aim}\n" for aim in aims) + "  </Learner>\n")


def _evi(events: Sequence[tuple[dt.date, str]], start: dt.date, choices: Choices
         ) -> list[tuple[str, str, dt.date | None]]:
    """The EVI records of a programme that started on or after 1 August 2025: each event
    with the code the rules give it (the first, when they give several), dated the day of the
    event, or the start for an event before it (as DfE's Provider Support Manual says)."""
    if start < EVI_FROM:
        return []
    codes: dict[str, str] = {}
    for code, event in sorted((choices.events.at(start) or {}).items(), reverse=True):
        codes[event] = code
    return [("EVI", codes[event], max(day, start)) for day, event in events if event in codes]


def _delivery(ref: str, aim_type: int, seq: int, start: dt.date, plan_end: dt.date, con: str,
              comp: int, ended: dt.date | None, achieved: dt.date | None,
              fams: Sequence[tuple[str, str, dt.date | None]], outcome: int | None = None
              ) -> str:
    """One ``LearningDelivery`` of funding model 37, programme type 32."""
    parts = [_el("LearnAimRef", ref), _el("AimType", aim_type), _el("AimSeqNumber", seq),
             _el("LearnStartDate", start), _el("LearnPlanEndDate", plan_end),
             _el("FundModel", FUND_MODEL), _el("ProgType", PROG_TYPE),
             _el("DelLocPostCode", _UNKNOWN_POSTCODE), _el("ConRefNumber", con),
             _el("CompStatus", comp)]
    if ended is not None:
        parts.append(_el("LearnActEndDate", ended))
    outcome = 1 if achieved is not None else outcome
    if outcome is not None:
        parts.append(_el("Outcome", outcome))
    if achieved is not None:
        parts.append(_el("AchDate", achieved))
    for kind, code, day in fams:
        parts.append("<LearningDeliveryFAM>" + _el("LearnDelFAMType", kind)
                     + _el("LearnDelFAMCode", code)
                     + (_el("LearnDelFAMDateFrom", day) if day is not None else "")
                     + "</LearningDeliveryFAM>")
    return f"<LearningDelivery>{''.join(parts)}</LearningDelivery>"


#: The datasheet's columns: for providers, bootcamps and learners what the returns do not
#: hold exactly; the other record types whole. A bootcamp's ``provider_id`` is written only
#: for a bootcamp without learners, which no return holds.
_SHEET: dict[str, tuple[str, ...]] = {
    **{t: tuple(FIELDS[t]) for t in ("bootcamp", "employer", "engagement", "interview",
                                     "payment", "profile")},
    "provider": ("provider_id", "name", "ukprn"),
    "learner": tuple(f for f in FIELDS["learner"] if f not in EXACT["learner"]),
}


def write_datasheet(dataset: Dataset, folder: str | os.PathLike[str]) -> str:
    """Write the datasheet that goes with :func:`write_returns`' returns of ``dataset``: a
    data folder of CSV files (see :data:`_SHEET`), read by
    :func:`kpidsl.data.csvfiles.load_partial`. Gives the folder."""
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    taught = {learner.bootcamp_id for learner in dataset.learners}
    for name, columns in _SHEET.items():
        t = BY_NAME[name]
        records = dataset.of(name)
        if t.optional and not records:
            continue
        fields = [FIELDS[name][c] for c in columns]
        with io.TextIOWrapper(open_output(os.path.join(folder, t.file)), encoding="utf-8",
                              newline="") as f:
            w = Writer(f)
            w.writerow(columns)
            for r in records:
                w.writerow("" if fi.name == "provider_id" and name == "bootcamp"
                           and r.bootcamp_id in taught else _cell(getattr(r, fi.name), fi)
                           for fi in fields)
    return folder


def write_ilr(dataset: Dataset, folder: str | os.PathLike[str], choices: Choices
              ) -> tuple[list[str], str]:
    """Write ``dataset`` as ILR returns into ``folder`` and their datasheet into
    ``folder/datasheet``; give the returns' paths and the datasheet's. Reading both
    (``--data folder --data folder/datasheet``) gives back ``dataset``'s records."""
    returns = write_returns(dataset, folder, choices)
    return returns, write_datasheet(dataset, os.path.join(os.fspath(folder), "datasheet"))
