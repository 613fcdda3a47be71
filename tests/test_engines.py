"""Every engine gives the same report: the DuckDB engine reading a data folder itself, the
history of many month ends in one pass, the SQL that ``kpidsl sql`` prints, and the data
errors of a bad folder.

The Python engine is the reference (it is held to the independent oracle in
``test_differential``); here the others are held to it, field by field.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest

import kpidsl
from cohort import fixture_rules
from conftest import choice
from kpidsl import cli
from kpidsl.api import history, kpi_sql
from kpidsl.data.csvfiles import write_data
from kpidsl.data.generate import generate
from kpidsl.engines.sql import schema

DATES = [dt.date(2023, 12, 31), dt.date(2024, 6, 30), dt.date(2025, 3, 31),
         dt.date(2025, 10, 31), dt.date(2026, 6, 30)]


@pytest.fixture(scope="module")
def rules() -> kpidsl.RuleSet:
    return fixture_rules()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("data")
    write_data(generate(3000, seed=11), out)
    return out


@pytest.mark.parametrize("as_of", DATES, ids=str)
def test_duckdb_reading_a_folder_gives_the_python_report(rules, folder: Path, as_of):
    python = kpidsl.evaluate(rules, folder, as_of=as_of, engine="python")
    duck = kpidsl.evaluate(rules, folder, as_of=as_of, engine="duckdb")
    assert duck.results == python.results
    assert duck.findings == python.findings
    assert duck.actions == python.actions
    assert python.actions and python.findings  # the data exercises both


def test_a_big_folder_defaults_to_duckdb_a_small_one_and_records_to_python(
        rules, folder: Path, monkeypatch):
    """DuckDB for a folder of ``SMALL`` bytes or more; below it, and for records, the Python
    engine, which starts quicker."""
    from kpidsl.engines import duckdb as engine
    from kpidsl.engines import run

    used = []
    original = engine.DuckDBEngine.load_folder
    monkeypatch.setattr(engine.DuckDBEngine, "load_folder",
                        lambda self, path: used.append(path) or original(self, path))
    size = sum(f.stat().st_size for f in folder.iterdir())
    assert size < run.SMALL
    assert kpidsl.evaluate(rules, folder, as_of=DATES[2]).engine == "python"
    monkeypatch.setattr(run, "SMALL", size)
    assert kpidsl.evaluate(rules, folder, as_of=DATES[2]).engine == "duckdb"
    assert used == [folder]
    assert kpidsl.evaluate(rules, kpidsl.load_data(folder), as_of=DATES[2]).engine == "python"
    assert used == [folder]


def test_duckdb_opens_its_connection_beside_the_loaders_first_steps(
        rules, folder: Path, monkeypatch):
    """``duckdb.connect`` takes 20-30 ms and lets go of the GIL: the engine is made without
    waiting for it, and loading waits only when it needs the connection; a connection that
    cannot be opened fails the load with DuckDB's own error."""
    import threading

    from kpidsl.engines import duckdb as engine

    opened = threading.Event()
    timed_out = []
    real = duckdb.connect

    def slow(**kwargs):
        timed_out.append(not opened.wait(timeout=5))  # the engine is made meanwhile
        return real(**kwargs)

    monkeypatch.setattr(engine.duckdb, "connect", slow)
    made = engine.DuckDBEngine()
    opened.set()
    assert made.load(folder).groups == engine.DuckDBEngine(real()).load(folder).groups
    assert timed_out == [False]

    def refused(**kwargs):
        raise duckdb.IOException("IO Error: cannot open the temporary directory")

    monkeypatch.setattr(engine.duckdb, "connect", refused)
    with pytest.raises(duckdb.IOException, match="cannot open the temporary directory"):
        kpidsl.evaluate(rules, folder, as_of=DATES[2], engine="duckdb")


