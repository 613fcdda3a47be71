"""The report workbook under its first name: ``kpidsl.outputs.workbook`` is now
:mod:`kpidsl.outputs.xlsx` (the datasheet workbook is :mod:`kpidsl.data.datasheet`). Kept so that
code written against the earlier documentation goes on working."""

from kpidsl.outputs.xlsx import write_history as write_history
from kpidsl.outputs.xlsx import write_report as write_report
