"""The directives of the reference: what the documentation shows is read from the rules and
the code, never written twice by hand.

``kpi:rule``, ``kpi:definitions``, ``kpi:notices`` and ``kpi:rule-table`` document the rule
files: each reads them through :func:`kpidsl.sphinx.loading.load` (a page is rebuilt when a rule
file changes), says them in plain words with :class:`~kpidsl.language.words.Words`, enters what
it documents in the ``kpi`` domain and shows each item's rule source; :class:`RulesDirective`
is what they share (``kpi:check`` builds on it too), and the generated pages
(:mod:`kpidsl.sphinx.pages`) are made of them. ``kpi:data-contract``, ``kpi:cli``,
``kpi:builtins`` and ``kpi:diagram`` document kpidsl itself, from the record contract, the
argument parser, the builtin registry and the diagrams of :mod:`kpidsl.outputs.diagrams`.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, cast

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from kpidsl import cli
from kpidsl.contract import records
from kpidsl.contract.fields import ENUMS, FieldInfo
from kpidsl.data.ilr.choices import TABLES as ILR_TABLES
from kpidsl.language import ast
from kpidsl.language.builtins import BUILTINS
from kpidsl.language.checker import RuleSet
from kpidsl.language.prose import prose_warnings
from kpidsl.language.rulesets import default_rules_path
from kpidsl.language.words import (
    Code,
    Pieces,
    Ref,
    Strong,
    Words,
    day_month,
    def_target,
    format_date,
    human,
    join,
    kpi_title,
    ticks,
)
from kpidsl.outputs import diagrams
from kpidsl.sphinx import loading
from kpidsl.sphinx.domain import OBJECT_TYPES, KpiDomain
from kpidsl.sphinx.loading import Key, Loaded, Uses
from kpidsl.sphinx.nodes import (
    Cell,
    bullets,
    captioned,
    inline,
    para,
    prose,
    section,
    table,
    words_block,
)

if TYPE_CHECKING:
    from sphinx.util.typing import OptionSpec

logger = logging.getLogger(__name__)

#: The guidance table's entries (in ``ast.META_KEYS`` order), as its column headings say them.
META_LABELS = {"stage": "Monitoring stage", "level": "Level", "descriptor": "Descriptor",
               "measured": "How it is measured", "monitors": "Who monitors", "source": "Source"}


def _first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    m = re.match(r"(.+?[.!?])(\s|$)", flat)
    return m.group(1) if m else flat


def _table_values(values: ast.Table, words: Words) -> list[nodes.Node]:
    """A parameter table's prose and values, version by version."""
    out = prose(values.doc)
    for v in values.versions:
        if v.start is not None:
            out.append(para(f"From {format_date(v.start)}:"))
        if v.rows:
            rows = [([Code(r.key)], words.value(r.value)) for r in v.rows]
            out.append(table(rows, (40, 60), header=(human(values.key_type or "key"), "value"),
                             classes=["kpi-parameters"]))
        elif v.value is not None:
            out.append(para("Value: ", *words.value(v.value)))
    return out


def _schedule_points(schedule: ast.Schedule) -> list[nodes.Node]:
    """A schedule's prose and its points."""
    start = day_month(schedule.start_month, schedule.start_day)
    rows = [([Code(p.label)], day_month(p.month, p.day)) for p in schedule.points]
    return [*prose(schedule.doc), para(f"The year starts on {start}. Its points:"),
            table(rows, (40, 60), header=("point", "day"), classes=["kpi-parameters"])]


