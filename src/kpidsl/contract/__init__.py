"""The data contract (KPI-SPEC §1), the one place record facts live: each record type's fields
and their checks (:mod:`~kpidsl.contract.fields`), how a value is read and checked
(:mod:`~kpidsl.contract.values`), and the record types themselves, their files, tables, keys,
links and dated rows (:mod:`~kpidsl.contract.records`). The checker, the loaders, the engines
and the SQL generator all read them from here."""
