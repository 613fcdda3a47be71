"""The datasheet workbook under its first name: ``kpidsl.data.workbook`` is now
:mod:`kpidsl.data.datasheet` (the report workbook is :mod:`kpidsl.outputs.xlsx`). Kept so that
code written against the earlier documentation goes on working."""

from kpidsl.data.datasheet import load_workbook as load_workbook
from kpidsl.data.datasheet import write_workbook as write_workbook
