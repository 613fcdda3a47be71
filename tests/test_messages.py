"""The typos people really make, and the whole message each one gets: where (``file:line:col``),
the line with a caret, and a hint that names the fix. One row per typo; the expected text is
the message as a person should read it, written out in full."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import kpidsl
from cohort import FIXTURE_RULES, completer, dataset
from kpidsl.cli import main

KPI = '''kpi k:
  title: "K"
  population: learners
  counted when: completion_date is set
  target: at least 90%
'''

TEST = """
test t:
  as of: 2025-03-31
  given:
    provider P1
    bootcamp B1
    learner L1: completion_date = 2024-06-28
  expect k for bootcamp B1: met
"""

RULE_FILE_CASES = [
    pytest.param(
        'kpi k:\n  title: "K"\n  policy: """\n    Some text that never ends.\n'
        "  population: learners\n",
        '''a.kpi:3:11: error: this text is never closed
  2 |   title: "K"
  3 |   policy: """
    |           ^^^
  4 |     Some text that never ends.
  hint: add `"""` where the text ends''', id="unclosed-prose-at-the-end"),
    pytest.param(
        'kpi k:\n  title: "K"\n  policy: """\n    Text.\n  decision "d": """\n    More.\n'
        '    """\n  population: learners\n',
        '''a.kpi:3:11: error: this text is never closed
  2 |   title: "K"
  3 |   policy: """
    |           ^^^
  4 |     Text.
  hint: add `"""` where the text ends, before line 5''', id="unclosed-prose-before-another"),
    pytest.param(
        'kpi k:\n  title: "K\n  population: learners\n',
        '''a.kpi:2:10: error: this text is never closed
  1 | kpi k:
  2 |   title: "K
    |          ^
  3 |   population: learners
  hint: add `"` where the text ends, on the same line''', id="unclosed-string"),
    pytest.param(
        KPI.replace("population: learners", "population: learners where "
                    "learner_type = self-employed"),
        '''a.kpi:3:45: error: unknown name `self-employed`
  2 |   title: "K"
  3 |   population: learners where learner_type = self-employed
    |                                             ^^^^^^^^^^^^^
  4 |   counted when: completion_date is set
  hint: did you mean `self_employed`? Names join words with `_`, not `-`''',
        id="hyphen-in-a-condition"),
    pytest.param(
        KPI + "\ntest t:\n  as of: 2025-03-31\n  given:\n    provider P1\n    bootcamp B1\n"
        "    learner L1: learner_type = self-employed\n  expect k for bootcamp B1: met\n",
        '''a.kpi:12:32: error: unknown name `self-employed`
  11 |     bootcamp B1
  12 |     learner L1: learner_type = self-employed
     |                                ^^^^^^^^^^^^^
  13 |   expect k for bootcamp B1: met
  hint: write `self_employed`: names join words with `_`, not `-`''', id="hyphen-in-a-test"),
    pytest.param(
        KPI.replace("target: at least 90%", "target: >= 90%"),
        '''a.kpi:5:11: error: unexpected `>=`
  4 |   counted when: completion_date is set
  5 |   target: >= 90%
    |           ^^
  hint: a target says which way it goes in words: write `at least 90%`''', id="target-symbol"),
    pytest.param(
        KPI.replace("target: at least 90%", "target: < 20%"),
        '''a.kpi:5:11: error: unexpected `<`
  4 |   counted when: completion_date is set
  5 |   target: < 20%
    |           ^
  hint: a target says which way it goes in words: write `at most 20%`''', id="target-less"),
    pytest.param(
        KPI + "\ntest t:\n  as of: 2025-03-31\n  given:\n    provider P1\n"
        "  expect k for programme all: on track\n",
        '''a.kpi:11:31: error: unexpected `on track`
  10 |     provider P1
  11 |   expect k for programme all: on track
     |                               ^^^^^^^^
  hint: statuses are written with `_`: write `on_track`''', id="status-with-a-space"),
    pytest.param(
        KPI + "\ntest t:\n  as of: 2025-02-30\n  given:\n    provider P1\n"
        "  expect k for programme all: no_data\n",
        '''a.kpi:8:10: error: `2025-02-30` is not a real date
  7 | test t:
  8 |   as of: 2025-02-30
    |          ^^^^^^^^^^
  9 |   given:
  hint: February 2025 has 28 days''', id="impossible-date"),
    pytest.param(
        KPI.replace("target: at least 90%", "target: at least"),
        '''a.kpi:1:1: error: the file ends in the middle of the kpi `k` that begins here
  1 | kpi k:
    | ^^^^^
  2 |   title: "K"
  hint: after `target: at least` on line 5, expected a value or a condition: a name, a number, a percentage, a date, a quoted text, `not`, `-`, `(` or `{`''',
        id="file-ends-mid-rule"),
    pytest.param(
        KPI.replace("target: at least 90%", "target: at most 15 percent"),
        '''a.kpi:5:22: error: unexpected `percent`
  4 |   counted when: completion_date is set
  5 |   target: at most 15 percent
    |                      ^^^^^^^
  hint: write `15%`: a percentage is a number directly followed by %''', id="percent-in-words"),
    pytest.param(
        KPI.replace("target: at least 90%", "target: at most 15 per cent"),
        '''a.kpi:5:22: error: unexpected `per cent`
  4 |   counted when: completion_date is set
  5 |   target: at most 15 per cent
    |                      ^^^^^^^^
  hint: write `15%`: a percentage is a number directly followed by %''', id="per-cent-in-words"),
    pytest.param(
        KPI.replace("target: at least 90%", "target: at most 0.15"),
        '''a.kpi:5:19: error: a target is a percentage, but this is a number
  4 |   counted when: completion_date is set
  5 |   target: at most 0.15
    |                   ^^^^
  hint: write `at most 15%`''', id="target-as-a-fraction"),
    pytest.param(
        KPI.replace("target: at least 90%", "target: at most 20"),
        '''a.kpi:5:19: error: a target is a percentage, but this is an integer
  4 |   counted when: completion_date is set
  5 |   target: at most 20
    |                   ^^
  hint: write `at most 20%`''', id="target-without-percent-sign"),
    pytest.param(
        KPI.replace("target: at least 90%", "target: at least 150%"),
        '''a.kpi:5:20: error: a target is a share of the population, from 0% to 100%, but this is 150%
  4 |   counted when: completion_date is set
  5 |   target: at least 150%
    |                    ^^^^
  hint: `at least 150%` is never met''', id="target-above-100-percent"),
    pytest.param(
        "table limit:\n  from 2022-08-01: 20%\n  from 2025-08-01: 120%\n\n"
        + KPI.replace("at least 90%", "at most limit"),
        '''a.kpi:3:20: error: a target is a share of the population, from 0% to 100%, but this is 120%
  2 |   from 2022-08-01: 20%
  3 |   from 2025-08-01: 120%
    |                    ^^^^
  4 |
  hint: table limit is the target of kpi k at a.kpi:9:19, so `at most 120%` is always met''',
        id="target-table-above-100-percent"),
    pytest.param(
        KPI.replace("completion_date is set",
                    "sum(payments.amount_paid) >= bootcamp.course_cost * 0.3"),
        '''a.kpi:4:69: error: money is multiplied only by a percentage, but this is a number
  3 |   population: learners
  4 |   counted when: sum(payments.amount_paid) >= bootcamp.course_cost * 0.3
    |                                                                     ^^^
  5 |   target: at least 90%
  hint: write `30%`''', id="money-times-a-fraction"),
    pytest.param(
        KPI.replace("completion_date is set",
                    "sum(payments.amount_paid) >= bootcamp.course_cost * count(payments)"),
        '''a.kpi:4:69: error: money is multiplied only by a percentage, but this is an integer
  3 |   population: learners
  4 |   counted when: sum(payments.amount_paid) >= bootcamp.course_cost * count(payments)
    |                                                                     ^^^^^^^^^^^^^^^
  5 |   target: at least 90%
  hint: a share of an amount is a percentage (`* 30%`); to split an amount, divide it (`/ 3`)''',
        id="money-times-a-count"),
    pytest.param(
        "table limit:\n  from 01/08/2024: 20%\n\n" + KPI.replace("at least 90%", "at most limit"),
        '''a.kpi:2:8: error: dates are written year-month-day
  1 | table limit:
  2 |   from 01/08/2024: 20%
    |        ^^^^^^^^^^
  3 |
  hint: write `2024-08-01` (1 August 2024)''', id="uk-date-in-a-table-version"),
    pytest.param(
        KPI.replace("completion_date is set", "withdrawal_date < 01/08/2024"),
        '''a.kpi:4:35: error: dates are written year-month-day
  3 |   population: learners
  4 |   counted when: withdrawal_date < 01/08/2024
    |                                   ^^^^^^^^^^
  5 |   target: at least 90%
  hint: write `2024-08-01` (1 August 2024)''', id="uk-date-in-a-comparison"),
    pytest.param(
        KPI.replace("completion_date is set", "withdrawal_date < 08/31/2024"),
        '''a.kpi:4:35: error: dates are written year-month-day
  3 |   population: learners
  4 |   counted when: withdrawal_date < 08/31/2024
    |                                   ^^^^^^^^^^
  5 |   target: at least 90%
  hint: write `2024-08-31` (31 August 2024)''', id="us-date-in-a-comparison"),
    pytest.param(
        KPI + TEST.replace("as of: 2025-03-31", "as of: 28/06/2024"),
        '''a.kpi:8:10: error: dates are written year-month-day
  7 | test t:
  8 |   as of: 28/06/2024
    |          ^^^^^^^^^^
  9 |   given:
  hint: write `2024-06-28` (28 June 2024)''', id="uk-date-as-of-a-test"),
    pytest.param(
        KPI + TEST.replace("completion_date = 2024-06-28", "completion_date = 28/06/2024"),
        '''a.kpi:12:35: error: dates are written year-month-day
  11 |     bootcamp B1
  12 |     learner L1: completion_date = 28/06/2024
     |                                   ^^^^^^^^^^
  13 |   expect k for bootcamp B1: met
  hint: write `2024-06-28` (28 June 2024)''', id="uk-date-given-in-a-test"),
    pytest.param(
        KPI + TEST.replace("completion_date = 2024-06-28", "completion_date = 31/31/2024"),
        '''a.kpi:12:35: error: dates are written year-month-day
  11 |     bootcamp B1
  12 |     learner L1: completion_date = 31/31/2024
     |                                   ^^^^^^^^^^
  13 |   expect k for bootcamp B1: met
  hint: write the year, the month and the day, as in `2024-08-31`''', id="no-such-date"),
]


