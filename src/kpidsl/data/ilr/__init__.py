"""ILR returns as data: the Skills Bootcamps learners (funding model 37) of DfE's Individualised
Learner Record, read into the contract's records.

A ``--data`` may name one return (an ``.xml`` file) or a folder of them: one per provider and
year, several collection returns (R01–R14) of a year, several years. Of the returns of one
provider and year, the latest by its header's date (``FilePreparationDate``, then
``DateTime``) is read and the others are listed as replaced; of a learner returned in
several years, the latest year's record is read. :mod:`~kpidsl.data.ilr.returns` parses,
:mod:`~kpidsl.data.ilr.mapping` maps, :mod:`~kpidsl.data.ilr.choices` holds the rules'
choices; :mod:`kpidsl.data.sources` merges the result with a datasheet.
"""

from __future__ import annotations

import itertools
import os
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, cast

import attrs

from kpidsl.classes import fields_methods
from kpidsl.collector import collector_paused
from kpidsl.data.ilr.choices import Choices
from kpidsl.data.ilr.mapping import Enrolment, Findings, Origin, enrolments
from kpidsl.data.ilr.returns import Return, Tally, read_header, read_learners
from kpidsl.data.load import is_returns, return_files
from kpidsl.errors import DataError, Diagnostic

T = TypeVar("T")

__all__ = ["Choices", "IlrRecords", "Origin", "is_returns", "read_returns", "return_files"]


@attrs.frozen
@fields_methods
class IlrRecords:
    """What the returns yield: each record type's rows as values by field (``None`` where the
    ILR does not say), where each learner's values came from, and what was found."""

    tables: dict[str, list[dict[str, Any]]]
    origins: dict[tuple[str, str], Origin]
    notices: tuple[Diagnostic, ...]
    files: tuple[str, ...]
    """The returns read (not those replaced)."""