class RulesDirective(SphinxDirective):
    """A directive that documents the rules at ``:rules:`` (a folder, relative to the page)
    or else at ``kpidsl_rules_path``; ``:no-index:`` keeps what it shows out of the domain."""

    option_spec: ClassVar[OptionSpec] = {"rules": directives.unchanged,
                                         "no-index": directives.flag}
    loaded: Loaded
    rules: RuleSet
    uses: Uses
    words: Words

    def load(self, examples: bool = False) -> bool:
        """Read the rules (a page is rebuilt when one of their files changes); whether any
        could be read. ``examples``: the rules that worked examples run on
        (``kpidsl_example_rules``) rather than the rules documented."""
        option = self.options.get("rules")
        path = (self.env.relfn2path(option, self.env.docname)[1] if option
                else self.config.kpidsl_example_rules if examples
                else self.config.kpidsl_rules_path)
        self.loaded = loading.load(path)
        for f in self.loaded.files:
            self.env.note_dependency(str(f))
        if self.loaded.rules is None or self.loaded.uses is None:
            return False
        self.rules, self.uses = self.loaded.rules, self.loaded.uses
        self.words = Words(self.rules)
        return True

    def register(self, objtype: str, name: str, title: str) -> str:
        """Enter an object in the domain; its anchor (``kpi-def-learner-completer``)."""
        anchor: str = nodes.make_id(f"kpi-{OBJECT_TYPES[objtype][1]}-{name}")
        if "no-index" not in self.options:
            domain = cast(KpiDomain, self.env.get_domain("kpi"))
            domain.note_object(objtype, name, anchor, title, location=self.get_location())
        return anchor

    def item_section(self, objtype: str, name: str, title: str, what: str, item: ast.Item,
                     body: list[nodes.Node]) -> nodes.section:
        """The section of one definition, table, schedule or notice: ``title (what)``, then
        ``body``, then what uses it (nothing uses a notice), then its rule source."""
        out = section(self.register(objtype, name, title), Code(title), f" ({what})")
        out += [*body, *(self.used_by((objtype, name)) if objtype != "notice" else []),
                self.source_block(item)]
        return out

    def source_block(self, item: ast.Item) -> nodes.container:
        """The rule text of ``item`` (whole lines), highlighted, numbered as in its file."""
        span = item.span
        source = next((f.source for f in self.rules.files if f.path == span.file), "")
        text = "\n".join(source.split("\n")[span.line - 1:span.end_line]).rstrip()
        block = nodes.literal_block(text, text, language="kpi", linenos=True,
                                    classes=["kpi-source"])
        block["highlight_args"] = {"linenostart": span.line}
        last = span.line + text.count("\n")
        lines = f"line {span.line}" if last == span.line else f"lines {span.line}–{last}"
        return captioned(block, Code(self.loaded.display(span.file)), f", {lines}")

    def ref_list(self, refs: Sequence[Key]) -> Pieces:
        """Links to the KPIs (by title), definitions, tables, schedules and notices named."""
        titles = {k.name: kpi_title(k) for k in self.rules.kpis}
        return join([[Ref(OBJECT_TYPES[kind][1], n,
                          titles.get(n, n) if kind == "rule" else n.rsplit(".", 1)[-1])]
                     for kind, n in refs], ", ")

    def used_by(self, ref: Key) -> list[nodes.Node]:
        """What uses an item: the rules that name it, and kpidsl itself for the tables it
        reads ILR returns with (no rule names those, yet they change results)."""
        users = self.uses.users(ref)
        labels = (("rule", "KPIs"), ("definition", "definitions"), ("table", "tables"),
                  ("notice", "findings and actions"))
        items: list[Pieces] = [
            [Strong(label), ": ", *self.ref_list([(kind, n) for n in users[kind]])]
            for kind, label in labels if users[kind]]
        if ref[0] == "table" and ref[1] in ILR_TABLES:
            items.append([Strong("Reading ILR returns"), ": kpidsl reads this table when ",
                          Code("--data"), " names ILR returns, to turn them into the "
                          "contract's records (see “Reading ILR returns” in kpidsl's "
                          "documentation)"])
        if not items:
            return [para(Strong("Used by"), ": no rule uses it yet.")]
        return [para(Strong("Used by")), bullets(items)]


