"""Reading a data set from where it is kept: one loader per kind of input, chosen here.

A folder of CSV files (:mod:`kpidsl.data.csvfiles`), a datasheet workbook whose name ends in
``.xlsx`` (:mod:`kpidsl.data.datasheet`), or ILR returns (:func:`is_returns`, read by
:mod:`kpidsl.data.ilr`, which is imported only for them). Every loader collects every
problem before it returns, and raises one :class:`~kpidsl.errors.DataError` carrying them all.
"""

from __future__ import annotations

import os

from kpidsl.contract.records import RECORD_TYPES
from kpidsl.data import csvfiles
from kpidsl.data.dataset import Dataset
from kpidsl.errors import UsageError

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
    """``path`` names ILR returns: an ``.xml`` file, or a folder that holds ``.xml`` files.

    Whether a folder is a data set is decided by the contract's file names (``learners.csv``,
    …), so another CSV file beside returns does not hide them. A folder that holds both
    returns and contract files is a :class:`UsageError`: read either way, half of it would be
    ignored without a word."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        return path.lower().endswith(".xml")
    try:
        names = {n.lower() for n in os.listdir(path)}
    except OSError:
        return False
    returns = any(n.endswith(".xml") for n in names)
    contract = sorted(t.file for t in RECORD_TYPES if t.file in names)
    if returns and contract:
        raise UsageError(
            f"{path} holds both ILR returns (.xml files) and the data contract's CSV files "
            f"({', '.join(contract)}): kpidsl cannot tell which one you mean",
            "keep the returns and the datasheet in folders of their own and give both: "
            "--data RETURNS --data DATASHEET")
    return returns


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
