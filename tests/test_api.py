"""The public Python API: typed, documented with examples that run, errors for people.

The examples of ``docs/api.rst`` (``.. code-block:: pycon``) run here as one doctest, in order,
from the repository's root; a user's typed snippet must pass ``mypy --strict``.
"""

from __future__ import annotations

import datetime as dt
import doctest
import inspect
import json
import re
import shutil
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest

import kpidsl
from cohort import FIXTURE_RULES, completer, dataset, fixture_rules, withdrawn

ROOT = Path(__file__).resolve().parents[1]
API_PAGE = ROOT / "docs" / "api.rst"
BLOCKS = re.findall(r"\.\. code-block:: pycon\n\n((?:   .*\n|\n)+)", API_PAGE.read_text("utf-8"))


def test_the_api_page_examples_run(monkeypatch, tmp_path):
    """In a folder like a user's project: ``rules/`` (the frozen fixture rules) and the
    sample data."""
    shutil.copytree(FIXTURE_RULES, tmp_path / "rules")
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    text = "\n".join(textwrap.dedent(b) for b in BLOCKS)
    test = doctest.DocTestParser().get_doctest(text, {}, "api.rst", str(API_PAGE), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out: list[str] = []
    runner.run(test, out=out.append)
    assert runner.failures == 0, "".join(out)
    assert runner.tries >= 30


PUBLIC_FUNCTIONS = sorted(n for n in kpidsl.__all__ if inspect.isfunction(getattr(kpidsl, n)))


@pytest.mark.parametrize("name", PUBLIC_FUNCTIONS)
def test_every_public_function_has_an_example_and_types(name):
    examples = "".join(BLOCKS)
    assert re.search(rf">>> .*kpidsl\.{name}\(", examples) or \
        re.search(rf"\.\.\. .*kpidsl\.{name}\(", examples), f"no example calls kpidsl.{name}"
    assert f"autofunction:: kpidsl.{name}" in API_PAGE.read_text("utf-8")
    signature = inspect.signature(getattr(kpidsl, name))
    assert signature.return_annotation is not inspect.Signature.empty
    assert all(p.annotation is not inspect.Parameter.empty
               for p in signature.parameters.values())


def test_the_package_is_typed():
    assert (Path(kpidsl.__file__).parent / "py.typed").is_file()


SNIPPET = '''
import datetime as dt
from decimal import Decimal

import kpidsl


def dropout(folder: str) -> str:
    rules: kpidsl.RuleSet = kpidsl.load_rules()
    data: kpidsl.Dataset = kpidsl.load_data(folder)
    report: kpidsl.Report = kpidsl.evaluate(rules, data, as_of="2025-03-31")
    result: kpidsl.Result = report.result("learner_dropout")
    status: kpidsl.Status = result.status
    months = kpidsl.month_ends("2024-08-01", kpidsl.as_date("2025-03-01"))
    trend: list[tuple[dt.date, list[kpidsl.Result]]] = kpidsl.history(rules, data, months)
    why: kpidsl.Explanation = kpidsl.explain(rules, data, "learner_dropout", group="all")
    change: kpidsl.Diff = kpidsl.diff(rules, rules, data, as_of=dt.date(2025, 3, 31))
    problems: tuple[kpidsl.Diagnostic, ...] = kpidsl.check("rules")
    tests: kpidsl.TestReport = kpidsl.test(rules)
    page: str = report.select(statuses=["not met"]).to_html(rules)
    rate: str = kpidsl.format_rate(report.result("learner_dropout", group="B1").rate)
    kpidsl.evaluate(rules, data, "2025-03-31", explain=True).write_xlsx("report.xlsx", rules)
    return f"{status} {result.rate} {len(trend)} {len(why.verdicts)} {change.changes} " \\
        f"{problems} {tests.ok} {report.to_json()} {report.to_csv()} {page} {rate}"


camp = kpidsl.Bootcamp(bootcamp_id="B1", provider_id="P1", title="Data",
                       start_date=dt.date(2024, 1, 8), end_date=dt.date(2024, 4, 8),
                       course_cost=Decimal(2000))
'''


@pytest.fixture(scope="module")
def mypy(tmp_path_factory: pytest.TempPathFactory):
    pytest.importorskip("mypy")
    cache = tmp_path_factory.mktemp("mypy-cache")

    def run(source: str) -> subprocess.CompletedProcess[str]:
        folder = tmp_path_factory.mktemp("snippet")
        (folder / "snippet.py").write_text(source, encoding="utf-8")
        return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir",
                               str(cache), "snippet.py"], cwd=folder, capture_output=True,
                              text=True, timeout=300)

    return run


