"""A data set: one snapshot of the programme's data, every record by type, and the checks
that hold it to the contract (values, unique ids, references).

Developers who hold the data elsewhere (a database, an API) build the records directly and pass
them to :class:`Dataset`, or pass plain rows to :meth:`Dataset.from_rows`; nothing here reads
files.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from kpidsl.classes import fields_methods
from kpidsl.contract.records import (
    BY_CLASS,
    BY_NAME,
    FIELDS,
    LINKS,
    RECORD_TYPES,
    REFERENCES,
    REQUIRED_WHEN,
    Bootcamp,
    Employer,
    Engagement,
    Interview,
    Learner,
    Payment,
    Profile,
    Provider,
    RecordType,
    record_diagnostic,
    stand_in,
)
from kpidsl.contract.values import plainly_valid, value_problem
from kpidsl.errors import DataError, Diagnostic


def _one_of(value: Any, old: Any) -> Any:
    """``cofunding``, or its older name ``payments``; not both. Each is ``None`` when not
    given: the truth of a DataFrame is an error, so whether it was given cannot be asked."""
    if old is None:
        return () if value is None else value
    if value is not None:
        raise TypeError("give cofunding or its older name payments, not both")
    return old


#: Rows for :meth:`Dataset.from_rows`: mappings, or a DataFrame or Arrow table.
Rows = Iterable[Mapping[str, Any]] | Any


def _rows(rows: Rows) -> Iterable[Any]:
    """The rows of a table as mappings: a pandas ``DataFrame`` (``to_dict("records")``), an
    Arrow table (``to_pylist()``), a DB-API cursor (its rows named by ``description``), rows
    with ``keys()`` (``sqlite3.Row``), or any iterable of mappings as it is."""
    if hasattr(rows, "to_pylist"):
        return rows.to_pylist()  # type: ignore[no-any-return]
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):
        return rows.to_dict("records")  # type: ignore[no-any-return]
    description = getattr(rows, "description", None)
    if description:
        names = [d[0] for d in description]
        return (dict(zip(names, row, strict=True)) for row in rows)
    return (row if isinstance(row, Mapping) or not hasattr(row, "keys")
            else {k: row[k] for k in row.keys()} for row in rows)  # noqa: SIM118 (sqlite3.Row)


class _Made:
    """Records made from what a caller gives (records, mappings of field to value, a table's
    rows), with every problem collected: each bad value at its row (``learners[11]``) and,
    once there is one, every integrity problem too (a bad record's id and references are
    still checked, as the loaders check a row with a bad cell), so that one
    :class:`DataError` lists them all rather than the references on a second run."""

    def __init__(self) -> None:
        self.problems: list[Diagnostic] = []
        self.where: dict[int, str] = {}
        """Each record's row, by ``id``."""
        self.bad: set[tuple[int, str]] = set()
        """The fields that did not convert, by ``id`` of their record (a stand-in)."""
        self.unknown: set[str] = set()
        """The record types some of whose ids did not convert: a reference into one may name
        a record that is there, so it is not called dangling."""

    def record(self, t: RecordType, i: int, values: Mapping[str, Any]) -> Any:
        """The record of ``values``; if they do not all convert, their problems are kept and
        a stand-in of the values that do (:func:`stand_in`) is returned."""
        try:
            record = t.cls(**values)
        except DataError as e:
            self.problems += [attrs.evolve(d, file=f"{t.table}[{i}]") for d in e.diagnostics]
            record, bad = stand_in(t.cls, values)
            self.bad.update((id(record), name) for name in bad)
            if bad.intersection(t.key):
                self.unknown.add(t.name)
        self.where[id(record)] = f"{t.table}[{i}]"
        return record

    def rows(self, t: RecordType, items: Any) -> bool:
        """``items`` can be a table's rows: not one row (a mapping, a record) or text, which
        would be read key by key or letter by letter, an error each, none saying why."""
        if not isinstance(items, str | bytes | Mapping) and type(items) not in BY_CLASS:
            return True
        self.problems.append(Diagnostic(
            message=f"expected a list of rows, not a {type(items).__name__}", file=t.table,
            record_type=t.name, hint=f"one row is a list of one: {t.table}=[...]"))
        return False

    def records(self, t: RecordType, items: Iterable[Any]) -> tuple[Any, ...]:
        """``items`` as records of ``t``: a record as it is, a plain mapping of field to value
        as ``t.cls(**mapping)`` makes it (so its values are read and checked), anything else a
        problem."""
        items = tuple(items) if self.rows(t, items) else ()
        if set(map(type, items)) <= {t.cls}:  # the common case, at C speed
            return items
        out = []
        for i, item in enumerate(items):
            if isinstance(item, t.cls):
                self.where[id(item)] = f"{t.table}[{i}]"
                out.append(item)
            elif isinstance(item, Mapping):
                out.append(self.record(t, i, item))
            else:
                self.problems.append(Diagnostic(
                    message=f"expected a {t.cls.__name__} or a mapping of field to value, not "
                    f"{type(item).__name__}", file=f"{t.table}[{i}]", record_type=t.name))
        return tuple(out)

    def integrity(self, data: Dataset) -> list[Diagnostic]:
        """The integrity problems of ``data`` (made of these records), each at its row,
        leaving out what only echoes a bad value."""
        return [record_diagnostic(r, field, message, file=self.where.get(id(r)))
                for r, field, message in data._integrity_problems(self.bad)
                if not (message.startswith("no ") and REFERENCES.get(
                    (BY_CLASS[type(r)].name, field)) in self.unknown)]

    def check(self, made: Mapping[str, Any]) -> None:
        """Raise one :class:`DataError` with every problem, the integrity problems of the
        records ``made`` (stand-ins included) with those of their values, if there is any."""
        if self.problems:
            raise DataError([*self.problems, *self.integrity(Dataset(**made))])


