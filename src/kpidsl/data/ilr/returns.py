"""Reading ILR returns safely: the header of each file, which returns count, and each Skills
Bootcamps learner as plain facts, one ``Learner`` element at a time.

An ILR return is XML marked OFFICIAL-SENSITIVE-Personal. So the parser (lxml) expands no
entity, loads no DTD and reads nothing from the network; a file that declares a DOCTYPE is
refused, since no return has one. Files are bounded in size like every other input
(:data:`~kpidsl.limits.MAX_DATA_FILE_BYTES`) and in depth by libxml2 (256 levels). Only the
elements the contract needs are read (ids, dates, codes); names, addresses, contact details,
dates of birth and NI numbers are never copied out of the parser, and each ``Learner``
element is freed once read, so memory stays flat as a file grows. An error message quotes
at most 20 characters of a value read (an id, a date, a code), never other text of the file.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import attrs
from lxml import etree

from kpidsl import limits
from kpidsl.classes import fields_eq, fields_methods, fields_repr
from kpidsl.errors import DataError, Diagnostic
from kpidsl.files import Unreadable, open_regular

#: ``ESFA/ILR/2025-26``: the namespace of every ILR year of this shape.
_NAMESPACE = re.compile(r"ESFA/ILR/(20[0-9]{2})-([0-9]{2})")
#: Funding model 37 began in 2022-23; every year since has the elements read here.
FIRST_YEAR = 2022
FUND_MODEL = "37"
PROG_TYPE = "32"


class Fam(NamedTuple):
    """A learning delivery FAM: its type, code and ``LearnDelFAMDateFrom``."""

    type: str
    code: str
    date_from: dt.date | None


class Aim(NamedTuple):
    """One ``LearningDelivery`` of funding model 37 and programme type 32: the facts read.
    (Named tuples, as a hundred thousand learners have half a million of these.)"""

    ref: str
    """``LearnAimRef``: ``ZPROG001`` for the programme aim."""
    aim_type: int
    seq: int
    start: dt.date
    plan_end: dt.date
    end: dt.date | None
    """``LearnActEndDate``."""
    comp_status: int
    ach_date: dt.date | None
    con_ref: str | None
    fams: tuple[Fam, ...]
    line: int


class Status(NamedTuple):
    """One ``LearnerEmploymentStatus``: when it applies, the employer and its monitoring."""

    applies: dt.date
    emp_id: str | None
    monitoring: frozenset[tuple[str, str]]
    """``(ESMType, ESMCode)`` pairs: ``("SEI", "1")``, ``("OET", "2")``."""


@attrs.frozen
@fields_methods
class Person:
    """A learner of a return with at least one bootcamp aim: no name, address, contact or
    birth date, only what the mapping reads."""

    ukprn: str
    ref: str
    """``LearnRefNumber``."""
    file: str
    line: int
    statuses: tuple[Status, ...]
    aims: tuple[Aim, ...]
    """Only the aims of funding model 37 and programme type 32."""


@attrs.frozen
@fields_methods
class Return:
    """What a file's header says: whose return it is, of which year, and when it was made."""

    file: str
    namespace: str
    year: int
    """The first calendar year of the ILR year: 2025 for 2025-26."""
    ukprn: str
    prepared: dt.date
    """``FilePreparationDate``."""
    made: str
    """``Source/DateTime`` as written (ISO, so it sorts)."""

    @property
    def label(self) -> str:
        """``2025-26``."""
        return f"{self.year}-{(self.year + 1) % 100:02d}"


