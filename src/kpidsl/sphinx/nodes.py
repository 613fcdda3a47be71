"""Docutils nodes for the rule reference: where the plain-English pieces become markup.

:func:`inline` is the one place a :data:`~kpidsl.language.words.Piece` becomes a docutils node
(a :class:`~kpidsl.language.words.Ref` becomes a cross-reference the ``kpi`` domain resolves);
the other builders (paragraphs, bullets, tables, sections, captioned code) make the few shapes
every directive of the extension uses, so that all generated pages look alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import cast

from docutils import nodes
from sphinx import addnodes

from kpidsl.language.words import Code, Em, Piece, Pieces, Ref, Strong, Styled, ticks

_STYLES: dict[type[Styled], type[nodes.TextElement]] = {
    Code: nodes.literal, Em: nodes.emphasis, Strong: nodes.strong}


def inline(pieces: Iterable[Piece]) -> list[nodes.Node]:
    """Pieces as inline nodes; a :class:`Ref` becomes a cross-reference the domain resolves."""
    out: list[nodes.Node] = []
    for p in pieces:
        if isinstance(p, str):
            out.append(nodes.Text(p))
        elif isinstance(p, Ref):
            inner = nodes.inline if p.role == "rule" else nodes.literal
            out.append(addnodes.pending_xref(
                "", inner(p.text, p.text, classes=["xref", "kpi", f"kpi-{p.role}"]),
                refdomain="kpi", reftype=p.role, reftarget=p.target, refexplicit=True,
                refwarn=True))
        else:
            out.append(_STYLES[type(p)](p.text, p.text))
    return out


def para(*pieces: Piece, classes: Sequence[str] = ()) -> nodes.paragraph:
    """One paragraph of pieces."""
    return nodes.paragraph("", "", *inline(pieces), classes=list(classes))


def prose(text: str | None) -> list[nodes.Node]:
    """Paragraphs of prose from a rule file (blank lines separate them)."""
    paras = re.split(r"\n\s*\n", text.strip()) if text else []
    return [para(*ticks(" ".join(p.split()))) for p in paras if p.strip()]


def bullets(items: Iterable[Sequence[Piece]]) -> nodes.bullet_list:
    """A bullet list, one paragraph of pieces an item."""
    return nodes.bullet_list("", *(nodes.list_item("", para(*i)) for i in items))


def words_block(lead: Pieces, items: list[Pieces]) -> list[nodes.Node]:
    """A lead and its bullets, as :class:`~kpidsl.language.words.Words` gives long clauses."""
    return [para(*lead), bullets(items)] if items else [para(*lead)]


#: A table cell: text (in which `name` is code), pieces for one paragraph, or body nodes.
Cell = str | Sequence[Piece] | Sequence[nodes.Node]


def _cell(content: Cell) -> nodes.entry:
    if isinstance(content, str):
        content = ticks(content)
    if content and isinstance(content[0], nodes.Body):
        return nodes.entry("", *cast(Sequence[nodes.Node], content))
    return nodes.entry("", para(*cast(Sequence[Piece], content)))


def table(rows: Iterable[Sequence[Cell]], widths: Sequence[int],
          header: Sequence[str] | None = None, stub: bool = False,
          classes: Sequence[str] = ()) -> nodes.table:
    """A table of the extension's style (``kpi-table``); ``stub``: its first column heads
    each row."""
    def row(cells: Sequence[Cell]) -> nodes.row:
        return nodes.row("", *(_cell(c) for c in cells))

    group = nodes.tgroup(cols=len(widths))
    for i, w in enumerate(widths):
        spec = nodes.colspec(colwidth=w)
        if stub and i == 0:
            spec["stub"] = 1
        group += spec
    if header:
        group += nodes.thead("", row(header))
    group += nodes.tbody("", *(row(r) for r in rows))
    return nodes.table("", group, classes=["kpi-table", "colwidths-given", *classes])


def section(ident: str, *title: Piece) -> nodes.section:
    """An empty section titled with pieces."""
    return nodes.section("", nodes.title("", "", *inline(title)), ids=[ident])


def captioned(block: nodes.literal_block, *caption: Piece) -> nodes.container:
    """A code block with a caption, as Sphinx's own ``code-block`` ``:caption:`` makes it."""
    return nodes.container("", nodes.caption("", "", *inline(caption)), block,
                           literal_block=True, classes=["literal-block-wrapper"])
