"""The Spark engine (local mode) gives the reference engine's report: the semantics cases,
the sample data, history in one pass, and tables a developer already has as DataFrames.

Spark needs pyspark (``kpidsl[spark]``) and Java. ``.ci/run`` installs both, so in CI
(``CI=true``) a missing one fails these tests rather than skipping them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs

import kpidsl
from cohort import FIXTURE_RULES
from kpidsl.api import history
from kpidsl.data.generate import generate
from test_semantics import CASES

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample"


def _same(a: kpidsl.Report, b: kpidsl.Report) -> None:
    assert a.results == b.results
    assert a.findings == b.findings
    assert a.actions == b.actions


def test_the_semantics_cases_on_spark(spark, tmp_path: Path):
    """Every case of the semantics table as a KPI of its own, whose population is the one
    learner of the case's data set; the data sets side by side in one, one evaluation."""
    sets = list({id(ds): ds for ds, _, _ in CASES}.values())
    combined = kpidsl.Dataset(
        providers=sets[0].providers, bootcamps=sets[0].bootcamps, employers=sets[0].employers,
        **{kind: [attrs.evolve(r, learner_id=f"{r.learner_id}{j}") for j, ds in enumerate(sets)
                  for r in getattr(ds, kind)] for kind in ("learners", "interviews", "payments")})
    (tmp_path / "k.kpi").write_text("".join(
        f'kpi c{i}:\n  title: "C"\n  population: learners where learner_id = '
        f'"L{[id(s) for s in sets].index(id(ds))}"\n  counted when: {condition}\n'
        "  target: at least 100%\n" for i, (ds, condition, _) in enumerate(CASES)),
        encoding="utf-8")
    rules = kpidsl.load_rules(tmp_path)
    when = dt.date(2025, 12, 31)
    python = kpidsl.evaluate(rules, combined, as_of=when, engine="python")
    _same(kpidsl.evaluate(rules, combined, as_of=when, engine=spark), python)
    for i, (_, condition, expected) in enumerate(CASES):
        r = python.result(f"c{i}")
        assert r.denominator == 1 and (r.numerator == 1) is expected, condition


def test_the_sample_on_spark(spark):
    rules = kpidsl.load_rules(FIXTURE_RULES, tests=False)
    when = dt.date(2025, 3, 31)
    _same(kpidsl.evaluate(rules, SAMPLE, as_of=when, engine=spark),
          kpidsl.evaluate(rules, SAMPLE, as_of=when, engine="python"))


def test_explain_on_spark(spark):
    rules = kpidsl.load_rules(FIXTURE_RULES, tests=False)
    kpis = [k.name for k in rules.kpis]
    on = {engine: kpidsl.api.explanations(rules, SAMPLE, kpis, as_of="2025-03-31",
                                          engine=engine) for engine in (spark, "python")}
    assert [w.verdicts for w in on[spark]] == [w.verdicts for w in on["python"]]
    assert sum(len(w.verdicts) for w in on["python"]) > 100


def test_history_on_spark_in_one_pass(spark):
    rules = kpidsl.load_rules(FIXTURE_RULES, tests=False)
    data = generate(200, seed=4)
    months = [dt.date(2024, 3, 31), dt.date(2024, 10, 31), dt.date(2025, 6, 30)]
    assert history(rules, data, months, engine=spark) == \
        history(rules, data, months, engine="python")


def test_tables_a_developer_already_has(spark):
    """DataFrames named after the contract's files: no line numbers, same figures."""
    rules = kpidsl.load_rules(FIXTURE_RULES, tests=False)
    data = kpidsl.load_data(SAMPLE)
    from kpidsl.engines.spark import SparkEngine

    SparkEngine(spark).load_dataset(data)  # the views a developer would have
    frames = {name: spark.table(name).drop("_line") for name in
              ("providers", "bootcamps", "employers", "engagements", "learners", "interviews",
               "cofunding", "profiles")}
    when = dt.date(2025, 3, 31)
    theirs = kpidsl.evaluate(rules, frames, as_of=when, engine=spark)
    python = kpidsl.evaluate(rules, data, as_of=when, engine="python")
    assert theirs.results == python.results
    for kind in ("findings", "actions"):  # the same entries; ordered by id, not by line
        mine = sorted((e.name, e.message, e.group) for e in getattr(theirs, kind))
        assert mine == sorted((e.name, e.message, e.group) for e in getattr(python, kind))


def test_spark_follows_the_engine_protocol(spark):
    from kpidsl.engines.spark import SparkEngine
    from test_protocol import follows_the_protocol

    follows_the_protocol(SparkEngine(spark))
