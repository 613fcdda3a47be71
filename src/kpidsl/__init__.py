"""kpidsl: the Skills Bootcamps KPIs as rule files that a computer checks and evaluates.

The package is laid out by stage:

- ``language``: rule-file text and spans (``source``), the grammar (``kpi.lark``) and
  ``parser``, the ``ast``, the ``checker``, the ``builtins`` registry and the ``formatter``;
- ``plan``: the checked rules lowered into one typed plan (``nodes``, ``lower``), and the
  ``status`` function every engine shares;
- ``engines``: what runs the plan on data: ``python`` (the reference), ``sql`` (the SQL
  generator), ``duckdb`` (the default) and ``spark``;
- ``data``: the typed ``records``, the CSV contract (``csvfiles``) and synthetic data
  (``generate``);
- ``outputs``: the ``report`` and its formats;
- ``tools``: the rule author's tools (``testing``, tests written beside the rules);
- ``api`` (the public functions), ``cli`` and ``sphinxext`` (entry points that only call the
  library).
"""

import importlib
from typing import TYPE_CHECKING, Any

#: Where each public name lives. Names are imported when first used, so that ``kpidsl --help``
#: and ``import kpidsl`` cost almost nothing until the library is really used.
_EXPORTS = {
    **dict.fromkeys(("default_rules_path", "evaluate", "load_rules"), "kpidsl.api"),
    **dict.fromkeys(("load_data", "write_data"), "kpidsl.data.csvfiles"),
    **dict.fromkeys(("Bootcamp", "Dataset", "Employer", "Engagement", "Interview", "Learner",
                     "Payment", "Profile", "Provider"), "kpidsl.data.records"),
    **dict.fromkeys(("Entry", "Result"), "kpidsl.engines.python"),
    "RuleSet": "kpidsl.language.checker",
    **dict.fromkeys(("DataError", "Diagnostic", "KpidslError", "RuleError"),
                    "kpidsl.language.source"),
    "Report": "kpidsl.outputs.report",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'kpidsl' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from kpidsl.api import default_rules_path, evaluate, load_rules
    from kpidsl.data.csvfiles import load_data, write_data
    from kpidsl.data.records import (
        Bootcamp,
        Dataset,
        Employer,
        Engagement,
        Interview,
        Learner,
        Payment,
        Profile,
        Provider,
    )
    from kpidsl.engines.python import Entry, Result
    from kpidsl.language.checker import RuleSet
    from kpidsl.language.source import DataError, Diagnostic, KpidslError, RuleError
    from kpidsl.outputs.report import Report

__all__ = [
    "Bootcamp",
    "DataError",
    "Dataset",
    "Diagnostic",
    "Employer",
    "Engagement",
    "Entry",
    "Interview",
    "KpidslError",
    "Learner",
    "Payment",
    "Profile",
    "Provider",
    "Report",
    "Result",
    "RuleError",
    "RuleSet",
    "default_rules_path",
    "evaluate",
    "load_data",
    "load_rules",
    "write_data",
]
__version__ = "0.1.0"
