"""The policy drill: a policy officer's edits to a copy of the rules under test, and proof that
only the edited rules' own tests notice.

The edits (``drill.py``) are worked out from the rules' current text: a stricter target, a
value in a parameter table, a new KPI with its own test, a definition renamed with its uses.
Then, on a copy of the whole repository whose ``rules/`` is the edited rule set:

- the edited rules check and are laid out as ``kpidsl fmt`` lays them out;
- ``kpidsl test`` fails only tests about the KPIs the edits change, each failure naming its
  rule and line, and the new KPI's own test passes;
- (``-m drill``, run by ``nox -s drill`` in CI) the rest of the test suite passes, the
  comparison with the oracle included, and the documentation builds with warnings as errors.

A test outside ``tests/policy/`` that depends on a value in ``rules/`` — by reading the files
in a process of its own, say, where the guard in ``conftest.py`` cannot see it — fails here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import kpidsl
from conftest import rules_under_test
from drill import NEW_KPI, Edit, drill
from kpidsl.cli import main

REPO = Path(__file__).resolve().parents[2]
#: What a copy of the repository leaves out: version control, builds, caches, environments,
#: the bench's generated data and figures.
SKIP = shutil.ignore_patterns(".git", ".nox", ".venv", "venv", "_build", "__pycache__",
                              "*.egg-info", ".pytest_cache", ".mypy_cache", ".ruff_cache",
                              ".data", ".results")


@pytest.fixture(scope="module")
def drilled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[Path, list[Edit]]:
    """A copy of the repository whose ``rules/`` are the rules under test after the drill."""
    copy = tmp_path_factory.mktemp("drill") / "repo"
    shutil.copytree(REPO, copy, ignore=SKIP)
    shutil.rmtree(copy / "rules")
    shutil.copytree(rules_under_test(request.config), copy / "rules", ignore=SKIP)
    generated = copy / "docs" / "rules"  # the rule reference pages of an earlier build
    if generated.is_dir():
        shutil.rmtree(generated)
    return copy, drill(copy / "rules")


def test_the_drill_makes_every_kind_of_edit(drilled):
    _, edits = drilled
    kinds = [e.what.split()[0] for e in edits]
    assert kinds == ["target", "table", "new", "definition"], edits


def test_the_edited_rules_check_and_are_laid_out(drilled, capsys):
    copy, _ = drilled
    assert main(["check", str(copy / "rules")]) == 0, capsys.readouterr()
    assert main(["fmt", "--check", str(copy / "rules")]) == 0, capsys.readouterr().out


def test_only_the_edited_rules_tests_fail_each_naming_its_rule(drilled, capsys):
    copy, edits = drilled
    changed = set().union(*(e.kpis for e in edits)) - {NEW_KPI}
    rules = kpidsl.load_rules(copy / "rules")
    about = {t.name: {e.kpi for e in t.expects} for t in rules.tests}
    code = main(["test", str(copy / "rules")])
    out = capsys.readouterr().out
    failed = re.findall(r"^FAIL (\w+) \((.+):(\d+)\)$", out, re.M)
    for name, file, _ in failed:
        assert about[name] & changed, f"{name} ({file}) failed, but the edits did not touch " \
            f"the KPIs it is about ({', '.join(sorted(about[name]))})"
    rules_named = set(re.findall(r"^    rule: +\S+:\d+: kpi (\w+), ", out, re.M))
    assert rules_named <= changed and bool(rules_named) == bool(failed), rules_named
    assert re.search(rf"^PASS +{NEW_KPI}_one_in_two_is_met$", out, re.M)
    assert code == (1 if failed else 0)


def _env(copy: Path) -> dict[str, str]:
    """This environment, with kpidsl imported from the copy (whose shipped rules are then the
    edited ones)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    return {**env, "PYTHONPATH": str(copy / "src")}


@pytest.mark.drill
def test_the_rest_of_the_suite_passes_on_the_edited_rules(drilled):
    copy, edits = drilled
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not drill",
         "--ignore", "tests/policy/test_drill.py", "--ignore", "tests/policy/test_rule_tests.py"],
        cwd=copy, env=_env(copy), capture_output=True, text=True, timeout=3000)
    summary = [line for line in done.stdout.splitlines()
               if line.startswith(("FAILED", "ERROR")) or " passed" in line]
    assert done.returncode == 0, (
        f"with the drill's edits ({'; '.join(e.what for e in edits)}), tests outside the "
        "policy tests failed: they depend on a value in rules/\n" + "\n".join(summary)
        + "\n" + done.stdout[-4000:] + done.stderr[-2000:])
    assert re.search(r"\d+ passed", summary[-1])


@pytest.mark.drill
def test_the_docs_build_on_the_edited_rules(drilled, tmp_path):
    copy, edits = drilled
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", "docs",
         str(tmp_path / "html")], cwd=copy, env=_env(copy), capture_output=True, text=True,
        timeout=900)
    assert done.returncode == 0, (f"with the drill's edits ({'; '.join(e.what for e in edits)})"
                                  f", the docs build fails:\n{done.stderr[-4000:]}")
    page = (tmp_path / "html" / "rules" / f"{NEW_KPI}.html").read_text(encoding="utf-8")
    assert "Drill: completion" in page
