"""The queries of a plan (:class:`QueryBuilder`): the views over the as-of dates that they
read, each KPI's counts, tallies and targets, its per-record verdicts, and the rows that
``explain``, findings and actions list."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

from kpidsl.contract.records import BY_NAME, FIELDS, LINKS, ROW_DATES, Link, masked
from kpidsl.engines import Unsupported
from kpidsl.engines.sql.changes import Changes
from kpidsl.engines.sql.compiler import Compiler, Frame, keyed
from kpidsl.engines.sql.ddl import table_name
from kpidsl.engines.sql.values import Num, quote, sql_date
from kpidsl.plan import nodes as p
from kpidsl.plan.points import current_point

#: The columns that name a record in the rows of :meth:`QueryBuilder.entries` and
#: :meth:`QueryBuilder.explained`.
ID_COLUMNS = ("learner_id", "provider_id", "bootcamp_id", "employer_id")
_POINT_MEMBERS = ("label", "date", "year_start", "year_end")
CHANGES = "__e"
"""The end of the name of a history's view ``<record>__e``: the pairs of a record (its key)
and a date to work it out on (:class:`Changes`), for a record type of
:attr:`QueryBuilder.sparse`."""
_PACKED = 15
"""How many KPIs' verdicts a history's change query packs into one integer."""


def levels(plan: p.Plan) -> dict[tuple[str | None, str], int]:
    """Each record definition's level, the view ``<record>_<level>`` that adds it: 1 + the
    highest level of the record definitions it uses (a constant definition is worked out
    where it is read)."""
    out: dict[tuple[str | None, str], int] = {}

    def level(key: tuple[str | None, str]) -> int:
        if key not in out:
            d = plan.definitions[key]
            out[key] = 1 + max((level(u) for u in d.uses if u[0] is not None), default=0)
        return out[key]

    for key in plan.definitions:
        if key[0] is not None:
            level(key)
    return out


def _dates_cte(plan: p.Plan, dates: Sequence[dt.date | None]) -> str:
    """``_dates``: one row per as-of date with each schedule's current point. ``None`` is "the
    data as written" (findings): no date masks anything."""
    names = ["_as_of"] + [f"{s}__{m}" for s in plan.schedules for m in _POINT_MEMBERS]
    rows = []
    for d in dict.fromkeys(dates):  # each date once, or its records would count twice
        cells = [sql_date(d or dt.date.max)]
        for s in plan.schedules.values():
            pt = current_point(s, d) if d is not None else None
            cells += ["CAST(NULL AS VARCHAR)" if pt is None else quote(pt.label),
                      *(sql_date(getattr(pt, m) if pt else None) for m in _POINT_MEMBERS[1:])]
        rows.append("SELECT " + ", ".join(f"{c} AS {n}" for c, n in zip(cells, names,
                                                                        strict=True)))
    # a union, not VALUES: not every dialect names the columns of a VALUES list (SQLite)
    return f"_dates AS ({' UNION ALL '.join(rows)})"


def _base_cte(record: str, lines: bool, sparse: bool = False, by: Link | None = None) -> str:
    """``<record>_0``: the record's table as it stood on each as-of date. ``sparse``:
    ``<record>_0e``, each record only on the dates of ``<record>__e`` (:class:`Changes`).
    ``by``, a link from a sparse record to this one by its key (:func:`keyed`):
    ``<record>_0__<source>``, the records it lists on the dates of ``<source>__e``."""
    cols = [f"CASE WHEN t.{f} <= d._as_of THEN t.{f} END AS {f}" if masked(record, f)
            else f"t.{f}" for f in FIELDS[record]]
    where = ""
    if record in ROW_DATES:  # a dated row exists from its day on, an undated one always
        rd = ROW_DATES[record]
        where = f" WHERE t.{rd} <= d._as_of" if FIELDS[record][rd].required \
            else f" WHERE (t.{rd} IS NULL OR t.{rd} <= d._as_of)"
    if lines:
        cols.append("t._line")
    frm = f"{table_name(record)} AS t CROSS JOIN _dates AS d"
    name = f"{record}_0"
    if sparse:
        on = " AND ".join(f"t.{k} = e.{k}" for k in BY_NAME[record].key)
        frm = f"{record}{CHANGES} AS e JOIN {table_name(record)} AS t ON {on} JOIN _dates AS d " \
            "ON d._as_of = e._as_of"
        name += "e"
    elif by is not None:
        frm = f"{by.source}{CHANGES} AS e JOIN {table_name(record)} AS t ON " \
            f"t.{by.target_field} = e.{by.source_field} JOIN _dates AS d ON d._as_of = e._as_of"
        name += f"__{by.source}"
    return f"{name} AS (SELECT d.*, {', '.join(cols)} FROM {frm}{where})"