def test_a_typed_user_snippet_passes_mypy_strict(mypy):
    done = mypy(SNIPPET)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_sees_kpidsl_types(mypy):
    """Not a vacuous pass: a wrong use of the API is an error."""
    done = mypy("import kpidsl\nx: int = kpidsl.evaluate(kpidsl.load_rules(), 3)\n")
    assert done.returncode == 1
    assert 'Argument 2 to "evaluate" has incompatible type "int"' in done.stdout
    assert 'expression has type "Report", variable has type "int"' in done.stdout


# ---- behaviour ----------------------------------------------------------------------------

LATE = dt.date(2026, 12, 31)


@pytest.fixture(scope="module")
def cohort() -> tuple[kpidsl.RuleSet, kpidsl.Dataset]:
    return fixture_rules(), dataset([withdrawn("W"), *(completer(f"C{i}") for i in range(4))])


def test_statuses_and_scopes_are_enums_equal_to_their_spelling(cohort):
    report = kpidsl.evaluate(*cohort, as_of=LATE)
    r = report.result("learner_dropout", "bootcamp", "B1")
    assert isinstance(r.status, kpidsl.Status) and isinstance(r.scope, kpidsl.Scope)
    assert r.status == "met" and r.scope == "bootcamp"
    assert r.status is kpidsl.Status.MET and r.scope is kpidsl.Scope.BOOTCAMP
    assert f"{r.status}" == "met"
    row = next(x for x in json.loads(report.to_json())["results"]
               if (x["kpi"], x["group"]) == ("learner_dropout", "B1"))
    assert row["status"] == "met" and row["scope"] == "bootcamp"
    assert {str(s) for s in kpidsl.Status} == {"met", "not_met", "on_track", "at_risk",
                                               "no_data"}


def test_as_of_takes_a_date_or_an_iso_string(cohort):
    by_date = kpidsl.evaluate(*cohort, as_of=LATE)
    by_text = kpidsl.evaluate(*cohort, as_of="2026-12-31")
    assert by_text.as_of == LATE and by_text.results == by_date.results
    for bad, message in [("2024-13-01", "'2024-13-01' is not a date"),
                         ("31/12/2026", "'31/12/2026' is not a date"),
                         (20261231, "expected a datetime.date or a YYYY-MM-DD string, not int")]:
        with pytest.raises(kpidsl.UsageError) as e:
            kpidsl.evaluate(*cohort, as_of=bad)  # type: ignore[arg-type]
        assert message in str(e.value)
        assert isinstance(e.value, kpidsl.KpidslError) and isinstance(e.value, ValueError)


@pytest.mark.parametrize(("args", "message"), [
    (("learner_dropuot",), "no KPI called 'learner_dropuot'; did you mean `learner_dropout`?"),
    (("learner_dropout", "bootcam", "B1"),
     "learner_dropout has no 'bootcam' results; did you mean `bootcamp`?"),
    (("learner_dropout", "bootcamp", "BB1"),
     "learner_dropout has no result for bootcamp 'BB1'; did you mean `B1`?"),
])
def test_a_missing_result_says_what_is_closest(cohort, args, message):
    report = kpidsl.evaluate(*cohort, as_of=LATE)
    with pytest.raises(kpidsl.NotFoundError) as e:
        report.result(*args)
    assert str(e.value) == message
    assert isinstance(e.value, KeyError)  # code that looks results up like a dict still works


