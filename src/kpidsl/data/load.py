"""Reading a data set from where it is kept: one loader per kind of input, chosen here.

A folder of CSV files (:mod:`kpidsl.data.csvfiles`) or a datasheet workbook whose name ends in
``.xlsx`` (:mod:`kpidsl.data.datasheet`). Every loader collects every problem before it
returns, and raises one :class:`~kpidsl.errors.DataError` carrying them all.
"""

from __future__ import annotations

import os

from kpidsl.data import csvfiles
from kpidsl.data.dataset import Dataset

StrPath = str | os.PathLike[str]


def is_workbook(path: StrPath) -> bool:
    """The data set at ``path`` is a workbook (its name ends in ``.xlsx``), not a folder."""
    return os.fspath(path).lower().endswith(".xlsx")


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