def test_duckdb_works_out_the_findings_and_actions_beside_the_results(rules, folder: Path,
                                                                      monkeypatch):
    """On a connection of its own, the findings' and actions' queries run on a thread and a
    cursor of their own (the views inline) while the results are worked out; what it raises
    is raised where they are wanted (an unrepresentable value: evaluated by the Python
    engine instead), and ``release`` waits for them. On a connection given, whose tables a
    cursor may not see, they are worked out when wanted. With tables of more row groups
    than cores, they start when the results' last query does."""
    import threading

    from kpidsl.engines import Unrepresentable
    from kpidsl.engines import duckdb as engine
    from kpidsl.plan.lower import lower

    plan, on = lower(rules), []
    loaded = engine.DuckDBEngine().load(folder)
    real = engine.DuckDBEngine._entries

    def noted(self, qb, kind, rows):
        on.append((threading.current_thread().name, kind))
        return real(self, qb, kind, rows)

    monkeypatch.setattr(engine.DuckDBEngine, "_entries", noted)
    findings, actions = loaded.entries_soon(plan, DATES[2])()
    assert on == [("kpidsl-entries", "finding"), ("kpidsl-entries", "action")]
    assert findings == loaded.entries(plan, DATES[2], "finding") != []
    assert actions == loaded.entries(plan, DATES[2], "action") != []
    on.clear()
    loaded.entries_soon(plan, DATES[2])
    loaded.release()  # waits for them
    assert on == [("kpidsl-entries", "finding"), ("kpidsl-entries", "action")]
    on.clear()
    given = engine.DuckDBEngine(duckdb.connect()).load(folder)
    assert given.entries_soon(plan, DATES[2])() == (findings, actions)
    assert on == [("MainThread", "finding"), ("MainThread", "action")]

    def unrepresentable(self, *args):
        raise Unrepresentable("Conversion Error: the value is out of range")

    monkeypatch.setattr(engine.DuckDBEngine, "_entries", unrepresentable)
    found = loaded.entries_soon(plan, DATES[2])
    with pytest.raises(Unrepresentable) as excinfo:
        found()
    assert str(excinfo.value) == "Conversion Error: the value is out of range"
    monkeypatch.setattr("kpidsl.engines.run.SMALL", 0)  # the folder is read by DuckDB first
    report = kpidsl.evaluate(rules, folder, as_of=DATES[2])
    assert report.engine == "python"
    python = kpidsl.evaluate(rules, folder, as_of=DATES[2], engine="python")
    assert (report.findings, report.actions) == (python.findings, python.actions)
    monkeypatch.setattr(engine.DuckDBEngine, "_entries", noted)
    # a table of more row groups than cores: DuckDB fills both with the results' big
    # queries, so the findings start once the last of them is under way
    monkeypatch.setattr(engine, "ROW_GROUP", 1)
    real_soon = engine.DuckDBEngine._tuples_soon

    def started(self, sql):
        on.append(("MainThread", "tally"))
        return real_soon(self, sql)

    monkeypatch.setattr(engine.DuckDBEngine, "_tuples_soon", started)
    big = engine.DuckDBEngine().load(folder)
    want = loaded.results(plan, [DATES[2]])
    on.clear()
    found = big.entries_soon(plan, DATES[2])
    assert on == []
    assert big.results(plan, [DATES[2]]) == want
    assert found() == (findings, actions)
    tallies = len(on) - 2
    assert tallies >= 2 and on[:tallies] == [("MainThread", "tally")] * tallies
    assert on[tallies:] == [("kpidsl-entries", "finding"), ("kpidsl-entries", "action")]
    on.clear()  # with no results asked for, they are worked out when wanted, once
    assert big.entries_soon(plan, DATES[2])() == (findings, actions)
    assert on == [("kpidsl-entries", "finding"), ("kpidsl-entries", "action")]
    assert big.results(plan, [DATES[2]]) == want
    assert on[2:] == [("MainThread", "tally")] * tallies
    big.release()


