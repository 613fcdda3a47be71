"""Developer tasks: ``nox`` runs the tests (what CI runs); ``nox -s lint|docs|bench``.

Sessions use the Python that runs nox, so they work on any machine with one Python 3.11+.
"""

from __future__ import annotations

import nox

nox.options.sessions = ["tests"]
nox.options.default_venv_backend = "venv"


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite, against the package installed as a user would install it."""
    session.install(".", "pytest>=8", "hypothesis>=6.100", "sphinx>=7.2")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff on the code; the shipped rules must check and be formatted."""
    session.install(".", "ruff>=0.5")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("kpidsl", "check")
    session.run("kpidsl", "fmt", "--check", "rules")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the HTML documentation into docs/_build/html, warnings as errors."""
    session.install(".", "sphinx>=7.2")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")


@nox.session
def bench(session: nox.Session) -> None:
    """Whole kpidsl processes against hand-written Python and DuckDB SQL, in turns, medians.

    Pass options after ``--``: ``nox -s bench -- --sizes 100000 --repeats 5``.
    """
    session.install(".")
    session.run("python", "benchmarks/bench.py", *(session.posargs or
                ["--sizes", "100000", "1000000", "--json", "bench-results.json"]))
