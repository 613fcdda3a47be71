"""The report of an evaluation, and of a history: typed results with what produced them.

:class:`Report` is what ``evaluate`` gives (its JSON is KPI-SPEC §4, written by
:mod:`~kpidsl.outputs.jsonout`); :class:`History` is what ``history`` shows. The other modules
of this folder turn them into formats: a terminal table (:mod:`~kpidsl.outputs.text`), JSON,
CSV (:mod:`~kpidsl.outputs.csvout`), an SVG chart (:mod:`~kpidsl.outputs.svg`), an HTML page
(:mod:`~kpidsl.outputs.html`) and a workbook (:mod:`~kpidsl.outputs.xlsx`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Self

import attrs

from kpidsl.classes import fields_methods
from kpidsl.data.csvfiles import data_fingerprint
from kpidsl.data.dataset import Dataset
from kpidsl.errors import NotFoundError, UsageError, suggest
from kpidsl.language.vocabulary import Scope, Status, listed, named
from kpidsl.outputs.jsonout import (
    audit_json,
    entry_json,
    entry_lines,
    json_text,
    result_json,
    result_lines,
)
from kpidsl.plan.results import Entry, Explanation, Result
from kpidsl.version import __version__

Months = Sequence[tuple[dt.date, Sequence[Result]]]
"""Each date's results, in date order."""

Names = Mapping[tuple[str, str], str]
"""Each group's name for people by (scope, id): a bootcamp's title, a provider's name."""


@attrs.frozen(kw_only=True)
@fields_methods
class Report:
    """The outcome of one evaluation."""

    as_of: dt.date
    results: tuple[Result, ...]
    findings: tuple[Entry, ...]
    """Data-quality findings: records that contradict each other, loader warnings."""
    actions: tuple[Entry, ...]
    """Follow-up actions: employers to chase, learners to refer."""
    rules_fingerprint: str = attrs.field(default="", eq=False)
    """sha256 of the rule files evaluated (:func:`kpidsl.api.rules_fingerprint`)."""
    engine: str = attrs.field(default="python", eq=False)
    """The engine that evaluated the rules."""
    explanations: tuple[Explanation, ...] = attrs.field(default=(), eq=False, repr=False)
    """Each KPI's verdicts for the programme, when asked for (``evaluate(…, explain=True)``),
    from the same engine and the same reading of the data as the results."""
    version: str = attrs.field(default=__version__, eq=False)
    """The version of kpidsl that evaluated them. Like the fingerprints and the engine, it
    says what produced the figures and is not one of them: reports with the same figures are
    equal."""
    _data: Dataset | str | os.PathLike[str] | None = attrs.field(default=None, eq=False,
                                                                 repr=False, alias="data")
    """The data evaluated (records, or a data folder), for its fingerprint (worked out when
    first asked for: hashing records built in Python costs as much as writing them out)."""
    names: Names = attrs.field(factory=dict, eq=False, repr=False)
    """Each group's name (a bootcamp's title, a provider's name) by (scope, id), as the
    engine read them with the data: the reports show them beside the ids."""

    @property
    def data(self) -> Dataset | str | os.PathLike[str] | None:
        """The data evaluated: a data folder, or the records (a workbook is read into
        records); ``None`` when the engine held the data itself."""
        return self._data

    @property
    def data_fingerprint(self) -> str:
        """sha256 of the data evaluated (:func:`kpidsl.data.csvfiles.data_fingerprint`);
        empty when the report does not know its data."""
        return "" if self._data is None else data_fingerprint(self._data)

    def audit(self) -> dict[str, str]:
        """What produced the figures, for an auditor: the kpidsl version, the engine, the
        as-of date and the fingerprints of the rules and of the data (full sha256)."""
        return audit_json(rules=self.rules_fingerprint, data=self.data_fingerprint,
                          as_of=self.as_of, engine=self.engine, version=self.version)

    def result(self, kpi: str, scope: str | None = None, group: str = "all") -> Result:
        """One KPI's result for one group (default: the programme).

        ``group`` is ``all``, a bootcamp or a provider id; without a ``scope``, the id says
        which it is, as for :func:`find_group` (an id that is both is written
        ``bootcamp:ID`` or ``provider:ID``). A :class:`~kpidsl.errors.NotFoundError` (a
        ``KeyError``) says which of the names has no result, and the closest that has one.
        """
        kpis = list(dict.fromkeys(r.kpi for r in self.results))
        if scope is None and kpi in kpis:
            own = [r for r in self.results if r.kpi == kpi]
            scope, group = find_group(self, group, per_provider=not any(
                r.scope == Scope.BOOTCAMP for r in own))
        for r in self.results:
            if (r.kpi, r.scope, r.group) == (kpi, scope, group):
                return r
        if kpi not in kpis:
            raise NotFoundError(f"no KPI called {kpi!r}",
                                suggest(kpi, kpis) or "the KPIs are " + ", ".join(kpis))
        scopes = list(dict.fromkeys(r.scope for r in self.results if r.kpi == kpi))
        if scope not in scopes:
            raise NotFoundError(f"{kpi} has no {scope!r} results",
                                suggest(str(scope), scopes)
                                or "its scopes are " + ", ".join(scopes))
        groups = [r.group for r in self.results if (r.kpi, r.scope) == (kpi, scope)]
        raise NotFoundError(f"{kpi} has no result for {scope} {group!r}",
                            suggest(group, groups) or f"the {scope} groups are "
                            + ", ".join(groups[:30]) + (" …" if len(groups) > 30 else ""))

    def select(self, *, kpis: Iterable[str] | None = None, scopes: Iterable[str] | None = None,
               groups: Iterable[str] | None = None, statuses: Iterable[str] | None = None
               ) -> Self:
        """The same report with only the results that pass every filter given (``None``:
        no filter; one word stands for a list of one). A group is ``all``, a bootcamp or a
        provider id, or ``scope:id`` for an id that is both (as for :func:`find_group`); a
        scope and a status are written as the tables print them (``not met``) or as JSON
        does (``not_met``). A KPI, group, scope or status that is not one raises
        :class:`~kpidsl.errors.NotFoundError` naming the closest: a misspelt filter would
        otherwise keep nothing, without a word. Findings and actions are kept whole: they are
        about records, not results."""
        if kpis is scopes is groups is statuses is None:
            return self  # no filter: nothing to go through (246,000 results at 1M learners)
        kpis, scopes, groups, statuses = (None if f is None else listed(f)
                                          for f in (kpis, scopes, groups, statuses))
        names = list(dict.fromkeys(r.kpi for r in self.results)) if kpis else []
        for kpi in kpis or ():
            if kpi not in names:
                raise NotFoundError(f"no KPI called {kpi!r}",
                                    suggest(kpi, names) or "the KPIs are " + ", ".join(names))
        k = None if kpis is None else set(kpis)
        sc = None if scopes is None else {named(Scope, s) for s in scopes}
        st = None if statuses is None else {named(Status, s) for s in statuses}
        g = None if groups is None else {find_group(self, x) for x in groups}
        kept = tuple(r for r in self.results
                     if (k is None or r.kpi in k) and (sc is None or r.scope in sc)
                     and (g is None or (r.scope, r.group) in g)
                     and (st is None or r.status in st))
        return attrs.evolve(self, results=kept)

    def to_json(self) -> str:
        """The KPI-SPEC §4 JSON document (:meth:`to_dict`, written out by :func:`json_text`)."""
        return json_text(self.to_dict(written=True))

    def to_dict(self, written: bool = False) -> dict[str, Any]:
        """The KPI-SPEC §4 object: results, findings and actions, as plain Python values
        (with ``written``, each result, finding and action is its JSON text already, for
        :func:`json_text`)."""
        return {
            "as_of": self.as_of.isoformat(),
            "audit": self.audit(),
            "results": (result_lines(self.results) if written
                        else [result_json(r) for r in self.results]),
            "findings": (entry_lines(self.findings) if written
                         else [entry_json(e) for e in self.findings]),
            "actions": (entry_lines(self.actions) if written
                        else [entry_json(e) for e in self.actions]),
        }