def _latest(headers: Sequence[Return]) -> tuple[list[Return], list[Diagnostic]]:
    """The latest return of each provider and year, and a notice for each one it replaces;
    two returns of one provider and year made at the same moment are an error."""
    by: dict[tuple[str, int], list[Return]] = defaultdict(list)
    for h in headers:
        by[h.ukprn, h.year].append(h)
    chosen, notices, problems = [], [], []
    for (ukprn, _), group in sorted(by.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        group.sort(key=lambda h: (h.prepared, h.made))
        last = group[-1]
        chosen.append(last)
        for h in group[:-1]:
            if (h.prepared, h.made) == (last.prepared, last.made):
                problems.append(Diagnostic(
                    message=f"two returns of provider {ukprn} for {h.label} have the same "
                    f"date ({h.prepared}, {h.made}): which one is the latest is not known",
                    file=h.file, hint=f"give only one of {os.path.basename(h.file)} and "
                    f"{os.path.basename(last.file)}"))
            else:
                notices.append(Diagnostic(
                    message=f"replaced by the later return {os.path.basename(last.file)} of "
                    f"provider {ukprn} for {h.label}: not read", file=h.file,
                    severity="warning"))
    if problems:
        raise DataError(problems)
    return chosen, notices


def read_returns(paths: Sequence[str | os.PathLike[str]], choices: Choices,
                 meanwhile: Callable[[], T]) -> tuple[IlrRecords, T]:
    """The records of the ILR returns at ``paths`` (files or folders), as the rules'
    ``choices`` map them, and what ``meanwhile`` gives. A file that is not a return, or holds
    a value that is not what the ILR specification says, is a located :class:`DataError`.

    Returns are independent files, so when there are many (more than :data:`SHARED_BYTES`),
    worker processes read them, one core each; the records come back in the order of the
    returns, so the result is the same either way. ``meanwhile`` (reading the datasheet) is
    done here while they read, rather than after, on a core they leave idle as they finish
    and send their records; an error of it is raised only when the returns have none, as if
    it were done after them."""
    files = [f for p in paths for f in return_files(p)]
    if not files:
        raise DataError([Diagnostic(message="no ILR returns (.xml files) here",
                                    file=", ".join(os.fspath(p) for p in paths))])
    with _Workers(files) as work:
        headers = list(work.map(_header, files))
        problems = [d for h in headers if isinstance(h, list) for d in h]
        if problems:
            raise DataError(problems)
        chosen, notices = _latest([h for h in headers if isinstance(h, Return)])
        reading = work.map(_read, chosen, choices)  # under way in the workers, if any
        try:
            beside, late = meanwhile(), None
        except Exception as e:  # raised below, once the returns are known to be good
            beside, late = None, e
        read = list(reading)
    found = Findings()
    people: dict[tuple[str, str], list[Enrolment]] = {}
    for ret, got in zip(chosen, read, strict=True):  # by year: a later year's record of a
        if isinstance(got[0], Diagnostic):            # learner replaces an earlier one
            raise DataError(list(got))
        learners, skipped, theirs = got
        people.update(learners)
        found.update(theirs)
        if skipped:
            notices.append(Diagnostic(
                message=f"{skipped:,} learner{'s are' if skipped > 1 else ' is'} not on a "
                "Skills Bootcamp (funding model 37, programme type 32): skipped",
                file=ret.file, severity="warning"))
    if late is not None:
        raise late
    return _records([e for group in people.values() for e in group], found, notices,
                    tuple(r.file for r in chosen)), cast(T, beside)


#: Returns bigger than this in all are read by worker processes (when there is more than one
#: core and more than one return): below it, starting them costs more than it saves.
SHARED_BYTES = 20_000_000


class _Workers:
    """Runs a function over returns, in worker processes when that is worth it (forked, so
    they start at once), else here; a worker reports a bad return as its diagnostics."""

    def __init__(self, files: Sequence[str]) -> None:
        import multiprocessing  # here: it costs a start-up that reading CSV files never needs
        from concurrent.futures import ProcessPoolExecutor

        cores = os.cpu_count() or 1
        size = sum(os.path.getsize(f) for f in files if os.path.isfile(f))
        fork = "fork" in multiprocessing.get_all_start_methods()
        self.workers = min(cores, 4)
        self.pool: Any = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context("fork")
        ) if fork and cores > 1 and len(files) > 1 and size > SHARED_BYTES else None

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def map(self, fn: Callable[..., T], items: Sequence[Any], *args: Any) -> Iterator[T]:
        """``fn`` of each item, in order: in the workers, each one given its share at once
        (so they work while this process does something else), else here as they are
        taken."""
        if self.pool is None:
            return (fn(item, *args) for item in items)
        chunk = max(1, len(items) // (8 * self.workers))
        return cast(Iterator[T], self.pool.map(fn, items, *(itertools.repeat(a) for a in args),
                                               chunksize=chunk))


def _header(path: str) -> Return | list[Diagnostic]:
    try:
        return read_header(path)
    except DataError as e:
        return list(e.diagnostics)


def _read(ret: Return, choices: Choices
          ) -> tuple[list[tuple[tuple[str, str], list[Enrolment]]], int, Findings] \
        | tuple[Diagnostic, ...]:
    """One return's bootcamp learners as enrolments, how many learners it skipped, and what
    was found; or the diagnostics of a bad value."""
    found, tally = Findings(), Tally()
    try:
        with collector_paused():  # in a worker process too
            learners = [((p.ukprn, p.ref), enrolments(p, choices, found))
                        for p in read_learners(ret, tally)]
    except DataError as e:
        return e.diagnostics
    return learners, tally.skipped, found


def _records(enrolled: list[Enrolment], found: Findings, notices: list[Diagnostic],
             files: tuple[str, ...]) -> IlrRecords:
    """The records of every enrolment, with ids made unique across providers."""
    providers_of_ref: dict[str, set[str]] = defaultdict(set)
    providers_of_con: dict[str, set[str]] = defaultdict(set)
    for e in enrolled:
        providers_of_ref[e.ref].add(e.ukprn)
        providers_of_con[e.con_ref].add(e.ukprn)
    bootcamps: dict[str, dict[str, Any]] = {}
    learners: list[dict[str, Any]] = []
    interviews: list[dict[str, Any]] = []
    employers: dict[str, dict[str, Any]] = {}
    origins: dict[tuple[str, str], Origin] = {}
    for e in enrolled:
        learner = e.learner
        if len(providers_of_ref[e.ref]) > 1:
            found.add("a LearnRefNumber that another provider uses too: the learner's id is "
                      "the UKPRN, a colon and the LearnRefNumber", e.ref)
            learner["learner_id"] = f"{e.ukprn}:{e.ref}"
            for i in e.interviews:
                i["learner_id"] = learner["learner_id"]
        bootcamp_id = e.con_ref
        if len(providers_of_con[e.con_ref]) > 1:
            bootcamp_id = learner["bootcamp_id"] = f"{e.ukprn}:{e.con_ref}"
        b = bootcamps.get(bootcamp_id)
        if b is None:
            con = e.con_ref.upper()
            bootcamps[bootcamp_id] = {
                "bootcamp_id": bootcamp_id, "provider_id": e.ukprn, "title": None,
                "start_date": e.start, "end_date": e.plan_end, "course_cost": None,
                "accelerated_apprenticeship": True if con.startswith("SBA-") else
                False if con.startswith("SB-") else None}
        else:
            b["start_date"] = min(b["start_date"], e.start)
            b["end_date"] = max(b["end_date"], e.plan_end)
        learners.append(learner)
        interviews += e.interviews
        if e.employer is not None:
            employers.setdefault(e.employer["employer_id"], e.employer)
        origins["learner", learner["learner_id"]] = e.origin
    for con, ukprns in providers_of_con.items():
        if len(ukprns) > 1:
            found.add("a ConRefNumber of several providers: each provider's bootcamp id is "
                      "the UKPRN, a colon and the ConRefNumber", con, kind="bootcamp")
    providers = [{"provider_id": u, "name": None, "ukprn": u}
                 for u in sorted({e.ukprn for e in enrolled})]
    return IlrRecords(
        tables={"providers": providers, "bootcamps": list(bootcamps.values()),
                "employers": list(employers.values()), "learners": learners,
                "interviews": interviews},
        origins=origins, notices=(*notices, *found.diagnostics()), files=files)
