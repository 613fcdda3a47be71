"""``kpidsl diff`` as a reviewer reads it: the changes of meaning, of texts and of tests apart,
and with ``--data`` what the change does to the results, an added KPI's figures included.

Each expected output is written out whole and worked out by hand: the texts from the edits
made here to the frozen fixture rules, the figures from a cohort small enough to count.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import kpidsl
from cohort import FIXTURE_RULES, completer, dataset, learner, withdrawn
from kpidsl.api import rules_fingerprint
from kpidsl.cli import main
from kpidsl.data.csvfiles import write_data
from kpidsl.language.changes import compare_all, compare_texts, excerpts

DROPOUT = "03_learner_dropout.kpi"
DROPOUT_TESTS = "tests/03_learner_dropout_test.kpi"


def copy(tmp_path: Path, name: str, edits: dict[str, list[tuple[str, str]]] | None = None,
         new: dict[str, str] | None = None) -> Path:
    """A copy of the fixture rules with each ``old → new`` edit made once (each ``old`` must
    be in its file exactly once) and the files of ``new`` written."""
    folder = tmp_path / name
    shutil.copytree(FIXTURE_RULES, folder)
    for file, changes in (edits or {}).items():
        path = folder / file
        text = path.read_text(encoding="utf-8")
        for old, replacement in changes:
            assert text.count(old) == 1, old
            text = text.replace(old, replacement)
        path.write_text(text, encoding="utf-8")
    for file, text in (new or {}).items():
        (folder / file).write_text(text, encoding="utf-8")
    return folder


def diff(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(["diff", *argv])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    return out


def head(old: Path, new: Path) -> str:
    """The first two lines: which rules were compared."""
    return "".join(f"{which} rules: {path} (fingerprint "
                   f"{rules_fingerprint(kpidsl.load_rules(path))[:12]})\n"
                   for which, path in (("Old", old), ("New", new)))


NOT_COMPARED = "Results were not compared: give --data DATA to evaluate both rule sets on it.\n"


# ---- no change ------------------------------------------------------------------------


def test_no_change_at_all_is_one_line(capsys, tmp_path):
    """Layout and comments are no change, with or without data."""
    new = copy(tmp_path, "new", {DROPOUT: [("target: at most 20%", "target:   at most 20%  # v2")],
                                 DROPOUT_TESTS: [("as of: 2025-03-31\n  given:\n    provider P1\n"
                                                  "    bootcamp B1: course_cost",
                                                  "as of:  2025-03-31\n  given:\n    provider P1"
                                                  "\n    bootcamp B1:  course_cost")]})
    line = "No changes: the rules, their texts and their tests are the same.\n"
    assert diff(capsys, str(FIXTURE_RULES), str(new)) == head(FIXTURE_RULES, new) + line
    data = tmp_path / "data"
    write_data(dataset([withdrawn("W"), completer("C")]), data)
    assert diff(capsys, str(FIXTURE_RULES), str(new), "--data", str(data)) == \
        head(FIXTURE_RULES, new) + line
    got = json.loads(diff(capsys, str(FIXTURE_RULES), str(new), "--format", "json"))
    assert {k: v for k, v in got.items() if k != "rules"} == {
        "as_of": None, "rule_changes": [], "text_changes": [], "test_changes": [], "added": [],
        "removed": [], "changes": None, "added_results": None}


# ---- text changes ---------------------------------------------------------------------


def test_a_text_only_change_without_data(capsys, tmp_path):
    """Only words for readers change: no rule changes, so no result can change; the
    results are not compared, and the output says how to compare them."""
    new = copy(tmp_path, "new", {
        DROPOUT: [("Any learner who drops out", "Every learner who drops out")],
        "definitions.kpi": [("A learner who successfully completed",
                             "A learner who completed")]})
    assert diff(capsys, str(FIXTURE_RULES), str(new)) == head(FIXTURE_RULES, new) + (
        "Rule changes, which can change results: none\n"
        "\n"
        "Text changes, which change no result: 2\n"
        # 20 words come before "Any": the 4 before it and the 4 after it are shown
        "  kpi learner_dropout: policy: … and completion (Milestone 2). Any learner who\n"
        "      drops out … → … and completion (Milestone 2). Every learner who drops\n"
        "      out …\n"
        # a short text is shown whole
        "  define completer for learner: description: A learner who successfully\n"
        "      completed the bootcamp (Milestone 2). → A learner who completed the\n"
        "      bootcamp (Milestone 2).\n"
        "\n"
        "Test changes: none\n"
        "\n" + NOT_COMPARED)


@pytest.mark.parametrize(("file", "old", "new", "words"), [
    (DROPOUT, 'level: "Max 20% dropout"', 'level: "Max 15% dropout"',
     "kpi learner_dropout: level: Max 20% dropout → Max 15% dropout"),
    (DROPOUT, 'title: "Learner Drop-Out"', 'title: "Learner drop-out"',
     "kpi learner_dropout: title: Learner Drop-Out → Learner drop-out"),
    (DROPOUT, 'stage: "On Milestone 1 and monthly to Milestone 2"', "",
     "kpi learner_dropout: stage: removed (was On Milestone 1 and monthly to Milestone 2)"),
    (DROPOUT, "Milestone 1, so the population is the Milestone 1 starters.",
     "Milestone 1: the population is the Milestone 1 starters.",
     'kpi learner_dropout: decision "Drop-outs before Milestone 1 are recorded but not '
     'measured": … only those after Milestone 1, so the population is the Milestone 1 '
     "starters. → … only those after Milestone 1: the population is the Milestone 1 "
     "starters."),
    ("02_employer_cofunding.kpi", "The share of the course cost",
     "The part of the course cost",
     "table cofunding_rate: description: The share of the course cost … → The part of the "
     "course cost …"),
    ("08_delivery_against_profile.kpi", "The WMCA's performance management points.",
     "The WMCA's points.",
     "schedule management_point: description: The WMCA's performance management points. "
     "Teaching year Y … → The WMCA's points. Teaching year Y …"),
    ("01_employer_engagement.kpi", "DfE will\n  contact the provider",
     "DfE\n  contacts the provider",
     "action employer_unreachable: description: … cannot be reached, DfE will contact the "
     "provider to understand … → … cannot be reached, DfE contacts the provider to "
     "understand …"),
])
def test_each_kind_of_text_change_in_words(tmp_path, file, old, new, words):
    folder = copy(tmp_path, "new", {file: [(old, new)]})
    changes = compare_all(kpidsl.load_rules(FIXTURE_RULES), kpidsl.load_rules(folder))
    assert [c.words() for c in changes.texts] == [words]
    assert changes.rules == changes.tests == ()


def test_a_decision_retitled_is_one_removed_and_one_added(tmp_path):
    """Its 41 words are shown up to the 40th."""
    folder = copy(tmp_path, "new", {DROPOUT: [
        ('decision "Learners still in learning are pending"',
         'decision "Learners in learning are pending"')]})
    changes = compare_all(kpidsl.load_rules(FIXTURE_RULES), kpidsl.load_rules(folder))
    text = ("A starter who has neither withdrawn nor completed may still do either, so they are "
            "pending: the KPI is met early only if it would be met however they end, and missed "
            "early only if it is missed however they")
    assert [c.words() for c in changes.texts] == [
        f'kpi learner_dropout: decision "Learners still in learning are pending": removed (was '
        f"{text} …)",
        f'kpi learner_dropout: decision "Learners in learning are pending": added ({text} …)']
    assert changes.texts[0].old == changes.texts[1].new == f"{text} end."


def test_a_text_rewrapped_is_the_same_text(tmp_path):
    folder = copy(tmp_path, "new", {DROPOUT: [("20% between the first payment\n    milestone",
                                               "20%\n    between the first payment milestone")]})
    assert compare_texts(kpidsl.load_rules(FIXTURE_RULES), kpidsl.load_rules(folder)) == []


@pytest.mark.parametrize(("old", "new", "shown"), [
    ("a b c", "a x c", ("a b c", "a x c")),
    ("1 2 3 4 5 6 7 8 9 old 10 11 12 13 14 15 16 17 18",
     "1 2 3 4 5 6 7 8 9 new 10 11 12 13 14 15 16 17 18",
     ("… 6 7 8 9 old 10 11 12 13 …", "… 6 7 8 9 new 10 11 12 13 …")),
    ("1 2 3 4 5 6 7 8 9", "1 2 3 4 5 6 7 8 9 more", ("… 6 7 8 9", "… 6 7 8 9 more")),
    ("1 2 3 4 5 6 7 8", "1 2 3 4 5 6 7 8 more", ("1 2 3 4 5 6 7 8", "1 2 3 4 5 6 7 8 more")),
    (" ".join(map(str, range(50))), "x", (" ".join(map(str, range(40))) + " …", "x")),
    # two changes ten words apart: each with its four words either side
    ("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
     "1 2 3 4 A 6 7 8 9 10 11 12 13 14 15 B 17 18 19 20",
     ("1 2 3 4 5 6 7 8 9 … 12 13 14 15 16 17 18 19 20",
      "1 2 3 4 A 6 7 8 9 … 12 13 14 15 B 17 18 19 20")),
])
def test_excerpts_show_what_changed_with_four_words_around_it(old, new, shown):
    assert excerpts(old, new) == shown


# ---- test changes ---------------------------------------------------------------------


EXTRA_TEST = """\
test dropout_none_withdrew:
  as of: 2025-03-31
  given:
    provider P1
    bootcamp B1
    learner L1: learner_type = independent, milestone1_date = 2024-02-01,
                completion_date = 2024-06-28
  expect learner_dropout for bootcamp B1: met, 0 of 1, 0 pending
