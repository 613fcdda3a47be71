"""Evaluating inside a database of one's own (issue 19): ``kpidsl load`` into SQLite and a real
PostgreSQL server, ``--data URL`` on every command, the contract checked in SQL with located
errors, all or nothing, and the SQL ``kpidsl sql`` prints running there with the same counts.

PostgreSQL runs from the OS package (``tests/pg.py``): skipped where it is absent, a failure
under ``CI=true``. The semantics cases, the differential and the protocol run on both
databases too (``conftest.ENGINES``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

import kpidsl
import pg
from cohort import FIXTURE_RULES, fixture_rules
from kpidsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample"
AS_OF = "2025-03-31"


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kpi.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind."""
    return sqlite_url(tmp_path) if request.param == "sqlite" else pg.fresh_database()


def counts(report: kpidsl.Report) -> dict[tuple[str, str, str], tuple[object, ...]]:
    return {(r.kpi, r.scope, r.group): (r.status, r.numerator, r.denominator, r.pending)
            for r in report.results}


def test_load_then_evaluate_in_the_database(url: str, tmp_path: Path, capsys):
    """The sample loaded, then every KPI evaluated in the database: the Python engine's
    results and findings, on the database's engine; --engine python reads the database."""
    rules = ["--rules", str(FIXTURE_RULES)]
    assert main(["load", str(SAMPLE), "--into", url]) == 0
    assert "loaded 2 providers, 5 bootcamps, 150 learners" in capsys.readouterr().out
    want = kpidsl.evaluate(fixture_rules(), SAMPLE, AS_OF, engine="python")
    got = kpidsl.evaluate(fixture_rules(), url, AS_OF)
    assert got.engine == url.partition(":")[0].replace("postgresql", "postgres")
    assert got.results == want.results
    assert [f.message for f in got.findings] == [f.message for f in want.findings]
    assert kpidsl.evaluate(fixture_rules(), url, AS_OF, engine="python").results == \
        want.results
    for command in (["history", "--from", "2025-01", "--to", "2025-03"],
                    ["explain", "learner_dropout", "--as-of", AS_OF],
                    ["evaluate", "--as-of", AS_OF, "--record", str(tmp_path / "ev")]):
        assert main([*command, "--data", url, *rules]) == 0
    assert "learner L" in capsys.readouterr().out
    assert main(["verify", str(tmp_path / "ev"), "--data", url]) == 0
    assert "REPRODUCED" in capsys.readouterr().out
    assert main(["diff", str(FIXTURE_RULES), str(FIXTURE_RULES), "--data", url, "--as-of",
                 AS_OF]) == 0


def test_a_database_is_refused_or_replaced_whole(url: str, tmp_path: Path):
    data = kpidsl.load_data(SAMPLE)
    kpidsl.api.load_into(data, url)
    with pytest.raises(kpidsl.UsageError, match="has the contract's tables already"):
        kpidsl.api.load_into(data, url)
    fewer = attrs.evolve(data, learners=data.learners[:10], interviews=(), cofunding=())
    kpidsl.api.load_into(fewer, url, replace=True)
    got = kpidsl.evaluate(fixture_rules(), url, AS_OF, engine="python")
    assert got.results == kpidsl.evaluate(fixture_rules(), fewer, AS_OF).results


def test_a_failed_load_leaves_the_database_as_it_was(tmp_path: Path):
    """SQLite keeps money in whole pence: an amount finer than a penny is refused before
    anything is written."""
    url = sqlite_url(tmp_path)
    data = kpidsl.load_data(SAMPLE)
    kpidsl.api.load_into(data, url)
    fine = attrs.evolve(data.cofunding[0], amount_paid=Decimal("10.005"))
    with pytest.raises(kpidsl.DataError, match="finer than a penny"):
        kpidsl.api.load_into(attrs.evolve(data, cofunding=(fine, *data.cofunding[1:])), url,
                             replace=True)
    con = sqlite3.connect(tmp_path / "kpi.db")
    assert con.execute("SELECT count(*) FROM learners").fetchone() == (150,)


#: A trigger that rejects one learner, in each database's own words.
TRIGGERS = {
    "sqlite": "CREATE TRIGGER embargo BEFORE INSERT ON learners WHEN NEW.learner_id = "
              "'L000003' BEGIN SELECT RAISE(ABORT, 'learner L000003 is embargoed'); END",
    "postgres": "CREATE FUNCTION embargo() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF "
                "NEW.learner_id = 'L000003' THEN RAISE EXCEPTION 'learner L000003 is "
                "embargoed'; END IF; RETURN NEW; END $$; CREATE TRIGGER embargo BEFORE INSERT "
                "ON learners FOR EACH ROW EXECUTE FUNCTION embargo()"}