def _definition_ctes(c: Compiler, only: str | None = None, suffix: str = "",
                     sparse: bool = False) -> list[str]:
    """``<record>_<level>``: the view before with the definitions of that level as columns.
    ``only``: that record's, over its views named with ``suffix`` (``<record>_<level>e``,
    its ``sparse`` view, ``<record>_<level>__<source>``, its records listed by a sparse
    source, or ``<record>_<level>t``, its timeless view: :func:`timeless_records`)."""
    plan, lv = c.plan, c.levels
    out = []
    for level in range(1, max(lv.values(), default=0) + 1):
        for record in [only] if only else BY_NAME:
            defs = [k for k, v in lv.items() if v == level and k[0] == record]
            if not defs:
                continue
            cols, frame = [], Frame("s", record, level, sparse=sparse)
            for key in defs:
                value = c.within(frame, plan.definitions[key].body)
                if isinstance(value, Num):
                    cols += [f"{value.n} AS {key[1]}__n", f"{value.d} AS {key[1]}__d"]
                else:
                    cols.append(f"{value} AS {key[1]}")
            out.append(f"{record}_{level}{suffix} AS (SELECT s.*, {', '.join(cols)} "
                       f"FROM {frame.source(c.rel(record, level) + suffix)})")
    return out


def _key_columns(record: str) -> list[str]:
    """The columns that name a record in the verdicts: its key (a record without one: the
    learner or the provider it is about), and its bootcamp, by which counts are grouped."""
    about: tuple[str, ...] = ("learner_id", "provider_id")
    cols = list(BY_NAME[record].key) or [f for f in about if f in FIELDS[record]][:1]
    if "bootcamp_id" in FIELDS[record] and "bootcamp_id" not in cols:
        cols.append("bootcamp_id")
    return cols


def _count(test: str) -> str:
    """SQL for how many rows pass ``test``."""
    return f"COUNT(CASE WHEN {test} THEN 1 END)"


def _ids(record: str) -> str:
    """The :data:`ID_COLUMNS` of a record's rows (``s``), ``NULL`` where it has none."""
    have = _key_columns(record)
    return ", ".join(f"{'s.' + x if x in have else 'CAST(NULL AS VARCHAR)'} AS {x}"
                     for x in ID_COLUMNS)


