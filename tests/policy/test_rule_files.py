"""The rule files under test (``--rules``, default ``rules/``) as files: they are laid out as
``kpidsl fmt`` lays them out (what CI's lint checks), and the documentation highlights every
token of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygments.token import Error

from conftest import rules_under_test
from kpidsl.api import rule_files
from kpidsl.language.formatter import format_source
from kpidsl.language.lexer import KpiLexer


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "path" in metafunc.fixturenames:
        root = rules_under_test(metafunc.config)
        files = rule_files([root]) if root.exists() else []
        metafunc.parametrize("path", files, ids=[str(f.relative_to(root)) for f in files])


def test_the_file_is_laid_out(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert format_source(source, str(path)) == source, (
        f"{path} is not laid out: run `kpidsl fmt {path.parent}` and review the diff")


def test_the_docs_highlight_every_token(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    tokens = list(KpiLexer().get_tokens(text))
    assert [t for t in tokens if t[0] in Error] == []
