"""ILR returns and the datasheet that goes with them, read as one data set.

The returns give what the ILR holds; the datasheet (a data folder or a workbook) gives what it
does not: engagements, interview details, co-funding payments, profiles, course costs and
titles, employers, assessments, referrals, the kind of outcome. Records match on their ids:
a provider on its UKPRN, a bootcamp on its ``ConRefNumber``, a learner on its
``LearnRefNumber``.

- A field the ILR holds exactly (:data:`EXACT`) comes from the returns; a different value in
  the datasheet is a finding that names both.
- Any other field that the datasheet has a column for comes from the datasheet, for every
  record it lists, even where the cell is empty (an empty cell is a missing value): so a
  column of the datasheet always means what it says. A field it has no column for keeps the
  value the returns derive (``completion_date``) or stand in for (the default outcome). Empty
  cells that replace a value of the returns are a finding, one per column, since a provider
  may not mean it.
- The datasheet's interviews, when it has that sheet, replace those the returns derive; an
  offer of the returns it leaves out is a finding.
- A record only in the datasheet is kept, with a finding; what no source gives is missing,
  with one finding per kind of missing data naming the datasheet column that supplies it.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import attrs

from kpidsl.collector import collector_paused
from kpidsl.contract.records import (
    BY_CLASS,
    BY_NAME,
    FIELDS,
    RECORD_TYPES,
    REQUIRED_WHEN,
    unchecked,
)
from kpidsl.data.dataset import Dataset
from kpidsl.data.datasheet import place, sheet_name
from kpidsl.data.ilr import (
    Choices,
    IlrRecords,
    Origin,
    is_returns,
    read_returns,
    return_files,
)
from kpidsl.data.ilr.mapping import counted
from kpidsl.data.load import is_workbook
from kpidsl.errors import DataError, Diagnostic, UsageError

StrPath = str | os.PathLike[str]

#: The fields the ILR holds exactly, by record type: the returns' values win.
EXACT: dict[str, tuple[str, ...]] = {
    "provider": ("ukprn",),
    "bootcamp": ("provider_id",),
    "learner": ("bootcamp_id", "learner_type", "start_date", "withdrawal_date", "outcome_date"),
}
#: What the datasheet beside returns may leave empty (an empty cell is a missing value), by
#: record type: of the records the returns yield, all but the id, since the returns may give
#: it; of an interview, the employer, which the ILR does not record.
MAY_BE_EMPTY: dict[str, frozenset[str]] = {
    **{t: frozenset(FIELDS[t]) - set(BY_NAME[t].key)
       for t in ("provider", "bootcamp", "employer", "learner")},
    "interview": frozenset({"employer_id"}),
}
#: The columns of the datasheet that goes with ILR returns (``kpidsl template --ilr``): what
#: the ILR does not hold, or holds only by a poor proxy, and the interviews. The other record
#: types are whole.
DATASHEET: dict[str, tuple[str, ...]] = {
    "provider": ("provider_id", "name", "ukprn"),
    "bootcamp": ("bootcamp_id", "title", "course_cost", "accelerated_apprenticeship"),
    "employer": ("employer_id", "name", "employees"),
    "learner": ("learner_id", "employer_id", "initial_assessment_date",
                "final_assessment_date", "skills_gained", "wants_interview", "outcome",
                "referral_date", "referral_kind"),
    "interview": tuple(FIELDS["interview"]),
}
#: The columns of :data:`DATASHEET` that replace what the returns derive or stand in for: the
#: template is filled in with the returns' values there, so that handed back unchanged it
#: changes nothing.
STAND_INS: dict[str, tuple[str, ...]] = {
    "bootcamp": ("accelerated_apprenticeship",),
    "employer": ("employees",),
    "learner": ("employer_id", "wants_interview", "outcome"),
    "interview": tuple(FIELDS["interview"]),
}
#: Learner fields the ILR does not hold that the contract does not require: without a
#: datasheet column for one, the KPIs that read it have no value for any learner of the
#: returns, so that is a finding (an empty cell of such a column says "not recorded").
NOT_IN_ILR = ("initial_assessment_date", "final_assessment_date", "skills_gained",
              "referral_date", "referral_kind")
#: Values the returns only stand in for, and what the finding says of them.
_PROXIES: dict[tuple[str, str], str] = {
    ("learner", "outcome"): "is the rules' default for the learner type "
    "(ilr_default_outcome): the ILR records that an outcome was achieved, not which",
    ("learner", "wants_interview"): "is taken as true from the interview offer the ILR "
    "records for these self-employed learners",
    ("employer", "employees"): "is the rules' stand-in (ilr_sme_employees, "
    "ilr_large_employees): the ILR flags only whether an employer is small or medium",
}


def split(paths: Sequence[StrPath]) -> tuple[list[StrPath], StrPath | None]:
    """The ILR returns among ``paths`` (files or folders) and the one datasheet (a data folder
    or workbook); more than one datasheet is a :class:`UsageError`."""
    returns = [p for p in paths if is_returns(p)]
    sheets = [p for p in paths if not is_returns(p)]
    if len(sheets) > 1:
        raise UsageError(f"{len(sheets)} data folders or workbooks were given "
                         f"({', '.join(os.fspath(s) for s in sheets)}): give one, with ILR returns "
                         "beside it if you have them")
    return returns, sheets[0] if sheets else None


def load_sources(paths: Sequence[StrPath], choices: Choices | None) -> Dataset:
    """One data set from ILR returns and at most one datasheet, as the module's text says.
    ``choices`` are the rules' (:meth:`Choices.from_tables`); without returns they are not
    needed and a lone datasheet is read as :func:`kpidsl.load_data` reads it."""
    from kpidsl.data import csvfiles, datasheet
    from kpidsl.data.load import load_data

    returns, sheet = split(paths)
    if not returns:
        if sheet is None:
            raise UsageError("no data given")
        return load_data(sheet)
    if choices is None:
        raise UsageError("reading ILR returns needs the rules: they say what each EVI code "
                         "means and when Milestone 1 is reached")
    with collector_paused():  # as the CSV reader does: millions of objects, no cycles
        if sheet is None:
            merged = merge(read_returns(returns, choices, lambda: None)[0], None, {}, "")
        else:
            reader = datasheet.load_partial if is_workbook(sheet) else csvfiles.load_partial
            ilr, (data, columns) = read_returns(returns, choices,
                                                lambda: reader(sheet, MAY_BE_EMPTY))
            merged = merge(ilr, data, columns, os.fspath(sheet))
            if data.book is not None:  # the merged records keep their datasheet rows
                merged._mark_read_from_book(data.book)
    merged._mark_read_from(source_files(returns, sheet))
    return merged


def source_files(returns: Sequence[StrPath], sheet: StrPath | None) -> dict[str, str]:
    """The files the records are made from, by a name that does not depend on where they
    are: each return given (``returns/ILR-….xml``; those replaced too, since a change to one
    may make it the latest) and the datasheet (``datasheet/learners.csv``, every contract
    file, there or not, as for a data folder; or ``datasheet/NAME.xlsx``)."""
    out = {}
    for path in (f for p in returns for f in return_files(p)):
        name = f"returns/{os.path.basename(path)}"
        out[name if name not in out else f"returns/{path}"] = path
    if sheet is not None and is_workbook(sheet):
        out[f"datasheet/{os.path.basename(sheet)}"] = os.fspath(sheet)
    elif sheet is not None:
        out.update((f"datasheet/{t.file}", os.path.join(sheet, t.file)) for t in RECORD_TYPES)
    return out


class Sourced(NamedTuple):
    """Where a record's values came from when the datasheet gives some of them, for
    ``explain``: the datasheet's row for the fields of its columns, the return's
    :class:`~kpidsl.data.ilr.Origin` (if any) for the others."""

    row: str
    """``the datasheet: learners.csv, line 3``."""
    fields: frozenset[str]
    returns: Origin | None

    def of(self, field: str) -> str | None:
        """Where ``field``'s value came from, or ``None`` when no source is known."""
        if field in self.fields:
            return self.row
        return self.returns.of(field) if self.returns is not None else None


