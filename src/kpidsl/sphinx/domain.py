"""The ``kpi`` domain: what the rule reference documents, the roles that link to it, its index.

Like Sphinx's own ``sphinx.domains.rst``, this module holds only the domain: its object types
(``rule``, ``definition``, ``table``, ``schedule``, ``notice``), one cross-reference role each
(``:kpi:rule:``, ``:kpi:def:``, …), where each object is documented, and the index of them all
(``:ref:`kpi-ruleindex```). The directives that document objects enter them here
(:meth:`KpiDomain.note_object`); nothing here reads rule files.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set
from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from sphinx.domains import Domain, Index, IndexEntry, ObjType
from sphinx.roles import XRefRole
from sphinx.util import logging
from sphinx.util.nodes import make_refnode

if TYPE_CHECKING:
    from sphinx.addnodes import pending_xref
    from sphinx.builders import Builder
    from sphinx.environment import BuildEnvironment
    from sphinx.util.typing import RoleFunction

logger = logging.getLogger(__name__)

#: The ``kpi`` domain's object types: name → (what a reader calls one, its role, the heading
#: of its group in the index).
OBJECT_TYPES = {
    "rule": ("KPI", "rule", "KPIs"),
    "definition": ("definition", "def", "Definitions"),
    "table": ("parameter table", "table", "Parameter tables"),
    "schedule": ("schedule", "schedule", "Schedules"),
    "notice": ("finding or action", "notice", "Findings and actions"),
}


class KpiIndex(Index):
    """Every KPI, definition, parameter table, schedule, finding and action, by kind."""

    name = "ruleindex"
    localname = "Index of KPI rules"
    shortname = "KPI rules"

    def generate(self, docnames: Iterable[str] | None = None
                 ) -> tuple[list[tuple[str, list[IndexEntry]]], bool]:
        wanted = set(docnames) if docnames is not None else None
        objects: dict[tuple[str, str], tuple[str, str, str]] = self.domain.data["objects"]
        ordered = sorted(objects.items(), key=lambda kv: kv[1][2].lower())
        content = []
        for objtype, (_, _, heading) in OBJECT_TYPES.items():
            entries = [IndexEntry(title, 0, docname, anchor, self.extra(typ, name, title), "", "")
                       for (typ, name), (docname, anchor, title) in ordered
                       if typ == objtype and (wanted is None or docname in wanted)]
            if entries:
                content.append((heading, entries))
        return content, False

    @staticmethod
    def extra(objtype: str, name: str, title: str) -> str:
        """What the index says after an entry: a definition's record type, a KPI's id."""
        if objtype == "definition":
            return f"for each {name.split('.')[0]}" if "." in name else "a constant"
        return name if title != name else ""


class KpiDomain(Domain):
    """The ``kpi`` domain: rules and what they use, with roles to link to them."""

    name = "kpi"
    label = "KPI rules"
    object_types: ClassVar[dict[str, ObjType]] = {
        t: ObjType(label, role) for t, (label, role, _) in OBJECT_TYPES.items()}
    #: A KPI is linked by its title, in the text's own font (a link, not code); the others by
    #: their names, which rule files spell, in code.
    roles: ClassVar[dict[str, RoleFunction | XRefRole]] = {
        role: XRefRole(innernodeclass=nodes.inline if role == "rule" else nodes.literal)
        for _, role, _ in OBJECT_TYPES.values()}
    indices: ClassVar[list[type[Index]]] = [KpiIndex]
    initial_data: ClassVar[dict[str, Any]] = {"objects": {}}
    data_version = 1

    @property
    def objects(self) -> dict[tuple[str, str], tuple[str, str, str]]:
        """(object type, name) → (docname, anchor, title)."""
        objects: dict[tuple[str, str], tuple[str, str, str]] = self.data["objects"]
        return objects

    def note_object(self, objtype: str, name: str, anchor: str, title: str,
                    location: Any = None) -> None:
        """Enter an object documented on the current page; warn if it already is."""
        if (objtype, name) in self.objects:
            logger.warning("%s %s is documented twice, also in %s (use :no-index: on one)",
                           objtype, name, self.objects[objtype, name][0], location=location,
                           type="kpidsl", subtype="duplicate")
        self.objects[objtype, name] = (self.env.current_document.docname, anchor, title)

    def clear_doc(self, docname: str) -> None:
        for key, (doc, _, _) in list(self.objects.items()):
            if doc == docname:
                del self.objects[key]

    def merge_domaindata(self, docnames: Set[str], otherdata: dict[str, Any]) -> None:
        for key, value in otherdata["objects"].items():
            if value[0] in docnames:
                self.objects[key] = value

    def _find(self, objtype: str, target: str) -> tuple[str, str, str] | None:
        """The object ``target`` names; a definition also by its bare name, if unambiguous."""
        found = self.objects.get((objtype, target))
        if found is None and objtype == "definition":
            matches = [v for (t, n), v in self.objects.items()
                       if t == "definition" and n.rsplit(".", 1)[-1] == target]
            found = matches[0] if len(matches) == 1 else None
        return found

    def resolve_xref(self, env: BuildEnvironment, fromdocname: str, builder: Builder,
                     typ: str, target: str, node: pending_xref, contnode: nodes.Element
                     ) -> nodes.reference | None:
        for objtype in self.objtypes_for_role(typ) or []:
            found = self._find(objtype, target)
            if found is not None:
                docname, anchor, title = found
                if objtype == "rule" and not node.get("refexplicit"):  # a KPI by its title
                    contnode = nodes.inline(title, title, classes=contnode["classes"])
                return make_refnode(builder, fromdocname, docname, anchor, contnode, title)
        return None

    def resolve_any_xref(self, env: BuildEnvironment, fromdocname: str, builder: Builder,
                         target: str, node: pending_xref, contnode: nodes.Element
                         ) -> list[tuple[str, nodes.reference]]:
        out = []
        for _, role, _ in OBJECT_TYPES.values():
            ref = self.resolve_xref(env, fromdocname, builder, role, target, node, contnode)
            if ref is not None:
                out.append((f"kpi:{role}", ref))
        return out

    def get_objects(self) -> Iterator[tuple[str, str, str, str, str, int]]:
        for (objtype, name), (docname, anchor, title) in self.objects.items():
            yield name, title, objtype, docname, anchor, 1 if objtype == "rule" else 0
