"""Documentation: a Sphinx extension that builds the rule reference from the rule files.

Add ``kpidsl.sphinx`` to ``extensions`` in ``conf.py`` (``kpidsl.sphinxext``, its older name,
is the same extension). At ``builder-inited`` it reads the rule files (``kpidsl_rules_path``,
by default the ``rules/`` folder beside the documentation's folder) and writes one page per KPI
into the source folder (``kpidsl_generated_dir``, default ``rules``), plus a page of shared
definitions and parameters, a page of findings and actions and an index page. Adding a ``.kpi``
file adds its pages; nothing else needs editing. A rule file with errors becomes a Sphinx
warning located at ``file.kpi:LINE``, never a crash.

Worked examples (``kpi:run``, ``kpi:check``) run on ``kpidsl_example_rules`` instead (by default
the same rules): a frozen copy keeps a walkthrough that edits "the drop-out target of 20%" true
whatever the policy says today, so that a valid policy edit never breaks the documentation.

What it adds to Sphinx:

- the ``kpi`` domain: object types ``rule``, ``definition``, ``table``, ``schedule`` and
  ``notice``; roles ``:kpi:rule:``, ``:kpi:def:``, ``:kpi:table:``, ``:kpi:schedule:``,
  ``:kpi:notice:``; and an index of them all (``:ref:`kpi-ruleindex```);
- directives ``kpi:rule`` (one KPI), ``kpi:definitions``, ``kpi:notices``, ``kpi:rule-table``,
  ``kpi:data-contract`` (from :mod:`kpidsl.contract.records`), ``kpi:cli`` (from the argument
  parser), ``kpi:builtins`` (from the builtin registry), ``kpi:check`` (an example rule file
  with the messages ``kpidsl check`` really prints for it), ``kpi:run`` (a kpidsl command run
  when the documentation is built, with its real output, on a copy of the rules that its
  content may edit) and ``kpi:diagram`` (the data model drawn from the record schema, or how a
  status is decided); a KPI's page also shows what ``kpidsl check`` warns about its prose;
- the ``kpi`` Pygments lexer for ``.. code-block:: kpi``.

The package, one job a module: ``domain`` (the ``kpi`` domain, its roles and index),
``loading`` (reading and checking the rule files, what each rule uses), ``directives`` (the
reference directives), ``examples`` (``kpi:check`` and ``kpi:run``), ``pages`` (the generated
pages and the stylesheet) and ``nodes`` (docutils node builders). The rules' plain words come
from :class:`kpidsl.language.words.Words` as pieces; :func:`kpidsl.sphinx.nodes.inline` is the
one place they become docutils nodes.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

from kpidsl import __version__
from kpidsl.language.lexer import KpiLexer
from kpidsl.sphinx.directives import (
    BuiltinsDirective,
    CliDirective,
    DataContractDirective,
    DefinitionsDirective,
    DiagramDirective,
    NoticesDirective,
    RuleDirective,
    RuleTableDirective,
)
from kpidsl.sphinx.domain import KpiDomain
from kpidsl.sphinx.examples import CheckDirective, RunDirective
from kpidsl.sphinx.loading import resolve_rules_path
from kpidsl.sphinx.pages import generate, write_css


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the ``kpi`` domain, its directives, the lexer and the page generator."""
    app.add_config_value("kpidsl_rules_path", None, "env", types=frozenset({str, type(None)}))
    app.add_config_value("kpidsl_example_rules", None, "env",
                         types=frozenset({str, type(None)}))
    app.add_config_value("kpidsl_generated_dir", "rules", "env",
                         types=frozenset({str, type(None)}))
    app.add_domain(KpiDomain)
    for name, directive in (("rule", RuleDirective), ("definitions", DefinitionsDirective),
                            ("notices", NoticesDirective), ("rule-table", RuleTableDirective),
                            ("check", CheckDirective), ("data-contract", DataContractDirective),
                            ("cli", CliDirective), ("builtins", BuiltinsDirective),
                            ("run", RunDirective), ("diagram", DiagramDirective)):
        app.add_directive_to_domain("kpi", name, directive)
    app.add_lexer("kpi", KpiLexer)
    app.add_lexer("kpidsl", KpiLexer)
    app.connect("config-inited", resolve_rules_path)
    app.connect("builder-inited", generate)
    app.connect("build-finished", write_css)
    app.add_css_file("kpidsl.css")
    return {"version": __version__, "env_version": 1, "parallel_read_safe": True,
            "parallel_write_safe": True}