class RuleDirective(RulesDirective):
    """``.. kpi:rule:: learner_dropout``: everything about one KPI (put its title above)."""

    required_arguments = 1
    kpi: ast.Kpi

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0].strip()
        kpi = next((k for k in self.rules.kpis if k.name == name), None) if self.load() else None
        if kpi is None:
            logger.warning("no KPI called %s in the rule files at %s", name, self.loaded.path,
                           location=self.get_location(), type="kpidsl", subtype="rule")
            return []
        self.kpi = kpi
        target = nodes.target("", "", ids=[self.register("rule", kpi.name, kpi_title(kpi))])
        intro = para("KPI ", Code(kpi.name), ", written in ",
                     Code(self.loaded.display(kpi.span.file)),
                     ". To change it, edit that file.", classes=["kpi-intro"])
        out: list[nodes.Node] = [target, intro, *self.prose_warnings()]
        meta = [(META_LABELS[m.key], m.text) for m in kpi.meta if m.key != "title"]
        if meta:
            out.append(table(meta, (25, 75), stub=True, classes=["kpi-guidance"]))
        parts = (("Policy", "policy", prose(kpi.policy.text) if kpi.policy else []),
                 ("Decisions", "decisions", self.decisions()),
                 ("The rule in plain words", "words", self.in_words()),
                 ("Parameters", "parameters", self.parameters()),
                 ("Definitions used", "definitions", self.definitions()),
                 ("Worked examples", "examples", self.examples()),
                 ("Rule source", "source", [self.source_block(kpi)]))
        for title, suffix, body in parts:
            if body:  # a part with nothing to say has no section
                part = section(f"{nodes.make_id(kpi.name)}-{suffix}", title)
                part += body
                out.append(part)
        return out

    def prose_warnings(self) -> list[nodes.Node]:
        """What ``kpidsl check`` warns about this KPI's prose, as a warning box on its page
        (not a build warning: the rules are valid, the text is out of date)."""
        found = prose_warnings(self.rules, self.kpi.name)
        if not found:
            return []
        box = nodes.warning()
        box += para("The text of this rule states numbers that the rule does not use; "
                    "the rule decides the results. ", Code("kpidsl check"), " says:")
        box += bullets([[Code(f"{self.loaded.display(d.file or '')}:{d.line}"),
                         f": {d.message}. Hint: {d.hint}."] for d in found])
        return [box]

    def decisions(self) -> list[nodes.Node]:
        if not self.kpi.decisions:
            return []
        items = [nodes.definition_list_item("", nodes.term(d.key, d.key),
                                            nodes.definition("", *prose(d.text)))
                 for d in self.kpi.decisions]
        return [para("How this rule settles what the guidance leaves open:"),
                nodes.definition_list("", *items, classes=["kpi-decisions"])]

    def in_words(self) -> list[nodes.Node]:
        kpi, w = self.kpi, self.words
        rows: list[tuple[str, Cell]] = []
        if kpi.per is not None:
            rows.append(("Measured for", f"each {kpi.per}, and the whole programme"))
            for label, clause in (("Actual", kpi.actual), ("Planned", kpi.planned)):
                if clause is not None:
                    rows.append((label, words_block(*w.amount(clause.expr))))
        else:
            if kpi.population is not None:
                rows.append(("Who is measured", words_block(*w.population(kpi.population.expr))))
            if kpi.counted is not None:
                rows.append(("Counted when", words_block(*w.clause(kpi.counted.expr))))
            if kpi.pending is not None:
                rows.append(("Pending when", [
                    *words_block(*w.clause(kpi.pending.expr)),
                    para("(asked only of records that are not counted)", classes=["kpi-note"])]))
            elif kpi.counted is not None:
                rows.append(("Pending when", "never: every record is decided at once"))
        rows.append(("Target", w.target(kpi)))
        rows += [("Follow-up", f"for every record that is {f.verdict}: “{f.message}”")
                 for f in kpi.follow_ups]
        return [table(rows, (25, 75), stub=True, classes=["kpi-words"])]

    def parameters(self) -> list[nodes.Node]:
        used = [r for r in self.uses.closure(("rule", self.kpi.name))
                if r[0] in ("table", "schedule")]
        if not used:
            return []
        out: list[nodes.Node] = [
            para("The values this rule reads from parameter tables and schedules. "
                 "Change a value in the rule file, not here.")]
        for kind, name in used:
            heading: Pieces = [Ref(kind, name, name)]
            if kind == "table":
                values = self.rules.tables[name]
                heading += [f", by {human(values.key_type)}"] if values.key_type else []
                body = _table_values(values, self.words)
            else:
                body = _schedule_points(self.rules.schedules[name])
            out += [nodes.rubric("", "", *inline(heading)), *body]
        return out

    def definitions(self) -> list[nodes.Node]:
        items = []
        for kind, target in self.uses.closure(("rule", self.kpi.name)):
            if kind == "definition":
                d = self.uses.definitions[target]
                item: Pieces = [Ref("def", target, d.name)]
                item += [f" (for each {d.subject})"] if d.subject else []
                item += [": ", *ticks(_first_sentence(d.doc))] if d.doc else []
                items.append(item)
        if not items:
            return []
        return [para("This rule uses these shared definitions, directly or through each "
                     "other:"), bullets(items)]

    def examples(self) -> list[nodes.Node]:
        name, per = self.kpi.name, self.kpi.per is not None
        tests = [t for t in self.rules.tests if any(e.kpi == name for e in t.expects)]
        if not tests:
            return []
        files = sorted({self.loaded.display(t.span.file) for t in tests})
        rows: list[tuple[Cell, ...]] = []
        for t in tests:
            expects: list[Pieces] = []
            for e in (e for e in t.expects if e.kpi == name):
                counts = ""
                if e.numerator is not None and e.denominator is not None:
                    counts += (f", actual {e.numerator}, planned {e.denominator}" if per
                               else f", {e.numerator} of {e.denominator} counted")
                if e.pending is not None and not (per and e.pending == 0):
                    counts += f", {e.pending} pending"
                who = "the programme" if e.scope == "programme" else f"{e.scope} {e.group}"
                expects.append([f"{who}: ", Strong(human(e.status)), counts])
            about = prose(t.doc) if t.doc else [para(human(t.name))]
            rows.append((about, format_date(t.as_of), [bullets(expects)]))
        return [para("Tests written beside the rules: each is a small made-up cohort and the "
                     "results this KPI must give for it on a date. ", Code("kpidsl test"),
                     " runs them. They are in ",
                     *join([[Code(f)] for f in files], ", ", " and "), "."),
                table(rows, (55, 15, 30), header=("Example", "As of", "Expected"),
                      classes=["kpi-examples"])]