#: The texts read, as the ILR 2025-26 schema allows them: a pattern and what it says.
TEXTS: dict[str, tuple[re.Pattern[str], str]] = {
    "LearnRefNumber": (re.compile(r"[A-Za-z0-9 ]{1,12}"), "1 to 12 letters, digits or spaces"),
    "ConRefNumber": (re.compile(r"[!-~]{1,20}"), "1 to 20 characters without spaces"),
    "LearnAimRef": (re.compile(r"[A-Za-z0-9]{1,8}"), "1 to 8 letters or digits"),
    "EmpId": (re.compile(r"[0-9]{1,9}"), "an employer number of up to 9 digits"),
    "LearnDelFAMType": (re.compile(r"[A-Z]{1,3}"), "1 to 3 capital letters"),
    "LearnDelFAMCode": (re.compile(r"[A-Za-z0-9]{1,5}"), "1 to 5 letters or digits"),
}
#: The codes read, as the ILR specification lists them (AimType_01, CompStatus_01): a code
#: it does not list is an error, since what it would mean for a learner is not known.
CODES: dict[str, tuple[frozenset[int], str]] = {
    "AimType": (frozenset({1, 3, 4, 5}), "1 (programme aim), 3 (component aim), 4 (not part "
                "of a programme) or 5 (core aim)"),
    "CompStatus": (frozenset({1, 2, 3, 6}), "1 (continuing), 2 (completed), 3 (withdrawn) or "
                   "6 (break in learning)"),
}
_AIM_TYPES, _COMP_STATUSES = CODES["AimType"][0], CODES["CompStatus"][0]
#: An ``xs:date``: ``YYYY-MM-DD``, perhaps with a time zone, which a day does not need.
_DATE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:Z|[+-][0-9]{2}:[0-9]{2})?")
_REF = frozenset({"LearnRefNumber"})
#: Every element the reader looks at: a learner's personal data is never among them.
_READ = ("LearnRefNumber", "LearnerEmploymentStatus", "LearningDelivery", "LearnAimRef",
         "AimType", "AimSeqNumber", "LearnStartDate", "LearnPlanEndDate", "FundModel",
         "ProgType", "ConRefNumber", "CompStatus", "LearnActEndDate", "AchDate",
         "LearningDeliveryFAM", "LearnDelFAMType", "LearnDelFAMCode", "LearnDelFAMDateFrom",
         "EmpStat", "DateEmpStatApp", "EmpId", "EmploymentStatusMonitoring", "ESMType",
         "ESMCode")
#: Of those, the elements that hold a value, not other elements.
_LEAVES = frozenset(_READ) - {"LearnerEmploymentStatus", "LearningDelivery",
                              "LearningDeliveryFAM", "EmploymentStatusMonitoring"}
_ANY = (re.compile(r".{0,100}", re.S), "at most 100 characters")


def _error(file: str, line: int | None, message: str, hint: str | None = None,
           column: int | None = None, **data: Any) -> DataError:
    return DataError([Diagnostic(message=message, file=file, line=line, column=column,
                                 hint=hint, **data)])


def _doctype_line(path: str) -> int | None:
    """The line of the file's DOCTYPE declaration, looked for before its first element."""
    with open_regular(path, limits.MAX_DATA_FILE_BYTES) as f:
        head = f.read(1 << 16)
    at = head.find(b"<!DOCTYPE")
    return None if at < 0 else head.count(b"\n", 0, at) + 1


#: The parser's settings for a return: no entity expanded, no DTD loaded, nothing fetched.
_SAFE: dict[str, Any] = dict(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_comments=True, remove_pis=True)


def _parse(path: str, tag: str | tuple[str, ...] | None = None, chunk: int = 0
           ) -> Iterator[tuple[str, Any]]:
    """The ending events (of ``tag``) of parsing ``path`` with nothing expanded or fetched:
    lxml's ``iterparse``, or with ``chunk`` a pull parser fed that many bytes at a time (for
    a caller that stops early, as the header's reader does); a DOCTYPE, a broken file or
    one that cannot be read is a located :class:`DataError`."""
    try:
        stream = open_regular(path, limits.MAX_DATA_FILE_BYTES)
    except Unreadable as e:
        raise _error(path, None, f"cannot read the file: {e}") from None
    etree.clear_error_log()  # the log is the thread's: it holds only this file's errors
    with stream:
        if chunk:
            parser = etree.XMLPullParser(events=("start", "end"), tag=tag, **_SAFE)
            events: Iterator[tuple[str, Any]] = _pulled(parser, stream, chunk)
        else:
            events = etree.iterparse(stream, events=("start", "end"), tag=tag, **_SAFE)
        try:
            first = True
            for event, element in events:
                if first:
                    first = False
                    if element.getroottree().docinfo.doctype:
                        raise _error(path, _doctype_line(path), "the file declares a DOCTYPE; "
                                     "an ILR return has none, and kpidsl reads no DTD",
                                     hint="remove the <!DOCTYPE …> declaration")
                if event == "end":
                    yield event, element
        except etree.XMLSyntaxError as e:
            raise _syntax_error(path, e) from None


