"""Rule sets as files: which rule files make a rule set, reading and checking them together,
which rules a command uses when none are named, and a rule set's fingerprint.

The shipped rules are the ones installed with kpidsl (:func:`default_rules_path`); the command
line uses the rules of the working folder first (:func:`working_rules_path`).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

import attrs

from kpidsl.errors import TOO_DEEP, Diagnostic, RuleError
from kpidsl.language import cache, checker
from kpidsl.language.checker import RuleSet
from kpidsl.language.source import read_rules

StrPath = str | os.PathLike[str]


def default_rules_path() -> Path:
    """The shipped rules: ``kpidsl/rules`` when installed, the repository's ``rules/`` when
    running from a checkout (an editable install). Found from this file, as
    ``importlib.resources`` would find the package on disk, without importing it (with
    ``tempfile``, ``random`` and ``zipfile``) into every command."""
    here = Path(__file__).resolve()
    packaged = here.parents[1] / "rules"
    if packaged.is_dir():
        return packaged
    return here.parents[3] / "rules"


def working_rules_path(cwd: StrPath | None = None) -> Path:
    """The rules every command uses when none are named, found from the working folder
    (``cwd``, default the current one) and never from how kpidsl was started:

    - its ``rules/`` folder when that holds ``.kpi`` files (the project folder);
    - else the folder itself when it holds ``.kpi`` files (a policy officer inside
      ``rules/``); inside a rule set's ``tests/`` folder, that rule set;
    - else the shipped rules (:func:`default_rules_path`).

    :func:`unread_rule_files` lists what this leaves out of the working folder.
    """
    here = Path(cwd) if cwd is not None else Path()
    if _holds_rules(here / "rules"):
        return here / "rules"  # relative, so that messages say rules/…
    if _holds_rules(here, recursive=False):
        up = here / ".."  # relative, as messages then say ../03_learner_dropout.kpi
        return up if here.resolve().name == "tests" and _holds_rules(up, False) else here
    return default_rules_path()


def unread_rule_files(cwd: StrPath | None = None) -> list[Path]:
    """The working folder's own ``.kpi`` files when :func:`working_rules_path` uses its
    ``rules/`` folder instead (a draft beside ``rules/`` is not read)."""
    here = Path(cwd) if cwd is not None else Path()
    if not _holds_rules(here / "rules"):
        return []
    return sorted(here.glob("*.kpi"))


def _holds_rules(folder: Path, recursive: bool = True) -> bool:
    return folder.is_dir() and any(folder.rglob("*.kpi") if recursive else folder.glob("*.kpi"))


def _shipped(origin: Path) -> bool:
    """Rules from ``origin`` came from the shipped folder, and not because the working folder
    is in it or holds it as its ``rules/`` (as in a checkout of kpidsl itself, whose
    ``rules/`` are the shipped ones). A working folder that holds them deeper down, in a
    virtual environment's ``site-packages``, still uses the shipped rules."""
    origin, here = origin.resolve(), Path.cwd().resolve()
    return origin == default_rules_path().resolve() and not (
        origin == here or origin in here.parents or origin.parent == here)


def rules_label(rules: RuleSet | StrPath) -> str:
    """Which rules were used, in words: a folder (relative to the working folder when inside
    it, so usually ``rules``), ``this folder, PATH``, ``the rules above this folder, PATH``
    (from a rule set's ``tests/``) or ``the shipped rules, PATH``. A rule set, or the path of
    rules that do not check."""
    origin = Path(rules.origin or "." if isinstance(rules, RuleSet) else rules).resolve()
    here = Path.cwd().resolve()
    folder = _relative(str(origin), str(here))
    if origin == here:
        return f"this folder, {origin}"
    if origin in here.parents:
        return f"the rules above this folder, {origin}"
    return f"the shipped rules, {folder}" if _shipped(origin) else folder


def rules_json(rules: RuleSet) -> dict[str, object]:
    """``{"folder": …, "shipped": …, "fingerprint": …}``: which rules a JSON output was
    computed with."""
    origin = rules.origin or "."
    return {"folder": _relative(origin, os.getcwd()), "shipped": _shipped(Path(origin)),
            "fingerprint": rules_fingerprint(rules)[:12]}


def _relative(path: str, folder: str | None) -> str:
    """``path`` relative to ``folder`` when inside it, else ``path`` as given (``/`` always)."""
    if folder is not None:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(folder))
        if rel == "." or not rel.startswith(".."):
            return Path(rel).as_posix()
    return Path(path).as_posix()


def rule_files(paths: Iterable[StrPath] | None = None) -> list[Path]:
    """The ``.kpi`` files named by ``paths``, each once.

    A folder is a rule set: all its ``.kpi`` files, searched recursively. A single file comes
    with the other ``.kpi`` files of its folder, because rules share definitions across files
    (checking ``03_learner_dropout.kpi`` alone would not know ``milestone1_starter``); a file
    in a rule set's ``tests/`` folder comes with the whole rule set.
    """
    found: dict[Path, None] = {}
    for p in map(Path, paths if paths is not None else [default_rules_path()]):
        if p.is_dir():
            found.update(dict.fromkeys(sorted(p.rglob("*.kpi"))))
        else:
            found[p] = None
            rule_set = p.parent.parent  # tests beside the rules need the rules they test
            if p.parent.name == "tests" and any(rule_set.glob("*.kpi")):
                found.update(dict.fromkeys(sorted(rule_set.rglob("*.kpi"))))
            elif p.parent.is_dir():
                found.update(dict.fromkeys(sorted(p.parent.glob("*.kpi"))))
    return list(found)


