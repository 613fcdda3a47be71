"""Reading a return's learners (issue 18): the quick way (one pass over each learner's elements)
gives the learners the careful way gives, element by element, or the same error, on odd input
of every kind."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest

from ilrxml import aim, employed, fam, ilr, learner, write
from kpidsl.data.ilr import returns
from kpidsl.data.ilr.returns import Tally, read_header, read_learners
from kpidsl.errors import DataError

NS = "ESFA/ILR/2024-25"
#: A return with every element the reader reads: statuses with monitoring, FAMs with and
#: without dates, several aims, a learner not on a bootcamp, one with a funding model 37 aim of
#: another programme type.
BASE = ilr(
    learner("A1", aim(1, status=2, end="2024-12-20", ach="2025-01-10",
                      fams=fam("FFI", "2") + fam("EVI", "7", "2024-10-01")),
            aim(2, ref="Z0009734", kind=3, status=2, end="2024-12-20"),
            aim(3, ref="Z0059747", kind=3, start="2024-11-01", plan_end="2024-11-01"),
            status=employed("2024-08-01", "123456789", ("OET", "2"), ("SEI", "1"))
            + employed("2024-08-20", "999999999")),
    learner("B 2", aim(1, status=3, end="2024-10-01"), aim(2, ref="60012345", fund=36)),
    learner("X1", aim(1, fund=36)),
    learner("C3", aim(1, con="SB-1"), aim(2, ref="Z0009734", kind=3, con="SB-1")),
    learner("P4", aim(1).replace("<ProgType>32</ProgType>", "<ProgType>31</ProgType>"),
            aim(2)))
#: The leaves read, as the ILR writes them.
LEAF = re.compile(r"<(LearnRefNumber|DateEmpStatApp|EmpId|ESMType|ESMCode|LearnAimRef|AimType|"
                  r"AimSeqNumber|LearnStartDate|LearnPlanEndDate|FundModel|ProgType|"
                  r"ConRefNumber|CompStatus|LearnActEndDate|AchDate|LearnDelFAMType|"
                  r"LearnDelFAMCode|LearnDelFAMDateFrom)>([^<]*)</\1>")
RECORD = re.compile(r"<(Learner|LearnerEmploymentStatus|LearningDelivery|LearningDeliveryFAM|"
                    r"EmploymentStatusMonitoring)>")
ODD = ["", " ", "\t", "\n", "0", "01", "1", "2", "3", "4", "6", "7", "32", "37", "037", "+1",
       "1_0", "x", "A", "a b", "١", "2024-02-30", "2024-9-02", "20240902", "2024-W01-1",
       "2024-09-02Z", "2024-09-02+01:00", "ZPROG001", "Z0059747", "123456789012", "SEI",
       "SEIX", "&amp;", "&lt;", "&#49;", "&#x9;", "&#127;", "é", "x" * 25]


def mutate(text: str, rng: random.Random) -> str:
    """One odd change to a read element: its value, what is around or inside it, its name's
    prefix or namespace, its attributes, its place; or a record's."""
    if rng.random() < 0.2:
        found = list(RECORD.finditer(text))
        m = rng.choice(found)
        name = m.group(1)
        end = text.index(f"</{name}>", m.end()) + len(name) + 3
        whole = text[m.start():end]
        how = rng.choice(["drop", "twice", "prefix", "other", "attribute", "comment", "nest",
                          "empty"])
        new = {"drop": "", "twice": whole + "\n" + whole,
               "prefix": whole.replace(f"<{name}>", f'<i:{name} xmlns:i="{NS}">', 1)
               [::-1].replace(f"</{name}>"[::-1], f"</i:{name}>"[::-1], 1)[::-1],
               "other": whole.replace(f"<{name}>", f'<{name} xmlns="other">', 1),
               "attribute": whole.replace(f"<{name}>", f'<{name} a="1" xml:lang="en">', 1),
               "comment": f"<!-- {whole} -->",
               "nest": whole.replace(f"</{name}>", f"{whole}</{name}>", 1)
               if name == "Learner" else f"<Wrap>{whole}</Wrap>",
               "empty": f"<{name}/>"}[how]
        return text[:m.start()] + new + text[end:]
    m = rng.choice(list(LEAF.finditer(text)))
    name, value = m.group(1), m.group(2)
    how = rng.choice(["value", "space", "charref", "comment", "cdata", "prefix", "other",
                      "attribute", "drop", "twice", "child", "empty", "swap", "text"])
    cut = rng.randint(0, len(value))
    new = {
        "value": f"<{name}>{rng.choice(ODD)}</{name}>",
        "space": f"<{name}>{rng.choice([' ', chr(10), '  ', chr(9)])}{value}"
                 f"{rng.choice(['', ' ', chr(10) + '   '])}</{name}>",
        "charref": f"<{name}>{value[:cut]}&#{ord(value[cut]) if cut < len(value) else 32};"
                   f"{value[cut + 1:]}</{name}>",
        "comment": f"<{name}>{value[:cut]}<!-- x -->{value[cut:]}</{name}>",
        "cdata": f"<{name}>{value[:cut]}<![CDATA[{value[cut:]}]]></{name}>",
        "prefix": f'<i:{name} xmlns:i="{NS}">{value}</i:{name}>',
        "other": f'<{name} xmlns="other">{value}</{name}>',
        "attribute": f'<{name} nil="true">{value}</{name}>',
        "drop": "",
        "twice": m.group(0) * 2 if rng.random() < 0.5 else
                 f"{m.group(0)}<{name}>{rng.choice(ODD)}</{name}>",
        "child": f"<{name}>{value[:cut]}<b>{value[cut:]}</b></{name}>"
                 if rng.random() < 0.5 else f"<{name}><b/>{value}</{name}>",
        "empty": f"<{name}/>",
        "swap": "",
        "text": f"{m.group(0)}<?pi x?>",
    }[how]
    if how == "swap":  # the element after its next sibling
        after = re.compile(r"<(\w+)>[^<]*</\1>").match(text, m.end())
        if after is None:
            return text
        return text[:m.start()] + after.group(0) + m.group(0) + text[after.end():]
    return text[:m.start()] + new + text[m.end():]


