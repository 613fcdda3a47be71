"""The policy officer's loop, end to end: a policy change is a rule-file edit, and the suite
follows it.

A copy of the fixture rules (the shipped rules at KPI-SPEC's numbers) gets the drop-out maximum
lowered from 20% to 15%. Then the suite's policy checks — the rule set's own tests, one pytest
item each, and the differential test against the oracle, which reads the new target from the
rules — are run on it in a separate pytest, with ``--rules``:

- with the rule's own tests updated to the new policy, everything passes;
- with the rule changed and its tests not, exactly the rule tests that state the old policy
  fail, and each failure names the test and the rule.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cohort import FIXTURE_RULES
from kpidsl.cli import main

TESTS = Path(__file__).resolve().parent

#: The three tests of the drop-out rule whose result moves at 15%, with their new expectation.
UPDATES = {
    "dropout_exactly_20_percent_is_met": (
        "expect learner_dropout for bootcamp B1: met, 1 of 5, 0 pending",
        "expect learner_dropout for bootcamp B1: not_met, 1 of 5, 0 pending"),
    "dropout_one_withdrawal_of_one_decided_is_at_risk": (
        "expect learner_dropout for bootcamp B1: at_risk, 1 of 5, 4 pending",
        "expect learner_dropout for bootcamp B1: not_met, 1 of 5, 4 pending"),
    "dropout_met_before_everyone_finishes": (
        "expect learner_dropout for bootcamp B1: met, 0 of 10, 2 pending",
        "expect learner_dropout for bootcamp B1: on_track, 0 of 10, 2 pending"),
}


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def edited(tmp_path: Path) -> Path:
    """The fixture rules with the drop-out maximum at 15%; its tests not yet updated."""
    rules = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, rules)
    _replace(rules / "03_learner_dropout.kpi", "target: at most 20%", "target: at most 15%")
    return rules


def _update_tests(rules: Path) -> None:
    tests = rules / "tests" / "03_learner_dropout_test.kpi"
    for old, new in UPDATES.values():
        _replace(tests, old, new)
    _replace(tests, "expect learner_dropout for provider P1: met, 1 of 5, 0 pending",
             "expect learner_dropout for provider P1: not_met, 1 of 5, 0 pending")
    _replace(tests, "expect learner_dropout for programme all: met\n",
             "expect learner_dropout for programme all: not_met\n")


def _policy_checks(rules: Path) -> subprocess.CompletedProcess[str]:
    """The suite's policy checks on ``rules``, in a pytest of their own (one seed of the
    generated data sets, and the random cohorts)."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rules", str(rules),
         "-k", "rule_tests or seed0 or random", str(TESTS / "policy" / "test_rule_tests.py"),
         str(TESTS / "policy" / "test_differential.py")],
        capture_output=True, text=True, timeout=600, cwd=TESTS.parent,
        # pytest writes whole failure messages into its summary under CI: count them once
        env={k: v for k, v in os.environ.items() if k not in ("CI", "BUILD_NUMBER")})


def test_a_policy_edit_with_its_tests_updated_is_green(edited: Path, capsys):
    _update_tests(edited)
    done = _policy_checks(edited)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert re.search(r"^\d+ passed", done.stdout.splitlines()[-1])
    assert main(["test", str(edited)]) == 0
    assert "\n49 passed, 0 failed\n" in capsys.readouterr().out


def test_a_policy_edit_without_its_tests_fails_exactly_those_tests(edited: Path, capsys):
    done = _policy_checks(edited)
    assert done.returncode == 1
    failed = re.findall(r"^FAILED tests/policy/test_(\w+)\.py::(\S+)", done.stdout, re.M)
    assert sorted(failed) == sorted(("rule_tests", f"test_rule[{name}]") for name in UPDATES)
    rule = f"{edited}/03_learner_dropout.kpi:33: kpi learner_dropout, target: at most 15%"
    for name in UPDATES:  # each failure names its test, where it is, and the rule
        assert re.search(rf"^FAIL {name} \({edited}/tests/03_learner_dropout_test.kpi:\d+\)$",
                         done.stdout, re.M), name
    assert done.stdout.count(f"    rule:     {rule}\n") == 5  # 3 + 1 + 1 expectations
    assert main(["test", str(edited)]) == 1
    out = capsys.readouterr().out
    assert "\n46 passed, 3 failed\n" in out
    assert f"    rule:     {rule}\n" in out
