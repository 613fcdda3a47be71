"""Developer tasks: ``nox`` runs the tests (what CI runs); ``nox -s lint|docs|drill|bench|fuzz``.

Sessions use the Python that runs nox, so they work on any machine with one Python 3.11+.
"""

from __future__ import annotations

import os
import shutil

import nox

nox.options.sessions = ["tests"]
nox.options.default_venv_backend = "venv"


def os_packages(session: nox.Session, needed: dict[str, str]) -> None:
    """Install the Debian packages whose commands are missing (``{"java": "default-jre-
    headless"}``), as root with apt-get; otherwise say what to install by hand."""
    missing = [package for command, package in needed.items() if shutil.which(command) is None]
    if not missing:
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        session.warn(f"install {' '.join(missing)} (the tests that need them will fail)")
        return
    session.run("apt-get", "update", "-qq", external=True)
    session.run("apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing,
                external=True, env={"DEBIAN_FRONTEND": "noninteractive"})


def _test_environment(session: nox.Session) -> None:
    """The package installed as a user would install it (with Spark, whose tests need Java,
    and PostgreSQL's driver, whose tests need the server), and what the tests use."""
    os_packages(session, {"java": "default-jre-headless", "chromium": "chromium",
                          "pg_ctlcluster": "postgresql"})
    session.install(".[spark,postgres]", "pytest>=8", "hypothesis>=6.100", "sphinx>=7.2",
                    "mypy>=1.8",
                    "pandas",  # pandas: records built from a DataFrame (test_rows)
                    "openpyxl>=3.1")  # openpyxl: reads the workbooks back (test_workbook)


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite, against the package installed as a user would install it.

    The browser test of the HTML report runs the system's Chromium, and the database tests a
    PostgreSQL server of the OS package (``tests/pg.py``), both installed here or by
    ``.ci/run``: skipped when absent unless ``CI=true``, when they fail.
    """
    _test_environment(session)
    session.run("pytest", *session.posargs)


@nox.session
def drill(session: nox.Session) -> None:
    """The policy drill (``tests/policy/test_drill.py``): a policy officer's edits to a copy of
    ``rules/`` (a target, a table value, a new KPI with its test, a definition renamed), then
    the rest of the test suite and the docs build on that copy. Fails if any test outside
    ``tests/policy/`` depends on a value in ``rules/``. About five minutes; CI runs it."""
    _test_environment(session)
    session.run("pytest", "-m", "drill", "tests/policy/test_drill.py", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff on the code; ``mypy --strict`` on the package; the import-graph contract
    (``tests/test_layers.py``); the shipped rules must check and be formatted.

    The package is installed with Spark and Sphinx, whose types mypy checks the Spark engine
    and the Sphinx extension against; the stub packages give the types of docutils (the
    Sphinx extension), Pygments (the lexer) and python-dateutil (calendar arithmetic)."""
    session.install(".[spark,docs,postgres]", "ruff>=0.5", "mypy>=1.8", "pytest>=8",
                    "types-docutils", "types-Pygments", "types-python-dateutil", "lxml-stubs")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("mypy", "--strict", "src")
    session.run("pytest", "-q", "-p", "no:cacheprovider", "tests/test_layers.py")
    session.run("kpidsl", "check")
    session.run("kpidsl", "fmt", "--check", "rules")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the HTML documentation into docs/_build/html, warnings as errors."""
    session.install(".", "sphinx>=7.2")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")


@nox.session
def bench(session: nox.Session) -> None:
    """Whole kpidsl processes against hand-written Python and DuckDB SQL and the yardstick,
    in turns, medians; issue 20's targets; what moved since the last run.

    Pass options after ``--``: ``nox -s bench -- --sizes 100000 --repeats 5``. PostgreSQL's
    figures need the server of the OS package (installed here when missing, as for the tests).
    """
    os_packages(session, {"pg_ctlcluster": "postgresql"})
    session.install(".[postgres]", "pytest>=8")  # pytest: the tests' server starter (pg.py)
    session.run("python", "benchmarks/bench.py", *(session.posargs or
                ["--sizes", "100000", "1000000", "--json", "bench-results.json"]))


@nox.session(name="bench-workbook")
def bench_workbook(session: nox.Session) -> None:
    """Time reading a data set from a workbook against reading it from CSV (target: at most
    3 times as long). Pass sizes after ``--``: ``nox -s bench-workbook -- --sizes 10000``."""
    session.install(".")
    session.run("python", "benchmarks/bench_workbook.py",
                *(session.posargs or ["--sizes", "10000", "100000"]))


@nox.session
def fuzz(session: nox.Session) -> None:
    """The fuzzer of tests/test_fuzz.py for a long run, then its regression cases.

    The run lasts KPIDSL_FUZZ_SECONDS seconds, shared by the properties (default 600; pass
    another after ``--``: ``nox -s fuzz -- 120``) and prints how many inputs each ran. The
    default ``pytest`` run has a short profile of the same properties.
    """
    session.install(".", "pytest>=8", "hypothesis>=6.100")
    seconds = session.posargs[0] if session.posargs else "600"
    session.run("pytest", "-q", "-s", "-p", "no:cacheprovider", "tests/test_fuzz.py",
                env={"KPIDSL_FUZZ_SECONDS": seconds})


@nox.session
def growth(session: nox.Session) -> None:
    """Time the input shapes that once grew faster than linearly, at a size and twice it."""
    session.install(".")
    session.run("python", "benchmarks/growth.py", *session.posargs)