"""


def test_tests_added_removed_and_changed(capsys, tmp_path):
    text = (FIXTURE_RULES / DROPOUT_TESTS).read_text(encoding="utf-8")
    last = text[text.index("test dropout_withdrawal_after_the_as_of_date_has_not_happened"):]
    new = copy(tmp_path, "new", {DROPOUT_TESTS: [
        ("as of: 2025-03-31\n  given:\n    provider P1\n    bootcamp B1: course_cost",
         "as of: 2025-04-30\n  given:\n    provider P1\n    bootcamp B1: course_cost"),
        ("expect learner_dropout for bootcamp B1: met, 1 of 5, 0 pending",
         "expect learner_dropout for bootcamp B1: not_met, 1 of 5, 0 pending"),
        ("withdrawal_date = 2024-04-01\n    learner L3: learner_type = independent, "
         "milestone1_date = 2024-02-01,\n                completion_date = 2024-06-28\n"
         "    learner L4",
         "withdrawal_date = 2024-04-02\n    learner L3: learner_type = independent, "
         "milestone1_date = 2024-02-01,\n                completion_date = 2024-06-28\n"
         "    learner L4"),
        ("    learner L5: learner_type = independent, milestone1_date = 2024-02-01,\n"
         "                completion_date = 2024-06-28\n"
         "  expect learner_dropout for bootcamp B1: not_met, 2 of 5, 0 pending",
         "    learner L6: learner_type = independent, milestone1_date = 2024-02-01,\n"
         "                completion_date = 2024-06-28\n"
         "  expect learner_dropout for bootcamp B1: not_met, 2 of 5, 0 pending"),
        (" (This is the test that notices a maximum\n  raised to 25%.)", ""),
        (last, "")]}, new={"tests/10_extra_test.kpi": EXTRA_TEST})
    assert diff(capsys, str(FIXTURE_RULES), str(new)) == head(FIXTURE_RULES, new) + (
        "Rule changes, which can change results: none\n"
        "\n"
        "Text changes, which change no result: none\n"
        "\n"
        "Test changes: 8\n"
        "  test dropout_withdrawal_after_the_as_of_date_has_not_happened: removed\n"
        "  test dropout_exactly_20_percent_is_met:\n"
        "    as of: 2025-03-31 → 2025-04-30\n"
        "    expect learner_dropout for bootcamp B1: met, 1 of 5, 0 pending → not_met,\n"
        "        1 of 5, 0 pending\n"
        "  test dropout_2_of_5_is_not_met:\n"
        "    given learner L2, withdrawal_date: 2024-04-01 → 2024-04-02\n"
        "    given learner L5: removed (was learner_type = independent, milestone1_date\n"
        "        = 2024-02-01, completion_date = 2024-06-28)\n"
        "    given learner L6: added (learner_type = independent, milestone1_date =\n"
        "        2024-02-01, completion_date = 2024-06-28)\n"
        # nine words are the same before the change: five are left out
        "  test dropout_1_of_4_is_over_the_maximum: description: … is more than 20%.\n"
        "      (This is the test that notices a maximum raised to 25%.) → … is more\n"
        "      than 20%.\n"
        "  test dropout_none_withdrew: added\n"
        "\n" + NOT_COMPARED)


def test_a_test_renamed_with_its_expectations_is_one_test_renamed(tmp_path):
    """As the guide asks after a policy edit: the test's name and its expect line change, the
    cohort does not; a definition renamed is one definition renamed."""
    new = copy(tmp_path, "new", {
        DROPOUT_TESTS: [("test dropout_exactly_20_percent_is_met:",
                         "test dropout_exactly_20_percent_is_over_15:"),
                        ("expect learner_dropout for bootcamp B1: met, 1 of 5, 0 pending",
                         "expect learner_dropout for bootcamp B1: not_met, 1 of 5, 0 pending")],
        "definitions.kpi": [("define unsuccessful_attempts for learner:",
                             "define failed_interviews for learner:")],
        "07_referral.kpi": [("unsuccessful_attempts >= 2", "failed_interviews >= 2")]})
    changes = compare_all(kpidsl.load_rules(FIXTURE_RULES), kpidsl.load_rules(new))
    assert [c.words() for c in changes.tests] == [
        "test dropout_exactly_20_percent_is_over_15: renamed: dropout_exactly_20_percent_is_met"
        " → dropout_exactly_20_percent_is_over_15",
        "test dropout_exactly_20_percent_is_over_15: expect learner_dropout for bootcamp B1: "
        "met, 1 of 5, 0 pending → not_met, 1 of 5, 0 pending"]
    assert "define failed_interviews for learner: renamed: unsuccessful_attempts for learner" \
        " → failed_interviews for learner" in [c.words() for c in changes.rules]
    assert not any(c.item.startswith("define unsuccessful_attempts") for c in changes.rules)


def test_expected_findings_and_actions_are_compared_by_kind_and_name(tmp_path):
    new = copy(tmp_path, "new", {
        "tests/01_employer_engagement_test.kpi": [("expect 2 action employer_unreachable",
                                                   "expect 3 action employer_unreachable")],
        "tests/data_quality_test.kpi": [("  expect 1 finding withdrawn_and_completed\n", "")]})
    changes = compare_all(kpidsl.load_rules(FIXTURE_RULES), kpidsl.load_rules(new))
    assert [c.words() for c in changes.tests] == [
        "test engagement_escalated_after_3_attempts: expect action employer_unreachable: "
        "2 → 3",
        "test findings_list_contradictions_as_written: expect finding withdrawn_and_completed: removed (was 1)"]


# ---- with data ------------------------------------------------------------------------


def test_target_lowered_and_decision_added_on_data(capsys, tmp_path):
    """B1: 1 withdrawal of 5 starters is 20%, met at most 20% but not at most 15%. B2: 1 of
    10 is 10%, met either way; P1 and the programme: 2 of 15, 13.3%, met either way. Only
    B1 moves."""
    data = tmp_path / "data"
    write_data(dataset([withdrawn("W1"), *(completer(f"C{i}") for i in range(4)),
                        withdrawn("W2", bootcamp_id="B2"),
                        *(completer(f"D{i}", bootcamp_id="B2") for i in range(9))]), data)
    new = copy(tmp_path, "new", {DROPOUT: [
        ("target: at most 20%", "target: at most 15%"),
        ('level: "Max 20% dropout"', 'level: "Max 15% dropout"'),
        ("  population:", '  decision "Why 15%": """\n'
                          "    Guidance v3 lowers the maximum to 15%.\n"
                          '    """\n\n  population:')]})
    assert diff(capsys, str(FIXTURE_RULES), str(new), "--data", str(data), "--as-of",
                "2025-03-31") == head(FIXTURE_RULES, new) + (
        "Rule changes, which can change results: 1\n"
        "  kpi learner_dropout: target: at most 20% → at most 15%\n"
        "\n"
        "Text changes, which change no result: 2\n"
        "  kpi learner_dropout:\n"
        "    level: Max 20% dropout → Max 15% dropout\n"
        '    decision "Why 15%": added (Guidance v3 lowers the maximum to 15%.)\n'
        "\n"
        "Test changes: none\n"
        "\n"
        "Results as of 2025-03-31: 1 result changes status or counts\n"
        "\n"
        "learner_dropout  (target: at most 20% → at most 15%)\n"
        "  scope     group  old         new\n"
        "  --------  -----  -------  -  -----------\n"
        "  bootcamp  B1     met 1/5  →  not met 1/5\n")


