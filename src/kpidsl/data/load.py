"""Reading a data set from where it is kept: one loader per kind of input, chosen here.

A folder of CSV files (:mod:`kpidsl.data.csvfiles`), a datasheet workbook whose name ends in
``.xlsx`` (:mod:`kpidsl.data.datasheet`), or ILR returns (:func:`is_returns`, read by
:mod:`kpidsl.data.ilr`, which is imported only for them). Every loader collects every
problem before it returns, and raises one :class:`~kpidsl.errors.DataError` carrying them all.
"""

from __future__ import annotations

import os

from kpidsl.data import csvfiles
from kpidsl.data.dataset import Dataset

StrPath = str | os.PathLike[str]


def is_workbook(path: StrPath) -> bool:
    """The data set at ``path`` is a workbook (its name ends in ``.xlsx``), not a folder."""
    return os.fspath(path).lower().endswith(".xlsx")


def return_files(path: StrPath) -> list[str]:
    """The returns at ``path``: the file itself, or a folder's ``.xml`` files by name."""
    path = os.fspath(path)
    if os.path.isdir(path):
        return sorted(os.path.join(path, n) for n in os.listdir(path)
                      if n.lower().endswith(".xml"))
    return [path]


def is_returns(path: StrPath) -> bool:
    """``path`` names ILR returns: an ``.xml`` file, or a folder that holds ``.xml`` files and
    none of the contract's CSV files."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        return path.lower().endswith(".xml")
    try:
        names = [n.lower() for n in os.listdir(path)]
    except OSError:
        return False
    return any(n.endswith(".xml") for n in names) and not any(n.endswith(".csv") for n in names)


def load_data(path: StrPath) -> Dataset:
    """Read a data set: a folder of CSV files (KPI-SPEC §1), or a datasheet workbook whose
    name ends in ``.xlsx`` (one sheet per file, as ``kpidsl template`` writes it).

    Either way every problem is collected before anything is returned, and one
    :class:`~kpidsl.errors.DataError` carries them all; the same data gives the same
    records.
    """
    if is_workbook(path):
        from kpidsl.data.datasheet import load_workbook

        return load_workbook(path)
    return csvfiles.load_data(path)
