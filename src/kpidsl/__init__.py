"""kpidsl: the Skills Bootcamps KPIs as rule files that a computer checks and evaluates.

The package is laid out by stage (``tests/test_layers.py`` holds each to its layer):

- ``errors``, ``files``, ``limits``, ``collector``, ``classes``, ``version``: the bottom layer
  every stage reads;
- ``contract``: the data contract: the record types, their fields and how a value is read;
- ``language``: rule files parsed and checked into a rule set, formatted, put in plain words,
  compared; the words results are reported in (``vocabulary``);
- ``plan``: the checked rules lowered into one typed plan, and what every engine gives
  (``results``, ``status``);
- ``data``: data sets (``dataset``) and their loaders: CSV folders (``csvfiles``), datasheet
  workbooks (``datasheet``), ILR returns (``ilr``, ``sources``); synthetic data (``generate``);
- ``engines``: what runs the plan on data: ``python`` (the reference), ``duckdb`` (the
  default) and ``spark``, the last two on the SQL generator (``sql``); ``run`` chooses one;
- ``outputs``: the ``report`` and its formats (text, JSON, CSV, HTML, SVG, the report workbook
  ``xlsx``) and the ``diff`` of two rule sets;
- ``api``: the public functions, one per command;
- ``tools``: the rule tests (``testing``) and the evidence bundles (``evidence``);
- ``cli`` and ``sphinx`` (the Sphinx extension): entry points that only call the library.

``sphinxext``, ``data.records``, ``data.workbook`` and ``outputs.workbook`` are modules'
earlier names, kept so that code using them goes on working.
"""

import importlib
from typing import TYPE_CHECKING, Any

from kpidsl.version import __version__ as __version__

#: Where each public name lives. Names are imported when first used, so that ``kpidsl --help``
#: and ``import kpidsl`` cost almost nothing until the library is really used.
_EXPORTS = {
    **dict.fromkeys(("Report", "as_date", "check", "default_rules_path", "diff",
                     "evaluate", "explain", "explanations", "find_group", "format_rate",
                     "history", "load_data", "load_rules", "month_ends", "rules_fingerprint"),
                    "kpidsl.api"),
    **dict.fromkeys(("data_fingerprint", "write_data"), "kpidsl.data.csvfiles"),
    **dict.fromkeys(("Bootcamp", "Employer", "Engagement", "Interview", "Learner", "Payment",
                     "Profile", "Provider"), "kpidsl.contract.records"),
    "Dataset": "kpidsl.data.dataset",
    **dict.fromkeys(("Entry", "Explanation", "Reason", "Result", "Verdict"),
                    "kpidsl.plan.results"),
    "RuleSet": "kpidsl.language.checker",
    **dict.fromkeys(("DataError", "Diagnostic", "KpidslError", "NotFoundError", "RuleError",
                     "UsageError"), "kpidsl.errors"),
    **dict.fromkeys(("Scope", "Status", "VerdictKind"), "kpidsl.language.vocabulary"),
    **dict.fromkeys(("Change", "Diff"), "kpidsl.outputs.diff"),
    **dict.fromkeys(("Verification", "record_evidence", "verify"), "kpidsl.tools.evidence"),
    **dict.fromkeys(("TestReport", "test"), "kpidsl.tools.testing"),
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'kpidsl' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from kpidsl.api import (
        Report,
        as_date,
        check,
        default_rules_path,
        diff,
        evaluate,
        explain,
        explanations,
        find_group,
        format_rate,
        history,
        load_data,
        load_rules,
        month_ends,
        rules_fingerprint,
    )
    from kpidsl.contract.records import (
        Bootcamp,
        Employer,
        Engagement,
        Interview,
        Learner,
        Payment,
        Profile,
        Provider,
    )
    from kpidsl.data.csvfiles import data_fingerprint, write_data
    from kpidsl.data.dataset import Dataset
    from kpidsl.errors import (
        DataError,
        Diagnostic,
        KpidslError,
        NotFoundError,
        RuleError,
        UsageError,
    )
    from kpidsl.language.checker import RuleSet
    from kpidsl.language.vocabulary import Scope, Status, VerdictKind
    from kpidsl.outputs.diff import Change, Diff
    from kpidsl.plan.results import Entry, Explanation, Reason, Result, Verdict
    from kpidsl.tools.evidence import Verification, record_evidence, verify
    from kpidsl.tools.testing import TestReport, test

__all__ = [
    "Bootcamp",
    "Change",
    "DataError",
    "Dataset",
    "Diagnostic",
    "Diff",
    "Employer",
    "Engagement",
    "Entry",
    "Explanation",
    "Interview",
    "KpidslError",
    "Learner",
    "NotFoundError",
    "Payment",
    "Profile",
    "Provider",
    "Reason",
    "Report",
    "Result",
    "RuleError",
    "RuleSet",
    "Scope",
    "Status",
    "TestReport",
    "UsageError",
    "Verdict",
    "VerdictKind",
    "Verification",
    "as_date",
    "check",
    "data_fingerprint",
    "default_rules_path",
    "diff",
    "evaluate",
    "explain",
    "explanations",
    "find_group",
    "format_rate",
    "history",
    "load_data",
    "load_rules",
    "month_ends",
    "record_evidence",
    "rules_fingerprint",
    "test",
    "verify",
    "write_data",
]
