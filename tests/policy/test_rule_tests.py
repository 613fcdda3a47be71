"""The rule set's own tests, one pytest item each: the ``test`` blocks written beside the rules
under test (``--rules``, default ``rules/``), run exactly as ``kpidsl test`` runs them.

A failure names the test (its file and line), each expectation that failed with the expected
and actual results, and the rule it is about (the KPI's target, at its file and line), so that
after a policy edit the output says which tests still state the old policy.
"""

from __future__ import annotations

import pytest

import kpidsl
from conftest import rules_under_test
from kpidsl.language import ast
from kpidsl.tools.testing import render_failures, run_test


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "rule_test" not in metafunc.fixturenames:
        return
    path = rules_under_test(metafunc.config)
    try:
        rules = kpidsl.load_rules(path)
    except kpidsl.RuleError as e:  # one item that fails with the rule errors, not a crash
        metafunc.parametrize("rule_test", [pytest.param((None, e.render()), id="rules-check")])
        return
    metafunc.parametrize("rule_test", [(rules, t) for t in rules.tests],
                         ids=[t.name for t in rules.tests])


def test_rule(rule_test: tuple[kpidsl.RuleSet | None, ast.Test | str]):
    rules, test = rule_test
    if rules is None:
        pytest.fail(f"the rules under test do not check:\n{test}", pytrace=False)
    assert isinstance(test, ast.Test)
    outcome, _, _ = run_test(rules, test)
    if not outcome.passed:
        pytest.fail(render_failures(outcome), pytrace=False)