EARLY = """\
kpi early_leavers:
  title: "Early leavers"
  level: "At most a quarter leave before Milestone 1"
  population: learners
  counted when: withdrawal_date is set and milestone1_date is missing
  target: at most 25%
"""

EARLY_TEST = """\
test early_leavers_one_of_two:
  as of: 2025-03-31
  given:
    provider P1
    bootcamp B1
    learner L1: learner_type = independent, withdrawal_date = 2024-01-20
    learner L2: learner_type = independent, milestone1_date = 2024-02-01
  expect early_leavers for bootcamp B1: not_met, 1 of 2, 0 pending
"""


def early_cohort(folder: Path) -> None:
    """Early leavers (withdrawn before Milestone 1): B1 1 of 4 (25%, met at most 25%);
    B2 1 of 2 (50%, not met); ACC 0 of 1 (met); EMPTY none (no data). P1 is B1, B2 and
    EMPTY: 2 of 6 (33.3%, not met); P2 is ACC (met); P3 runs nothing (no data); the
    programme 2 of 7 (28.6%, not met). Nothing is ever pending: the KPI has no `pending
    when`."""
    write_data(dataset([learner("E1", withdrawal_date="2024-01-10"),
                        *(completer(f"C{i}") for i in range(3)),
                        learner("E2", bootcamp_id="B2", withdrawal_date="2024-01-10"),
                        completer("D1", bootcamp_id="B2"),
                        completer("A1", bootcamp_id="ACC")]), folder)