@pytest.mark.parametrize(("text", "message"), RULE_FILE_CASES)
def test_rule_file_typos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str,
                         message: str):
    monkeypatch.chdir(tmp_path)
    Path("a.kpi").write_text(text, encoding="utf-8")
    with pytest.raises(kpidsl.RuleError) as e:
        kpidsl.load_rules("a.kpi")
    assert e.value.render() == message + "\n\n1 error"


def test_a_draft_outside_the_rules_folder_is_pointed_at_the_folder(tmp_path: Path,
                                                                    monkeypatch, capsys):
    shutil.copytree(FIXTURE_RULES, tmp_path / "rules")
    (tmp_path / "drafts").mkdir()
    (tmp_path / "drafts" / "d.kpi").write_text(
        KPI.replace("population: learners", "population: learners where completer"),
        encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "drafts/d.kpi"]) == 1
    assert capsys.readouterr().err == '''drafts/d.kpi:3:30: error: unknown name `completer` on learner
  2 |   title: "K"
  3 |   population: learners where completer
    |                              ^^^^^^^^^
  4 |   counted when: completion_date is set
  hint: `completer` is defined in rules/definitions.kpi; check the folder, not the file (put the draft in that folder and run `kpidsl check`)

1 error
'''


def test_a_rate_written_without_percent_is_pointed_at_in_its_table(tmp_path: Path,
                                                                    monkeypatch, capsys):
    """`large: 30` meant as 30% would make the employer owe thirty times the course cost:
    each row is pointed at, not the rule that multiplies by the table."""
    shutil.copytree(FIXTURE_RULES, tmp_path / "rules")
    rule = tmp_path / "rules" / "02_employer_cofunding.kpi"
    text = rule.read_text(encoding="utf-8")
    rule.write_text(text.replace("large: 30%", "large: 30").replace("sme: 10%", "sme: 10"),
                    encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 1
    assert capsys.readouterr().err == '''rules/02_employer_cofunding.kpi:7:10: error: money is multiplied only by a percentage, but this is an integer
  6 |   """
  7 |   large: 30
    |          ^^
  8 |   sme: 10
  hint: write `30%`: table cofunding_rate is used as a share of an amount of money at rules/02_employer_cofunding.kpi:42:69

rules/02_employer_cofunding.kpi:8:8: error: money is multiplied only by a percentage, but this is an integer
  7 |   large: 30
  8 |   sme: 10
    |        ^^
  9 |
  hint: write `10%`: table cofunding_rate is used as a share of an amount of money at rules/02_employer_cofunding.kpi:42:69

2 errors
'''


def test_one_rate_of_a_table_written_without_percent_is_the_one_error(tmp_path: Path,
                                                                       monkeypatch, capsys):
    """Only `large: 30` lacks its `%`: one error, at that row; the right row is left alone
    (it once got an error of its own, "a percent but the first is an integer")."""
    shutil.copytree(FIXTURE_RULES, tmp_path / "rules")
    rule = tmp_path / "rules" / "02_employer_cofunding.kpi"
    rule.write_text(rule.read_text(encoding="utf-8").replace("large: 30%", "large: 30"),
                    encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 1
    out, err = capsys.readouterr()
    assert out == "Rules: rules (with errors)\n"
    assert err == '''rules/02_employer_cofunding.kpi:7:10: error: this value is an integer but the table's others are percentages
  6 |   """
  7 |   large: 30
    |          ^^
  8 |   sme: 10%
  hint: write `30%`

1 error
'''


def test_an_impossible_date_on_the_command_line(capsys):
    assert main(["evaluate", "--data", "d", "--as-of", "2025-02-30"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "kpidsl evaluate: error: argument --as-of: '2025-02-30' is not a date: "
        "February 2025 has 28 days")


def test_an_impossible_date_in_a_csv_cell(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    kpidsl.write_data(dataset([completer("C1")]), "data")
    learners = Path("data/learners.csv")
    header, row = learners.read_text(encoding="utf-8").splitlines()
    learners.write_text(f"{header}\n{row.replace('2024-06-30', '2025-02-30')}\n",
                        encoding="utf-8")
    column = row.index("2024-06-30") + 1
    with pytest.raises(kpidsl.DataError) as e:
        kpidsl.load_data("data")
    field = header.split(",")[row[:column].count(",")]
    assert e.value.render() == (
        f"data/learners.csv:2:{column}: error: {field}: '2025-02-30' is not a date\n"
        f"  1 | {header}\n"
        f"  2 | {row.replace('2024-06-30', '2025-02-30')}\n"
        f"    | {' ' * (column - 1)}^^^^^^^^^^\n"
        "  hint: February 2025 has 28 days\n\n1 error")