def read(path: Path, careful: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The learners of a return and its tally, or its error's diagnostics: the careful way
    (``checked_person`` on each learner) or as kpidsl reads it."""
    with monkeypatch.context() as m:
        if careful:
            m.setattr(returns._Reader, "_quick", lambda self, learner: int("careful"))
        try:
            tally = Tally()
            got = list(read_learners(read_header(path), tally))
            return got, tally
        except DataError as e:
            return [(d.message, d.file, d.line, d.column, d.hint) for d in e.diagnostics]


@pytest.mark.parametrize("seed", range(8))
def test_the_quick_way_reads_what_the_careful_way_reads(tmp_path: Path, seed: int,
                                                        monkeypatch: pytest.MonkeyPatch):
    """Mutated returns: values with entities, comments and CDATA, whitespace around them,
    prefixes and other namespaces, attributes, missing, repeated and moved elements, elements
    inside values, learners inside learners."""
    rng = random.Random(seed)
    read_back = 0
    for case in range(60):
        text = BASE
        for _ in range(rng.choice([1, 1, 2, 3])):
            text = mutate(text, rng)
        path = write(tmp_path, f"ILR-{seed}-{case}.xml", text)
        try:
            read_header(path)
        except DataError:
            continue
        careful, quick = read(path, True, monkeypatch), read(path, False, monkeypatch)
        assert quick == careful, text
        read_back += isinstance(quick, tuple)
    assert read_back > 20


def test_an_unmutated_return_is_read_the_quick_way(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch):
    """Every learner but the one with an aim of funding model 37 and another programme type
    (whose AimSeqNumber the careful way checks) is read the quick way, and as the careful
    way reads it."""
    path = write(tmp_path, "r.xml", BASE)
    careful = returns._Reader.checked_person
    calls: list[str] = []
    monkeypatch.setattr(returns._Reader, "checked_person",
                        lambda self, e: calls.append(e.findtext(f"{{{NS}}}LearnRefNumber"))
                        or careful(self, e))
    got, tally = read(path, False, monkeypatch)
    assert calls == []
    monkeypatch.undo()
    assert (got, tally) == read(path, True, monkeypatch)
    assert [p.ref for p in got] == ["A1", "B 2", "C3", "P4"]
    assert [a.seq for a in got[-1].aims] == [2]
    assert (tally.learners, tally.skipped) == (5, 1)


def test_lines_past_65535_are_exact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """libxml2 keeps a line number past 65,535 only when asked: each learner and aim's line is
    the line it starts on, read either way."""
    text = BASE.replace("<Learner>", "\n" * 40_000 + "<Learner>")
    path = write(tmp_path, "r.xml", text)
    got, _ = read(path, False, monkeypatch)
    assert got == read(path, True, monkeypatch)[0]
    assert got[-1].line == text[:text.rindex("<Learner>")].count("\n") + 1 > 160_000
    assert got[-1].aims[-1].line == got[-1].line


def test_odd_learners_are_read_as_the_careful_way_reads_them(tmp_path: Path):
    """A learner without a LearnRefNumber is a located error (it was a crash), a monitoring
    without its code and a ProgType with spaces around it are read as their values say (they
    were not)."""
    text = BASE.replace("<LearnRefNumber>C3</LearnRefNumber>", "")
    path = write(tmp_path, "r.xml", text)
    with pytest.raises(DataError) as e:
        list(read_learners(read_header(path), Tally()))
    (d,) = e.value.diagnostics
    assert (d.message, d.line, d.column, d.hint) == (
        "Learner: LearnRefNumber is missing", 8, 1,
        "an ILR return gives LearnRefNumber here (see the ILR specification)")
    text = BASE.replace("<ESMCode>2</ESMCode>", "").replace(
        "<ProgType>31</ProgType>", "<ProgType> 32 </ProgType>")
    got = list(read_learners(read_header(write(tmp_path, "r.xml", text)), Tally()))
    assert got[0].statuses[0].monitoring == {("OET", ""), ("SEI", "1")}
    assert [a.seq for a in got[-1].aims] == [1, 2]
