"""Rule source text: reading rule files, and the text a span of one covers.

:func:`read_rules` is the one reader of rule files (every command and the Sphinx extension use
it). Positions are :class:`~kpidsl.errors.Span` s.
"""

from __future__ import annotations

import os

from kpidsl import limits
from kpidsl.errors import Diagnostic, RuleError, Span
from kpidsl.files import Unreadable, open_regular


def text_at(source: str, span: Span) -> str:
    """The exact text ``span`` covers in ``source``."""
    lines = source.split("\n")
    start = sum(len(x) + 1 for x in lines[:span.line - 1]) + span.column - 1
    end = sum(len(x) + 1 for x in lines[:span.end_line - 1]) + span.end_column - 1
    return source[start:end]


def normalise(text: str) -> str:
    """Rule text as every stage reads it: no byte-order mark, every line end a ``\\n``
    (CRLF from Windows and a lone CR from old Mac editors alike)."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def read_rules(path: str | os.PathLike[str]) -> str:
    """The text of a rule file: a regular file of UTF-8 text, normalised. Raises
    :class:`RuleError` with a located diagnostic when it cannot be read."""
    return decode_rules(read_rule_bytes(path), os.fspath(path))


def read_rule_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a rule file, if it is a regular file within the size limit (else a
    :class:`RuleError` saying why not)."""
    name = os.fspath(path)
    try:
        with open_regular(name, limits.MAX_RULE_FILE_BYTES) as f:
            raw = f.read(limits.MAX_RULE_FILE_BYTES + 1)
    except Unreadable as e:
        message = "no such rule file" if e.missing else f"cannot read the rule file: {e}"
        raise RuleError([Diagnostic(message=message, file=name)]) from None
    except OSError as e:
        raise RuleError([Diagnostic(message=f"cannot read the rule file: {e.strerror or e}",
                                    file=name)]) from None
    return raw


def decode_rules(raw: bytes, path: str) -> str:
    """Rule-file bytes as normalised text, or a :class:`RuleError` where they stop being
    UTF-8 (located in the normalised text, as the parser counts lines)."""
    try:
        return normalise(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        before = normalise(raw[:e.start].decode("utf-8"))
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        raise RuleError([Diagnostic(
            message=f"byte 0x{raw[e.start]:02x} is not UTF-8 text", file=path, line=line,
            column=column, source=normalise(raw.decode("utf-8", "replace")),
            hint="save the file as UTF-8 (most editors offer it under 'Save as' or "
            "'Encoding')")]) from None