def test_rule_set_kpi_lookup_suggests(cohort):
    with pytest.raises(kpidsl.NotFoundError, match="did you mean `new_skills`"):
        cohort[0].kpi("new_skils")


def test_select_filters_results(cohort):
    report = kpidsl.evaluate(*cohort, as_of=LATE)
    chosen = report.select(kpis=["learner_dropout"], statuses=[kpidsl.Status.MET],
                           scopes=["bootcamp", "programme"])
    assert {(r.kpi, r.scope, r.group, r.status) for r in chosen.results} == {
        ("learner_dropout", "bootcamp", "B1", "met"), ("learner_dropout", "programme", "all",
                                                       "met")}
    assert report.select(groups=["provider:P1"]).results == tuple(
        r for r in report.results if (r.scope, r.group) == ("provider", "P1"))
    with pytest.raises(kpidsl.NotFoundError, match="did you mean `learner_dropout`"):
        report.select(kpis=["learner_drop"])
    assert report.select() is report  # no filter: the report as it is
    assert report.select(kpis=[]).results == ()


def test_explain_diff_check_and_test_are_functions(cohort, tmp_path):
    rules, data = cohort
    why = kpidsl.explain(rules, data, "learner_dropout", group="B1", as_of=LATE)
    assert [v.verdict for v in why.verdicts].count("counted") == 1 == why.result.numerator
    assert why.result.denominator == len(why.verdicts) == 5
    with pytest.raises(kpidsl.NotFoundError, match=r"no group 'BB1'; did you mean `B1`\?"):
        kpidsl.explain(rules, data, "learner_dropout", group="BB1", as_of=LATE)

    stricter = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, stricter, ignore=shutil.ignore_patterns("tests"))
    path = stricter / "03_learner_dropout.kpi"
    path.write_text(path.read_text("utf-8").replace("at most 20%", "at most 10%"), "utf-8")
    change = kpidsl.diff(rules, kpidsl.load_rules(stricter), data, as_of=LATE)
    b1 = next(c for c in change.changes if (c.kpi, c.group) == ("learner_dropout", "B1"))
    assert (b1.old.status, b1.new.status) == ("met", "not_met")  # 1 of 5 = 20%

    assert kpidsl.check(stricter) == ()
    (stricter / "broken.kpi").write_text("kpi x:\n  title: \"X\"\n  populaton: learners\n")
    problems = kpidsl.check(stricter)
    assert [(p.line, p.hint) for p in problems] == [(3, "did you mean `population`?")]

    outcome = kpidsl.test(FIXTURE_RULES)
    assert outcome.ok and outcome.passed == len(fixture_rules().tests) >= 14


def test_history_takes_dates_as_text(cohort):
    rules, data = cohort
    [(day, results)] = kpidsl.history(rules, data, ["2026-12-31"])
    assert day == LATE and results == list(kpidsl.evaluate(rules, data, LATE).results)
    with pytest.raises(kpidsl.UsageError, match="dates: '2026-02-30' is not a date"):
        kpidsl.history(rules, data, ["2026-02-30"])


