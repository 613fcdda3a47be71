"""Checked rule sets remembered by content (:mod:`kpidsl.language.cache`): read back equal,
never stale, never from a folder others may write to, and without importing the parser."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

import kpidsl
from cohort import FIXTURE_RULES
from kpidsl.api import rules_fingerprint
from kpidsl.errors import RuleError
from kpidsl.language import cache
from kpidsl.language.rulesets import load_rules
from kpidsl.plan.lower import lower

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sample"


@pytest.fixture
def rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KPIDSL_CACHE_DIR", str(tmp_path / "cache"))
    shutil.copytree(FIXTURE_RULES, tmp_path / "rules")
    return tmp_path / "rules"


def remembered(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").glob("*.pickle"))


def test_a_rule_set_read_again_is_the_one_checked(rules: Path, tmp_path: Path):
    first = load_rules(rules)
    assert len(remembered(tmp_path)) == 1
    again = load_rules(rules)
    assert again is not first and rules_fingerprint(again) == rules_fingerprint(first)
    assert again.files == first.files and again.kpis == first.kpis
    # what the checker found of each node is found again by the node read back
    assert len(again.resolved) == len(first.resolved) > 0
    assert len(again.types) == len(first.types) > 0
    assert lower(again) == lower(first)
    assert kpidsl.evaluate(again, SAMPLE, "2025-03-31").results == \
        kpidsl.evaluate(first, SAMPLE, "2025-03-31").results
    load_rules(rules, tests=False)
    assert len(remembered(tmp_path)) == 2  # with and without the tests beside the rules


def test_an_edited_file_is_parsed_again(rules: Path, tmp_path: Path):
    first = load_rules(rules)
    path = next(rules.glob("*dropout*.kpi"))
    text = path.read_text(encoding="utf-8")
    assert "at most 20%" in text
    path.write_text(text.replace("at most 20%", "at most 15%"), encoding="utf-8")
    edited = load_rules(rules)
    assert edited != first
    (kpi,) = [k for k in edited.kpis if k.name == "learner_dropout"]
    assert kpi.target.expr.value == Fraction(15, 100)
    path.write_text(text.replace("at most 20%", "at most 20% +"), encoding="utf-8")
    with pytest.raises(RuleError):  # errors are found every time, never remembered
        load_rules(rules)
    with pytest.raises(RuleError):
        load_rules(rules)
    assert len(remembered(tmp_path)) == 2


def test_nothing_is_read_from_a_folder_others_may_write_to(rules: Path, tmp_path: Path):
    load_rules(rules)
    (only,) = remembered(tmp_path)
    only.write_bytes(b"not a pickle")
    assert load_rules(rules).kpis  # cut short or corrupt: parsed again
    os.chmod(tmp_path / "cache", 0o777)
    only.write_bytes(b"not a pickle")
    load_rules(rules)
    assert only.read_bytes() == b"not a pickle"  # neither read nor written
    os.chmod(tmp_path / "cache", 0o700)


def test_off(rules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KPIDSL_CACHE_DIR", "off")
    assert cache.folder() is None
    load_rules(rules)
    assert not (tmp_path / "cache").exists()


def test_known_rules_do_not_import_the_parser(rules: Path, tmp_path: Path):
    code = ("import sys; from kpidsl.language.rulesets import load_rules; "
            f"load_rules({str(rules)!r}); print('lark' in sys.modules)")
    env = {**os.environ, "KPIDSL_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, check=True).stdout.strip() for _ in range(2)]
    assert runs == ["True", "False"]


def test_a_small_folder_evaluates_without_what_it_does_not_use(tmp_path: Path):
    """Start-up is most of the time at a combined authority's size: evaluating the sample
    (on the Python engine, its rules known) imports no parser, no DuckDB, and none of what
    only workbooks, ILR returns or threads need (a module-level import of the datasheet
    reader once cost 25 ms here: it brings threads, logging and traceback), nor the package
    data reader (finding the shipped rules with it imported ``tempfile`` and ``zipfile``)."""
    from cohort import FIXTURE_RULES

    sample = Path(__file__).resolve().parents[1] / "examples" / "sample"
    unused = ("lark", "duckdb", "kpidsl.data.datasheet", "concurrent.futures", "logging",
              "multiprocessing", "lxml", "kpidsl.data.ilr", "importlib.resources", "tempfile",
              "zipfile")
    args = ["evaluate", "--data", str(sample), "--as-of", "2025-03-31", "--rules",
            str(FIXTURE_RULES), "--format", "json"]
    runs = [_imported(args, unused, tmp_path) for _ in range(2)]
    # the first run parses the rules: Lark logs, and the grammar is read as package data
    assert runs == ["['importlib.resources', 'lark', 'logging', 'tempfile', 'zipfile']", "[]"]


def test_files_loaded_side_by_side_import_no_thread_pool(tmp_path: Path):
    """DuckDB loads the files of a big folder on two threads of kpidsl's own:
    ``concurrent.futures`` (with ``logging``) took 23 ms to import, at 100,000 learners a
    tenth of what loading side by side saves."""
    from cohort import FIXTURE_RULES

    args = ["evaluate", "--data", str(SAMPLE), "--as-of", "2025-03-31", "--rules",
            str(FIXTURE_RULES), "--format", "json", "--engine", "duckdb"]
    before = "import kpidsl.engines.duckdb as d; d.SIDE_BY_SIDE = 0"  # the sample, as if big
    runs = [_imported(args, ("concurrent.futures", "logging", "lark"), tmp_path, before)
            for _ in range(2)]
    assert runs == ["['lark', 'logging']", "[]"]  # the rules parsed once, then cached


def test_a_history_without_a_chart_imports_no_chart(tmp_path: Path):
    """The chart's XML escaping (``xml.sax.saxutils``) imports ``urllib.request``, ``http``,
    ``email`` and ``ssl``: 15-30 ms that a history without ``--chart`` has no use for."""
    from cohort import FIXTURE_RULES

    unused = ("kpidsl.outputs.svg", "xml.sax.saxutils", "urllib.request", "ssl")
    args = ["history", "--data", str(SAMPLE), "--from", "2024-04", "--to", "2025-03",
            "--rules", str(FIXTURE_RULES), "--format", "json"]
    assert _imported(args, unused, tmp_path) == "[]"


def _imported(args: list[str], modules: tuple[str, ...], tmp_path: Path,
              before: str = "") -> str:
    """Which of ``modules`` a fresh process running the command line on ``args`` imported
    (the rule-set cache in ``tmp_path``; ``before`` run first), as the printed sorted list."""
    code = (f"{before}\nimport sys, contextlib, io; from kpidsl.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    main({args!r})\n"
            f"print(sorted(m for m in {modules!r} if m in sys.modules))")
    env = {**os.environ, "KPIDSL_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True).stdout.strip()


def test_the_command_line_is_imported_without_the_collector_going_through_it():
    """Importing the command line (and with it the library's modules and classes) makes
    some 50,000 objects and no cycles: the collector is paused meanwhile (it made 19
    collections of them) and runs again after."""
    code = ("import gc, kpidsl, kpidsl.collector\n"
            "seen = []\n"
            "gc.callbacks.append(lambda phase, info: seen.append(phase))\n"
            "import kpidsl.cli\n"
            "print(len(seen), gc.isenabled())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["0", "True"]


@pytest.mark.parametrize("command", [
    ["evaluate", "--data", str(SAMPLE), "--as-of", "2025-03-31", "--format", "json"],
    ["evaluate", "--data", str(SAMPLE / "nowhere"), "--as-of", "2025-03-31"],
    ["check"]])
def test_a_command_leaves_the_collector_alone_until_it_is_done(
        command: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Importing the library and reading the rules make some hundred thousand objects and no
    cycles: the collector, paused for the whole command, went through them at most once
    (after it, once what the command kept is out of its sight), and runs again after it,
    whether the command succeeded or failed."""
    import gc

    from kpidsl.cli import main

    monkeypatch.setenv("KPIDSL_CACHE_DIR", str(tmp_path / "cache"))
    argv = [*command, "--rules", str(FIXTURE_RULES)]
    main(argv)  # imports and remembers the rules
    collections: list[int] = []

    def collect(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(collect)
    try:
        main(argv)
    finally:
        gc.callbacks.remove(collect)
        gc.unfreeze()
    capsys.readouterr()
    assert len(collections) <= 1
    assert gc.isenabled()
