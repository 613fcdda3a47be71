"""Reading the rule files for the documentation, and what each rule uses.

A docs build must never crash on a rule file with errors: :func:`load` keeps every file that
parses and checks, turns each problem into a Sphinx warning located at ``file.kpi:LINE`` and
remembers its answer until a file changes, so that a build reads (and warns about) the rules
once, however many pages document them. :class:`Uses` says which definitions, tables and
schedules each KPI, notice, definition and table uses, for the "used by" and "definitions used"
parts of the pages. :func:`resolve_rules_path` makes the extension's rule paths absolute.
"""

from __future__ import annotations

import functools
from pathlib import Path

import attrs
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

from kpidsl.classes import fields_methods
from kpidsl.errors import Diagnostic, RuleError
from kpidsl.language import ast
from kpidsl.language.checker import RuleSet, check
from kpidsl.language.parser import parse
from kpidsl.language.rulesets import default_rules_path, rule_files
from kpidsl.language.source import read_rules
from kpidsl.language.words import def_target

logger = logging.getLogger(__name__)

#: An object of the rule reference: (object type, name), as the ``kpi`` domain keys it.
Key = tuple[str, str]


class Uses:
    """Which definitions, tables and schedules each KPI, notice, definition and table uses."""

    def __init__(self, rules: RuleSet) -> None:
        self.definitions = {def_target(*k): d for k, d in rules.definitions.items()}
        owners: list[tuple[Key, object]] = [
            *((("rule", k.name), k) for k in rules.kpis),
            *((("notice", n.name), n) for n in rules.notices),
            *((("definition", t), d.body) for t, d in self.definitions.items()),
            *((("table", t.name), t) for t in rules.tables.values())]
        kinds = {"def": "definition", "const": "definition", "table": "table",
                 "schedule": "schedule"}
        self.direct: dict[Key, list[Key]] = {}
        for owner, item in owners:
            found = [rules.resolved.get(id(node)) for node in ast.walk(item)]
            self.direct[owner] = list(dict.fromkeys(
                (kinds[r.kind], def_target(r.record, r.name))
                for r in found if r is not None and r.kind in kinds))

    def closure(self, owner: Key) -> list[Key]:
        """Everything ``owner`` uses, directly or through definitions and tables, in order."""
        seen: dict[Key, None] = {}
        todo = list(self.direct.get(owner, []))
        while todo:
            ref = todo.pop(0)
            if ref not in seen:
                seen[ref] = None
                todo.extend(self.direct.get(ref, []))
        return list(seen)

    def users(self, ref: Key) -> dict[str, list[str]]:
        """Who uses ``ref``: KPIs and notices directly or not, definitions directly."""
        out: dict[str, list[str]] = {"rule": [], "definition": [], "notice": [], "table": []}
        for owner, refs in self.direct.items():
            if ref in (self.closure(owner) if owner[0] in ("rule", "notice") else refs):
                out[owner[0]].append(owner[1])
        return out


@attrs.frozen
@fields_methods
class Loaded:
    """The rule files of one folder as far as they could be read: ``rules`` holds every file
    that parses and checks (files with errors are left out, so the others are still
    documented)."""

    path: Path
    files: tuple[Path, ...]
    rules: RuleSet | None
    uses: Uses | None

    def display(self, file: str | Path) -> str:
        """``rules/03_learner_dropout.kpi``: a rule file named from the rules folder's parent."""
        root = (self.path if self.path.is_dir() else self.path.parent).parent
        try:
            return Path(file).resolve().relative_to(root).as_posix()
        except ValueError:
            return Path(file).name


def load(path: str | Path) -> Loaded:
    """Read, parse and check the rule files at ``path``, keeping every file that is sound.

    Each problem becomes a Sphinx warning at ``file.kpi:LINE``. The answer is remembered until
    a file changes, so a build reads the rules, and warns about them, once.
    """
    path = Path(path).resolve()
    files = tuple(rule_files([path])) if path.exists() else ()
    stamps = tuple(map(_stamp, files))
    return _load(path, files, stamps)


def _stamp(path: Path) -> tuple[int, int] | None:
    """When a rule file last changed and its size (``None`` if it cannot even be examined:
    reading it then reports why)."""
    try:
        s = path.stat()
    except OSError:
        return None
    return s.st_mtime_ns, s.st_size


@functools.lru_cache(maxsize=8)
def _load(path: Path, files: tuple[Path, ...],
          stamps: tuple[tuple[int, int] | None, ...]) -> Loaded:
    problems: list[Diagnostic] = []
    if not path.exists():
        problems.append(Diagnostic(message="no such rule file or folder", file=str(path)))
    elif not files:
        problems.append(Diagnostic(message="no .kpi rule files found", file=str(path)))
    parsed: list[ast.RuleFile] = []
    for f in files:
        try:
            parsed.append(parse(read_rules(f), str(f)))
        except RuleError as e:
            problems.extend(e.diagnostics)
    # Check again without the files that have errors, so the others are still documented.
    # Only the first round's problems are reported: later rounds only repeat them.
    rules: RuleSet | None = None
    left_out: list[str] = []
    first = not problems
    while parsed and rules is None:
        try:
            rules = check(parsed)
        except RuleError as e:
            if first:
                problems.extend(e.diagnostics)
            first = False
            bad = {d.file for d in e.diagnostics if d.severity == "error"}
            if not any(p.path in bad for p in parsed):
                break
            left_out += [p.path for p in parsed if p.path in bad]
            parsed = [p for p in parsed if p.path not in bad]
    reported = {d.file for d in problems}
    problems += [Diagnostic(message="not documented: it cannot be checked while another rule "
                            "file has errors", file=f) for f in left_out if f not in reported]
    for d in problems:
        location = f"{d.file}:{d.line}" if d.file and d.line else d.file
        message = d.message + (f" ({d.hint})" if d.hint else "")
        logger.warning("%s", message, location=location, type="kpidsl", subtype="rule")
    return Loaded(path, files, rules, Uses(rules) if rules is not None else None)


def resolve_rules_path(app: Sphinx, config: Config) -> None:
    """``config-inited``: make ``kpidsl_rules_path`` absolute (relative to ``conf.py``'s
    folder); by default the ``rules/`` folder beside the documentation's, else the shipped
    rules. ``kpidsl_example_rules`` likewise, by default the same rules."""
    value = config.kpidsl_rules_path
    if value:
        path = (Path(app.confdir) / value).resolve()
    else:
        beside = (Path(app.confdir) / ".." / "rules").resolve()
        path = beside if beside.is_dir() else default_rules_path()
    config.kpidsl_rules_path = str(path)
    example = config.kpidsl_example_rules
    config.kpidsl_example_rules = str((Path(app.confdir) / example).resolve() if example
                                      else path)
