"""Shared test options and fixtures, and the guard that keeps the policy out of the code's tests.

Two kinds of test live here, and they read different rules:

- **The code's tests** (parser, checker, engines, API, CLI, outputs, docs, …) pin numbers, so
  they run on the *fixture* rule set ``tests/fixtures/rules``: a frozen copy of the rules at
  KPI-SPEC's numbers, reached through ``cohort.FIXTURE_RULES`` and ``cohort.fixture_rules()``.
  Every test runs in a fresh working folder whose ``rules/`` is that fixture, so a command run
  without ``--rules`` never reads the rules that policy staff edit.
- **The policy's tests**, in ``tests/policy/`` and nowhere else, run on the rule set under test
  (``--rules``, default: the repository's ``rules/``): its own ``test`` blocks, one pytest item
  each (``test_rule_tests.py``), the differential test against the hand-written oracle, which
  reads targets and parameter tables from the same rule set (``test_differential.py``), and the
  drill (``test_drill.py``). Changing a number in ``rules/`` is then checked by the rule's own
  tests and nothing else.

The guard: while a test outside ``tests/policy/`` is collected, set up, run or torn down, an
audit hook watches every file opened and every folder listed. If one is inside the repository's
``rules/`` or the rules installed with kpidsl, the test fails and names what it read. (A test
that only starts a ``kpidsl`` process is not watched: the drill, which runs this whole suite
against edited rules, catches those.)

``--update-goldens`` rewrites the expected ``.ast`` files of ``tests/goldens/parse`` from the
parser's current output instead of comparing with them. Review the diff by eye before keeping it:
the goldens pin the language's behaviour.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cohort import FIXTURE_RULES
from kpidsl.api import default_rules_path

POLICY_TESTS = Path(__file__).resolve().parent / "policy"
# rule sets remembered by the tests (and the processes they start) stay out of the user's cache
os.environ["KPIDSL_CACHE_DIR"] = tempfile.mkdtemp(prefix="kpidsl-test-cache-")


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


# ---- the guard -------------------------------------------------------------------------------


class PolicyGuard:
    """Records the files and folders of today's policy that the test being run reads."""

    def __init__(self) -> None:
        self.folders: tuple[str, ...] = ()
        self.root = "."  # the repository, which the complaint's paths are relative to
        self.watching: str | None = None  # the test (or module) being watched
        self.read: dict[str, None] = {}

    def audit(self, event: str, args: tuple[object, ...]) -> None:
        if self.watching is None or event not in ("open", "os.scandir", "os.listdir"):
            return
        path = args[0] if args else None
        if not isinstance(path, str | bytes | os.PathLike):
            return
        full = os.path.abspath(os.fsdecode(path))
        if any(full == f or full.startswith(f + os.sep) for f in self.folders):
            self.read[full] = None

    def start(self, what: str) -> None:
        self.watching, self.read = what, {}

    def stop(self) -> str | None:
        """Stop watching; the complaint about what was read, if anything was."""
        what, read = self.watching, list(self.read)
        self.watching, self.read = None, {}
        if not read:
            return None
        shown = ", ".join(os.path.relpath(p, self.root) for p in read[:3]) \
            + (", …" if len(read) > 3 else "")
        return (f"{what} read the policy rules ({shown}). Only the tests in tests/policy/ may "
                "depend on today's policy: use the frozen fixture rules (cohort.FIXTURE_RULES, "
                "cohort.fixture_rules()), or move the test to tests/policy/ if it is about the "
                "policy itself.")


GUARD = PolicyGuard()


def _is_policy(path: Path) -> bool:
    return path.resolve().is_relative_to(POLICY_TESTS)


def pytest_configure(config: pytest.Config) -> None:
    GUARD.root = str(config.rootpath)
    folders = {config.rootpath / "rules", default_rules_path()}
    GUARD.folders = tuple(sorted({os.path.abspath(f) for f in folders}
                                 | {os.path.realpath(f) for f in folders}))
    if not getattr(sys, "_kpidsl_policy_guard", False):  # an audit hook cannot be removed
        sys.addaudithook(GUARD.audit)
        sys._kpidsl_policy_guard = True  # type: ignore[attr-defined]


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """Collecting a module (importing it, generating its tests) is watched too."""
    watched = isinstance(collector, pytest.Module) and not _is_policy(collector.path)
    if watched:
        GUARD.start(collector.nodeid)
    report = yield
    complaint = GUARD.stop() if watched else None
    if complaint and report.passed:
        report.outcome, report.longrepr = "failed", complaint
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    if not _is_policy(item.path):
        GUARD.start(item.nodeid)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    result = yield
    complaint = GUARD.stop()
    if complaint:
        pytest.fail(complaint, pytrace=False)
    return result


# ---- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(scope="session", autouse=True)
def _fixture_workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The working folder of the whole session, fixtures of every scope included: its
    ``rules/`` is the fixture rule set (see the module's text)."""
    folder = tmp_path_factory.mktemp("workdir")
    shutil.copytree(FIXTURE_RULES, folder / "rules")
    before = os.getcwd()
    os.chdir(folder)
    yield folder
    os.chdir(before)


@pytest.fixture(autouse=True)
def _in_fixture_workdir(_fixture_workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Back in that folder for every test, whatever the test before it did."""
    monkeypatch.chdir(_fixture_workdir)


#: Every engine runs the same semantics cases and differential tests; any disagreement fails.
#: (Spark's run in ``test_spark.py``, which starts a session.)
ENGINES = ("python", "duckdb", "sqlite", "postgres")


def choice(name: str) -> Any:
    """What to pass as ``engine=`` to run on the engine called ``name``: its name, or for
    PostgreSQL a connection to the test server (``tests/pg.py``)."""
    if name == "postgres":
        import pg

        return pg.shared()
    return name


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Any:
    return choice(str(request.param))


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """A local Spark session for a test module (CI must have Spark and Java: it fails there
    without them, and skips elsewhere)."""
    missing = None
    try:
        import pyspark  # noqa: F401
    except ImportError:
        missing = "pyspark is not installed (pip install 'kpidsl[spark]')"
    if missing is None and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        missing = "Java is not installed"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{missing}: .ci/run must install it")
        pytest.skip(missing)
    from kpidsl.engines.spark import local_session

    session = local_session()
    yield session
    session.stop()