@attrs.frozen(kw_only=True)
@fields_methods
class History:
    """What ``kpidsl history`` shows: the results kept at each month end, the group the
    table and chart follow (``all`` unless one was asked for) and what produced them."""

    months: tuple[tuple[dt.date, tuple[Result, ...]], ...]
    group: str = "all"
    audit: dict[str, str] = attrs.field(factory=dict, eq=False)
    names: Names = attrs.field(factory=dict, eq=False, repr=False)
    """Each group's name by (scope, id), as for :attr:`Report.names`."""


def find_group(where: Dataset | Report | Iterable[Result], group: str,
               per_provider: bool = False) -> tuple[Scope, str]:
    """The scope and id of a group written ``all``, a bootcamp or provider id, or, for an id
    that is both, ``bootcamp:ID`` or ``provider:ID``, among the groups of a data set or of
    results. Otherwise a :class:`~kpidsl.errors.NotFoundError` listing the groups (a
    KPI judged per provider has no bootcamp groups)."""
    if group == "all":
        return Scope.PROGRAMME, "all"
    if isinstance(where, Dataset):
        ids = {Scope.BOOTCAMP: {b.bootcamp_id for b in where.bootcamps},
               Scope.PROVIDER: {p.provider_id for p in where.providers}}
    else:
        ids = {Scope.BOOTCAMP: set(), Scope.PROVIDER: set()}
        for r in where.results if isinstance(where, Report) else where:
            ids.get(r.scope, set()).add(r.group)
    both = ids[Scope.BOOTCAMP] & ids[Scope.PROVIDER]
    scopes = [s for s in ids if group in ids[s]]
    prefix, _, rest = group.partition(":")
    if group in both:
        raise UsageError(f"{group} is both a bootcamp and a provider: write bootcamp:{group} "
                         f"or provider:{group}")
    if not scopes and prefix in ids and rest in ids[Scope(prefix)]:
        scopes, group = [Scope(prefix)], rest
    valid = ["all", *(f"{s}:{g}" if g in both else g for s in ids
                      if not (per_provider and s == Scope.BOOTCAMP) for g in sorted(ids[s]))]
    shown = ", ".join(valid[:30]) + (f", … ({len(valid)} in all)" if len(valid) > 30 else "")
    if not scopes:
        raise NotFoundError(f"no group {group!r}", suggest(group, valid)
                            or f"the groups are {shown}")
    if per_provider and scopes == [Scope.BOOTCAMP]:
        raise NotFoundError(f"{group!r} is a bootcamp, and this KPI is judged per provider",
                            f"its groups are {shown}")
    return scopes[0], group
