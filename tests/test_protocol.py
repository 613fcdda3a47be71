"""The one engine protocol (:mod:`kpidsl.engines`): every engine implements it, gives the
reference engine's answers through it, and every output takes its figures from the engine
chosen (never from an engine of its own).

The protocol test runs over every engine of the registry; Spark's is skipped here and held to
the same check in ``test_spark.py``, where a session is at hand.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
from pathlib import Path

import openpyxl
import pytest

import kpidsl
from cohort import fixture_rules
from conftest import choice
from kpidsl.cli import main
from kpidsl.engines import ENGINES, Engine, Loaded
from kpidsl.engines.run import engine, engine_name
from kpidsl.plan.lower import lower
from kpidsl.plan.results import Entry, Groups, Result, Verdict

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample"
DATES = [dt.date(2024, 12, 31), dt.date(2025, 3, 31)]


def follows_the_protocol(chosen: Engine, data: object = SAMPLE) -> None:
    """``chosen`` has the protocol's members, with the protocol's parameters, and gives the
    reference engine's results, entries and verdicts on ``data``."""
    assert chosen.name in ENGINES
    assert list(inspect.signature(chosen.load).parameters) == ["data"]
    loaded = chosen.load(data)
    for method in ("results", "entries", "verdicts"):
        assert list(inspect.signature(getattr(loaded, method)).parameters) == \
            list(inspect.signature(getattr(Loaded, method)).parameters)[1:], method
    assert loaded.name == chosen.name
    assert isinstance(loaded.groups, Groups) and isinstance(loaded.notices, tuple)
    plan = lower(fixture_rules())
    reference = engine("python").load(data)
    results = loaded.results(plan, DATES)
    assert list(results) == DATES and all(isinstance(r, Result) for r in results[DATES[0]])
    assert results == reference.results(plan, DATES)
    for kind in ("finding", "action"):
        found = loaded.entries(plan, DATES[1], kind)
        assert all(isinstance(e, Entry) and e.kind == kind for e in found)
        assert found == reference.entries(plan, DATES[1], kind)
    for kpi in ("learner_dropout", "delivery_against_profile"):
        verdicts = loaded.verdicts(plan, DATES[1], kpi, "all")
        assert verdicts and all(isinstance(v, Verdict) for v in verdicts)
        assert verdicts == reference.verdicts(plan, DATES[1], kpi, "all")
    assert loaded.verdicts(plan, DATES[1], "learner_dropout", "NO-SUCH-GROUP") == []


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_every_engine_follows_the_protocol(name: str) -> None:
    """Every registered engine (PostgreSQL's on the test server); Spark's needs a session,
    which ``test_spark.py`` starts."""
    if name == "spark":
        pytest.skip("test_spark.py holds Spark to the protocol, where a session is at hand")
    follows_the_protocol(engine(choice(name)))


def test_an_engine_is_one_module_named_in_the_registry() -> None:
    """Its class is read, not made: making Spark's would start a session."""
    for name, registered in ENGINES.items():
        assert registered.module == f"kpidsl.engines.{name}" and registered.help
        assert importlib.import_module(registered.module).ENGINE.name == name
    with pytest.raises(kpidsl.NotFoundError, match="no engine called 'duckbd'; did you mean"):
        engine("duckbd")


def test_a_connection_is_run_by_the_engine_that_declares_it() -> None:
    import duckdb

    con = duckdb.connect()
    assert engine(con).name == engine_name(None, con) == "duckdb"
    with pytest.raises(kpidsl.UsageError, match=r"no engine runs on a builtins\.object"):
        engine(object())
    with pytest.raises(kpidsl.UsageError, match="reads its own tables: pass data=None"):
        engine(con).load({"learners": []})


@pytest.mark.parametrize("chosen", ["duckdb", "python"])
def test_the_report_workbook_takes_its_verdicts_from_the_engine_chosen(
        chosen: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other engine is made to fail if asked: the workbook, verdicts included, is the
    chosen engine's, and the data is read once."""
    import kpidsl.engines.python
    import kpidsl.engines.sqlengine

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the workbook asked an engine that was not chosen")

    other = kpidsl.engines.sqlengine.SqlEngine if chosen == "python" else \
        kpidsl.engines.python.PythonData
    monkeypatch.setattr(other, "verdicts", refuse)
    monkeypatch.setattr(other, "results", refuse)
    out = tmp_path / "report.xlsx"
    assert main(["evaluate", "--data", str(SAMPLE), "--as-of", "2025-03-31", "--format", "xlsx",
                 "--out", str(out), "--engine", chosen]) == 0
    book = openpyxl.load_workbook(out)
    assert f"({chosen} engine)" in book["summary"]["A2"].value
    sheet = [row for row in book["Learner Drop-Out"].iter_rows(min_row=4, values_only=True)]
    why = kpidsl.explain(fixture_rules(), SAMPLE, "learner_dropout", as_of="2025-03-31",
                         engine=chosen)
    assert [(r[0], r[2]) for r in sheet] == [(v.record, v.verdict) for v in why.verdicts]