class _Merge:
    """The merge of one set of returns with one datasheet, and what it finds."""

    def __init__(self, ilr: IlrRecords, sheet: Dataset | None,
                 columns: Mapping[str, Mapping[str, int]], where: str) -> None:
        self.ilr, self.sheet, self.columns, self.where = ilr, sheet, columns, where
        self.notices: list[Diagnostic] = [*ilr.notices, *(sheet.notices if sheet else ())]
        self.counts: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        """(record type, field, what) → the ids it is true of: one finding each."""
        self.from_returns: set[int] = set()
        """``id`` of each record the returns yield (the others are the datasheet's)."""
        self.origins: dict[tuple[str, str], Origin | Sourced] = dict(ilr.origins)
        self.problems: list[Diagnostic] = []
        """Errors found while merging, raised with the merged data set's."""
        book = is_workbook(where)
        self.rows = {t.name: f"the datasheet: {os.path.basename(where)}, sheet {t.table}, row "
                     if book else f"the datasheet: {t.file}, line " for t in RECORD_TYPES}
        """Each record type's row of the datasheet, but for its number, for ``explain``."""

    def located(self, type_name: str, record: Any) -> dict[str, Any]:
        """Where a datasheet record is: its file and line, or its sheet and row."""
        if not self.where or record is None or record.line is None:
            return {}
        t = BY_NAME[type_name]
        if is_workbook(self.where):
            return {"file": self.where, "line": record.line,
                    "place": place(sheet_name(t), record.line)}
        return {"file": os.path.join(self.where, t.file), "line": record.line}

    def records(self, type_name: str, ours: list[dict[str, Any]], key: str,
                ilr_key: Callable[[dict[str, Any]], Any] | None = None) -> list[Any]:
        """The records of one type: the returns' values, with the datasheet's columns over
        them (see the module's text), then the datasheet's own records."""
        t = BY_NAME[type_name]
        theirs = {getattr(r, key): r for r in (self.sheet.of(type_name) if self.sheet else ())}
        cols = self.columns.get(t.table, {})
        exact = EXACT.get(type_name, ())
        given = frozenset(cols.keys() - set(exact))
        out: list[Any] = []
        for values in ours:
            match = theirs.pop(values[key], None)
            if match is not None:
                self.sourced(type_name, str(values[key]), match, given)
                for field in cols:
                    theirs_value = getattr(match, field)
                    if field not in exact:
                        if theirs_value is None and values[field] is not None:
                            self.counts[type_name, field, "emptied"].append(str(values[key]))
                        values[field] = theirs_value
                    elif theirs_value is not None and theirs_value != values[field]:
                        self.conflict(type_name, values, field, theirs_value, match)
            record: Any = unchecked(t.cls, {**values, "line": match.line if match else None})
            self.from_returns.add(id(record))
            out.append(record)
        everything = frozenset(cols)
        for record in theirs.values():  # an employer is often only the datasheet's
            ident = str(getattr(record, key))
            if type_name != "employer":
                self.counts[type_name, "", "only"].append(ident)
            self.sourced(type_name, ident, record, everything)
            record = _as_written(type_name, record)
            self.whole(type_name, ident, record)
            out.append(record)
        return out

    def whole(self, type_name: str, ident: str, record: Any) -> None:
        """A record in no return is the datasheet's alone, so nothing else gives what it
        lacks: a required value missing there is an error at its row, as in any data set
        (beside returns the reader lets any cell but the id be empty)."""
        for name, fi in FIELDS[type_name].items():
            if fi.required and getattr(record, name) is None:
                self.problems.append(Diagnostic(
                    message=f"{type_name} {ident}: {name}: missing required value",
                    hint="it is in no ILR return, so the datasheet gives all of it: fill in "
                    f"{name}, or write its id as the returns do", record_type=type_name,
                    record_id=ident, field=name, **self.located(type_name, record)))

    def sourced(self, type_name: str, ident: str, record: Any, fields: frozenset[str]) -> None:
        """The datasheet's ``record`` gives the values of ``fields``: ``explain`` names its
        row for them, as it names a return's element for the others."""
        if fields and record.line is not None:
            row = f"{self.rows[type_name]}{record.line}"
            returns = self.origins.get((type_name, ident))
            self.origins[type_name, ident] = Sourced(
                row, fields, returns if isinstance(returns, Origin) else None)

    def conflict(self, type_name: str, values: dict[str, Any], field: str, theirs: Any,
                 record: Any) -> None:
        ident = "/".join(str(values[k]) for k in BY_NAME[type_name].key)
        origin = self.origins.get((type_name, ident))
        source = (origin.of(field) if origin is not None else None) or "the ILR returns"
        self.notices.append(Diagnostic(
            message=f"{type_name} {ident}: {field} is {values[field]} in {source} but "
            f"{theirs} in the datasheet: the return's value is used", severity="warning",
            record_type=type_name, record_id=ident, field=field, value=theirs,
            hint="the ILR is the record of it: correct the datasheet, or the return",
            **self.located(type_name, record)))

    def missing(self, type_name: str, records: Sequence[Any]) -> None:
        """Count, by field, the records of the returns that lack a required value, and those
        whose value is a proxy the datasheet did not replace. Only the fields that may be
        counted are looked at (in the contract's order, so the findings keep theirs): a
        hundred thousand learners have a dozen fields that never are."""
        cols = self.columns.get(BY_NAME[type_name].table, {})
        key = BY_NAME[type_name].key
        when = [(w.field, w.when, w.value) for w in REQUIRED_WHEN if w.record == type_name]
        unheld = set(NOT_IN_ILR) - cols.keys() if type_name == "learner" else set()
        looked = [(name, fi.required, name in unheld,
                   (type_name, name) in _PROXIES and name not in cols)
                  for name, fi in FIELDS[type_name].items()]
        looked = [x for x in looked if any(x[1:]) or x[0] in {f for f, _, _ in when}]
        counts, ours = self.counts, self.from_returns
        for r in records:
            ident = None
            needed = {f for f, other, v in when if getattr(r, other) == v}
            mine = id(r) in ours
            for name, required, not_held, proxy in looked:
                value = getattr(r, name)
                if value is None:
                    if not (required or name in needed or (not_held and mine)):
                        continue
                    what = "missing"
                elif proxy and mine:
                    what = "proxy"
                else:
                    continue
                if ident is None:
                    ident = "/".join(str(getattr(r, k)) for k in key) if key else \
                        str(getattr(r, "learner_id", None) or r.provider_id)  # a profile
                counts[type_name, name, what].append(ident)                   # has neither

    def findings(self) -> list[Diagnostic]:
        out = []
        for (type_name, field, what), ids in self.counts.items():
            t = BY_NAME[type_name]
            which = counted(t.name, ids)
            supply = f"the datasheet's {t.table} sheet, column {field}, supplies it"
            if what == "only":
                message = f"in the datasheet but in no ILR return, kept ({which}): a record " \
                    "the ILR holds is matched on its id"
            elif what == "emptied":
                message = f"{field}: the datasheet's empty cells replace the returns' value " \
                    f"({which}): delete the column to keep the returns' values"
            elif what == "dropped":
                message = "the datasheet's interviews sheet replaces the interview offers the " \
                    f"ILR records, and leaves out some ({which}): add their rows to keep them"
            elif what == "proxy":
                message = f"{field} {_PROXIES[type_name, field]} ({which}): {supply}"
            elif field in self.columns.get(t.table, ()):
                message = f"{field} is missing ({which}): the ILR does not hold it, and " \
                    f"its cell in the datasheet's {t.table} sheet is empty"
            else:
                message = f"{field} is missing ({which}): the ILR does not hold it; {supply}"
            out.append(Diagnostic(message=message, severity="warning",
                                  record_type=type_name, field=field or None))
        return out