def test_duckdb_runs_each_tally_query_while_the_last_ones_kpis_are_made(rules, folder: Path,
                                                                      monkeypatch):
    """The results' queries (one per record type) run on a thread, one after the other on
    the engine's connection, while the KPIs of the query before are made in Python; the
    results are those of the Python engine, and what a query raises is raised by
    ``results`` (an unrepresentable value: evaluated by the Python engine instead); an error
    while a query runs waits for it."""
    import threading

    from kpidsl.engines import Unrepresentable
    from kpidsl.engines import duckdb as engine
    from kpidsl.plan.lower import lower

    plan, on = lower(rules), []
    real = engine.DuckDBEngine._tuples

    def noted(self, sql):
        on.append(threading.current_thread().name)
        return real(self, sql)

    monkeypatch.setattr(engine.DuckDBEngine, "_tuples", noted)
    loaded = engine.DuckDBEngine().load(folder)
    months = kpidsl.api.month_ends(dt.date(2024, 1, 1), dt.date(2025, 12, 31))
    python = history(rules, folder, months, engine="python")
    assert list(loaded.results(plan, months).items()) == python
    assert len(on) >= 2 and set(on) == {"kpidsl-tally"}

    def unrepresentable(self, sql):
        if on:
            raise Unrepresentable("Conversion Error: the value is out of range")
        on.append(sql)
        return real(self, sql)

    on.clear()
    monkeypatch.setattr(engine.DuckDBEngine, "_tuples", unrepresentable)
    with pytest.raises(Unrepresentable, match="out of range"):
        loaded.results(plan, months)
    loaded.release()
    on.clear()
    monkeypatch.setattr("kpidsl.engines.run.SMALL", 0)  # the folder is read by DuckDB first
    report = kpidsl.evaluate(rules, folder, as_of=DATES[2])
    assert report.engine == "python"
    assert report == kpidsl.evaluate(rules, folder, as_of=DATES[2], engine="python")

    def broken(*args):
        raise RuntimeError("a bug while the next query runs")

    monkeypatch.setattr(engine.DuckDBEngine, "_tuples", noted)
    monkeypatch.setattr("kpidsl.engines.sqlengine._kpi_results", broken)
    loaded = engine.DuckDBEngine().load(folder)
    with pytest.raises(RuntimeError, match="a bug"):
        loaded.results(plan, months)
    # the query under way was waited for before the error went on
    assert not [t for t in threading.enumerate() if t.name == "kpidsl-tally"]
    loaded.release()


def test_history_in_one_pass_equals_one_evaluation_per_month(rules, folder: Path):
    months = kpidsl.api.month_ends(dt.date(2024, 1, 1), dt.date(2025, 12, 31))
    duck = history(rules, folder, months, engine="duckdb")
    python = history(rules, folder, months, engine="python")
    assert [d for d, _ in duck] == months
    assert duck == python


CHANGING = '''
schedule review:
  year starts: 1 April
  Q1: 30 June
  Q2: 30 September
  Q3: 31 December
  Q4: 31 March

table rate by size:
  from 2022-04-01:
    large: 30%
    sme: 10%
  from 2024-07-15:
    large: 25%
    sme: 10%

define size for employer:
  large when employees >= 250
  sme otherwise

define done for learner: completion_date is set
define due for learner: completion_date + 2 months

kpi paid:
  title: "Paid at the rate in force, pending until due or in Q4"
  population: learners where learner_type = co_funded and milestone1_date is set
  counted when: sum(payments.amount_paid) >= bootcamp.course_cost * rate(employer.size)
  pending when: as_of < due or review = Q4
  target: at least 50%

kpi offered:
  title: "Offered by completion, or many peers done"
  population: learners where done and bootcamp.end_date is set
  counted when: count(interviews where offer_date <= learner.completion_date) >= 1
  pending when: as_of <= completion_date + 1 month and review.date >= 2024-01-01
  target: at least 50%

kpi peers:
  title: "Many learners done, few withdrawn"
  population: bootcamps where end_date is set
  counted when: count(learners where done) > 12 and count(learners where withdrawal_date is set) < 5
  target: at least 50%

kpi engaged:
  title: "Engaged a month ago"
  population: engagements where reached
  counted when: role_confirmed and bootcamp.start_date is set
    and as_of >= recorded_date + 1 month
  target: at least 50%
'''