def _dialect(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgres"


def _execute(url: str, *statements: str) -> None:
    with _connected(url) as con:
        for sql in statements:
            con.cursor().execute(sql)
        if _dialect(url) == "sqlite":
            con.commit()


def _learners(url: str) -> int:
    with _connected(url) as con:
        cur = con.cursor()
        cur.execute("SELECT count(*) FROM learners")
        return int(cur.fetchone()[0])


def test_what_the_database_refuses_is_a_plain_error_and_changes_nothing(url: str, capsys):
    """A row its own trigger rejects half way through (exit 1, at the table), a table there
    already with other columns (exit 2, before anything is written): errors for people, no
    internal error, and the database as it was."""
    assert main(["load", str(SAMPLE), "--into", url]) == 0
    _execute(url, TRIGGERS[_dialect(url)])
    for data in (str(SAMPLE), kpidsl.load_data(SAMPLE)):  # a folder (COPY), and records
        with pytest.raises(kpidsl.DataError) as e:
            kpidsl.api.load_into(data, url, replace=True)
        text = e.value.render()
        assert text.startswith("learners: error: the database refused the data: ")
        assert "learner L000003 is embargoed" in text and "nothing was written" in text
    assert main(["load", str(SAMPLE), "--into", url, "--replace"]) == 1
    assert "internal error" not in capsys.readouterr().err
    assert _learners(url) == 150
    _execute(url, "DROP TRIGGER embargo" + (" ON learners" if _dialect(url) == "postgres"
                                            else ""),
             "ALTER TABLE profiles RENAME COLUMN planned_starts TO planned")
    assert main(["load", str(SAMPLE), "--into", url, "--replace"]) == 2
    assert "table profiles is not the contract's: it has no column planned_starts" in \
        capsys.readouterr().err
    assert _learners(url) == 150


def test_a_locked_sqlite_file_is_a_plain_error(tmp_path: Path, capsys):
    """Another program writing to the file: load and evaluate wait (5 s), then say so."""
    url = sqlite_url(tmp_path)
    assert main(["load", str(SAMPLE), "--into", url]) == 0
    other = sqlite3.connect(tmp_path / "kpi.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        assert main(["load", str(SAMPLE), "--into", url, "--replace"]) == 2
        assert "database is locked; another program is using the database" in \
            capsys.readouterr().err
        assert main(["evaluate", "--data", url, "--as-of", AS_OF, "--rules",
                     str(FIXTURE_RULES)]) == 2
        err = capsys.readouterr().err
        assert "cannot evaluate in the database: database is locked" in err
        assert "internal error" not in err
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert _learners(url) == 150


def test_a_sqlite_url_that_cannot_be_loaded_into_is_refused(tmp_path: Path, capsys):
    """A folder that does not exist, an in-memory database (gone when kpidsl ends), a
    schema (SQLite has none); and a load that fails into a new file leaves no file."""
    for into, said in ((f"sqlite:///{tmp_path}/nonexist/x.db", "no such folder"),
                       ("sqlite:///:memory:", "an in-memory database is gone"),
                       (f"sqlite:///{tmp_path}/a.db?schema=main", "SQLite has no schemas"),
                       (f"sqlite:///{tmp_path}/a.db?schema=other", "SQLite has no schemas")):
        assert main(["load", str(SAMPLE), "--into", into]) == 2, into
        assert said in capsys.readouterr().err
    returns = ROOT / "examples" / "ilr"
    assert main(["load", str(returns), "--into", f"sqlite:///{tmp_path}/b.db", "--rules",
                 str(FIXTURE_RULES)]) == 1
    assert not (tmp_path / "b.db").exists() and not (tmp_path / "a.db").exists()


@pytest.mark.parametrize(("change", "expected"), [
    ("UPDATE learners SET learner_type = 'cofunded' WHERE learner_id = 'L000003'",
     "learners:learner_id=L000003: error: Learner L000003: learner_type: 'cofunded' is not "
     "one of independent, co_funded, self_employed"),
    ("UPDATE learners SET bootcamp_id = 'NOPE' WHERE learner_id = 'L000003'",
     "learners:learner_id=L000003: error: Learner L000003: bootcamp_id: no bootcamp has "
     "bootcamp_id 'NOPE'"),
    ("DROP INDEX bootcamps_bootcamp_id_idx; "  # (kpidsl load makes keys unique)
     "UPDATE bootcamps SET bootcamp_id = 'BC0001' WHERE bootcamp_id = 'BC0002'",
     "bootcamps:bootcamp_id=BC0001: error: duplicate bootcamp: bootcamp_id 'BC0001' appears "
     "more than once"),
    ("UPDATE learners SET skills_gained = 'true' WHERE learner_id = 'L000003'",
     "learners:learner_id=L000003: error: Learner L000003: skills_gained: 'true' is not 0 or "
     "1"),
    ("UPDATE learners SET start_date = '2024-02-30' WHERE learner_id = 'L000003'",
     "learners:learner_id=L000003: error: Learner L000003: start_date: '2024-02-30' is not a "
     "date written YYYY-MM-DD (text)"),
    ("DROP TABLE interviews", "interviews: error: table interviews does not exist"),
    *((f"UPDATE learners SET start_date = {value} WHERE learner_id = 'L000003'",
       f"learners:learner_id=L000003: error: Learner L000003: start_date: {shown} is not a "
       "date written YYYY-MM-DD (text)")  # Python 3.11's date.fromisoformat takes these
      for value, shown in (("'20240308'", "'20240308'"), ("'2024W105'", "'2024W105'"),
                           ("'2024-W10'", "'2024-W10'"), ("20240308", "'20240308'"))),
])
def test_a_row_that_breaks_the_contract_is_located(tmp_path: Path, capsys, change: str,
                                                    expected: str):
    url = sqlite_url(tmp_path)
    kpidsl.api.load_into(kpidsl.load_data(SAMPLE), url)
    con = sqlite3.connect(tmp_path / "kpi.db")
    con.executescript(change)
    con.commit()
    con.close()
    assert main(["evaluate", "--data", url, "--as-of", AS_OF, "--rules",
                 str(FIXTURE_RULES)]) == 1
    assert expected in capsys.readouterr().err


def test_postgres_checks_types_and_values():
    url = pg.fresh_database()
    kpidsl.api.load_into(kpidsl.load_data(SAMPLE), url)
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute("UPDATE learners SET outcome = 'new_jobs' WHERE learner_id = 'L000002'")
        con.execute("ALTER TABLE profiles ALTER COLUMN planned_starts TYPE text")
    with pytest.raises(kpidsl.DataError) as e:
        kpidsl.evaluate(fixture_rules(), url, AS_OF)
    text = e.value.render()
    assert "profiles: error: column planned_starts is text, which cannot hold integer" in text


def test_the_exported_sql_runs_in_the_database_with_the_same_counts(url: str, capsys):
    """``kpidsl sql KPI --dialect D`` on the tables ``kpidsl load`` wrote: the counts
    ``evaluate`` gives."""
    kpidsl.api.load_into(kpidsl.load_data(SAMPLE), url)
    dialect = "sqlite" if url.startswith("sqlite") else "postgres"
    report = kpidsl.evaluate(fixture_rules(), SAMPLE, AS_OF)
    with _connected(url) as con:
        for kpi in ("learner_dropout", "career_progression", "employer_cofunding"):
            assert main(["sql", kpi, "--dialect", dialect, "--as-of", AS_OF, "--rules",
                         str(FIXTURE_RULES)]) == 0
            cur = con.cursor()
            cur.execute(capsys.readouterr().out.rstrip().rstrip(";"))
            names = [d[0] for d in cur.description]
            got = {(row["scope"], row["group_id"]): (int(row["denominator"]),
                                                     int(row["numerator"]),
                                                     int(row["pending"]))
                   for row in (dict(zip(names, r, strict=True)) for r in cur.fetchall())}
            want = {(r.scope.value, r.group): (r.denominator, r.numerator, r.pending)
                    for r in report.results if r.kpi == kpi}
            assert got == want, kpi


@contextlib.contextmanager
def _connected(url: str) -> Iterator[Any]:
    if url.startswith("sqlite"):
        con: Any = sqlite3.connect(url[len("sqlite:///"):])
    else:
        import psycopg

        con = psycopg.connect(url, autocommit=True)
    try:
        yield con
    finally:
        con.close()


def test_sql_names_the_dialects_it_is_tested_on(capsys):
    assert main(["sql", "learner_dropout", "--dialect", "tsql", "--rules",
                 str(FIXTURE_RULES)]) == 0
    assert "-- UNTESTED in tsql" in capsys.readouterr().out
    assert main(["sql", "learner_dropout", "--dialect", "sqlite", "--rules",
                 str(FIXTURE_RULES)]) == 0
    assert "UNTESTED" not in capsys.readouterr().out
    assert main(["sql", "--schema", "--dialect", "tsql"]) == 0
    assert capsys.readouterr().out.startswith("-- UNTESTED in tsql: ")
    for dialect, how in (("duckdb", "-- DuckDB: dates as DATE, yes/no as BOOLEAN"),
                         ("spark", "-- Spark: dates as DATE, yes/no as BOOLEAN"),
                         ("sqlite", "-- SQLite: dates as YYYY-MM-DD text"),
                         ("postgres", "-- PostgreSQL: dates as DATE")):
        assert main(["sql", "--schema", "--dialect", dialect]) == 0
        out = capsys.readouterr().out
        assert how in out and "UNTESTED" not in out, dialect
    from kpidsl.engines.sql.render import Untranslatable, render

    with pytest.raises(Untranslatable, match="sqlite"):
        render("SELECT * FROM (VALUES (1)) AS v(a)", "sqlite")


def test_a_query_is_rendered_once_by_threads_that_ask_for_it_together(monkeypatch):
    """An evaluation in a database makes the same views for its results and, on a thread
    beside them, its findings and actions: each is rendered once (sqlglot takes 10-20 ms a
    query), the same for every thread, whichever asks first."""
    import threading
    import uuid

    import sqlglot

    from kpidsl.engines.sql.render import render

    parsed = []
    real = sqlglot.parse_one

    def parse_one(sql, **kwargs):
        parsed.append(sql)
        return real(sql, **kwargs)

    monkeypatch.setattr(sqlglot, "parse_one", parse_one)
    sql = f"SELECT '{uuid.uuid4()}' AS a, start_date + INTERVAL 6 MONTH AS b FROM learners"
    got: list[str] = []
    threads = [threading.Thread(target=lambda: got.append(render(sql, "postgres", False)))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert parsed.count(sql) == 1  # (sqlglot parses some of its own on a first use)
    assert len(got) == 4 and len(set(got)) == 1
    assert "CAST(start_date + INTERVAL '6 MONTH' AS DATE)" in got[0]


def test_connections_of_ones_own(tmp_path: Path):
    """A ``sqlite3`` or psycopg connection is evaluated on as a DuckDB one is."""
    url = sqlite_url(tmp_path)
    kpidsl.api.load_into(kpidsl.load_data(SAMPLE), url)
    want = kpidsl.evaluate(fixture_rules(), SAMPLE, AS_OF).results
    con = sqlite3.connect(tmp_path / "kpi.db")
    assert kpidsl.evaluate(fixture_rules(), None, AS_OF, engine=con).results == want
    when = dt.date.fromisoformat(AS_OF)
    assert kpidsl.history(fixture_rules(), None, [when], engine=con)[0][1] == list(want)
    con.close()
    url = pg.fresh_database()
    kpidsl.api.load_into(kpidsl.load_data(SAMPLE), url)
    with _connected(url) as pcon:
        assert kpidsl.evaluate(fixture_rules(), None, AS_OF, engine=pcon).results == want


def test_postgres_works_out_the_findings_and_actions_beside_the_results(monkeypatch):
    """On a connection kpidsl opened from a URL, the findings and actions are worked out on a
    second connection of its own (another server process), on a thread, making the views
    it needs there; what it raises is raised where they are wanted, and ``release`` waits
    for it. On a caller's connection, or when the server refuses a second one, they are
    worked out on the one connection when wanted, the same."""
    import threading

    import psycopg

    from kpidsl.engines import connection, database
    from kpidsl.plan.lower import lower

    url = pg.fresh_database()
    kpidsl.api.load_into(SAMPLE, url)
    plan, when, on = lower(fixture_rules()), dt.date.fromisoformat(AS_OF), []
    real = database.DatabaseEngine._entries

    def noted(self, qb, kind, rows):
        on.append((threading.current_thread().name, self.con.info.backend_pid, kind))
        return real(self, qb, kind, rows)

    monkeypatch.setattr(database.DatabaseEngine, "_entries", noted)
    con, _, tables = connection.connect(url)
    loaded = database.PostgresEngine(con, tables).load(None)
    mine = con.info.backend_pid
    findings, actions = loaded.entries_soon(plan, when)()
    assert [(thread, kind) for thread, _, kind in on] == \
        [("kpidsl-entries", "finding"), ("kpidsl-entries", "action")]
    assert mine not in {pid for _, pid, _ in on}
    on.clear()
    assert (findings, actions) == (loaded.entries(plan, when, "finding"),
                                   loaded.entries(plan, when, "action"))
    assert findings and actions
    on.clear()
    loaded.entries_soon(plan, when)
    loaded.release()  # waits for them
    assert [kind for *_, kind in on] == ["finding", "action"]
    con.close()

    def refused() -> None:
        raise psycopg.OperationalError("sorry, too many clients already")

    on.clear()
    con, _, tables = connection.connect(url)
    monkeypatch.setattr(database, "opener", lambda con: refused)
    loaded = database.PostgresEngine(con, tables).load(None)
    assert loaded.entries_soon(plan, when)() == (findings, actions)
    assert on == [("MainThread", con.info.backend_pid, "finding"),
                  ("MainThread", con.info.backend_pid, "action")]
    loaded.release()
    con.close()
    monkeypatch.undo()

    on.clear()
    monkeypatch.setattr(database.DatabaseEngine, "_entries", noted)
    with _connected(url) as given:  # a caller's: kpidsl connects to nothing else
        loaded = database.PostgresEngine(given).load(None)
        assert loaded.entries_soon(plan, when)() == (findings, actions)
        assert [thread for thread, *_ in on] == ["MainThread", "MainThread"]
        loaded.release()

    def broken(self, qb, kind, rows):
        raise RuntimeError("the entries' query failed")

    monkeypatch.setattr(database.DatabaseEngine, "_entries", broken)
    con, _, tables = connection.connect(url)
    found = database.PostgresEngine(con, tables).load(None).entries_soon(plan, when)
    with pytest.raises(RuntimeError, match="the entries' query failed"):
        found()
    con.close()


def test_a_folder_goes_into_postgres_by_copy_or_else_by_the_loader(tmp_path: Path, capsys,
                                                                   monkeypatch):
    """A clean folder takes the quick way (COPY, while DuckDB reads the files with the
    loader's rules); one the database would read otherwise than the loader (spaces around a
    cell), or with a bad value, is rolled back and read by the loader: the same tables, or
    the loader's located error."""
    import shutil

    quick = _quick(monkeypatch)
    url = pg.fresh_database()
    assert main(["load", str(SAMPLE), "--into", url]) == 0
    assert quick == [True]
    want = kpidsl.evaluate(fixture_rules(), SAMPLE, AS_OF).results
    assert kpidsl.evaluate(fixture_rules(), url, AS_OF).results == want
    folder = tmp_path / "data"
    shutil.copytree(SAMPLE, folder)
    learners = folder / "learners.csv"
    learners.write_text(learners.read_text().replace(",independent,", ", independent ,", 1))
    assert main(["load", str(folder), "--into", url, "--replace"]) == 0
    assert quick == [True, False]
    assert kpidsl.evaluate(fixture_rules(), url, AS_OF).results == want
    learners.write_text(learners.read_text().replace(", independent ,", ",indie,", 1))
    assert main(["load", str(folder), "--into", url, "--replace"]) == 1
    assert f"{learners}:5:16: error: learner_type: 'indie'" in capsys.readouterr().err
    assert quick[-1] is False
    assert kpidsl.evaluate(fixture_rules(), url, AS_OF).results == want  # as it was


def _quick(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each load into PostgreSQL from now on took the quick way (COPY)."""
    import kpidsl.engines.loading as loading

    quick: list[bool] = []
    copy = loading._copy_folder
    monkeypatch.setattr(loading, "_copy_folder",
                        lambda *a: quick.append((result := copy(*a)) is not None) or result)
    return quick


def _odd_sample(tmp_path: Path, file: str, *changes: tuple[str, str]) -> Path:
    """A copy of the sample folder with the first of each text in ``file`` changed."""
    import shutil

    folder = tmp_path / "odd"
    shutil.copytree(SAMPLE, folder)
    path = folder / file
    text = path.read_text()
    for old, new in changes:
        assert old in text
        text = text.replace(old, new, 1)
    path.write_text(text)
    return folder


def _tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of each contract table, in order."""
    from kpidsl.contract.records import FIELDS, RECORD_TYPES

    with _connected(url) as con:
        return {t.table: con.execute(f"SELECT * FROM {t.table} ORDER BY "
                                     f"{', '.join(FIELDS[t.name])}").fetchall()
                for t in RECORD_TYPES}


def test_a_folder_copied_into_a_latin1_database_keeps_its_letters(tmp_path: Path, monkeypatch):
    """The files are UTF-8 whatever the database's encoding: COPY of their bytes into a
    LATIN1 database (whose connections speak LATIN1) holds the names the loader reads."""
    import uuid

    import psycopg

    folder = _odd_sample(tmp_path, "employers.csv", ("Pinnacle Housing Ltd", "Café Ltd"))
    name = "latin" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg.url(), autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' "
                    "TEMPLATE template0")
    quick = _quick(monkeypatch)
    kpidsl.api.load_into(str(folder), pg.url(name))
    assert quick == [True]
    with _connected(pg.url(name)) as con:
        assert con.execute("SELECT name FROM employers WHERE employer_id = 'E0001'"
                           ).fetchone() == ("Café Ltd",)


def test_a_folder_copied_into_postgres_has_the_loaders_warnings(tmp_path: Path, monkeypatch):
    folder = _odd_sample(tmp_path, "providers.csv")
    (folder / "learner.csv").write_text("a,b\n1,2\n")
    quick = _quick(monkeypatch)
    _, notices = kpidsl.api.load_into(str(folder), pg.fresh_database())
    assert quick == [True]
    assert notices == kpidsl.load_data(folder).notices
    assert [n.render() for n in notices] == [
        f"{folder}/learner.csv: warning: not a file of the data contract; it is ignored\n"
        "  hint: did you mean `learners.csv`?"]


@pytest.mark.parametrize(("file", "change", "error"), [
    ("learners.csv", (",2023-10-15,2023-11-12,", ",20231015,2023-11-12,"),
     "learners.csv:2:31: error: start_date: '20231015' is not a date"),
    ("learners.csv", (",2023-10-15,2023-11-12,", ",2023-10-15 00:00,2023-11-12,"),
     "learners.csv:2:31: error: start_date: '2023-10-15 00:00' is not a date"),
    ("learners.csv", (",true,true,,new_job", ",yes,true,,new_job"),
     "learners.csv:2:87: error: skills_gained: 'yes' is not true or false"),
    ("learners.csv", (",true,true,,new_job", ",t,true,,new_job"),
     "learners.csv:2:87: error: skills_gained: 't' is not true or false"),
    ("employers.csv", ("Pinnacle Housing Ltd,86", "Pinnacle Housing Ltd,+86"),
     "employers.csv:2:28: error: employees: '+86' is not a whole number"),
    ("cofunding.csv", ("L000002,300.00,", "L000002,3e2,"),
     "cofunding.csv:2:9: error: amount_paid: '3e2' is not a number of pounds"),
])
def test_a_cell_postgres_would_take_but_the_loader_would_not_is_the_loaders_error(
        tmp_path: Path, capsys, monkeypatch, file: str, change: tuple[str, str],
        error: str):
    """PostgreSQL's COPY takes 20231015 and 2023-10-15 00:00 for dates, yes and t for true,
    +86 and 3e2 for numbers; the loader takes none of them: loading such a folder is the
    loader's located error, and nothing is written."""
    folder = _odd_sample(tmp_path, file, change)
    quick = _quick(monkeypatch)
    url = pg.fresh_database()
    assert main(["load", str(folder), "--into", url]) == 1
    first, *_ = capsys.readouterr().err.splitlines()
    assert first == f"{folder}/{error}"
    assert quick == [False]
    with _connected(url) as con:
        assert con.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                           ).fetchone() == (0,)


@pytest.mark.parametrize(("file", "changes", "quick"), [
    # an empty cell of a field with a default is the default; empty roles are no roles
    ("bootcamps.csv", [("2900.00,false", "2900.00,")], True),
    ("interviews.csv", [("true,true,false,offered_job", "true,true,false,"),
                        ("true,true,false,unsuccessful", "true,true,,unsuccessful")], True),
    ("engagements.csv", [("interviewing;own_staff,1,", ",,")], True),
    # a quoted empty cell is missing too, a quoted id is the id, quotes and commas are text
    ("learners.csv", [("self_employed,,2023", 'self_employed,"",2023'),
                      ("L000001,", '"L000001",')], True),
    ("employers.csv", [("Canal Logistics Ltd", '"Canal ""Logistics"", Ltd"')], True),
    # the loader writes a set's members in order, once each, and strips every cell
    ("engagements.csv", [("interviewing;own_staff", "own_staff;interviewing;own_staff")],
     False),
    ("employers.csv", [("Pinnacle Housing Ltd,86", "\tPinnacle Housing Ltd,86"),
                       ("E0002,Canal Logistics Ltd", "E0002,Canal Logistics Ltd\xa0")], False),
    ("employers.csv", [("Pinnacle Housing Ltd,86", "Pinnacle Housing Ltd, 86")], False),
])
def test_a_folder_loads_into_postgres_as_the_loader_reads_it(tmp_path: Path, monkeypatch,
                                                             file: str,
                                                             changes: list[tuple[str, str]],
                                                             quick: bool):
    """The tables of a folder loaded into PostgreSQL are those of its records read by the
    loader, whichever way it went in (COPY when every cell is as the loader reads it)."""
    folder = _odd_sample(tmp_path, file, *changes)
    ways = _quick(monkeypatch)
    copied, loaded = pg.fresh_database(), pg.fresh_database()
    kpidsl.api.load_into(str(folder), copied)
    assert ways == [quick]
    kpidsl.api.load_into(kpidsl.load_data(folder), loaded)
    assert _tables(copied) == _tables(loaded)


def test_ilr_returns_with_their_datasheet_load_too(tmp_path: Path, capsys):
    url = sqlite_url(tmp_path)
    returns = ROOT / "examples" / "ilr"
    assert main(["load", str(returns), str(returns / "datasheet"), "--into", url, "--rules",
                 str(FIXTURE_RULES)]) == 0
    assert kpidsl.evaluate(fixture_rules(), url, AS_OF).results == \
        kpidsl.evaluate(fixture_rules(), SAMPLE, AS_OF).results
    assert main(["load", str(returns), "--into", f"sqlite:///{tmp_path / 'alone.db'}",
                 "--rules", str(FIXTURE_RULES)]) == 1
    err = capsys.readouterr().err
    assert "required values are missing" in err
    assert "kpidsl load RETURNS DATASHEET --into URL" in err and "--data twice" not in err


def _as(url: str, user: str) -> str:
    """The URL of the same database for another user of the test server."""
    return url.replace("user=postgres", f"user={user}")


def _role(url: str, *grants: str) -> str:
    """A new login role of the test server, with ``grants`` ({role} for its name)."""
    import uuid

    role = "r" + uuid.uuid4().hex[:10]
    _execute(url, f"CREATE ROLE {role} LOGIN", *(g.format(role=role) for g in grants))
    return role


def test_loading_into_a_schema():
    """PostgreSQL: into a schema that exists (its own temporary table is not put in it);
    one that does not is a usage error saying how to make it, and nothing is written."""
    url = pg.fresh_database()
    _execute(url, "CREATE SCHEMA kpi")
    assert main(["load", str(SAMPLE), "--into", url + "&schema=kpi"]) == 0
    want = kpidsl.evaluate(fixture_rules(), SAMPLE, AS_OF).results
    assert kpidsl.evaluate(fixture_rules(), url + "&schema=kpi", AS_OF).results == want
    with pytest.raises(kpidsl.UsageError, match=r"the database has no schema nope; create it "
                       r"first \(CREATE SCHEMA nope;\)"):
        kpidsl.api.load_into(SAMPLE, url + "&schema=nope")
    with pytest.raises(kpidsl.DataError, match="the database has no schema nope"):
        kpidsl.evaluate(fixture_rules(), url + "&schema=nope", AS_OF)


def test_a_user_who_may_only_read_evaluates(capsys):
    """Evaluating needs no more than reading: a user whose transactions are read-only, or
    who may not make temporary objects, evaluates all the same (the views put inline); a
    user who may not read a table is told so, not that it does not exist."""
    url = pg.fresh_database()
    kpidsl.api.load_into(SAMPLE, url)
    database = url.split("?")[0].rpartition("/")[2]
    read = "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"
    read_only = _role(url, read, "ALTER ROLE {role} SET default_transaction_read_only = on")
    _execute(url, f"REVOKE TEMPORARY ON DATABASE {database} FROM PUBLIC")
    no_temp = _role(url, read)
    want = kpidsl.evaluate(fixture_rules(), SAMPLE, AS_OF)
    rules = ["--rules", str(FIXTURE_RULES)]
    for role in (read_only, no_temp):
        got = kpidsl.evaluate(fixture_rules(), _as(url, role), AS_OF)
        assert got.results == want.results
        assert sorted(f.message for f in got.findings) == \
            sorted(f.message for f in want.findings)
        for command in (["history", "--from", "2025-01", "--to", "2025-03"],
                        ["explain", "learner_dropout", "--as-of", AS_OF]):
            assert main([*command, "--data", _as(url, role), *rules]) == 0
        assert "learner L" in capsys.readouterr().out
    blind = _role(url, read, "REVOKE SELECT ON learners FROM {role}")
    assert main(["evaluate", "--data", _as(url, blind), "--as-of", AS_OF, *rules]) == 1
    err = capsys.readouterr().err
    assert "learners: error: table learners cannot be read: permission denied" in err
    assert "does not exist" not in err


def test_a_user_who_may_not_create_tables_is_told_so(capsys):
    """PostgreSQL 15 lets no one but the owner create tables in ``public``."""
    url = pg.fresh_database()
    assert main(["load", str(SAMPLE), "--into", _as(url, _role(url))]) == 2
    err = capsys.readouterr().err
    assert "permission denied for schema public" in err and "GRANT" in err
    assert "internal error" not in err


def test_a_prefix_in_capitals_names_the_same_tables_for_load_and_evaluate(capsys):
    """PostgreSQL folds unquoted names to lower case: ``Up_`` finds the ``up_`` tables it
    made, to evaluate and to refuse or replace."""
    url = pg.fresh_database() + "&prefix=Up_"
    assert main(["load", str(SAMPLE), "--into", url]) == 0
    want = kpidsl.evaluate(fixture_rules(), SAMPLE, AS_OF).results
    assert kpidsl.evaluate(fixture_rules(), url, AS_OF).results == want
    assert kpidsl.evaluate(fixture_rules(), url.replace("Up_", "up_"), AS_OF).results == want
    assert main(["load", str(SAMPLE), "--into", url]) == 2
    assert "has the contract's tables already (Up_providers" in capsys.readouterr().err
    assert main(["load", str(SAMPLE), "--into", url, "--replace"]) == 0


def test_a_password_in_the_url_is_never_shown(tmp_path: Path, capsys):
    from kpidsl.engines.connection import without_password

    url = pg.fresh_database()
    assert main(["load", str(SAMPLE), "--into", url + "&password=sekrit"]) == 0
    out = capsys.readouterr().out
    assert "password=***" in out and "sekrit" not in out
    assert main(["evaluate", "--data", url.replace("user=postgres", "user=nobody")
                 + "&password=sekrit", "--as-of", AS_OF]) == 2
    err = capsys.readouterr().err
    assert "password=***" in err and "sekrit" not in err and "PGPASSWORD" in err
    assert without_password("postgresql://u:pw@h/db?sslpassword=x&password=y&a=1") == \
        "postgresql://u:***@h/db?sslpassword=***&password=***&a=1"


def test_a_load_into_postgres_leaves_its_statistics(tmp_path: Path):
    """ANALYZE after every load: the planner knows how many rows each table has."""
    url = pg.fresh_database()
    for data in (str(SAMPLE), kpidsl.load_data(SAMPLE)):  # by COPY, and through the loader
        kpidsl.api.load_into(data, url, replace=True)
        with _connected(url) as con:
            analysed = con.execute("SELECT relname FROM pg_stat_user_tables WHERE "
                                   "last_analyze IS NOT NULL").fetchall()
            assert {name for (name,) in analysed} >= {"learners", "profiles", "cofunding"}
            assert con.execute("SELECT reltuples FROM pg_class WHERE relname = 'learners'"
                               ).fetchone() == (150,)
            con.execute("SELECT pg_stat_reset()")


def test_a_misspelt_url_parameter_is_an_error(tmp_path: Path, capsys):
    """kpidsl's own parameters misspelt are a usage error with a "did you mean"; the
    driver's own (sslmode) pass through."""
    sqlite = sqlite_url(tmp_path)
    kpidsl.api.load_into(SAMPLE, sqlite)
    rules = ["--rules", str(FIXTURE_RULES)]
    for url, said in ((pg.url() + "&prefx=up_", "unknown parameter 'prefx'; did you mean "
                       "`prefix`?"),
                      (pg.url() + "&schem=kpi", "did you mean `schema`?"),
                      (sqlite + "?prefx=a_", "did you mean `prefix`?"),
                      ("postgresql+asyncpg:///db", "not asyncpg")):
        assert main(["evaluate", "--data", url, "--as-of", AS_OF, *rules]) == 2, url
        assert said in capsys.readouterr().err
    url = pg.fresh_database()
    kpidsl.api.load_into(SAMPLE, url)
    want = kpidsl.evaluate(fixture_rules(), SAMPLE, AS_OF).results
    for same in (url + "&sslmode=disable", url.replace("postgresql:", "postgresql+psycopg:"),
                 sqlite.replace("sqlite:", "sqlite+pysqlite:")):
        assert kpidsl.evaluate(fixture_rules(), same, AS_OF).results == want, same


def test_a_database_without_profiles_is_one_without_profiles_csv(url: str, tmp_path: Path):
    """``profiles`` is optional: a database without the table is evaluated as a folder
    without the file, on the database's engine and on Python's."""
    import shutil

    folder = tmp_path / "data"
    shutil.copytree(SAMPLE, folder)
    (folder / "profiles.csv").unlink()
    kpidsl.api.load_into(SAMPLE, url)
    _execute(url, "DROP TABLE profiles")
    want = kpidsl.evaluate(fixture_rules(), folder, AS_OF, engine="python").results
    assert kpidsl.evaluate(fixture_rules(), url, AS_OF).results == want
    assert kpidsl.evaluate(fixture_rules(), url, AS_OF, engine="python").results == want


def test_a_connection_of_ones_own_is_given_back_as_it_came(tmp_path: Path):
    """No temporary view is left behind, and no transaction left open, on a psycopg
    connection (in a transaction or not) or a sqlite3 one."""
    import psycopg

    url = pg.fresh_database()
    kpidsl.api.load_into(SAMPLE, url)
    want = kpidsl.evaluate(fixture_rules(), SAMPLE, AS_OF).results
    views = "SELECT count(*) FROM pg_views WHERE schemaname LIKE 'pg_temp%'"
    with psycopg.connect(url) as con:  # not autocommit: statements begin a transaction
        assert kpidsl.evaluate(fixture_rules(), None, AS_OF, engine=con).results == want
        assert con.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert con.execute(views).fetchone() == (0,)
        con.rollback()
        con.execute("CREATE TEMP TABLE mine (x int)")  # the caller's own transaction
        assert kpidsl.evaluate(fixture_rules(), None, AS_OF, engine=con).results == want
        assert con.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        assert con.execute(views).fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM mine").fetchone() == (0,)
    kpidsl.api.load_into(SAMPLE, sqlite_url(tmp_path))
    lite = sqlite3.connect(tmp_path / "kpi.db")
    assert kpidsl.evaluate(fixture_rules(), None, AS_OF, engine=lite).results == want
    assert lite.execute("SELECT count(*) FROM temp.sqlite_master").fetchone() == (0,)
    assert not lite.in_transaction
