"""The README is real: its rule examples parse and its test passes on the shipped rules; its
two commands are the ones CI runs, and it names what the tests need from outside Python."""

from __future__ import annotations

import ast
import re
import shutil
import tomllib
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


# ---- the two commands -------------------------------------------------------------------------

ROOT = README.parent
TWO_COMMANDS = README.read_text(encoding="utf-8").split("## Two commands", 1)[1].split("\n## ")[0]


def _sh_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", text, re.S)]


def test_the_readme_runs_the_tests_as_ci_does():
    """The README's test command is the line of ``.ci/run`` that runs the suite, less pip's
    options that only quieten it: what a newcomer types is what CI proves works."""
    ci = next(line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
              if line.startswith("python3 -m venv"))
    ci = re.sub(r" --(quiet|disable-pip-version-check)", "", ci)
    install, tests = _sh_blocks(TWO_COMMANDS)
    assert tests == ci
    assert install.startswith("python3 -m venv .venv && . .venv/bin/activate && pip install .")


def test_the_readme_names_what_the_tests_need_from_outside_python():
    """Each Debian package the test session installs (or names) is named in the README's
    two-command section, and so is the Python the package requires."""
    nox_file = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    (needed,) = [ast.literal_eval(call.args[1]) for call in ast.walk(nox_file)
                 if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "os_packages"
                 and any(isinstance(k, ast.Constant) and k.value == "java"
                         for k in call.args[1].keys)]  # type: ignore[attr-defined]
    assert set(needed.values()) == {"default-jre-headless", "chromium", "postgresql"}
    for package in needed.values():
        assert f"`{package}`" in TWO_COMMANDS, package
    assert "Java" in TWO_COMMANDS and "Chromium" in TWO_COMMANDS and "PostgreSQL" in TWO_COMMANDS
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"][
        "requires-python"]
    assert requires == ">=3.11" and "Python 3.11 or newer" in TWO_COMMANDS
    assert "externally-managed-environment" in TWO_COMMANDS
    assert "apt install python3-venv" in TWO_COMMANDS and "git clone" in TWO_COMMANDS


def test_the_readmes_python_runs_as_written(monkeypatch, tmp_path, capsys):
    """The Python section, run as it is written in a user's folder (the shipped rules read
    as the fixture rules): it prints what its comments say and writes the workbook it
    writes. Its comment once offered ``.write_xlsx(path, rules)`` on a report made without
    verdicts, which refuses."""
    (block,) = re.findall(r"## Using kpidsl from Python\n\n```python\n(.*?)```",
                          README.read_text(encoding="utf-8"), re.S)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    load = kpidsl.load_rules
    monkeypatch.setattr(kpidsl, "load_rules", lambda *paths: load(*paths or [FIXTURE_RULES]))
    exec(compile(block, "README.md", "exec"), {})
    said = re.findall(r"exact rate, e.g. (.*)\n.*as the reports write it: (.*)\n", block)
    assert capsys.readouterr().out.splitlines() == list(said[0])
    assert (tmp_path / "report.xlsx").stat().st_size > 0
