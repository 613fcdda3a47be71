"""kpidsl: the Skills Bootcamps KPIs as rule files that a computer checks and evaluates.

The pipeline, one module a stage: ``source`` (spans, diagnostics) → ``kpi.lark`` + ``parser``
(text → AST in ``ast``) → ``checker`` (names and types against ``records``) → ``interpreter``
(statuses per group) → ``report`` (table, JSON, CSV) → ``cli``. ``data`` reads and writes the
CSV contract; ``generate`` makes synthetic data sets.
"""

from kpidsl.api import default_rules_path, evaluate, load_rules
from kpidsl.checker import RuleSet
from kpidsl.data import load_data, write_data
from kpidsl.interpreter import Entry, Result
from kpidsl.records import (
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
from kpidsl.report import Report
from kpidsl.source import DataError, Diagnostic, KpidslError, RuleError

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
