"""The worked examples: ``kpi:check`` and ``kpi:run`` show what kpidsl really says.

No sample output is ever pasted into the documentation: ``kpi:check`` checks an example rule
file and shows the messages ``kpidsl check`` prints for it, and ``kpi:run`` runs a kpidsl
command when the documentation is built and shows its output. Both work on the example rules
(``kpidsl_example_rules``), a frozen copy by default the same as the rules documented, so that a
walkthrough that edits "the drop-out target of 20%" stays true whatever the policy says today;
``kpi:run`` first applies its content's edits (:func:`_edits`) to a copy in a fresh folder. An
example that does not behave as its page says is a build warning.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import tempfile
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import attrs
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from kpidsl import cli
from kpidsl.errors import RuleError
from kpidsl.language.checker import check
from kpidsl.language.parser import parse
from kpidsl.language.rulesets import rule_files
from kpidsl.language.words import Code
from kpidsl.sphinx.directives import RulesDirective
from kpidsl.sphinx.nodes import captioned, para

if TYPE_CHECKING:
    from sphinx.util.typing import OptionSpec

logger = logging.getLogger(__name__)


class CheckDirective(RulesDirective):
    """``.. kpi:check::`` with a rule file as content: shows it and what ``kpidsl check``
    says about it, checked together with the example rules (``kpidsl_example_rules``; a file
    of the same name is replaced by the example). Warns if the example does not give an error
    (``:ok:`` to expect none)."""

    has_content = True
    option_spec: ClassVar[OptionSpec] = {
        "file": directives.unchanged, "ok": directives.flag, "rules": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        name = self.options.get("file", "rules/example.kpi")
        text = "\n".join(self.content) + "\n"
        files = self.rules.files if self.load(examples=True) else ()
        try:
            example = parse(text, name)
            declared = {(type(i).__name__, getattr(i, "name", None)) for i in example.items}
            others = [attrs.evolve(f, items=tuple(
                i for i in f.items if (type(i).__name__, getattr(i, "name", None)) not in declared))
                for f in files if Path(f.path).name != Path(name).name]
            check([*others, example])
            output, failed = "(no problems found)", False
        except RuleError as e:
            output, failed = e.render(), True
        if failed == ("ok" in self.options):
            logger.warning("this example was expected to %s, but kpidsl check says: %s",
                           "check" if "ok" in self.options else "give an error",
                           output.splitlines()[0], location=self.get_location(),
                           type="kpidsl", subtype="example")
        shown = text.rstrip("\n")
        source = nodes.literal_block(shown, shown, language="kpi", classes=["kpi-example"])
        source["force"] = True  # a mistake on purpose may be a character the lexer lacks
        said = f"$ kpidsl check\n{output}"
        return [captioned(source, Code(name)),
                para("and what ", Code("kpidsl check"), " says:"),
                nodes.literal_block(said, said, language="text", classes=["kpi-check-output"])]


class RunDirective(SphinxDirective):
    """``.. kpi:run:: kpidsl check``: run a kpidsl command when the documentation is built and
    show it with its real output, so that no sample output is ever pasted.

    The command runs in-process (through :func:`kpidsl.cli.main`, as a user would type it) in
    a fresh folder holding a copy of the example rules (``kpidsl_example_rules``) as ``rules/``
    and of the project's ``examples/``. Each line of the content edits that copy first, as a
    policy officer would:
    ``rules/03_learner_dropout.kpi: target: at most 20% => target: at most 15%``, or
    ``copy rules => new_rules`` to copy a folder, or ``new FILE`` with the file's text indented
    on the lines below. ``:exit:`` is the exit code the command must
    give (default 0; any other is a build warning); ``:lines: 1-3,/passed/,-2`` shows only
    those lines of the output (``/passed/``: the lines matching that pattern; ``-2``: the last
    two; ``…`` marks what is left out).
    """

    required_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec: ClassVar[OptionSpec] = {"exit": directives.nonnegative_int,
                                         "lines": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        command = self.arguments[0].strip()
        words = shlex.split(command)
        rules = Path(self.config.kpidsl_example_rules)
        for f in rule_files([rules]):
            self.env.note_dependency(str(f))
        out = io.StringIO()
        here = os.getcwd()
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(rules, Path(tmp) / "rules")
            examples = Path(self.config.kpidsl_rules_path).parent / "examples"
            if examples.is_dir():
                shutil.copytree(examples, Path(tmp) / "examples")
            problems = _edits(Path(tmp), list(self.content))
            try:
                os.chdir(tmp)
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                    code = cli.main(words[1:]) if words[:1] == ["kpidsl"] else None
            finally:
                os.chdir(here)
        expected = self.options.get("exit", 0)
        if code is None:
            problems.append("the command must start with `kpidsl`")
        elif code != expected:
            problems.append(f"`{command}` exited with {code}, not {expected}: "
                            + (out.getvalue().strip().splitlines() or [""])[0])
        for problem in problems:
            logger.warning("%s", problem, location=self.get_location(), type="kpidsl",
                           subtype="run")
        shown = f"$ {command}\n" + _some_lines(out.getvalue().rstrip("\n"),
                                                 self.options.get("lines"))
        return [nodes.literal_block(shown, shown, language="text", classes=["kpi-run"])]


def _edits(folder: Path, lines: list[str]) -> list[str]:
    """Apply a ``kpi:run``'s content: edit lines, and ``new FILE`` followed by the file's text
    indented below it. Returns the problems."""
    problems: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line.startswith("new "):
            body = []
            while i < len(lines) and (lines[i].startswith("  ") or not lines[i].strip()):
                body.append(lines[i])
                i += 1
            path = folder / line[4:].strip()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent("\n".join(body)).strip("\n") + "\n",
                            encoding="utf-8")
        elif line.strip() and (problem := _edit(folder, line)) is not None:
            problems.append(problem)
    return problems


def _edit(folder: Path, line: str) -> str | None:
    """Apply ``FILE: OLD => NEW`` (or ``copy FOLDER => FOLDER``) below ``folder``; a problem,
    or ``None``."""
    if line.startswith("copy "):
        source, sep, target = line[5:].strip().partition(" => ")
        if not sep or not (folder / source).is_dir():
            return f"`copy FOLDER => FOLDER` needs an existing folder, not {line.strip()!r}"
        shutil.copytree(folder / source, folder / target)
        return None
    name, _, change = line.strip().partition(": ")
    old, sep, new = change.partition(" => ")
    new = new.replace("\\n", "\n")  # a line break in the replacement is written \n
    path = folder / name
    if not sep:
        return f"an edit is written `FILE: OLD => NEW`, not {line.strip()!r}"
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        if text.count(old) != 1:
            return f"{name} has {text.count(old)} copies of {old!r}, not one"
        path.write_text(text.replace(old, new), encoding="utf-8")
    else:
        return f"{name} does not exist; to create it, write `new {name}` and its text below"
    return None


def _some_lines(text: str, spec: str | None) -> str:
    """``1-3,/passed/,-2``: those lines of ``text`` (``5-`` from line 5 on, ``/re/`` the
    lines matching ``re``, ``-2`` the last two), with ``…`` for each stretch left out."""
    if not spec:
        return text
    lines = text.split("\n")
    keep: set[int] = set()
    for part in spec.split(","):
        if part.strip().startswith("/"):  # /regex/: the lines it matches
            pattern = re.compile(part.strip().strip("/"))
            keep.update(i for i, line in enumerate(lines) if pattern.search(line))
            continue
        first, dash, last = part.strip().partition("-")
        if not dash:
            keep.add(int(first) - 1)
        elif not first:
            keep.update(range(max(0, len(lines) - int(last)), len(lines)))
        else:
            keep.update(range(int(first) - 1, int(last) if last else len(lines)))
    out: list[str] = []
    for i, line in enumerate(lines):
        if i in keep:
            out.append(line)
        elif not out or out[-1] != "…":
            out.append("…")
    return "\n".join(out)
