"""The contract's fields: the enumerations, and how a record class declares a field with its
documentation and checks (:func:`field`), read back as :class:`FieldInfo`."""

from __future__ import annotations

from typing import Any

import attrs

from kpidsl.classes import fields_methods

#: Allowed values of each enumerated column, by enum name.
ENUMS: dict[str, tuple[str, ...]] = {
    "learner_type": ("independent", "co_funded", "self_employed"),
    "outcome": (
        "new_job",
        "apprenticeship",
        "accelerated_apprenticeship",
        "new_role",
        "new_responsibilities",
        "action_plan",
        "new_contract",
    ),
    "referral_kind": ("job", "training", "skills_bootcamp"),
    "result": ("offered_job", "unsuccessful", "declined", "pending"),
    "role": (
        "co_design",
        "needs_analysis",
        "approved_solution",
        "delivery",
        "interviewing",
        "own_staff",
    ),
    # Not a column: the events of an ILR return that the rules' ``ilr_event_codes`` table
    # names (kpidsl.data.ilr), so that a funder's choice of EVI codes is a rule.
    "ilr_event": ("milestone1", "interview_offer", "new_role", "self_employment_plan", "other"),
}


def field(
    doc: str,
    *,
    enum: str | None = None,
    default: Any = attrs.NOTHING,
    minimum: int | None = None,
    maximum: int | None = None,
    pattern: tuple[str, str] | None = None,
    month: bool = False,
    **kw: Any,
) -> Any:
    """A record field with its documentation, enum name and value constraints kept as metadata.

    The constraints are the contract's range checks (``minimum``/``maximum`` inclusive; a
    ``pattern`` is a regular expression the whole text must match and how to say it in words,
    e.g. ``("[0-9]{8}", "exactly 8 digits")``; ``month`` marks a date written ``YYYY-MM``). The
    loader and :meth:`Dataset.problems` enforce them and the data-contract page lists them, all
    from here.
    """
    metadata = {
        "doc": doc,
        "enum": enum,
        "minimum": minimum,
        "maximum": maximum,
        "pattern": pattern,
        "month": month,
    }
    return attrs.field(default=default, metadata=metadata, **kw)


def line_field() -> Any:
    """Where the record came from (1-based line of its CSV file); not part of its value."""
    return attrs.field(default=None, eq=False, repr=False, metadata={"doc": None, "enum": None})


@attrs.frozen
@fields_methods
class FieldInfo:
    """One column of a record type, as the loader and the checker see it."""

    name: str
    kind: str
    """One of ``text``, ``date``, ``money``, ``integer``, ``boolean``, ``enum``, ``set``."""
    required: bool
    """A value must be given (no default and not optional)."""
    optional: bool
    """The value may be missing (``None``)."""
    enum: str | None
    doc: str
    default: Any
    minimum: int | None = None
    """Smallest allowed value (inclusive), for numbers."""
    maximum: int | None = None
    """Largest allowed value (inclusive), for numbers."""
    pattern: tuple[str, str] | None = None
    """A regular expression the whole text must match, and the same in words."""
    month: bool = False
    """A date written ``YYYY-MM`` (the first day of the month), not ``YYYY-MM-DD``."""


_KINDS = {"str": "text", "dt.date": "date", "Decimal": "money", "int": "integer", "bool": "boolean"}


def fields_of(cls: type) -> tuple[FieldInfo, ...]:
    """The data fields of a record class, in column order (the ``line`` field is not data)."""
    out = []
    for a in attrs.fields(cls):
        if a.name == "line":
            continue
        ann = str(a.type)
        optional = ann.endswith("| None")
        base = ann.removesuffix(" | None")
        enum = a.metadata["enum"]
        kind = "set" if base.startswith("frozenset") else "enum" if enum else _KINDS[base]
        has_default = a.default is not attrs.NOTHING
        out.append(
            FieldInfo(
                a.name,
                kind,
                required=not has_default,
                optional=optional,
                enum=enum,
                doc=a.metadata["doc"],
                default=None if not has_default else a.default,
                minimum=a.metadata["minimum"],
                maximum=a.metadata["maximum"],
                pattern=a.metadata["pattern"],
                month=a.metadata["month"],
            )
        )
    return tuple(out)