class DefinitionsDirective(RulesDirective):
    """``.. kpi:definitions::``: every definition, parameter table and schedule."""

    def run(self) -> list[nodes.Node]:
        if not self.load():
            return []
        out: list[nodes.Node] = []
        for (subject, name), d in self.rules.definitions.items():
            target = def_target(subject, name)
            out.append(self.item_section(
                "definition", target, name, f"for each {subject}" if subject else "a constant",
                d, [*prose(d.doc), *self.definition_words(d)]))
        parameters = [
            *(self.item_section("table", t.name, t.name, "parameter table", t,
                                _table_values(t, self.words)) for t in self.rules.tables.values()),
            *(self.item_section("schedule", s.name, s.name, "schedule", s, _schedule_points(s))
              for s in self.rules.schedules.values())]
        if parameters:
            part = section("kpi-parameters", "Parameter tables and schedules")
            part += parameters
            out.append(part)
        return out

    def definition_words(self, d: ast.Definition) -> list[nodes.Node]:
        label = Strong("In words")
        if isinstance(d.body, ast.Cases):
            cases: list[Pieces] = [[Code(c.label), " when ", *self.words.condition(c.condition)]
                                   for c in d.body.cases]
            return [para(label, ": the first that applies of"),
                    bullets([*cases, [Code(d.body.otherwise), " otherwise"]])]
        if self.words.type_kind(d.body) == "boolean":
            lead, items = self.words.clause(d.body)
            return words_block([label, ": it holds when ", *lead], items)
        return [para(label, ": ", *self.words.value(d.body))]


class NoticesDirective(RulesDirective):
    """``.. kpi:notices::``: every data-quality finding and follow-up action."""

    def run(self) -> list[nodes.Node]:
        if not self.load():
            return []
        out: list[nodes.Node] = []
        for n in self.rules.notices:
            lead, items = self.words.population(n.records)
            body = [*prose(n.doc), para(Strong("Message"), f": “{n.message}”"),
                    *words_block([Strong("Listed for"), ": ", *lead], items)]
            used = self.uses.closure(("notice", n.name))
            if used:
                body.append(para(Strong("Uses"), ": ", *self.ref_list(used)))
            kind = "data-quality finding" if n.kind == "finding" else "follow-up action"
            out.append(self.item_section("notice", n.name, n.name, kind, n, body))
        return out


