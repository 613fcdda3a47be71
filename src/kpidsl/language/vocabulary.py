"""The words results are reported in: a KPI's status for a group, the group's scope, and the
verdict on one record of a KPI's population.

All three are :class:`enum.StrEnum` s, so ``Status.MET == "met"``, they sort and hash as their
spelling and ``json.dumps`` writes them as strings. The language uses the same words (``expect
learner_dropout for bootcamp B1: not_met``), the engines produce them and every output prints
them, all from here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TypeVar

from kpidsl.errors import NotFoundError, suggest


class Status(enum.StrEnum):
    """A KPI's status for one group (KPI-SPEC §2)."""

    MET = "met"
    """The target is met, whichever way the pending records go."""
    NOT_MET = "not_met"
    """The target is missed, whichever way the pending records go."""
    ON_TRACK = "on_track"
    """Records are pending; those decided so far meet the target."""
    AT_RISK = "at_risk"
    """Records are pending; those decided so far miss the target."""
    NO_DATA = "no_data"
    """The group has no records in the population (or no target is in force)."""


class Scope(enum.StrEnum):
    """What a group is: one bootcamp, one provider (its bootcamps together) or the programme."""

    BOOTCAMP = "bootcamp"
    PROVIDER = "provider"
    PROGRAMME = "programme"


class VerdictKind(enum.StrEnum):
    """The verdict on one record of a KPI's population (KPI-SPEC §2, "Three-valued records"),
    spelled as reports print it; the command line also takes ``not_counted``."""

    COUNTED = "counted"
    """The record counts towards the rate."""
    NOT_COUNTED = "not counted"
    """The record is decided, and does not count."""
    PENDING = "pending"
    """The record is not decided yet."""


_Word = TypeVar("_Word", bound=enum.StrEnum)
_WHAT: dict[type[enum.StrEnum], str] = {Status: "status", Scope: "scope",
                                        VerdictKind: "verdict"}


def named(kind: type[_Word], word: str) -> _Word:
    """The word of ``kind`` that ``word`` writes, however an output spells it: as the tables
    print it (``not met``), as JSON and the rules write it (``not_met``), in any case.
    Anything else is a :class:`~kpidsl.errors.NotFoundError` listing the words, with the
    closest: a filter that matches nothing because of a spelling would say nothing."""
    def plain(w: str) -> str:
        return " ".join(w.replace("_", " ").lower().split())

    by_word = {plain(k): k for k in kind}
    found = by_word.get(plain(word)) if isinstance(word, str) else None
    if found is None:
        what, words = _WHAT.get(kind, kind.__name__.lower()), list(by_word)
        raise NotFoundError(f"no {what} {word!r}: a {what} is {', '.join(words[:-1])} or "
                            f"{words[-1]}", suggest(plain(str(word)), words))
    return found


def listed(words: Iterable[str]) -> list[str]:
    """The words of a filter given as a list, or as one word: a ``str`` is iterable too, and
    ``statuses="not met"`` would otherwise be read as its letters and refused (``no status
    'n'``)."""
    return [words] if isinstance(words, str) else list(words)
