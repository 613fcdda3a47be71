"""The layering is a contract, checked on the import graph of ``src/kpidsl`` (every import,
those inside functions and under ``TYPE_CHECKING`` included):

- the stages are layers, and a module imports only from its own layer or those below:
  classes, collector, errors, files, limits, version → contract → language → plan and data (apart) →
  engines → outputs → api → tools → the entry points (cli, sphinx, the package itself);
- no module imports another in a cycle;
- no output imports an engine, and no engine but the reference engine imports it;
- no module is longer than 800 lines.

``nox -s lint`` runs this file too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "kpidsl"
#: Bottom to top; the modules of one line may import each other and anything below.
LAYERS = [
    ("kpidsl.classes", "kpidsl.collector", "kpidsl.errors", "kpidsl.files", "kpidsl.limits",
     "kpidsl.version"),
    ("kpidsl.contract",),
    ("kpidsl.language",),
    ("kpidsl.plan",),
    ("kpidsl.data",),
    ("kpidsl.engines",),
    ("kpidsl.outputs",),
    ("kpidsl.api",),
    ("kpidsl.tools",),
    ("kpidsl.cli", "kpidsl.sphinx", "kpidsl.sphinxext", "kpidsl.__main__", "kpidsl"),
]
#: Layers that stand side by side: neither imports the other.
APART = [("kpidsl.plan", "kpidsl.data")]
MAX_LINES = 800


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _imports(name: str, source: str, package: bool = False) -> set[str]:
    """The kpidsl modules that module ``name`` (a package's ``__init__`` if ``package``)
    imports in ``source`` (``from kpidsl import limits`` is ``kpidsl.limits``; a relative
    import is resolved)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                home = name if package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    home = home.rpartition(".")[0]
                base = f"{home}.{base}" if base else home
            for a in node.names:
                found.add(f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path.read_text(encoding="utf-8"), path.name == "__init__.py")
         for name, path in MODULES.items()}


def _layer(module: str) -> int:
    for i, layer in enumerate(LAYERS):
        if any(module == top or module.startswith(top + ".") for top in layer
               if top != "kpidsl"):
            return i
    assert module == "kpidsl", module
    return len(LAYERS) - 1


def _within(module: str, top: str) -> bool:
    return module == top or module.startswith(top + ".")


def test_every_module_is_in_a_layer() -> None:
    for module in MODULES:
        _layer(module)


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    wrong = sorted(f"{m} imports {t}" for m, targets in GRAPH.items() for t in targets
                   if _layer(t) > _layer(m))
    assert wrong == []


def test_layers_side_by_side_do_not_import_each_other() -> None:
    wrong = sorted(f"{m} imports {t}" for a, b in APART for m, targets in GRAPH.items()
                   for t in targets
                   if (_within(m, a) and _within(t, b)) or (_within(m, b) and _within(t, a)))
    assert wrong == []


def test_there_is_no_import_cycle() -> None:
    cycles = []
    state: dict[str, int] = {}  # 1: being visited, 2: done
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(GRAPH[m]):
            if state.get(t) == 1:
                cycles.append(" -> ".join([*stack[stack.index(t):], t]))
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m)
    assert cycles == []


def test_outputs_call_no_engine_and_engines_leave_the_reference_engine_alone() -> None:
    wrong = sorted(f"{m} imports {t}" for m, targets in GRAPH.items() for t in targets
                   if (_within(m, "kpidsl.outputs") and _within(t, "kpidsl.engines"))
                   or (_within(m, "kpidsl.engines") and m != "kpidsl.engines.python"
                       and t == "kpidsl.engines.python"))
    assert wrong == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_over_800_lines(module: str) -> None:
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{MODULES[module].relative_to(SRC)} has {lines} lines"


def test_the_checker_sees_an_upward_import() -> None:
    """Not a vacuous pass: imports that break the layers are found, in every form."""
    source = ("from kpidsl.api import evaluate\n"
              "def f():\n    import kpidsl.engines.python\n"
              "from ..outputs import report\n")
    found = _imports("kpidsl.language.checker", source)
    assert found == {"kpidsl.api", "kpidsl.engines.python", "kpidsl.outputs.report"}
    assert all(_layer(t) > _layer("kpidsl.language.checker") for t in found)


def test_modules_moved_by_the_restructuring_keep_their_first_names() -> None:
    """The names the earlier documentation gave still import, as the same objects."""
    import kpidsl.data.records as old_records
    from kpidsl.contract import records
    from kpidsl.data import dataset, datasheet, workbook
    from kpidsl.outputs import workbook as old_report
    from kpidsl.outputs import xlsx

    assert old_records.Learner is records.Learner and old_records.Dataset is dataset.Dataset
    assert old_records.RECORD_TYPES is records.RECORD_TYPES
    assert (workbook.load_workbook, workbook.write_workbook) == \
        (datasheet.load_workbook, datasheet.write_workbook)
    assert (old_report.write_report, old_report.write_history) == \
        (xlsx.write_report, xlsx.write_history)