#: libxml2's errors of an ``&`` that starts no entity XML defines (``R&D``, ``&nbsp;``).
_ENTITY_ERRORS = frozenset({"ERR_UNDECLARED_ENTITY", "ERR_NAME_REQUIRED",
                            "ERR_ENTITYREF_SEMICOL_MISSING"})


def _syntax_error(path: str, e: etree.XMLSyntaxError) -> DataError:
    """What is wrong with a file that is not well-formed XML, at the line and column of the
    parser's first fatal error (lxml's own message may be a later one, ``no element found`` at
    0:0), with a hint for the usual causes: an empty file, one cut short, an ``&`` that starts
    no entity. The parser's message names elements, never their text; an entity's name is
    left out, as it may be a value's."""
    log: Any = e.error_log  # lxml-stubs declare the log empty: it is a list of entries
    fatal = next((x for x in log if x.level_name == "FATAL"), None)
    line, column = (fatal.line, fatal.column) if fatal else (e.position or (0, 0))
    kind = fatal.type_name if fatal else ""
    lines, last = _extent(path)
    if lines == 0:
        return _error(path, 1, "the file is empty: an ILR return is XML", column=1,
                      hint="export the return again from your MIS, or give the right file")
    message = re.sub(r", line \d+, column \d+$", "", fatal.message if fatal else e.msg or "")
    # cut short: the parser met the end of the file inside the XML (past the last character,
    # except where the last tag closes the wrong element)
    if kind == "ERR_TAG_NOT_FINISHED" or (kind != "ERR_TAG_NAME_MISMATCH" and line >= lines
                                          and column > last):
        return _error(path, line, f"the file ends before its XML does ({message}): it "
                      "looks cut short", column=column,
                      hint="copy or export the return again, whole")
    if kind in _ENTITY_ERRORS:
        return _error(path, line, "the file is not well-formed XML: an & that starts no "
                      "entity XML defines", column=column,
                      hint="an ILR return writes & as &amp; (and < as &lt;); it uses no other "
                      "named entity: correct it where it was exported")
    hint = ("its bytes are not in the encoding its <?xml?> declaration names (UTF-8 when it "
            "names none): export it again as UTF-8") if kind == "ERR_INVALID_ENCODING" else \
        "an ILR return is the XML file your MIS exports for the ILR: is this that file, unedited?"
    return _error(path, line or None, f"the file is not well-formed XML: {message}",
                  column=column or None, hint=hint)


def _extent(path: str) -> tuple[int, int]:
    """The number of the file's last line that is not blank (0 when every line is) and its
    length: where a file cut short ends. Read only for an error."""
    lines, last, number = 0, 0, 0
    try:
        with open_regular(path, limits.MAX_DATA_FILE_BYTES) as f:
            for text in f:
                number += 1
                if text.strip():
                    lines, last = number, len(text.rstrip(b"\r\n"))
    except (Unreadable, OSError):  # read a moment ago: what the parser said will do
        return 1 << 30, 0
    return lines, last


def _column(path: str, line: int | None, name: str) -> int | None:
    """The column of element ``name``'s start tag on ``line``, when it starts there once: lxml
    gives an element's line, not its column. Read only for an error."""
    if line is None:
        return None
    try:
        with open_regular(path, limits.MAX_DATA_FILE_BYTES) as f:
            text = next(itertools.islice(f, line - 1, None), b"").decode("utf-8", "replace")
    except (Unreadable, OSError):
        return None
    found = [m.start() for m in re.finditer(rf"<(?:[\w.-]+:)?{name}[\s/>]", text)]
    return found[0] + 1 if len(found) == 1 else None


