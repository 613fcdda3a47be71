"""Shared test options and fixtures.

Two kinds of test live here, and they read different rules:

- The engine's tests (parser, checker, evaluation, CLI, docs, …) pin numbers, so they run on
  the *fixture* rule set ``tests/fixtures/rules``: a frozen copy of the rules at KPI-SPEC's
  numbers. Every test runs in a fresh working folder whose ``rules/`` is that fixture, so a
  command run without ``--rules`` never reads the rules that policy staff edit.
- The policy's tests run on the rule set under test (``--rules``, default: the repository's
  ``rules/``): its own ``test`` blocks, one pytest item each (``test_rule_tests.py``), and the
  differential test against the hand-written oracle, which reads targets and parameter tables
  from the same rule set (``test_differential.py``). Changing a number in ``rules/`` is then
  checked by the rule's own tests and nothing else.

``--update-goldens`` rewrites the expected ``.ast`` files of ``tests/goldens/parse`` from the
parser's current output instead of comparing with them. Review the diff by eye before keeping it:
the goldens pin the language's behaviour.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cohort import FIXTURE_RULES


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/goldens/*/*.ast from the current output instead of comparing",
    )
    parser.addoption(
        "--rules",
        default=None,
        help="the rule set whose own tests and oracle comparison run (default: ./rules)",
    )


def rules_under_test(config: pytest.Config) -> Path:
    """The rule set the policy's tests check: ``--rules``, else the repository's ``rules/``."""
    given = config.getoption("--rules")
    return Path(given).resolve() if given else config.rootpath / "rules"


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(scope="session")
def _fixture_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("workdir")
    shutil.copytree(FIXTURE_RULES, folder / "rules")
    return folder


@pytest.fixture(autouse=True)
def _in_fixture_workdir(_fixture_workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test where ``./rules`` is the fixture rule set (see the module's text)."""
    monkeypatch.chdir(_fixture_workdir)


#: Every engine runs the same semantics cases and differential tests; any disagreement fails.
ENGINES = ("python", "duckdb")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)
