"""Prose that agrees with the rule (kpidsl.language.prose): a number stated in a KPI's level,
policy or decisions that its rule no longer uses is a warning at both places."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import kpidsl
from cohort import FIXTURE_RULES
from kpidsl.cli import main
from kpidsl.language.prose import prose_warnings


def test_the_fixture_rules_have_no_prose_warning():
    """The fixture is the shipped rules as written; their prose agrees with them. (The rules
    under test are not held to this here: a policy edit whose prose is not yet updated is a
    warning of ``kpidsl check``, not a failure.)"""
    assert [d.render() for d in prose_warnings(kpidsl.load_rules(FIXTURE_RULES))] == []


def _edited(tmp_path: Path, file: str, old: str, new: str) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, folder)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    return folder


def test_a_changed_target_warns_at_the_text_and_names_the_rule(tmp_path, monkeypatch, capsys):
    folder = _edited(tmp_path, "03_learner_dropout.kpi", "target: at most 20%",
                     "target: at most 15%")
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 0  # a warning, not an error
    out, err = capsys.readouterr()
    assert out.endswith("; 3 warnings about the prose\n")
    assert err.split("\n\n")[0] == '''rules/03_learner_dropout.kpi:6:15: warning: the level of learner_dropout says 20%, a percentage its rule does not use
  5 |   stage: "On Milestone 1 and monthly to Milestone 2"
  6 |   level: "Max 20% dropout"
    |               ^^^
  7 |   descriptor: "Dropouts are measured as learners who drop out between Milestone 1 and 2."
  hint: the rule uses 15% (rules/03_learner_dropout.kpi:33:19), which the text does not state; make the text say what the rule does'''
    assert [(d.line, d.column) for d in prose_warnings(kpidsl.load_rules(folder))] == [
        (6, 15), (13, 58), (16, 36)]  # the level, and the policy's two mentions


def test_a_changed_rate_is_named_first_in_the_hint(tmp_path, monkeypatch, capsys):
    """The row edited to 25% is what the text no longer says; the unchanged 10% row and 100%
    target follow it. The warning stays at the number in the text."""
    folder = _edited(tmp_path, "02_employer_cofunding.kpi", "large: 30%", "large: 25%")
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 0
    assert capsys.readouterr().err.split("\n\n")[0] == '''rules/02_employer_cofunding.kpi:13:107: warning: the level of employer_cofunding says 30%, a percentage its rule does not use
  12 |   stage: "Throughout"
  13 |   level: "100% of employers that are training existing employees are making the appropriate contribution: 30% for large employers / 10% for SMEs"
     |                                                                                                           ^^^
  14 |   descriptor: "Where employers are training their own existing employees (directly employed), employers must co-fund the training with a cash contribution."
  hint: the rule uses 25% (rules/02_employer_cofunding.kpi:7:10), which the text does not state; it also uses 10% (rules/02_employer_cofunding.kpi:8:8), 100% (rules/02_employer_cofunding.kpi:44:20); make the text say what the rule does'''
    assert [(d.line, d.column) for d in prose_warnings(kpidsl.load_rules(folder))] == [
        (13, 107), (21, 18)]  # the level, and the policy


@pytest.mark.parametrize(("file", "old", "new", "kpi", "stated", "used"), [
    ("02_employer_cofunding.kpi", "sme: 10%", "sme: 12%", "employer_cofunding", "10%", "12%"),
    ("definitions.kpi", "completion_date + 6 months", "completion_date + 5 months",
     "career_progression", "6 months", "5 months"),
    ("07_referral.kpi", "unsuccessful_attempts >= 2", "unsuccessful_attempts >= 3", "referral",
     "two attempts", "3 attempts"),
    ("01_employer_engagement.kpi", "contact_attempts >= 3", "contact_attempts >= 4",
     "employer_engagement", "3 attempts", "4 attempts"),
    ("08_delivery_against_profile.kpi", "R08: 10%", "R08: 12%", "delivery_against_profile",
     "10%", "12%"),
])
def test_each_kind_of_number_is_compared(tmp_path, file, old, new, kpi, stated, used):
    rules = kpidsl.load_rules(_edited(tmp_path, file, old, new))
    found = [d for d in prose_warnings(rules) if f" of {kpi} says {stated}," in d.message]
    assert found, [d.message for d in prose_warnings(rules)]
    assert all((d.severity == "warning" and f"the rule uses {used} (" in (d.hint or ""))
               or f", {used} (" in (d.hint or "") for d in found)


def test_a_kind_the_rule_does_not_use_is_not_compared(tmp_path):
    """The co-funding decision gives a worked example in pounds; the rule holds no amount."""
    rules = kpidsl.load_rules(FIXTURE_RULES)
    assert "£150.00" in rules.kpi("employer_cofunding").decisions[1].text
    assert prose_warnings(rules, "employer_cofunding") == []