@attrs.frozen(kw_only=True, init=False)
@fields_methods
class Dataset:
    """One snapshot of the programme's data: every record, by type, each type under the name
    of its file (``learners``, ``cofunding``, …).

    Build it from CSV with :func:`kpidsl.load_data`, or directly from records (or mappings of
    field to value, made into records: if one is bad, one :class:`DataError` lists every bad
    value and every integrity problem, as :meth:`from_rows` does). ``problems()`` lists every
    value that breaks the contract (a missing required value, a value of the wrong Python
    type, outside its enum, range or pattern) and what breaks its integrity rules (duplicate
    ids, dangling references), so a data set built in Python is held to the same rules as
    one read from CSV.
    ``payments`` is the older name of ``cofunding``, still accepted.
    """

    providers: tuple[Provider, ...] = attrs.field(default=())
    bootcamps: tuple[Bootcamp, ...] = attrs.field(default=())
    employers: tuple[Employer, ...] = attrs.field(default=())
    engagements: tuple[Engagement, ...] = attrs.field(default=())
    learners: tuple[Learner, ...] = attrs.field(default=())
    interviews: tuple[Interview, ...] = attrs.field(default=())
    cofunding: tuple[Payment, ...] = attrs.field(default=())
    """The co-funding payments (``cofunding.csv``)."""
    profiles: tuple[Profile, ...] = attrs.field(default=())
    notices: tuple[Any, ...] = attrs.field(default=(), converter=tuple, eq=False, repr=False)
    """Warnings found while loading (unknown columns, absent files): :class:`Diagnostic` s."""
    origins: Mapping[tuple[str, str], Any] = attrs.field(factory=dict, eq=False, repr=False)
    """Where the values read from ILR returns came from, by record type and id
    (``("learner", "SB1")``): an :class:`~kpidsl.data.ilr.Origin` naming the file, the
    learner, and each field's aim and element; or, where the datasheet gives some values, a
    :class:`~kpidsl.data.sources.Sourced` naming its row for them. Either says where a field
    came from with ``of(field)``."""
    _lacking: bool = attrs.field(default=False, init=False, eq=False, repr=False)
    """Read from sources that do not hold every value (ILR returns): a value the contract
    requires only in some cases (a co-funded learner's employer) may be missing, which the
    reader reports as a finding. Set by :meth:`_mark_lacking`."""
    _values_checked: bool = attrs.field(default=False, init=False, eq=False, repr=False)
    """Every value was checked as it was made (by the CSV loader, by a rule test's builder):
    ``problems()`` checks only integrity. Set by :meth:`_mark_values_checked`; not copied by
    ``attrs.evolve``, so a changed copy is checked in full."""
    _problems: tuple[tuple[Any, str, str], ...] | None = attrs.field(
        default=None, init=False, eq=False, repr=False)
    _sources: tuple[tuple[str, str], ...] = attrs.field(
        default=(), init=False, eq=False, repr=False)
    """The files the records were made from when they are not the contract's files (ILR
    returns and their datasheet), as ``(name, path)``: fingerprinted beside the records, so
    that evidence ties the figures to those files too. Set by :meth:`_mark_read_from`."""
    _fingerprints: dict[str, str | None] | None = attrs.field(
        default=None, init=False, eq=False, repr=False)
    """The sha256 of each contract file: of its bytes as :func:`kpidsl.load_data` read them,
    or of the file :func:`kpidsl.write_data` would write (``None``: no file). Worked out once,
    by :func:`kpidsl.data.csvfiles.file_fingerprints`; not copied by ``attrs.evolve``."""
    _book: str | None = attrs.field(default=None, init=False, eq=False, repr=False)
    """The datasheet workbook the records were read from (:attr:`book`). Set by
    :meth:`_mark_read_from_book`; not copied by ``attrs.evolve``."""

    def __init__(self, *, providers: Iterable[Any] = (), bootcamps: Iterable[Any] = (),
                 employers: Iterable[Any] = (), engagements: Iterable[Any] = (),
                 learners: Iterable[Any] = (), interviews: Iterable[Any] = (),
                 cofunding: Iterable[Any] | None = None, profiles: Iterable[Any] = (),
                 notices: Iterable[Any] = (), payments: Iterable[Any] | None = None,
                 origins: Mapping[tuple[str, str], Any] | None = None) -> None:
        given = dict(providers=providers, bootcamps=bootcamps, employers=employers,
                     engagements=engagements, learners=learners, interviews=interviews,
                     cofunding=_one_of(cofunding, payments), profiles=profiles)
        made = _Made()
        records = {t.table: made.records(t, given[t.table]) for t in RECORD_TYPES}
        made.check(records)
        self.__attrs_init__(**records, notices=notices, origins=origins or {})

    @property
    def payments(self) -> tuple[Payment, ...]:
        """The older name of :attr:`cofunding`."""
        return self.cofunding

    @classmethod
    def from_rows(cls, *, providers: Rows = (), bootcamps: Rows = (), employers: Rows = (),
                  engagements: Rows = (), learners: Rows = (), interviews: Rows = (),
                  cofunding: Rows | None = None, profiles: Rows = (),
                  payments: Rows | None = None
                  ) -> Dataset:
        """A data set from plain rows: mappings of column name to value, as a database driver
        returns them, or a pandas ``DataFrame`` or an Arrow table (one per record type).

        Each value is read as the record classes read it (text as in CSV, ``None`` or NaN as
        missing). Every problem is collected, the bad values and what breaks the data set's
        integrity (duplicate ids, dangling references) alike, as :func:`kpidsl.load_data`
        does, then one :class:`DataError` lists them all, each at its row (``learners[11]``)
        and with its record, field and value. A column the contract does not know is ignored,
        with a warning in ``notices``. ``payments`` is the older name of ``cofunding``.
        """
        given = dict(providers=providers, bootcamps=bootcamps, employers=employers,
                     engagements=engagements, learners=learners, interviews=interviews,
                     cofunding=_one_of(cofunding, payments), profiles=profiles)
        made, notices, records = _Made(), [], dict[str, Any]()
        for t in RECORD_TYPES:
            fields, unknown = FIELDS[t.name], set[object]()
            out = []
            rows = given[t.table]
            for i, row in enumerate(_rows(rows) if made.rows(t, rows) else ()):
                where = f"{t.table}[{i}]"
                if not isinstance(row, Mapping):
                    made.problems.append(Diagnostic(
                        message=f"expected a mapping of column to value, not "
                        f"{type(row).__name__}", file=where, record_type=t.name))
                    continue
                for name in row.keys() - fields.keys() - unknown:
                    unknown.add(name)
                    near = difflib.get_close_matches(str(name), fields, 1)
                    notices.append(Diagnostic(
                        message=f"unknown column {name!r} is ignored", file=where,
                        severity="warning", record_type=t.name, field=str(name),
                        hint=f"did you mean `{near[0]}`?" if near else None))
                out.append(made.record(t, i, {k: v for k, v in row.items() if k in fields}))
            records[t.table] = tuple(out)
        made.check(records)
        data = cls(**records, notices=notices)
        data._mark_values_checked()  # each record checked its own values
        integrity = made.integrity(data)
        if integrity:
            raise DataError(integrity)
        return data

    def _mark_values_checked(self) -> None:
        """For the code that made the records and checked their values already."""
        object.__setattr__(self, "_values_checked", True)

    def _mark_lacking(self) -> None:
        """For a reader of sources that do not hold every value (see ``_lacking``)."""
        object.__setattr__(self, "_lacking", True)

    def _mark_read_from(self, files: Mapping[str, str]) -> None:
        """For a reader of files other than the contract's (see ``_sources``): by name,
        their paths."""
        object.__setattr__(self, "_sources", tuple(files.items()))

    def _mark_read_from_book(self, book: str) -> None:
        """For the workbook reader: the records' lines are rows of ``book``'s sheets."""
        object.__setattr__(self, "_book", book)

    @property
    def book(self) -> str | None:
        """The datasheet workbook (``.xlsx``) the records were read from, as it was named;
        a record's ``line`` is then its row in its type's sheet, and what is said about it
        (a finding) is located there, as the workbook's data errors are. ``None`` for records
        read from CSV files or built in Python."""
        return self._book

    def of(self, type_name: str) -> tuple[Any, ...]:
        """All records of the type called ``type_name`` in rules (``"learner"``)."""
        return getattr(self, BY_NAME[type_name].table)  # type: ignore[no-any-return]

    def problems(self) -> list[tuple[Any, str, str]]:
        """Problems as ``(record, field, message)``: first the values, type by type in file
        order, then integrity.

        Checks every value of every record against its field (see :func:`value_problem`);
        then that ids are unique, that every reference names an existing record and that a
        co-funded learner names its employer. A message about a value does not repeat the
        field's name (``'cofunded' is not one of independent, co_funded, self_employed``). A
        data set cannot change, so the answer is worked out once and remembered: evaluating
        many dates costs one check. A data set from :func:`kpidsl.load_data` comes with its
        values checked cell by cell, so only integrity is checked here.
        """
        found = self._problems
        if found is None:
            values = [] if self._values_checked else list(self._value_problems())
            bad = {(id(r), field) for r, field, _ in values}
            found = (*values, *self._integrity_problems(bad))
            object.__setattr__(self, "_problems", found)
        return list(found)

    def checked(self) -> Dataset:
        """This data set, or a :class:`DataError` with each of its :meth:`problems` (at the
        record's line of its file, when it was read from one): what every engine loads."""
        problems = self.problems()
        if problems:
            raise DataError([record_diagnostic(r, field, m, line=r.line,
                                               file=BY_CLASS[type(r)].file if r.line else None)
                             for r, field, m in problems])
        return self

    def _value_problems(self) -> Iterator[tuple[Any, str, str]]:
        for t in RECORD_TYPES:
            records = self.of(t.name)
            suspect = [f for f in FIELDS[t.name].values()
                       if not plainly_valid(f, list(map(operator.attrgetter(f.name), records)))]
            for r in records if suspect else ():
                for f in suspect:
                    message = value_problem(f, getattr(r, f.name))
                    if message is not None:
                        yield r, f.name, message

    def _integrity_problems(self, bad: set[tuple[int, str]]) -> Iterator[tuple[Any, str, str]]:
        """Duplicates and dangling references, leaving out the fields in ``bad`` (their values
        are wrong already, and may not even be hashable)."""
        keys: dict[str, set[Any]] = {}
        for t in RECORD_TYPES:
            seen: set[Any] = set()
            if t.key:
                for r in self.of(t.name):
                    if bad and any((id(r), f) in bad for f in t.key):
                        continue
                    k = tuple(getattr(r, f) for f in t.key)
                    if k in seen:
                        what = ", ".join(f"{f} {v!r}" for f, v in zip(t.key, k, strict=False))
                        yield r, t.key[-1], f"duplicate {t.name}: {what} appears earlier"
                    seen.add(k)
            keys[t.name] = seen
        for link in LINKS:
            if link.many or link.target_field != BY_NAME[link.target].key[0]:
                continue
            known = keys[link.target]
            records: Sequence[Any] = self.of(link.source)
            if bad:
                records = [r for r in records if (id(r), link.source_field) not in bad]
            for r in records:
                v = getattr(r, link.source_field)
                if v is not None and (v,) not in known:
                    yield r, link.source_field, f"no {link.target} has {link.target_field} {v!r}"
        for rule in () if self._lacking else REQUIRED_WHEN:
            for r in self.of(rule.record):
                if getattr(r, rule.when) == rule.value and getattr(r, rule.field) is None \
                        and (id(r), rule.field) not in bad:
                    yield r, rule.field, rule.message