class QueryBuilder:
    """Builds the queries of a plan for a set of as-of dates (``None``: as written)."""

    def __init__(self, plan: p.Plan, dates: Sequence[dt.date | None], *,
                 inline: bool = True, lines: bool = True, money_scale: int = 1,
                 verdicts_apart: bool = False) -> None:
        self.plan = plan
        self.verdicts_apart = verdicts_apart
        """The tallies' verdicts (``v<i>``) in a subquery that the database may not merge into
        the counts that read them (``OFFSET 0``): PostgreSQL otherwise works out each verdict
        once for each of its three counts (at 100,000 learners, 0.76 s of the server's CPU
        for the learners' tallies, 0.59 s apart)."""
        self.lv = levels(plan)
        self.top = max(self.lv.values(), default=0) + 1
        self.compiler = Compiler(plan, self.lv, money_scale)
        """``money_scale``: money columns hold that many units to the pound (SQLite keeps
        pence in an integer, as it has no exact decimals)."""
        self.ctes = [_dates_cte(plan, dates), *(_base_cte(r, lines) for r in BY_NAME),
                     *_definition_ctes(self.compiler)]
        """``name AS (query)`` for the as-of dates, the record views and the definitions:
        the head of every query when ``inline``; otherwise an engine creates them once
        (:meth:`prelude`) and the queries read them by name."""
        for record in sorted(self.compiler.timeless):  # worked out once for every date
            self.ctes += [f"{record}_0t AS (SELECT t.* FROM {table_name(record)} AS t)",
                          *_definition_ctes(self.compiler, record, "t")]
        self.sparse: set[str] = set()
        """The record types that :meth:`tallies` works out only on the dates where something
        they read may change (:class:`Changes`): in a history of ascending dates, those with
        a key whose KPIs' changes can be bounded."""
        history = [d for d in dates if d is not None]
        # (with lines: the engine loaded the tables and checked that keys are unique)
        if lines and len(history) == len(dates) > 1 and \
                all(a < b for a, b in itertools.pairwise(history)):
            for record in dict.fromkeys(k.record for k in plan.kpis
                                        if isinstance(k, p.KpiPlan) and BY_NAME[k.record].key):
                changes = Changes(plan, record, history)
                try:
                    for k in plan.kpis:
                        if isinstance(k, p.KpiPlan) and k.record == record:
                            changes.kpi(k)
                except Unsupported:
                    continue
                self.sparse.add(record)
                self.ctes.append(f"{record}{CHANGES} AS ({changes.sql()})")
                for link in LINKS:  # the records it lists by its key, on its dates only
                    if link.source == record and keyed(link):
                        self.ctes += [_base_cte(link.target, lines, by=link),
                                      *_definition_ctes(self.compiler, link.target,
                                                        f"__{record}")]
                self.ctes += [_base_cte(record, lines, sparse=True),
                              *_definition_ctes(self.compiler, record, "e", sparse=True)]
        self.with_ = "WITH " + ",\n".join(self.ctes) if inline else "WITH _ AS (SELECT 1)"
        """The head of every query: the views, or where the engine created them, a view that
        nothing reads, so that a query can add views of its own after it either way."""
        self.line = ", s._line" if lines else ""
        """The column of each record's line in its file, selected where the tables have it."""

    def prelude(self) -> list[tuple[str, str]]:
        """``(name, query)`` of each view the queries read when not ``inline``, in the order
        to create them: the as-of dates, each record type's view, its definitions, and the
        sparse views of :attr:`sparse`."""
        out = []
        for cte in self.ctes:
            name, query = cte.split(" AS (", 1)
            out.append((name, query[:-1]))
        return out

    def _frame(self, record: str | None) -> Frame:
        return Frame("s" if record else "d", record, self.top)

    def _test(self, frame: Frame, e: p.Expr | None, absent: str = "") -> str:
        """The condition ``e`` in ``frame``, ``absent`` where the rule has none."""
        return self.compiler.within(frame, e, self.compiler.clause) if e is not None else absent

    def verdicts(self, k: p.KpiPlan) -> str:
        """The per-record verdicts of a KPI: one row per record of its population (a
        ``SELECT`` to follow :attr:`with_`)."""
        c, s = self.compiler, self._frame(k.record)
        rel = c.rel(k.record, self.top)
        member = self._test(s, k.member, "TRUE")
        counted = self._test(s, k.counted)
        pending = self._test(s, k.pending, "FALSE")
        keys = ", ".join(f"s.{x}" for x in _key_columns(k.record))
        return (f"SELECT s._as_of, {keys}{self.line}, CASE WHEN /* counted when */ {counted} "
                f"THEN 'counted' WHEN /* pending when */ {pending} THEN 'pending' "
                f"ELSE 'not counted' END AS verdict FROM {s.source(rel)} "
                f"WHERE /* population */ {member}")

    def explained(self, record: str,
                  verdict: tuple[p.Expr | None, p.Expr | None, p.Expr | None],
                  tests: Sequence[p.Expr], reads: Sequence[p.Expr]) -> str:
        """For ``explain``: each record of a population (``verdict``: its membership,
        ``counted when`` and ``pending when``; none for the providers of a KPI measured per
        provider) in data order, with its ids (:data:`ID_COLUMNS`), its ``verdict``, whether
        each of ``tests`` holds (``t<i>``) and each value of ``reads`` (``r<i>``, and
        ``d<i>`` for a number's denominator; a list of values gives the values that tie it to
        its records, ``r<i>_<j>``: see :meth:`listed`)."""
        c, s = self.compiler, self._frame(record)
        member, counted, pending = (self._test(s, x) for x in verdict)
        cols = [f"CASE WHEN {counted} THEN 'counted' WHEN {pending or 'FALSE'} THEN 'pending' "
                "ELSE 'not counted' END AS verdict" if counted else "NULL AS verdict"]
        cols += [f"{self._test(s, t)} AS t{i}" for i, t in enumerate(tests)]
        for i, e in enumerate(reads):
            if isinstance(e, p.Point):
                continue  # the same for every record: worked out from the date
            if isinstance(e, p.Each):
                ties = c.within(s, e, c.listing).ties
                cols += [f"{outer} AS r{i}_{j}" for j, (_, outer) in enumerate(ties)]
                continue
            v = c.within(s, e, c.shown)
            cols += [f"{v.n} AS r{i}", f"{v.d} AS d{i}"] if isinstance(v, Num) else \
                [f"{v} AS r{i}"]
        order = "s._line" if self.line else ", ".join(f"s.{x}" for x in _key_columns(record))
        return (f"{self.with_}\nSELECT {_ids(record)}{self.line}, {', '.join(cols)} FROM "
                f"{s.source(c.rel(record, self.top))} WHERE {member or 'TRUE'} "
                f"ORDER BY {order}")

    def listed(self, record: str, e: p.Each) -> str:
        """The values of the list ``e`` read for each record of ``record``: rows of the values
        that tie a value to its record (``_k<j>``, as :meth:`explained`'s ``r<i>_<j>``), and
        the value ``v`` (with ``w``, a number's denominator), in data order."""
        c = self.compiler
        frm, ties, conds, inner, body = c.within(self._frame(record), e, c.listing)
        assert body is not None  # a list of values: ``each`` gives one of each record
        v = c.within(inner, body)
        keys = [f"{col} AS _k{j}" for j, (col, _) in enumerate(ties)]
        value = [f"{v.n} AS v", f"{v.d} AS w"] if isinstance(v, Num) else [f"{v} AS v"]
        order = f"{inner.alias}._line" if self.line else ", ".join(col for col, _ in ties)
        return (f"{self.with_}\nSELECT {', '.join(keys + value)} FROM {frm}{inner.joins.sql()} "
                f"WHERE {' AND '.join(conds) or 'TRUE'} ORDER BY {order}")

    def counts(self, k: p.KpiPlan | p.MeasurePlan) -> str:
        """One KPI's n, k and p per date and group (what ``kpidsl sql`` prints): each
        bootcamp, each provider (its bootcamps together) and the programme (KPI-SPEC §2,
        "Groups")."""
        c = self.compiler
        if isinstance(k, p.MeasurePlan):
            s = self._frame("provider")
            actual = c.within(s, k.actual, c.number)
            planned = c.within(s, k.planned, c.number)
            per = (f"SELECT s._as_of, s.provider_id, COALESCE({planned.n}, 0) AS n, "
                   f"COALESCE({actual.n}, 0) AS k FROM {s.source(c.rel('provider', self.top))}")
            views = [f"m0 AS ({per})"]
            selects = [
                "SELECT _as_of, 'provider' AS scope, provider_id AS group_id, n AS denominator,"
                " k AS numerator, 0 AS pending FROM m0",
                "SELECT d._as_of, 'programme', 'all', COALESCE(SUM(m0.n), 0), "
                "COALESCE(SUM(m0.k), 0), 0 FROM _dates AS d LEFT JOIN m0 "
                "ON m0._as_of = d._as_of GROUP BY d._as_of"]
        else:
            views = [f"v0 AS ({self.verdicts(k)})",
                     "a0 AS (SELECT _as_of, bootcamp_id, COUNT(*) AS n, "
                     "SUM(CASE WHEN verdict = 'counted' THEN 1 ELSE 0 END) AS k, "
                     "SUM(CASE WHEN verdict = 'pending' THEN 1 ELSE 0 END) AS p FROM v0 "
                     "GROUP BY _as_of, bootcamp_id)"]
            sums = "COALESCE(SUM(a0.n), 0), COALESCE(SUM(a0.k), 0), COALESCE(SUM(a0.p), 0)"
            join = "LEFT JOIN a0 ON a0._as_of = d._as_of AND a0.bootcamp_id = b.bootcamp_id"
            selects = [
                "SELECT d._as_of, 'bootcamp' AS scope, b.bootcamp_id AS group_id, "
                "COALESCE(a0.n, 0) AS denominator, COALESCE(a0.k, 0) AS numerator, "
                f"COALESCE(a0.p, 0) AS pending FROM _dates AS d CROSS JOIN bootcamps AS b {join}",
                f"SELECT d._as_of, 'provider', r.provider_id, {sums} FROM _dates AS d "
                "CROSS JOIN providers AS r LEFT JOIN bootcamps AS b ON b.provider_id = "
                f"r.provider_id {join} GROUP BY d._as_of, r.provider_id",
                f"SELECT d._as_of, 'programme', 'all', {sums} FROM _dates AS d "
                "LEFT JOIN a0 ON a0._as_of = d._as_of GROUP BY d._as_of"]
        return f"{self.with_},\n" + ",\n".join(views) + "\n" + "\nUNION ALL\n".join(selects)

    def tallies(self) -> list[tuple[str, list[str], bool]]:
        """Every KPI's counts per date and bootcamp (or provider, for a KPI measured per
        provider), as ``(query, KPI names, changes)``: one query per record type, so the KPIs
        on learners are all counted in one scan of the learners and each definition is worked
        out once. A query's rows hold ``_as_of``, ``group_id`` and, for its ``i``-th KPI,
        ``n<i>``, ``k<i>`` and ``p<i>``; with ``changes`` (a record type in :attr:`sparse`)
        they are the changes since the date before, the first date's from nothing, and a
        group whose counts did not change has no row. The engines add them up the reporting
        hierarchy (:func:`kpidsl.plan.results.roll_up`), so each record's verdict is worked
        out once."""
        by_record: dict[str | None, list[p.KpiPlan | p.MeasurePlan]] = {}
        for k in self.plan.kpis:
            by_record.setdefault(None if isinstance(k, p.MeasurePlan) else k.record,
                                 []).append(k)
        out = []
        c = self.compiler
        for record, kpis in by_record.items():
            if record is None:  # measured per provider: planned and actual, one row each
                s = self._frame("provider")
                cols = []
                for i, k in enumerate(kpis):
                    assert isinstance(k, p.MeasurePlan)
                    cols.append(f"COALESCE({c.within(s, k.planned, c.number).n}, 0) AS n{i}, "
                                f"COALESCE({c.within(s, k.actual, c.number).n}, 0) AS k{i}, "
                                f"0 AS p{i}")
                out.append((f"{self.with_}\nSELECT s._as_of, s.provider_id AS group_id, "
                            f"{', '.join(cols)} FROM {s.source(c.rel('provider', self.top))}",
                            [k.name for k in kpis], False))
                continue
            s = Frame("s", record, self.top, sparse=record in self.sparse)
            verdicts, members = [], []
            for i, k in enumerate(kpis):  # v<i>: 3 counted, 2 pending, 1 not, 0 not in it
                assert isinstance(k, p.KpiPlan)
                member = self._test(s, k.member, "TRUE")
                pending = self._test(s, k.pending, "FALSE")
                verdicts.append(f"CASE WHEN {member} THEN CASE WHEN "
                                f"{self._test(s, k.counted)} THEN 3 WHEN {pending} "
                                f"THEN 2 ELSE 1 END ELSE 0 END AS v{i}")
                members.append(member)
            names = [k.name for k in kpis]
            rel = c.rel(record, self.top)
            if record not in self.sparse:
                # COUNT of a CASE, not SUM: DuckDB sums into 128-bit integers, 3 times slower
                sums = [f"{_count(f'v{i} > 0')} AS n{i}, {_count(f'v{i} = 3')} AS k{i}, "
                        f"{_count(f'v{i} = 2')} AS p{i}" for i in range(len(kpis))]
                out.append((f"{self.with_}\nSELECT _as_of, bootcamp_id AS group_id, "
                            f"{', '.join(sums)} FROM (SELECT s._as_of, s.bootcamp_id, "
                            f"{', '.join(verdicts)} FROM {s.source(rel)} WHERE "
                            f"{' OR '.join(f'({m})' for m in members)}"
                            f"{' OFFSET 0' if self.verdicts_apart else ''}) AS v "
                            "GROUP BY _as_of, bootcamp_id", names, False))
                continue
            out.append((self._changes(record, verdicts, s.source(rel + 'e')), names, True))
        return out

    def _changes(self, record: str, verdicts: Sequence[str], source: str) -> str:
        """The tallies of a record type of :attr:`sparse`: each record's verdicts (``v<i>``)
        against its verdicts the time before, counted as changes to the counts; ``source``: the
        record's sparse view with what the verdicts join.

        The verdicts of up to 15 KPIs are packed into one integer (``x<j>``, two bits each,
        below 2**30 so that no dialect's integers overflow), so that one ``LAG`` gives the
        verdicts before (``u<j>``): DuckDB works each window function out on its own, and
        six of them cost six times one. A record whose verdicts did not change counts
        nothing, so it is left out before the counts."""
        keys = ", ".join(BY_NAME[record].key)
        names = list(dict.fromkeys(["bootcamp_id", *BY_NAME[record].key]))  # each once
        picked = ", ".join(f"s.{x}" for x in names)
        vs = [f"v{i}" for i in range(len(verdicts))]
        packs = [vs[j:j + _PACKED] for j in range(0, len(vs), _PACKED)]
        xs = [" + ".join(v if i == 0 else f"{v} * {4 ** i}" for i, v in enumerate(pack))
              + f" AS x{j}" for j, pack in enumerate(packs)]
        us = [f"COALESCE(LAG(x{j}) OVER (PARTITION BY {keys} ORDER BY _as_of), 0) AS u{j}"
              for j in range(len(packs))]
        sums = []
        for i, v in enumerate(vs):
            j, at = divmod(i, _PACKED)
            u = f"u{j} % 4" if at == 0 else f"(u{j} // {4 ** at}) % 4"

            def moved(test: str, v: str = v, u: str = u) -> str:
                return f"{_count(f'{v} {test}')} - {_count(f'{u} {test}')}"

            sums.append(f"{moved('> 0')} AS n{i}, {moved('= 3')} AS k{i}, "
                        f"{moved('= 2')} AS p{i}")
        changed = " OR ".join(f"x{j} <> u{j}" for j in range(len(packs)))
        return (f"{self.with_}\nSELECT _as_of, bootcamp_id AS group_id, {', '.join(sums)} "
                f"FROM (SELECT _as_of, bootcamp_id, {', '.join(vs)}, "
                f"{', '.join(f'x{j}' for j in range(len(packs)))}, {', '.join(us)} "
                f"FROM (SELECT _as_of, {', '.join(names)}, {', '.join(vs)}, {', '.join(xs)} "
                f"FROM (SELECT s._as_of, {picked}, {', '.join(verdicts)} "
                f"FROM {source}) AS v) AS x) AS w WHERE {changed} GROUP BY _as_of, bootcamp_id")

    def targets(self) -> str:
        """Every KPI's target at each date, as numerator ``n<i>`` and denominator ``d<i>``."""
        c, d = self.compiler, self._frame(None)
        cols = []
        for i, k in enumerate(self.plan.kpis):
            t = c.within(d, k.target, c.number)
            cols += [f"{t.n} AS n{i}", f"{t.d} AS d{i}"]
        return f"{self.with_}\nSELECT d._as_of, {', '.join(cols)} FROM {d.source('_dates')}"

    def entries(self, kind: str) -> tuple[str, list[p.NoticePlan | p.KpiPlan]]:
        """One query listing the records of every finding, or of every action and KPI
        follow-up, and what its column ``_i`` indexes. Each row names its record by the
        columns of :data:`ID_COLUMNS` (``NULL`` where its type has none) and ``verdict``."""
        sources: list[p.NoticePlan | p.KpiPlan] = [n for n in self.plan.notices
                                                   if n.kind == kind]
        if kind == "action":
            sources += [k for k in self.plan.kpis if isinstance(k, p.KpiPlan) and k.follow_ups]
        views, selects = [], []
        for i, src in enumerate(sources):
            if isinstance(src, p.NoticePlan):
                s = self._frame(src.record)
                cond = self._test(s, src.member, "TRUE")
                rel = self.compiler.rel(src.record, self.top)
                frm, verdict = f"{s.source(rel)} WHERE {cond}", "CAST(NULL AS VARCHAR)"
            else:
                views.append(f"f{i} AS ({self.verdicts(src)})")
                wanted = ", ".join(quote(v) for v, _ in src.follow_ups)
                frm, verdict = f"f{i} AS s WHERE s.verdict IN ({wanted})", "s.verdict"
            selects.append(f"SELECT {i} AS _i, {_ids(src.record)}, {verdict} AS verdict"
                           f"{self.line} FROM {frm}")
        if not selects:
            return "", sources
        order = "_i, _line" if self.line else "_i, " + ", ".join(ID_COLUMNS)
        head = f"{self.with_},\n" + ",\n".join(views) if views else self.with_
        return f"{head}\n" + "\nUNION ALL\n".join(selects) + f"\nORDER BY {order}", sources