def test_an_added_kpi_shows_its_figures_on_the_data(capsys, tmp_path):
    data = tmp_path / "data"
    early_cohort(data)
    new = copy(tmp_path, "new", new={"09_early_leavers.kpi": EARLY,
                                     "tests/09_early_leavers_test.kpi": EARLY_TEST})
    assert diff(capsys, str(FIXTURE_RULES), str(new), "--data", str(data), "--as-of",
                "2025-03-31") == head(FIXTURE_RULES, new) + (
        "Rule changes, which can change results: 1\n"
        "  kpi early_leavers: added\n"
        "\n"
        "Text changes, which change no result: none\n"
        "\n"
        "Test changes: 1\n"
        "  test early_leavers_one_of_two: added\n"
        "\n"
        "Results as of 2025-03-31: no result changes status or counts\n"
        "\n"
        "Added KPI early_leavers  (target: at most 25%)\n"
        "  scope      group  status    rate  k  n  pending\n"
        "  ---------  -----  -------  -----  -  -  -------\n"
        "  bootcamp   ACC    met         0%  0  1        0\n"
        "  bootcamp   B1     met        25%  1  4        0\n"
        "  bootcamp   B2     not met    50%  1  2        0\n"
        "  bootcamp   EMPTY  no data      –  0  0        0\n"
        "  provider   P1     not met  33.3%  2  6        0\n"
        "  provider   P2     met         0%  0  1        0\n"
        "  provider   P3     no data      –  0  0        0\n"
        "  programme  all    not met  28.6%  2  7        0\n")
    # the other way round, the KPI is removed: no figures, as there are none to compare
    out = diff(capsys, str(new), str(FIXTURE_RULES), "--data", str(data), "--as-of",
               "2025-03-31")
    assert out.split("\n", 2)[2] == (
        "Rule changes, which can change results: 1\n"
        "  kpi early_leavers: removed\n"
        "\n"
        "Text changes, which change no result: none\n"
        "\n"
        "Test changes: 1\n"
        "  test early_leavers_one_of_two: removed\n"
        "\n"
        "Results as of 2025-03-31: no result changes status or counts\n")