def _pulled(parser: Any, stream: Any, chunk: int) -> Iterator[tuple[str, Any]]:
    while data := stream.read(chunk):
        parser.feed(data)
        yield from parser.read_events()
    parser.close()
    yield from parser.read_events()


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def read_header(path: str | os.PathLike[str]) -> Return:
    """The header of an ILR return, read up to its first ``Learner`` only. A file that is not
    an ILR return, of an unsupported year, or without the header's dates is a located
    :class:`DataError`."""
    path = os.fspath(path)
    values: dict[str, tuple[str, int]] = {}
    namespace = None
    for _, element in _parse(path, chunk=1 << 11):  # a header is a few hundred bytes
        name = _local(element.tag)
        if namespace is None:
            parent = element
            while parent.getparent() is not None:
                parent = parent.getparent()
            root = parent
            m = _NAMESPACE.fullmatch(etree.QName(root).namespace or "")
            if _local(root.tag) != "Message" or m is None:
                raise _error(path, root.sourceline, "not an ILR return: its root element is "
                             f"{_local(root.tag)!r} in namespace "
                             f"{etree.QName(root).namespace or 'none'!r}",
                             hint="an ILR return is a <Message> in a namespace such as "
                             "ESFA/ILR/2025-26")
            namespace = m.group(0)
            year = int(m.group(1))
            if (year + 1) % 100 != int(m.group(2)) or year < FIRST_YEAR:
                raise _error(path, root.sourceline, f"ILR year {m.group(1)}-{m.group(2)} is "
                             "not supported", hint=f"kpidsl reads the returns of "
                             f"{FIRST_YEAR}-{(FIRST_YEAR + 1) % 100:02d} and later, when "
                             "funding model 37 began")
        if name in ("FilePreparationDate", "DateTime", "UKPRN", "Year") and name not in values:
            values[name] = ((element.text or "").strip(), element.sourceline)
        if name in ("Learner", "LearningProvider"):
            break
    if namespace is None:
        raise _error(path, 1, "not an ILR return: the file has no elements")
    for name in ("UKPRN", "FilePreparationDate", "DateTime"):
        if name not in values:
            raise _error(path, None, f"not an ILR return: its header has no {name}",
                         hint="an ILR return starts with a <Header> whose <Source> gives the "
                         "UKPRN and the DateTime it was made")
    ukprn, line = values["UKPRN"]
    if not re.fullmatch(r"[0-9]{8}", ukprn):
        raise _error(path, line, f"UKPRN: {ukprn[:20]!r} is not a UKPRN",
                     hint="expected 8 digits")
    return Return(file=path, namespace=namespace, year=year, ukprn=ukprn,
                  prepared=_date(path, *values["FilePreparationDate"], "FilePreparationDate"),
                  made=values["DateTime"][0])


def _date(file: str, text: str, line: int, what: str) -> dt.date:
    try:
        m = _DATE.fullmatch(text)
        if m is None:
            raise ValueError(text)
        return dt.date.fromisoformat(m.group(1))
    except ValueError:
        raise _error(file, line, f"{what}: {text[:20]!r} is not a date",
                     hint="expected a date written YYYY-MM-DD") from None


def _values(element: Any, first: str, second: str, third: str | None = None
            ) -> tuple[str, str, str | None]:
    """The values of ``element``'s children when they are ``first``, ``second`` and perhaps
    ``third``, in that order (the schema's), each a value with no element inside: else
    ``ValueError`` (or ``TypeError`` for an empty one), and the careful way reads the
    learner."""
    kids = list(element)
    if len(kids) == 2:
        a, b = kids
        day = None
    else:
        a, b, c = kids  # ValueError unless three
        day = c.text
        if c.tag != third or len(c) or day is None:
            raise ValueError
    if a.tag != first or b.tag != second or len(a) or len(b):
        raise ValueError
    return a.text, b.text, day