UNBOUNDED = '''
define first_offer for learner: earliest(interviews.offer_date)

kpi late:
  title: "As of compared with a date from a list"
  population: learners where completion_date is set
  counted when: as_of >= first_offer + 1 month
  target: at least 50%
'''

#: Populations that do not all need a dated field set (either of two, one missing, one
#: compared with as_of), so that a history works every learner out on its first date, and
#: days that KPIs with different needs read alike.
UNGUARDED = '''
define done for learner: completion_date is set

kpi left:
  title: "Done or withdrawn, assessed"
  population: learners where done or withdrawal_date is set
  counted when: initial_assessment_date is set
  target: at least 50%

kpi waiting:
  title: "Not started, referred"
  population: learners where milestone1_date is missing
  counted when: referral_date is set
  target: at least 50%

kpi assessed:
  title: "Done a month ago, assessed twice"
  population: learners where as_of >= completion_date + 1 month
    and learner_type in {independent, co_funded}
  counted when: initial_assessment_date is set and final_assessment_date is set
  pending when: withdrawal_date is missing
  target: at least 50%

kpi paid:
  title: "Paid after Milestone 1"
  population: learners where milestone1_date is set and learner_type = co_funded
  counted when: sum(payments.amount_paid) >= bootcamp.course_cost and withdrawal_date is missing
  target: at least 50%
'''

#: Ascending dates with neighbours a day apart around the days the rules above name.
UNEVEN = [dt.date(2023, 6, 30), dt.date(2023, 12, 31), dt.date(2024, 1, 1),
          dt.date(2024, 1, 31), dt.date(2024, 3, 31), dt.date(2024, 4, 1),
          dt.date(2024, 7, 14), dt.date(2024, 7, 15), dt.date(2024, 8, 31),
          dt.date(2024, 9, 30), dt.date(2024, 10, 1), dt.date(2025, 2, 28),
          dt.date(2025, 3, 1), dt.date(2025, 6, 30), dt.date(2026, 1, 31)]


@pytest.mark.parametrize(("text", "sparse"), [(CHANGING, {"learner", "engagement", "bootcamp"}),
                                              (UNGUARDED, {"learner"}),
                                              (UNBOUNDED, set())],
                         ids=["bounded", "unguarded", "unbounded"])
def test_a_history_works_records_out_only_where_they_may_change(tmp_path: Path, text: str,
                                                                sparse: set[str]):
    """In a history the SQL engines work a record out again only on the dates after something
    it reads may have changed (a dated field, a related record, a table's version, a
    schedule's point, the day after a date compared with as_of), and otherwise on every
    date; either way, on irregular dates, the Python engine's results for every date, on
    each SQL engine (their dialects write the change queries alike)."""
    from kpidsl.engines.sql import QueryBuilder
    from kpidsl.plan.lower import lower

    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "k.kpi").write_text(text, encoding="utf-8")
    rules = kpidsl.load_rules(tmp_path / "rules")
    assert QueryBuilder(lower(rules), UNEVEN).sparse == sparse
    data = tmp_path / "data"
    write_data(generate(1500, seed=5), data)
    for dates in (UNEVEN, kpidsl.api.month_ends(dt.date(2023, 1, 1), dt.date(2026, 6, 30))):
        want = history(rules, data, dates, engine="python")
        for name in ("duckdb", "sqlite", "postgres"):
            assert history(rules, data, dates, engine=choice(name)) == want, name