def load_rules(paths: Iterable[StrPath] | StrPath | None = None, *, tests: bool = True
               ) -> RuleSet:
    """Parse and check rule files (default: the shipped rules; the command line's default is
    :func:`working_rules_path`).

    Every file is parsed and every problem of every file is collected before
    :class:`RuleError` is raised. Names are shared across the files given. ``tests=False``
    leaves out the files of ``tests/`` folders (the tests written beside the rules), which
    evaluating does not need. The rule set's ``origin`` is the folder they came from (the
    folders' common folder for several).
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    diagnostics: list[Diagnostic] = []
    parsed = []
    files = [f for f in rule_files(paths) if tests or f.parent.name != "tests"]
    if not files:
        raise RuleError([Diagnostic(message="no .kpi rule files found",
                                    file=", ".join(map(str, paths or [])) or None)])
    texts = []
    for path in files:
        try:
            texts.append((str(path), read_rules(path)))
        except RuleError as e:
            diagnostics += e.diagnostics
    remembered = None if diagnostics else cache.key(texts, tests)
    if remembered is not None and (known := cache.recall(remembered)) is not None:
        return known
    from kpidsl.language.parser import parse  # here: Lark is not imported for known rules

    for name, text in texts:
        try:
            parsed.append(parse(text, name))
        except RuleError as e:
            diagnostics += e.diagnostics
    if diagnostics:
        raise RuleError(diagnostics)
    origin = os.path.commonpath([str(f.parent) for f in files])
    try:
        checked = attrs.evolve(checker.check(parsed), origin=origin)
    except RuleError as e:
        raise _defined_elsewhere(e, files) from None
    except RecursionError:
        raise RuleError([TOO_DEEP]) from None
    if remembered is not None:
        cache.keep(remembered, checked)
    return checked


_UNKNOWN = re.compile(r"unknown name `(\w+)`")


def _defined_elsewhere(e: RuleError, files: list[Path]) -> RuleError:
    """A draft checked on its own that uses a shared definition: say where the name is
    defined, in the rules the commands use (``./rules`` or the shipped rules)."""
    home = working_rules_path().resolve()
    if not any(_UNKNOWN.match(d.message) for d in e.diagnostics) or any(
            home == f.resolve().parent or home in f.resolve().parents for f in files):
        return e
    try:
        shared = load_rules(home)
    except RuleError:
        return e
    where = {name: d.span.file for (_, name), d in shared.definitions.items()}
    where.update({name: t.span.file for name, t in shared.tables.items()})
    where.update({name: x.span.file for name, x in shared.schedules.items()})
    out = []
    for d in e.diagnostics:
        m = _UNKNOWN.match(d.message)
        if m and m[1] in where:
            d = attrs.evolve(d, hint=f"`{m[1]}` is defined in {_relative(where[m[1]], os.getcwd())}"
                             "; check the folder, not the file (put the draft in that folder "
                             "and run `kpidsl check`)")
        out.append(d)
    return RuleError(out)


def check(paths: Iterable[StrPath] | StrPath | None = None) -> tuple[Diagnostic, ...]:
    """Every problem of the rule files (default: the shipped rules); empty when they check.

    The same as :func:`load_rules`, but the problems are returned rather than raised.
    """
    try:
        load_rules(paths)
    except RuleError as e:
        return e.diagnostics
    return ()


def rule_texts(rules: RuleSet) -> dict[str, str]:
    """The text of each rule file that can change a figure, by its path relative to the
    folder that holds them all (``/``-separated), with line ends normalised to ``\n``; sorted
    by path. The tests written beside the rules (files in a ``tests`` folder) change no figure
    and are left out, so loading them or not gives the same fingerprint."""
    files = [f for f in rules.files if Path(f.path).parent.name != "tests"]
    paths = [os.path.abspath(f.path) for f in files]
    root = os.path.commonpath([os.path.dirname(p) for p in paths]) if paths else ""
    texts = {Path(os.path.relpath(p, root)).as_posix():
             f.source.replace("\r\n", "\n").replace("\r", "\n")
             for p, f in zip(paths, files, strict=True)}
    return dict(sorted(texts.items()))


def rules_fingerprint(rules: RuleSet) -> str:
    """The sha256 (hex) of a rule set: over each file's relative path and text (line ends
    normalised), in order of path (:func:`rule_texts`: the tests beside the rules are left
    out). The same files give the same fingerprint wherever they
    are and whatever their line ends; any other change of any file changes it."""
    h = hashlib.sha256()
    for path, text in rule_texts(rules).items():
        data = text.encode("utf-8")
        h.update(f"{path}\n{len(data)}\n".encode())
        h.update(data)
    return h.hexdigest()