def test_select_takes_the_printed_spellings_and_refuses_what_matches_nothing(cohort):
    """Issue 21, item 1: a filter spelt as the tables print it keeps what its JSON spelling
    keeps; a status, scope or group that is none is refused, with the closest or the list."""
    report = kpidsl.evaluate(*cohort, as_of=LATE)
    not_met = report.select(statuses=["not_met"]).results
    assert not_met and report.select(statuses=["not met"]).results == not_met
    assert report.select(statuses=["Not Met"]).results == not_met
    assert report.select(scopes=["Bootcamp"]).results == tuple(
        r for r in report.results if r.scope == "bootcamp")
    for bad, message in [
        (dict(statuses=["notmet"]), "no status 'notmet': a status is met, not met, on track, "
         "at risk or no data; did you mean `not met`?"),
        (dict(scopes=["bootcamps"]), "no scope 'bootcamps': a scope is bootcamp, provider or "
         "programme; did you mean `bootcamp`?"),
        (dict(groups=["B9"]), "no group 'B9'; the groups are all, ACC, B1, B2, EMPTY, P1, P2, "
         "P3"),
    ]:
        with pytest.raises(kpidsl.NotFoundError) as e:
            report.select(**bad)
        assert str(e.value) == message


def test_a_lone_name_is_one_name_not_its_letters(cohort):
    """A filter given one word where a list is asked for (``statuses="not met"``) was split
    into its letters and refused as ``no status 'n'``; a lone date for ``history`` likewise.
    One word, or one date, is taken as a list of one."""
    rules, data = cohort
    report = kpidsl.evaluate(rules, data, as_of=LATE)
    assert report.select(statuses="not met", kpis="learner_dropout", scopes="bootcamp",
                         groups="B1") == report.select(statuses=["not met"],
                                                       kpis=["learner_dropout"],
                                                       scopes=["bootcamp"], groups=["B1"])
    assert kpidsl.explain(rules, data, "learner_dropout", as_of=LATE, verdicts="pending") == \
        kpidsl.explain(rules, data, "learner_dropout", as_of=LATE, verdicts=["pending"])
    assert kpidsl.explanations(rules, data, "referral", as_of=LATE) == \
        kpidsl.explanations(rules, data, ["referral"], as_of=LATE)
    assert kpidsl.history(rules, data, LATE.isoformat()) == kpidsl.history(rules, data, [LATE])
    assert kpidsl.history(rules, data, LATE) == kpidsl.history(rules, data, [LATE])
    shown = kpidsl.api.history_report(rules, data, "2025-03-01", "2025-03-31",
                                      kpis="referral", statuses="not met")
    assert shown == kpidsl.api.history_report(rules, data, "2025-03-01", "2025-03-31",
                                              kpis=["referral"], statuses=["not met"])
    with pytest.raises(kpidsl.NotFoundError) as e:
        report.select(statuses="notmet")
    assert str(e.value) == ("no status 'notmet': a status is met, not met, on track, at risk "
                            "or no data; did you mean `not met`?")


def test_a_result_of_a_group_needs_no_scope(cohort):
    """Issue 21, item 2: the id says whether it is a bootcamp or a provider, as it does for
    explain, find_group and --group."""
    report = kpidsl.evaluate(*cohort, as_of=LATE)
    b1 = report.result("learner_dropout", group="B1")
    assert (b1.scope, b1.group) == ("bootcamp", "B1")
    assert b1 == report.result("learner_dropout", "bootcamp", "B1")
    assert report.result("learner_dropout", group="provider:P1") == \
        report.result("learner_dropout", "provider", "P1")
    with pytest.raises(kpidsl.NotFoundError) as e:
        report.result("delivery_against_profile", group="B1")
    assert str(e.value) == ("'B1' is a bootcamp, and this KPI is judged per provider; its "
                            "groups are all, P1, P2, P3")