def merge(ilr: IlrRecords, sheet: Dataset | None, columns: Mapping[str, Mapping[str, int]],
          where: str) -> Dataset:
    """The data set of ``ilr`` with ``sheet`` (read from ``where``, with ``columns``) over it;
    a record that breaks the contract's integrity once merged is a located
    :class:`DataError`."""
    m = _Merge(ilr, sheet, columns, where)
    tables = ilr.tables
    ukprn_to_id: dict[str, str] = {}
    for p in (sheet.providers if sheet else ()):
        if p.ukprn is not None:
            ukprn_to_id.setdefault(p.ukprn, p.provider_id)
    by_ukprn = {p.ukprn: p for p in (sheet.providers if sheet else ()) if p.ukprn}
    providers = []
    for values in tables["providers"]:
        match = by_ukprn.get(values["ukprn"])
        if match is not None:  # matched on the UKPRN: the datasheet's id and name
            values = {**values, "provider_id": match.provider_id, "name": match.name}
        providers.append(values)
    for b in tables["bootcamps"]:
        b["provider_id"] = ukprn_to_id.get(b["provider_id"], b["provider_id"])
    made = {
        "providers": m.records("provider", providers, "provider_id"),
        "bootcamps": m.records("bootcamp", tables["bootcamps"], "bootcamp_id"),
        "employers": m.records("employer", tables["employers"], "employer_id"),
        "learners": m.records("learner", tables["learners"], "learner_id"),
    }
    has_interviews = sheet is not None and "interviews" in columns
    made["interviews"] = list(sheet.interviews) if has_interviews and sheet else [
        unchecked(BY_NAME["interview"].cls, {**i, "line": None}) for i in tables["interviews"]]
    held = {(i.learner_id, i.offer_date) for i in made["interviews"]}
    dropped = [f"{i['learner_id']} {i['offer_date']}" for i in tables["interviews"]
               if (i["learner_id"], i["offer_date"]) not in held]
    if dropped:
        m.counts["interview", "", "dropped"] = dropped
    for table in ("engagements", "cofunding", "profiles"):
        made[table] = list(getattr(sheet, table)) if sheet else []
    for t in RECORD_TYPES:
        if t.table != "interviews" or has_interviews:
            m.missing(t.name, made[t.table])
    unheld = [table for table in ("engagements", "cofunding", "profiles")
              if table not in columns]
    notices = [*m.notices, *m.findings(),
               *_derived_interviews(made["interviews"], has_interviews)]
    if unheld:
        notices.append(Diagnostic(
            message="the ILR holds no " + ", ".join(unheld) + ": the datasheet's sheets of "
            "those names supply them", severity="warning"))
    data = Dataset(**made, notices=notices, origins=m.origins)
    data._mark_values_checked()
    data._mark_lacking()
    problems = [*m.problems, *(Diagnostic(
        message=f"{BY_CLASS[type(r)].name} {_ident(r)}: {field}: {message}",
        record_type=BY_CLASS[type(r)].name, field=field, value=getattr(r, field),
        **m.located(BY_CLASS[type(r)].name, r)) for r, field, message in data.problems())]
    if problems:
        raise DataError(problems)
    return data


