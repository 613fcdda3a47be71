"""The records under their first name: ``kpidsl.data.records`` is now
:mod:`kpidsl.contract.records` (the record types and the contract's facts about them) and
:mod:`kpidsl.data.dataset` (:class:`Dataset`). Kept so that code written against the earlier
documentation goes on working."""

from kpidsl.contract.fields import ENUMS as ENUMS
from kpidsl.contract.fields import FieldInfo as FieldInfo
from kpidsl.contract.fields import fields_of as fields_of
from kpidsl.contract.records import BY_CLASS as BY_CLASS
from kpidsl.contract.records import BY_NAME as BY_NAME
from kpidsl.contract.records import FIELDS as FIELDS
from kpidsl.contract.records import LINKS as LINKS
from kpidsl.contract.records import RECORD_TYPES as RECORD_TYPES
from kpidsl.contract.records import ROW_DATES as ROW_DATES
from kpidsl.contract.records import Bootcamp as Bootcamp
from kpidsl.contract.records import Employer as Employer
from kpidsl.contract.records import Engagement as Engagement
from kpidsl.contract.records import Interview as Interview
from kpidsl.contract.records import Learner as Learner
from kpidsl.contract.records import Link as Link
from kpidsl.contract.records import Payment as Payment
from kpidsl.contract.records import Profile as Profile
from kpidsl.contract.records import Provider as Provider
from kpidsl.contract.records import RecordType as RecordType
from kpidsl.contract.records import record_diagnostic as record_diagnostic
from kpidsl.contract.values import value_problem as value_problem
from kpidsl.data.dataset import Dataset as Dataset
from kpidsl.data.dataset import Rows as Rows