def test_a_history_works_a_learner_out_only_from_the_days_its_kpis_can_count_it(tmp_path):
    """Every learner KPI's population needs Milestone 1 or completion, so a history's first
    date works out only the learners with a day by then, and a day read only by KPIs whose
    population needs a later one (an assessment or a payment before it) is no date to work a
    learner out on; a deadline compared as ``as_of <= deadline`` and ``as_of > deadline``
    matters the day after it, not on the day itself. The results are the Python engine's all
    the same."""
    from cohort import co_funded, completer, dataset, learner, payment, starter, withdrawn
    from kpidsl.engines.duckdb import DuckDBEngine
    from kpidsl.plan.lower import lower

    ds = dataset([learner("L1"),  # never starts: no day at all
                  starter("L2", milestone1_date="2024-03-10"),
                  completer("L3", initial_assessment_date="2024-02-05",
                            final_assessment_date="2024-06-20", skills_gained=True),
                  withdrawn("L4", when="2024-04-02"),
                  co_funded("L5", milestone1_date="2024-05-05"),
                  completer("L6", completion="2024-08-31")],  # deadline 28 February
                 payments=[payment("L5", "500.00", paid="2024-02-01")])
    write_data(ds, tmp_path)
    rules = fixture_rules()
    months = kpidsl.api.month_ends(dt.date(2024, 1, 1), dt.date(2025, 3, 31))
    loaded = DuckDBEngine().load(tmp_path)
    loaded._builder(lower(rules), months)
    pairs = {(r["learner_id"], r["_as_of"].isoformat())
             for r in loaded._rows("SELECT * FROM learner__e")}
    # Milestone 1 on 15 January (L3, L4, L6), completion on 30 June (L3, L5) and the day
    # after its deadline six months on, a withdrawal, a Milestone 1 in March (L2) or in May
    # (L5), a completion on 31 August, whose deadline's next day is 1 March
    assert pairs == {("L2", "2024-03-31"),
                     ("L3", "2024-01-31"), ("L3", "2024-06-30"), ("L3", "2024-12-31"),
                     ("L4", "2024-01-31"), ("L4", "2024-04-30"),
                     ("L5", "2024-05-31"), ("L5", "2024-06-30"), ("L5", "2024-12-31"),
                     ("L6", "2024-01-31"), ("L6", "2024-08-31"), ("L6", "2025-03-31")}
    assert history(rules, tmp_path, months, engine="duckdb") == \
        history(rules, tmp_path, months, engine="python")


@pytest.mark.parametrize("as_of", DATES[1:4], ids=str)
def test_every_engine_explains_every_record_alike(folder: Path, as_of):
    """``explain`` from the SQL of the DuckDB engine: the same verdicts, deciding clauses
    and values read as the Python engine's, for every KPI, in the programme, one bootcamp
    and one provider."""
    from kpidsl.outputs.jsonout import verdict_json

    rules = fixture_rules()
    bootcamps = kpidsl.load_data(folder).bootcamps
    groups = ["all", bootcamps[5].bootcamp_id, bootcamps[5].provider_id]
    kpis = [k.name for k in rules.kpis]
    seen = set()
    for group in groups:
        per_bootcamp = [k for k in kpis if rules.kpi(k).per is None or group != groups[1]]
        whys = {engine: kpidsl.api.explanations(rules, folder, per_bootcamp, group, as_of,
                                                engine=engine)
                for engine in ("python", "duckdb")}
        for k, py, duck in zip(per_bootcamp, whys["python"], whys["duckdb"], strict=True):
            assert duck.result == py.result, (k, group)
            assert [verdict_json(v) for v in duck.verdicts] == \
                [verdict_json(v) for v in py.verdicts], (k, group)
            assert duck.verdicts == py.verdicts, (k, group)  # the values themselves too
            seen |= {v.verdict for v in py.verdicts}
    assert {"counted", "not counted", "pending"} <= seen  # every kind of reason is compared