def test_every_function_that_takes_a_date_takes_iso_text(cohort):
    """Issue 21, item 3: ``month_ends`` and ``kpi_sql`` took only ``datetime.date`` s."""
    rules, _ = cohort
    assert kpidsl.month_ends("2024-04-01", "2024-06-15") == [
        dt.date(2024, 4, 30), dt.date(2024, 5, 31), dt.date(2024, 6, 30)]
    assert kpidsl.api.kpi_sql(rules, "learner_dropout", "2025-03-31") == \
        kpidsl.api.kpi_sql(rules, "learner_dropout", dt.date(2025, 3, 31))
    # a month alone, as `kpidsl history --from/--to` take it
    assert kpidsl.month_ends("2024-04", "2024-06") == kpidsl.month_ends("2024-04-01",
                                                                       "2024-06-15")
    with pytest.raises(kpidsl.UsageError) as e:
        kpidsl.month_ends("2024-13", "2025-03-01")
    assert e.value.render() == ("first: '2024-13' is not a month; write YYYY-MM (2024-08) or "
                                "a date YYYY-MM-DD (2024-08-31)")
    with pytest.raises(kpidsl.UsageError) as e:
        kpidsl.month_ends("2024-04", "31/03/2025")
    assert e.value.render() == "last: '31/03/2025' is not a date; write YYYY-MM-DD, e.g. 2025-03-31"


def test_a_history_takes_its_months_as_the_command_does(cohort):
    """A fresh user's trial: ``history_report`` took only dates where ``--from/--to`` take
    ``YYYY-MM``."""
    rules, data = cohort
    by_month = kpidsl.api.history_report(rules, data, "2024-10", "2024-12")
    by_date = kpidsl.api.history_report(rules, data, "2024-10-01", dt.date(2024, 12, 31))
    assert [d for d, _ in by_month.months] == [dt.date(2024, 10, 31), dt.date(2024, 11, 30),
                                               dt.date(2024, 12, 31)]
    assert by_month.months == by_date.months


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_a_verdict_carries_the_ids_of_its_record(cohort, engine):
    """Issue 21, item 5: the record's type and id, its bootcamp and provider, as fields, so
    that nobody parses ``learner W`` to join back to their tables."""
    rules, data = cohort
    why = kpidsl.explain(rules, data, "learner_dropout", group="B1", as_of=LATE, engine=engine)
    assert [(v.record, v.record_type, v.record_id, v.bootcamp, v.provider)
            for v in why.verdicts][:2] == [("learner W", "learner", "W", "B1", "P1"),
                                           ("learner C0", "learner", "C0", "B1", "P1")]
    per_provider = kpidsl.explain(rules, data, "delivery_against_profile", group="P2",
                                  as_of=LATE, engine=engine)
    assert [(v.record_type, v.record_id, v.bootcamp, v.provider)
            for v in per_provider.verdicts] == [("provider", "P2", None, "P2")]


def test_a_report_writes_itself_in_every_format(cohort, tmp_path):
    """Issue 21, item 7: as CSV, an HTML page and a workbook, as the command line writes
    them, and a rate as the reports write it."""
    from openpyxl import load_workbook

    from kpidsl.outputs.csvout import to_csv
    from kpidsl.outputs.html import report_html

    rules, data = cohort
    report = kpidsl.evaluate(rules, data, as_of=LATE, explain=True)
    chosen = report.select(kpis=["learner_dropout"])
    assert isinstance(chosen, kpidsl.Report) and chosen.to_csv() == to_csv(chosen)
    assert chosen.to_html(rules, docs_url="https://x") == report_html(chosen, rules,
                                                                      docs_url="https://x")
    report.write_xlsx(tmp_path / "report.xlsx", rules)
    sheets = load_workbook(tmp_path / "report.xlsx", read_only=True).sheetnames
    assert sheets[0] == "summary" and len(sheets) == len(rules.kpis) + 3
    unexplained = kpidsl.evaluate(rules, data, as_of=LATE)
    with pytest.raises(kpidsl.UsageError) as e:
        unexplained.write_xlsx(tmp_path / "not.xlsx", rules)
    assert e.value.render() == ("the report workbook lists each KPI's records with their "
                                "verdicts, which this report was not made with; evaluate "
                                "with explain=True")
    assert not (tmp_path / "not.xlsx").exists()
    assert [kpidsl.format_rate(x) for x in (Fraction(1, 5), Fraction(1, 3), None)] == \
        ["20%", "33.3%", "–"]
    assert kpidsl.format_rate(Fraction(2, 3), places=2) == "66.67%"