def _plain(element: Any, tags: dict[str, str], inner: str, names: tuple[str, ...]
           ) -> tuple[dict[str, str], list[tuple[str, str, str | None]]]:
    """The values of ``element``'s children that are read (``tags``), by name, and of each
    child ``inner`` (a FAM, a monitoring: :func:`_values` of ``names``), when each value is
    there once, holds text and no element: else ``ValueError``, and the careful way reads
    the learner."""
    v: dict[str, str] = {}
    inners = []
    for c in element:
        tag = c.tag
        if tag == inner:
            inners.append(_values(c, *names))
        else:
            name = tags.get(tag)
            if name is not None:
                text = c.text
                if text is None or name in v or len(c):
                    raise ValueError  # empty, twice, or not a value
                v[name] = text
    return v, inners


class _Reader:
    """Reads one learner's elements into a :class:`Person`, or says where a value is wrong."""

    def __init__(self, ret: Return) -> None:
        self.ret = ret
        self.ns = "{" + ret.namespace + "}"
        ns = self.ns
        self.q: Callable[[str], str] = lambda name: ns + name
        self.tags = {ns + name: name for name in _READ}
        """The qualified name of each element read, to its name; no other is looked at."""
        self.leaf_tags = {tag: name for tag, name in self.tags.items() if name in _LEAVES}
        """Of those, the elements that hold a value."""
        self.dates: dict[str, dt.date] = {}

    def fail(self, element: Any, message: str, hint: str | None = None) -> DataError:
        line = element.sourceline
        return _error(self.ret.file, line, message, hint=hint,
                      column=_column(self.ret.file, line, _local(element.tag)))

    def leaves(self, element: Any, only: frozenset[str] | None = None
               ) -> dict[str, tuple[str, Any]]:
        """The text of each child of ``element`` that is an element read (:data:`_READ`, in
        the return's namespace) and has no children of its own, by name (of only those named
        ``only``): a learner's name and address are never copied."""
        out = {}
        for child in element:
            name = self.tags.get(child.tag)
            if name is not None and len(child) == 0 and (only is None or name in only):
                out[name] = ((child.text or "").strip(), child)
        return out

    def value(self, leaves: dict[str, tuple[str, Any]], name: str, who: str,
              kind: str = "text", parent: Any = None, required: bool = True) -> Any:
        """The value of child ``name`` (``kind`` text, date or int); a text must be as the
        ILR specification allows (:data:`TEXTS`)."""
        if name not in leaves:
            if required:
                raise self.fail(parent, f"{who}: {name} is missing",
                                hint=f"an ILR return gives {name} here (see the ILR "
                                "specification)")
            return None
        text, element = leaves[name]
        if kind == "text":
            pattern, expected = TEXTS.get(name, _ANY)
            if not pattern.fullmatch(text):
                shown = repr(text[:20]) + ("…" if len(text) > 20 else "")
                raise self.fail(element, f"{who}: {name}: {shown} is not {expected}",
                                hint=f"expected {expected}, as the ILR specification says")
            return text
        try:
            if kind == "date":
                m = _DATE.fullmatch(text)
                if m is None:
                    raise ValueError(text)
                return dt.date.fromisoformat(m.group(1))
            number = int(text)
        except ValueError:
            expected = "a date written YYYY-MM-DD" if kind == "date" else "a whole number"
            raise self.fail(element, f"{who}: {name}: {text[:20]!r} is not "
                            f"{'a date' if kind == 'date' else 'a number'}",
                            hint=f"expected {expected}") from None
        codes = CODES.get(name)
        if codes is not None and number not in codes[0]:
            raise self.fail(element, f"{who}: {name}: {number} is not a code of the ILR "
                            "specification", hint=f"expected {codes[1]}, as the ILR "
                            f"specification lists them ({name}_01)")
        return number

    def person(self, learner: Any) -> Person | None:
        """The learner's facts, or ``None`` when none of its aims is a bootcamp's.

        The quick way, one pass over the elements read; anything out of the ordinary (a
        missing element, a value that does not convert or match) is read again the careful
        way, :meth:`checked_person`, which says where and what is wrong. The quick way takes
        only the plain form (each element read once, in the schema's order, with no element
        inside it and no space around its value) and leaves the rest to the careful way, so
        both read every learner alike (``tests/test_ilr_read.py`` holds them to it)."""
        try:
            return self._quick(learner)
        except (KeyError, ValueError, TypeError, AttributeError, IndexError, StopIteration):
            return self.checked_person(learner)

    def _quick(self, learner: Any) -> Person | None:
        q, tags, date, texts = self.q, self.leaf_tags, self.date, TEXTS
        fam_kind, fam_code = texts["LearnDelFAMType"][0], texts["LearnDelFAMCode"][0]
        aim_ref, con_ref = texts["LearnAimRef"][0], texts["ConRefNumber"][0]
        fam = q("LearningDeliveryFAM")
        fam_tags = q("LearnDelFAMType"), q("LearnDelFAMCode"), q("LearnDelFAMDateFrom")
        aims = []
        for d in learner.iterchildren(q("LearningDelivery")):
            # a FAM: LearnDelFAMType, LearnDelFAMCode, then the date (the XSD)
            v, found = _plain(d, tags, fam, fam_tags)
            fams = []
            for kind, code, day in found:
                if not (fam_kind.fullmatch(kind) and fam_code.fullmatch(code)):
                    raise ValueError
                fams.append(Fam(kind, code, date(day) if day is not None else None))
            if v.get("FundModel") != FUND_MODEL or v.get("ProgType") != PROG_TYPE:
                if (v.get("FundModel") or "").strip() == FUND_MODEL:
                    if v.get("FundModel") != FUND_MODEL or \
                            (v.get("ProgType") or "").strip() == PROG_TYPE:
                        raise ValueError  # a space around a code: the careful way
                    int(v["AimSeqNumber"])  # as the careful way checks it
                continue
            ref, con = v["LearnAimRef"], v.get("ConRefNumber")
            if not aim_ref.fullmatch(ref) or (con is not None and not con_ref.fullmatch(con)):
                raise ValueError
            end, ach = v.get("LearnActEndDate"), v.get("AchDate")
            aim_type, comp_status = int(v["AimType"]), int(v["CompStatus"])
            if aim_type not in _AIM_TYPES or comp_status not in _COMP_STATUSES:
                raise ValueError  # the careful way says where
            aims.append(Aim(ref, aim_type, int(v["AimSeqNumber"]),
                            date(v["LearnStartDate"]), date(v["LearnPlanEndDate"]),
                            date(end) if end is not None else None, comp_status,
                            date(ach) if ach is not None else None, con, tuple(fams),
                            d.sourceline))
        if not aims:
            return None
        (ref,) = [c.text for c in learner.iterchildren(q("LearnRefNumber")) if len(c) == 0]
        if not texts["LearnRefNumber"][0].fullmatch(ref) or ref != ref.strip():
            raise ValueError
        esm, esm_tags = q("EmploymentStatusMonitoring"), (q("ESMType"), q("ESMCode"))
        held = []
        for s in learner.iterchildren(q("LearnerEmploymentStatus")):
            v, found = _plain(s, tags, esm, esm_tags)  # a monitoring: ESMType, then ESMCode
            monitoring = set()
            for kind, code, _ in found:
                if kind != kind.strip() or code != code.strip():
                    raise ValueError
                monitoring.add((kind[:3], code[:2]))
            emp = v.get("EmpId")
            if emp is not None and not texts["EmpId"][0].fullmatch(emp):
                raise ValueError
            held.append(Status(date(v["DateEmpStatApp"]), emp, frozenset(monitoring)))
        return Person(ukprn=self.ret.ukprn, ref=ref, file=self.ret.file,
                      line=learner.sourceline, statuses=tuple(held), aims=tuple(aims))

    def date(self, text: str) -> dt.date:
        """``YYYY-MM-DD`` as a date, remembered: a return has few distinct days."""
        day = self.dates.get(text)
        if day is None:
            if len(text) != 10 or text[4] != "-" or text[7] != "-":
                raise ValueError(text)  # fromisoformat takes 2024-W01-1 too
            day = dt.date.fromisoformat(text)
            if len(self.dates) < 100_000:
                self.dates[text] = day
        return day

    def checked_person(self, learner: Any) -> Person | None:
        """:meth:`person`, element by element, saying where a value is wrong."""
        q = self.q
        deliveries = learner.findall(q("LearningDelivery"))
        bootcamp = [d for d in deliveries if d.findtext(q("FundModel")) == FUND_MODEL]
        if not bootcamp:
            return None
        ref = self.value(self.leaves(learner, _REF), "LearnRefNumber", "Learner",
                         parent=learner)
        who = f"Learner {ref}"
        aims = []
        for d in bootcamp:
            leaves = self.leaves(d)
            seq = self.value(leaves, "AimSeqNumber", who, "int", d)
            at = f"{who}, aim {seq}"
            if leaves.get("ProgType", ("",))[0] != PROG_TYPE:
                continue  # FundModel_16: a funding model 37 aim is programme type 32
            fams = []
            for fam in d.iterchildren(q("LearningDeliveryFAM")):
                f = self.leaves(fam)
                fams.append(Fam(type=self.value(f, "LearnDelFAMType", at, parent=fam),
                                code=self.value(f, "LearnDelFAMCode", at, parent=fam),
                                date_from=self.value(f, "LearnDelFAMDateFrom", at, "date",
                                                     fam, required=False)))
            aims.append(Aim(
                ref=self.value(leaves, "LearnAimRef", at, parent=d),
                aim_type=self.value(leaves, "AimType", at, "int", d), seq=seq,
                start=self.value(leaves, "LearnStartDate", at, "date", d),
                plan_end=self.value(leaves, "LearnPlanEndDate", at, "date", d),
                end=self.value(leaves, "LearnActEndDate", at, "date", d, required=False),
                comp_status=self.value(leaves, "CompStatus", at, "int", d),
                ach_date=self.value(leaves, "AchDate", at, "date", d, required=False),
                con_ref=self.value(leaves, "ConRefNumber", at, parent=d, required=False),
                fams=tuple(fams), line=d.sourceline))
        if not aims:
            return None
        statuses = []
        for s in learner.iterchildren(q("LearnerEmploymentStatus")):
            leaves = self.leaves(s)
            statuses.append(Status(
                applies=self.value(leaves, "DateEmpStatApp", who, "date", s),
                emp_id=self.value(leaves, "EmpId", who, parent=s, required=False),
                monitoring=frozenset(
                    ((m.findtext(q("ESMType")) or "").strip()[:3],
                     (m.findtext(q("ESMCode")) or "").strip()[:2])
                    for m in s.iterchildren(q("EmploymentStatusMonitoring")))))
        return Person(ukprn=self.ret.ukprn, ref=ref, file=self.ret.file,
                      line=learner.sourceline, statuses=tuple(statuses), aims=tuple(aims))