def test_explain_and_evaluate_explain_run_on_the_engine_asked_for(capsys, folder: Path):
    outs = {}
    for engine in ("python", "duckdb"):
        assert cli.main(["explain", "learner_dropout", "--data", str(folder), "--as-of",
                         "2025-03-31", "--format", "json", "--engine", engine]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert doc["audit"]["engine"] == engine
        assert cli.main(["evaluate", "--data", str(folder), "--as-of", "2025-03-31",
                         "--format", "json", "--explain", "--kpi", "referral", "--engine",
                         engine]) == 0
        outs[engine] = (doc["records"], json.loads(capsys.readouterr().out)["explanations"])
    assert outs["python"] == outs["duckdb"]
    assert outs["python"][0] and outs["python"][1]["referral"]


def test_an_engagement_recorded_later_is_masked_by_every_engine(rules, tmp_path: Path):
    data = generate(300, seed=2)
    dated = [e if i % 2 else type(e)(**{**_fields(e), "recorded_date": dt.date(2025, 1, 15)})
             for i, e in enumerate(data.engagements)]
    write_data(kpidsl.Dataset(**{**_tables(data), "engagements": dated}), tmp_path)
    for as_of in (dt.date(2025, 1, 14), dt.date(2025, 1, 15)):
        reports = [kpidsl.evaluate(rules, tmp_path, as_of=as_of, engine=e).results
                   for e in ("python", "duckdb")]
        assert reports[0] == reports[1]
    before, after = (kpidsl.evaluate(rules, tmp_path, as_of=d).result("employer_engagement")
                     for d in (dt.date(2025, 1, 14), dt.date(2025, 1, 15)))
    assert before.denominator < after.denominator


def _fields(record) -> dict:
    import attrs
    return {a.name: getattr(record, a.name) for a in attrs.fields(type(record))
            if a.name != "line"}


def _tables(data: kpidsl.Dataset) -> dict:
    return {t: getattr(data, t) for t in ("providers", "bootcamps", "employers", "engagements",
                                          "learners", "interviews", "payments", "profiles")}


def _errors(rules: kpidsl.RuleSet, bad: Path) -> dict[str, str]:
    """The data errors each engine gives for the folder ``bad``."""
    errors = {}
    for engine in ("python", "duckdb"):
        with pytest.raises(kpidsl.DataError) as e:
            kpidsl.evaluate(rules, bad, as_of=DATES[2], engine=engine)
        errors[engine] = e.value.render()
    return errors


def test_a_bad_folder_gives_the_loaders_exact_errors(rules, folder: Path, tmp_path: Path):
    bad = tmp_path / "bad"
    shutil.copytree(folder, bad)
    text = (bad / "learners.csv").read_text(encoding="utf-8").splitlines()
    cells = text[5].split(",")
    cells[4] = "2024-02-30"  # start_date
    text[5] = ",".join(cells)
    (bad / "learners.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    errors = _errors(rules, bad)
    assert errors["duckdb"] == errors["python"]
    assert "learners.csv:6" in errors["python"] and "2024-02-30" in errors["python"]


@pytest.mark.parametrize(("file", "column"), [("engagements.csv", 0), ("learners.csv", 1),
                                              ("bootcamps.csv", 2), ("employers.csv", 2)])
def test_an_empty_required_cell_gives_the_loaders_error(rules, folder: Path, tmp_path: Path,
                                                         file: str, column: int):
    """Found by the fuzzer: a required text cell left empty must not pass the SQL check."""
    bad = tmp_path / "bad"
    shutil.copytree(folder, bad)
    lines = (bad / file).read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    cells[column] = ""
    lines[1] = ",".join(cells)
    (bad / file).write_text("\n".join(lines) + "\n", encoding="utf-8")
    errors = _errors(rules, bad)
    assert errors["duckdb"] == errors["python"]
    assert "missing required value" in errors["python"]


def test_blank_rows_and_cells_over_lines_are_read_like_the_python_loader(rules, folder: Path,
                                                                        tmp_path: Path):
    odd = tmp_path / "odd"
    shutil.copytree(folder, odd)
    text = (odd / "bootcamps.csv").read_text(encoding="utf-8").splitlines()
    cells = text[1].split(",")
    cells[2] = '"A title\nover two lines"'
    text[1] = ",".join(cells)
    (odd / "bootcamps.csv").write_text("\n".join([*text[:3], "", *text[3:]]) + "\n",
                                       encoding="utf-8")
    python = kpidsl.evaluate(rules, odd, as_of=DATES[2], engine="python")
    duck = kpidsl.evaluate(rules, odd, as_of=DATES[2], engine="duckdb")
    assert (duck.results, duck.findings, duck.actions) == \
        (python.results, python.findings, python.actions)


def test_the_printed_sql_computes_the_engines_counts(rules, folder: Path):
    """What an analyst does: create the contract's tables, load the data, run the query."""
    as_of = DATES[2]
    con = duckdb.connect()
    con.execute(schema("duckdb"))
    for t in ("providers", "bootcamps", "employers", "engagements", "learners", "interviews",
              "cofunding"):
        con.execute(f"INSERT INTO {t} BY NAME SELECT * FROM read_csv(?, header = true)",
                    [str(folder / f"{t}.csv")])
    con.execute("INSERT INTO profiles SELECT provider_id, CAST(month || '-01' AS DATE), "
                "planned_starts FROM read_csv(?, header = true, all_varchar = true)",
                [str(folder / "profiles.csv")])
    report = kpidsl.evaluate(rules, folder, as_of=as_of, engine="python")
    for kpi in [k.name for k in rules.kpis]:
        rows = con.execute(kpi_sql(rules, kpi, as_of)).fetchall()
        got = {(scope, group): (n, k, p) for _, scope, group, n, k, p in rows}
        want = {(r.scope, r.group): (r.denominator, r.numerator, r.pending)
                for r in report.results if r.kpi == kpi}
        assert got == want, kpi


@pytest.mark.parametrize("dialect", ["spark", "postgres", "tsql", "bigquery", "snowflake"])
def test_sql_for_other_dialects_is_printed(capsys, dialect: str):
    assert cli.main(["sql", "career_progression", "--as-of", "2025-03-31",
                     "--dialect", dialect]) == 0
    out = capsys.readouterr().out
    assert out.startswith("-- career_progression as of 2025-03-31")
    assert "learners" in out and "denominator" in out
    assert cli.main(["sql", "--schema", "--dialect", dialect]) == 0
    assert "CREATE TABLE learners" in capsys.readouterr().out


def test_the_printed_sql_states_the_rules_clauses(capsys):
    """An analyst reading the query sees first what it computes, in the rule's own words
    (rules/03_learner_dropout.kpi)."""
    assert cli.main(["sql", "learner_dropout", "--as-of", "2025-03-31"]) == 0
    assert capsys.readouterr().out.splitlines()[2:6] == [
        "-- population: learners where milestone1_starter",
        "-- counted when: withdrawal_date is set",
        "-- pending when: withdrawal_date is missing and completion_date is missing",
        "-- target: at most 20%"]


def test_sql_usage_errors(capsys):
    assert cli.main(["sql", "learner_dropout", "--dialect", "postgress"]) == 2
    assert capsys.readouterr().err == ("kpidsl sql: error: unknown dialect 'postgress'; did you "
                                       "mean `postgres`?\n")
    assert cli.main(["sql"]) == 2
    # found by the fuzzer: a KPI measured per provider has no records to list
    assert cli.main(["sql", "delivery_against_profile", "--records"]) == 2
    assert "measured per provider" in capsys.readouterr().err


def test_the_command_line_chooses_the_engine(capsys, folder: Path):
    outs = {}
    for engine in ("python", "duckdb"):
        assert cli.main(["evaluate", "--data", str(folder), "--as-of", "2025-03-31",
                         "--format", "json", "--engine", engine]) == 0
        outs[engine] = json.loads(capsys.readouterr().out)
    assert [outs[e].pop("audit")["engine"] for e in ("python", "duckdb")] == ["python", "duckdb"]
    assert outs["python"] == outs["duckdb"]


def test_spark_without_pyspark_or_java_says_what_to_install(capsys, folder: Path,
                                                             monkeypatch):
    import builtins
    import sys

    real_import = builtins.__import__

    def no_pyspark(name: str, *args, **kwargs):
        if name.startswith("pyspark"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyspark)
    monkeypatch.delitem(sys.modules, "pyspark.sql", raising=False)
    for command in (["evaluate", "--data", str(folder)],
                    ["explain", "learner_dropout", "--data", str(folder)]):
        assert cli.main([*command, "--engine", "spark"]) == 2
        err = capsys.readouterr().err
        assert "needs pyspark" in err and "kpidsl[spark]" in err and "Traceback" not in err
    monkeypatch.setattr(builtins, "__import__", real_import)
    pytest.importorskip("pyspark")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    assert cli.main(["evaluate", "--data", str(folder), "--engine", "spark"]) == 2
    assert "needs Java" in capsys.readouterr().err


def test_every_plan_construct_has_a_method_in_every_engine():
    """One class per construct in the plan, and each engine says what it does with each
    (the SQL generator may refuse one with a located message, never forget it)."""
    import inspect

    from kpidsl.engines import python
    from kpidsl.engines.sql import compiler
    from kpidsl.plan import nodes

    constructs = [c for _, c in inspect.getmembers(nodes, inspect.isclass)
                  if issubclass(c, nodes.Expr) and c is not nodes.Expr]
    assert len(constructs) >= 25
    for engine in (python.Compiler, compiler.Compiler):
        missing = [c.__name__ for c in constructs if not hasattr(engine, f"visit_{c.__name__}")]
        assert missing == [], engine


def test_a_rule_sql_cannot_compute_exactly_is_a_located_error(tmp_path: Path, folder: Path):
    """A sum of shares, each over its own denominator, has no exact SQL form here."""
    (tmp_path / "k.kpi").write_text(
        "define share for payment: amount_paid / learner.bootcamp.course_cost\n"
        'kpi k:\n  title: "K"\n  population: learners\n'
        "  counted when: sum(payments.share) >= 0.1\n"
        "  target: at least 1%\n", encoding="utf-8")
    with pytest.raises(kpidsl.RuleError) as e:
        kpidsl.evaluate(kpidsl.load_rules(tmp_path), folder, as_of=DATES[2], engine="duckdb")
    text = e.value.render()
    assert "k.kpi:5:" in text and "cannot compute this exactly" in text
    assert "--engine python" in text
    python = kpidsl.evaluate(kpidsl.load_rules(tmp_path), folder, as_of=DATES[2],
                             engine="python")
    assert python.result("k").denominator > 0


@pytest.mark.parametrize("engine", ["duckdb", "sqlite"])
def test_every_engine_reads_the_groups_names(rules, engine: str):
    """The reports name each group beside its id (issue 21, item 8), whichever engine read
    the data: each bootcamp's title and each provider's name, as the Python engine has them."""
    sample = Path(__file__).resolve().parent.parent / "examples" / "sample"
    python = kpidsl.evaluate(rules, sample, as_of="2025-03-31", engine="python").names
    assert python[("provider", "P002")] == "Dudley Training Ltd"
    assert python[("bootcamp", "BC0002")] == "Rail Engineering"
    assert len(python) == 7  # 2 providers, 5 bootcamps
    assert kpidsl.evaluate(rules, sample, as_of="2025-03-31", engine=engine).names == python