def _as_written(type_name: str, record: Any) -> Any:
    """A record only in the datasheet, with the contract's default in each empty cell: beside
    returns such a cell reads as a missing value (:data:`MAY_BE_EMPTY`), since the returns may
    give it, but this record is the datasheet's alone."""
    fields = FIELDS[type_name]
    empty = {f: fields[f].default for f in MAY_BE_EMPTY.get(type_name, ())
             if getattr(record, f) is None and fields[f].default is not None}
    return unchecked(type(record), {**attrs.asdict(record, recurse=False), **empty}) \
        if empty else record


def _derived_interviews(interviews: Sequence[Any], from_sheet: bool) -> list[Diagnostic]:
    if from_sheet or not interviews:
        return []
    n = len(interviews)
    return [Diagnostic(
        message=f"{n:,} interview {'offer comes' if n == 1 else 'offers come'} from the ILR, "
        "which records only the day of an offer: the employer is missing, and "
        "each is taken to be for an actual job matching the skills, its result pending; the "
        "datasheet's interviews sheet supplies them", severity="warning")]


def _ident(record: Any) -> str:
    t = BY_CLASS[type(record)]
    return "/".join(str(getattr(record, k)) for k in t.key) if t.key else \
        f"of {getattr(record, 'learner_id', '')}"
