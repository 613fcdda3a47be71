"""Shared test options.

``--update-goldens`` rewrites the expected ``.ast`` files of ``tests/goldens/parse`` from the
parser's current output instead of comparing with them. Review the diff by eye before keeping it:
the goldens pin the language's behaviour.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/goldens/*/*.ast from the current output instead of comparing",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


#: Every engine runs the same semantics cases and differential tests; any disagreement fails.
ENGINES = ("python", "duckdb")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)
