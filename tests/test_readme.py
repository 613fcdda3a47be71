"""The README's rule examples are real: each parses, and its test passes on the shipped rules."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import kpidsl
from cohort import FIXTURE_RULES
from kpidsl.language.parser import parse
from kpidsl.tools.testing import run_tests

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```kpi\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_rule_examples():
    assert len(BLOCKS) >= 2  # the first rule file, and a test beside the rules


def test_every_rule_example_parses():
    for block in BLOCKS:
        parse(block, "README.md")


def test_the_test_example_passes_on_the_shipped_rules(tmp_path):
    tests = [b for b in BLOCKS if b.lstrip().startswith("test ")]
    assert tests
    folder = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, folder, ignore=shutil.ignore_patterns("tests"))
    (folder / "readme_test.kpi").write_text("\n".join(tests), encoding="utf-8")
    report = run_tests(kpidsl.load_rules(folder))
    assert (report.passed, report.failed) == (len(tests), 0)