# ---- JSON -----------------------------------------------------------------------------


def test_json_carries_the_same_with_stable_keys(capsys, tmp_path):
    data = tmp_path / "data"
    early_cohort(data)
    new = copy(tmp_path, "new", {
        DROPOUT: [('level: "Max 20% dropout"', 'level: "Max 15% dropout"')],
        DROPOUT_TESTS: [("Two of five withdrew: 40%.", "Two of five withdrew.")]},
        new={"09_early_leavers.kpi": EARLY})
    keys = ["as_of", "rule_changes", "text_changes", "test_changes", "added", "removed",
            "changes", "added_results", "rules"]
    got = json.loads(diff(capsys, str(FIXTURE_RULES), str(new), "--format", "json"))
    assert list(got) == keys
    assert (got["as_of"], got["changes"], got["added_results"]) == (None, None, None)
    assert got["rule_changes"] == [{"item": "kpi early_leavers", "part": None, "old": None,
                                    "new": "", "words": "kpi early_leavers: added"}]
    assert got["text_changes"] == [{
        "item": "kpi learner_dropout", "part": "level", "old": "Max 20% dropout",
        "new": "Max 15% dropout",
        "words": "kpi learner_dropout: level: Max 20% dropout → Max 15% dropout"}]
    assert got["test_changes"] == [{
        "item": "test dropout_2_of_5_is_not_met", "part": "description",
        "old": "Two of five withdrew: 40%.", "new": "Two of five withdrew.",
        "words": "test dropout_2_of_5_is_not_met: description: Two of five withdrew: 40%. → "
                 "Two of five withdrew."}]
    assert (got["added"], got["removed"]) == (["early_leavers"], [])

    got = json.loads(diff(capsys, str(FIXTURE_RULES), str(new), "--data", str(data),
                          "--as-of", "2025-03-31", "--format", "json"))
    assert list(got) == keys
    assert (got["as_of"], got["changes"]) == ("2025-03-31", [])
    assert [(r["kpi"], r["scope"], r["group"], r["status"], r["numerator"], r["denominator"],
             r["pending"]) for r in got["added_results"]] == [
        ("early_leavers", "bootcamp", "ACC", "met", 0, 1, 0),
        ("early_leavers", "bootcamp", "B1", "met", 1, 4, 0),
        ("early_leavers", "bootcamp", "B2", "not_met", 1, 2, 0),
        ("early_leavers", "bootcamp", "EMPTY", "no_data", 0, 0, 0),
        ("early_leavers", "provider", "P1", "not_met", 2, 6, 0),
        ("early_leavers", "provider", "P2", "met", 0, 1, 0),
        ("early_leavers", "provider", "P3", "no_data", 0, 0, 0),
        ("early_leavers", "programme", "all", "not_met", 2, 7, 0)]
    assert got["added_results"][-1]["target"] == "at most 25%"


# ---- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("option", [["--as-of", "2025-03-31"], ["--engine", "python"]])
def test_an_option_for_the_results_without_data_is_a_usage_error(capsys, option):
    code = main(["diff", str(FIXTURE_RULES), str(FIXTURE_RULES), *option])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == f"kpidsl diff: error: {option[0]} is for comparing results: give --data " \
        "DATA too\n"


def test_a_broken_test_beside_the_new_rules_is_a_rule_error(capsys, tmp_path):
    new = copy(tmp_path, "new", new={"tests/10_extra_test.kpi": EXTRA_TEST.replace(
        "learner_dropout for", "learner_drop for")})
    code = main(["diff", str(FIXTURE_RULES), str(new)])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert "10_extra_test.kpi:8:" in err and "Traceback" not in err