class RuleTableDirective(RulesDirective):
    """``.. kpi:rule-table::``: every KPI with its level and its target, linked."""

    def run(self) -> list[nodes.Node]:
        if not self.load() or not self.rules.kpis:
            return [para("No KPI could be read from the rule files.")]
        rows = [([Ref("rule", k.name, kpi_title(k))], k.meta_value("level") or "",
                 self.words.target(k)) for k in self.rules.kpis]
        return [table(rows, (30, 35, 35), header=("KPI", "Level in the guidance", "Target"),
                      classes=["kpi-rule-table"])]


class DataContractDirective(SphinxDirective):
    """``.. kpi:data-contract::``: every CSV file and column, from the contract
    (:mod:`kpidsl.contract.records`)."""

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(records.__file__)
        out: list[nodes.Node] = []
        for rt in records.RECORD_TYPES:
            facts: list[Pieces] = [["In rules: one record is a ", Code(rt.name),
                                    "; all of them are ", Code(rt.plural), "."]]
            if rt.optional:
                facts.append(["This file is optional."])
            if rt.key:
                what = "is unique" if len(rt.key) == 1 else "are unique together"
                facts.append([*join([[Code(k)] for k in rt.key], ", ", " and "),
                              f" {what} in this file."])
            links: list[Pieces] = [[Code(f"{rt.name}.{lk.name}"), f" ({self.link_words(lk)})"]
                                   for lk in records.LINKS if lk.source == rt.name]
            if links:
                facts.append(["Rules can follow: ", *join(links, ", ", " and "), "."])
            if rt.name in records.ROW_DATES:
                facts.append(["A row dated (", Code(records.ROW_DATES[rt.name]),
                              ") after the as-of date does not exist yet; a row without "
                              "that date exists at every as-of date."])
            doc = (rt.cls.__doc__ or "").strip().split("\n")[0]
            part = section(nodes.make_id(f"contract-{rt.file}"), Code(rt.file))
            part += [
                para(*ticks(doc.replace("``", "`"))), bullets(facts),
                table([self.column(rt, f) for f in records.FIELDS[rt.name].values()],
                      (18, 14, 12, 30, 26), classes=["kpi-contract"],
                      header=("Column", "Type", "Required", "Meaning", "Allowed values"))]
            out.append(part)
        return out

    @staticmethod
    def link_words(lk: records.Link) -> str:
        if not lk.many:
            return f"the {lk.target} named by {lk.source_field}"
        if lk.through:
            return f"every {lk.target} whose {lk.through} has the same {lk.target_field}"
        return f"every {lk.target} with the same {lk.target_field}"

    @staticmethod
    def column(rt: records.RecordType, f: FieldInfo) -> tuple[Cell, ...]:
        kinds = {"integer": "whole number", "boolean": "true/false", "enum": "one value",
                 "set": "set of values"}
        default = str(f.default).lower() if isinstance(f.default, bool) else str(f.default)
        required = ("yes" if f.required else "no" if f.default in (None, frozenset(), ())
                    else f"no (default {default})")
        values = ", ".join(f"`{v}`" for v in ENUMS.get(f.enum or "", ()))
        formats = {"enum": f"one of {values}", "set": f"any of {values}, separated by `;`",
                   "date": "`YYYY-MM`" if f.month else "`YYYY-MM-DD`",
                   "boolean": "`true` or `false` (any case)", "money": "pounds, e.g. `1200.50`"}
        allowed = [formats[f.kind]] if f.kind in formats else []
        lo, hi = f.minimum, f.maximum
        if lo is not None or hi is not None:
            allowed.append(f"{lo} to {hi}" if lo is not None and hi is not None
                           else f"at most {hi}" if lo is None else f"at least {lo}")
        if f.pattern is not None:
            allowed.append(f.pattern[1])
        for lk in records.LINKS:
            target = records.BY_NAME[lk.target]
            if (lk.source == rt.name and not lk.many and lk.source_field == f.name
                    and target.key[:1] == (lk.target_field,) and target.name != rt.name):
                a = "an" if lk.target[:1] in "aeiou" else "a"
                allowed.append(f"must name {a} {lk.target} in `{target.file}`")
        if rt.key == (f.name,):
            allowed.append("unique")
        return ([Code(f.name)], "month" if f.month else kinds.get(f.kind, f.kind), required,
                f.doc or "", "; ".join(allowed) or "any text")