@attrs.define
class Tally:
    """How many learners a return holds, and how many of them are not on a bootcamp."""

    __repr__ = fields_repr
    __eq__ = fields_eq

    learners: int = 0
    skipped: int = 0


def read_learners(ret: Return, tally: Tally) -> Iterator[Person]:
    """Each Skills Bootcamps learner of the return, one ``Learner`` element at a time; the
    others are counted in ``tally.skipped``. The element is freed once read."""
    reader = _Reader(ret)
    seen: dict[str, int] = {}
    for _, learner in _parse(ret.file, tag=reader.q("Learner")):
        tally.learners += 1
        person = reader.person(learner)
        learner.clear(keep_tail=True)
        parent = learner.getparent()
        if parent is not None:
            while learner.getprevious() is not None:
                del parent[0]
        if person is None:
            tally.skipped += 1
        elif person.ref in seen:  # R_06: read on, one would replace the other without a word
            raise _error(ret.file, person.line, f"Learner {person.ref}: its LearnRefNumber is "
                         f"returned twice in this return, here and at line {seen[person.ref]}",
                         column=_column(ret.file, person.line, "Learner"),
                         hint="a return holds one Learner per LearnRefNumber (R_06): merge "
                         "the two, or correct the reference of one")
        else:
            seen[person.ref] = person.line
            yield person