class CliDirective(SphinxDirective):
    """``.. kpi:cli::``: every command and option of ``kpidsl``, from its argument parser."""

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(cli.__file__)
        parser = cli.parser()
        out = self.usage(parser, "Option")
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        for name, p in sub.choices.items():
            part = section(nodes.make_id(f"cli-{name}"), Code(f"kpidsl {name}"))
            summary = p.description or next(
                (c.help for c in sub._choices_actions if c.dest == name), None)
            if summary:
                part += para(*ticks(summary))
            part += self.usage(p, "Argument or option")
            out.append(part)
        return out

    @staticmethod
    def usage(parser: argparse.ArgumentParser, heading: str) -> list[nodes.Node]:
        """The usage line of a command and a table of its arguments and options."""
        usage = parser.format_usage().strip()
        rules_path = str(default_rules_path())
        rows: list[tuple[Cell, str]] = []
        for a in parser._actions:
            if isinstance(a, argparse._SubParsersAction):
                continue
            metavar = " ".join(a.metavar) if isinstance(a.metavar, tuple) else a.metavar
            if a.option_strings:
                name = ", ".join(a.option_strings)
                if a.nargs != 0:
                    name += f" {metavar or a.dest.upper()}"
            else:
                name = metavar or a.dest
            text = (a.help or "").replace("%%", "%").replace(rules_path, "the rules/ folder")
            notes = []
            if a.choices:
                notes.append("one of " + ", ".join(f"`{c}`" for c in a.choices))
            if a.option_strings and a.required:
                notes.append("required")
            elif not a.option_strings and a.nargs in ("*", "?"):
                notes.append("optional" if a.nargs == "?" else "any number")
            if isinstance(a, argparse._AppendAction) and "repeatable" not in text:
                notes.append("repeatable")
            if (a.default is not None and a.default is not False
                    and a.default != argparse.SUPPRESS and a.nargs != 0
                    and "default" not in text):
                notes.append(f"default `{a.default}`")
            if notes:
                text = (text + " (" if text else "(") + "; ".join(notes) + ")"
            rows.append(([Code(name)], text))
        return [nodes.literal_block(usage, usage, language="text"),
                table(rows, (35, 65), header=(heading, "What it does"), classes=["kpi-cli"])]


class DiagramDirective(SphinxDirective):
    """``.. kpi:diagram:: data-model`` (the CSV files and their links, from the record schema)
    or ``.. kpi:diagram:: status`` (how a status is decided): an SVG picture drawn by
    :mod:`kpidsl.outputs.diagrams` when the documentation is built."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        pictures = {"data-model": diagrams.data_model_svg, "status": diagrams.status_svg}
        draw = pictures.get(self.arguments[0])
        if draw is None:
            logger.warning("no diagram called %s; there are %s", self.arguments[0],
                           ", ".join(pictures), location=self.get_location(), type="kpidsl",
                           subtype="diagram")
            return []
        self.env.note_dependency(diagrams.__file__)
        self.env.note_dependency(records.__file__)
        svg = f'<div class="kpi-diagram">{draw()}</div>'
        return [nodes.raw("", svg, format="html")]


class BuiltinsDirective(SphinxDirective):
    """``.. kpi:builtins::``: the functions rules may call, from the builtin registry."""

    def run(self) -> list[nodes.Node]:
        rows = [([Code(b.name)], b.doc) for b in BUILTINS.values()]
        return [table(rows, (20, 80), header=("Function", "What it gives"),
                      classes=["kpi-builtins"])]
