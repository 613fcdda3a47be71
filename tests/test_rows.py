"""Records from anywhere: ``Dataset.from_rows`` takes rows as a database driver or a data frame
gives them, with the same checks and messages as the CSV loader, located at the row."""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal

import attrs
import pytest

import kpidsl
from cohort import LATE, co_funded, completer, dataset, fixture_rules, interview, payment, withdrawn
from kpidsl.contract.records import FIELDS, RECORD_TYPES

COHORT = dataset(learners=[withdrawn("W"), *(completer(f"C{i}") for i in range(4)),
                           co_funded("F1")],
                 interviews=[interview("C0", "2024-05-01")],
                 payments=[payment("F1", "150.25")])


def _sql(value: object) -> object:
    """A value as SQLite keeps it: text dates, 0/1 booleans, REAL money, ';'-joined sets."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, frozenset):
        return ";".join(sorted(value))
    return value


@pytest.fixture
def database() -> sqlite3.Connection:
    """The cohort in an SQLite database, one table per record type."""
    db = sqlite3.connect(":memory:")
    for t in RECORD_TYPES:
        names = list(FIELDS[t.name])
        db.execute(f"create table {t.table} ({', '.join(names)})")
        db.executemany(f"insert into {t.table} values ({', '.join('?' * len(names))})",
                       [[_sql(getattr(r, n)) for n in names] for r in COHORT.of(t.name)])
    return db


def test_rows_from_a_database_driver_make_the_same_report(database):
    tables = {t.table: database.execute(f"select * from {t.table}") for t in RECORD_TYPES}
    data = kpidsl.Dataset.from_rows(**tables)  # DB-API cursors, no conversion code
    assert data == COHORT
    rules = fixture_rules()
    assert kpidsl.evaluate(rules, data, LATE).results == kpidsl.evaluate(rules, COHORT,
                                                                        LATE).results


def test_sqlite_rows_and_plain_mappings(database):
    database.row_factory = sqlite3.Row
    tables = {t.table: database.execute(f"select * from {t.table}").fetchall()
              for t in RECORD_TYPES}
    assert kpidsl.Dataset.from_rows(**tables) == COHORT
    as_dicts = {name: [dict(r) for r in rows] for name, rows in tables.items()}
    assert kpidsl.Dataset.from_rows(**as_dicts) == COHORT


def _rows() -> dict[str, list[dict[str, object]]]:
    return {t.plural: [{k: v for k, v in attrs.asdict(r, recurse=False).items() if k != "line"}
                       for r in COHORT.of(t.name)] for t in RECORD_TYPES}


def test_bad_rows_are_all_reported_at_their_row():
    rows = _rows()
    rows["learners"][1]["completion_date"] = "2024-13-01"
    rows["learners"][3]["learner_type"] = "cofunded"
    rows["bootcamps"][0]["course_cost"] = "£1,500"
    with pytest.raises(kpidsl.DataError) as e:
        kpidsl.Dataset.from_rows(**rows)
    got = [(d.file, d.message, d.hint) for d in e.value.diagnostics]
    learner1, learner3 = (rows["learners"][i]["learner_id"] for i in (1, 3))
    assert got == [
        ("bootcamps[0]", "Bootcamp B1: course_cost: '£1,500' is not a number of pounds",
         "write 1500, without '£' or commas"),
        ("learners[1]", f"Learner {learner1}: completion_date: '2024-13-01' is not a date",
         "the month must be 01 to 12"),
        ("learners[3]", f"Learner {learner3}: learner_type: 'cofunded' is not one of the "
         "allowed values", "did you mean `co_funded`?"),
    ]
    d = e.value.diagnostics[1]
    assert (d.record_type, d.record_id, d.field, d.value) == (
        "learner", learner1, "completion_date", "2024-13-01")
    assert e.value.render().startswith(
        "bootcamps[0]: error: Bootcamp B1: course_cost: '£1,500' is not a number of pounds")


def test_integrity_is_checked_at_the_row():
    rows = _rows()
    rows["learners"][2]["bootcamp_id"] = "B9"
    with pytest.raises(kpidsl.DataError) as e:
        kpidsl.Dataset.from_rows(**rows)
    (d,) = e.value.diagnostics
    learner = rows["learners"][2]["learner_id"]
    assert (d.file, d.message) == (
        "learners[2]", f"Learner {learner}: bootcamp_id: no bootcamp has bootcamp_id 'B9'")
    assert (d.record_type, d.record_id, d.field, d.value) == ("learner", learner,
                                                              "bootcamp_id", "B9")


def test_an_unknown_column_is_a_warning_and_not_a_row_is_an_error():
    rows = _rows()
    rows["learners"][0]["completion_dat"] = "2024-06-30"
    data = kpidsl.Dataset.from_rows(**rows)
    (notice,) = data.notices
    assert (notice.severity, notice.message, notice.hint) == (
        "warning", "unknown column 'completion_dat' is ignored",
        "did you mean `completion_date`?")
    with pytest.raises(kpidsl.DataError, match=r"learners\[0\]: error: expected a mapping"):
        kpidsl.Dataset.from_rows(learners=[("L1", "B1")])


def test_a_data_frame():
    pd = pytest.importorskip("pandas")
    rows = _rows()
    frames = {name: pd.DataFrame(table, columns=list(FIELDS[t.name]))
              for t in RECORD_TYPES for name, table in [(t.plural, rows[t.plural])]}
    # as data frames have them: dates as Timestamps, missing values as NaN or NaT
    frames["learners"]["start_date"] = pd.to_datetime(frames["learners"]["start_date"])
    frames["learners"]["withdrawal_date"] = pd.to_datetime(frames["learners"]["withdrawal_date"])
    frames["bootcamps"]["course_cost"] = frames["bootcamps"]["course_cost"].astype(float)
    assert kpidsl.Dataset.from_rows(**frames) == COHORT
    # whether a data frame was given under either name is not its truth (an error in pandas)
    payments = frames.pop("payments")  # the older name of cofunding
    assert kpidsl.Dataset.from_rows(**frames, cofunding=payments) == COHORT
    for both in ({"cofunding": payments, "payments": pd.DataFrame()},
                 {"cofunding": pd.DataFrame(), "payments": payments}):
        with pytest.raises(TypeError, match="give cofunding or its older name payments, not"):
            kpidsl.Dataset.from_rows(**frames, **both)


def test_the_loader_and_evaluate_give_structured_diagnostics_too(tmp_path):
    kpidsl.write_data(COHORT, tmp_path)
    learners = tmp_path / "learners.csv"
    text = learners.read_text("utf-8")
    assert text.count("2024-06-30") >= 1
    learners.write_text(text.replace("2024-06-30", "2024-13-30", 1), "utf-8")
    with pytest.raises(kpidsl.DataError) as e:
        kpidsl.load_data(tmp_path)
    (d,) = e.value.diagnostics
    assert (d.record_type, d.field, d.value) == ("learner", "completion_date", "2024-13-30")
    assert d.record_id in {r.learner_id for r in COHORT.learners}
    assert d.message == "completion_date: '2024-13-30' is not a date" and d.line is not None

    from kpidsl.contract.records import Learner, unchecked

    made = attrs.asdict(COHORT.learners[0], recurse=False)
    stray = attrs.evolve(COHORT, learners=[*COHORT.learners,
                                           unchecked(Learner, {**made, "learner_id": "X",
                                                               "bootcamp_id": "B9"})])
    with pytest.raises(kpidsl.DataError) as e:
        kpidsl.evaluate(fixture_rules(), stray, LATE)
    (d,) = e.value.diagnostics
    assert (d.message, d.record_type, d.record_id, d.field, d.value) == (
        "Learner X: bootcamp_id: no bootcamp has bootcamp_id 'B9'", "learner", "X",
        "bootcamp_id", "B9")


def test_co_funding_payments_go_by_the_contracts_name_or_the_older_one(database):
    tables = {t.table: database.execute(f"select * from {t.table}") for t in RECORD_TYPES}
    tables["payments"] = tables.pop("cofunding")  # as before the contract's name was used
    old = kpidsl.Dataset.from_rows(**tables)
    assert old == COHORT and old.payments == old.cofunding == COHORT.cofunding
    assert kpidsl.Dataset(payments=COHORT.cofunding) == kpidsl.Dataset(cofunding=COHORT.cofunding)
    with pytest.raises(TypeError, match="give cofunding or its older name payments, not both"):
        kpidsl.Dataset(cofunding=COHORT.cofunding, payments=COHORT.cofunding)


def test_a_data_set_takes_mappings_as_records_or_says_at_once_why_not():
    made = kpidsl.Dataset(learners=[{"learner_id": "L1", "bootcamp_id": "B1",
                                      "learner_type": "independent", "start_date": "2024-01-01"}])
    assert made.learners == (kpidsl.Learner(learner_id="L1", bootcamp_id="B1",
                                            learner_type="independent",
                                            start_date=dt.date(2024, 1, 1)),)
    with pytest.raises(kpidsl.DataError) as bad:
        kpidsl.Dataset(learners=[{"learner_id": "L1"}, 7])
    assert [d.render() for d in bad.value.diagnostics] == [
        "learners[0]: error: Learner L1: bootcamp_id: missing required value",
        "learners[0]: error: Learner L1: learner_type: missing required value",
        "learners[0]: error: Learner L1: start_date: missing required value",
        "learners[1]: error: expected a Learner or a mapping of field to value, not int"]


def test_bad_values_and_dangling_references_are_reported_together():
    """Issue 21, item 6: the references were checked only once every value was good, so a
    second run found more; now one DataError lists both, as the loaders do. A bad row is still
    a record its references may name; a row whose id is bad leaves the ids of its type
    unknown, so that no reference into them is called dangling."""
    rows = _rows()
    rows["bootcamps"][0]["end_date"] = "29/03/2024"
    rows["learners"][2]["bootcamp_id"] = "B9"
    rows["learners"][3]["learner_type"] = "cofunded"
    learner2, learner3 = (rows["learners"][i]["learner_id"] for i in (2, 3))
    expected = [
        "bootcamps[0]: error: Bootcamp B1: end_date: '29/03/2024' is not a date",
        f"learners[3]: error: Learner {learner3}: learner_type: 'cofunded' is not one of the "
        "allowed values",
        f"learners[2]: error: Learner {learner2}: bootcamp_id: no bootcamp has bootcamp_id "
        "'B9'",
    ]
    with pytest.raises(kpidsl.DataError) as e:
        kpidsl.Dataset.from_rows(**rows)
    assert [d.render().split("\n")[0] for d in e.value.diagnostics] == expected
    with pytest.raises(kpidsl.DataError) as e:
        kpidsl.Dataset(**rows)
    assert [d.render().split("\n")[0] for d in e.value.diagnostics] == expected

    rows = _rows()
    rows["bootcamps"][1]["bootcamp_id"] = None  # its learners' bootcamp may be this one
    rows["learners"][0]["learner_type"] = "cofunded"
    with pytest.raises(kpidsl.DataError) as e:
        kpidsl.Dataset.from_rows(**rows)
    assert [(d.file, d.field) for d in e.value.diagnostics] == [
        ("bootcamps[1]", "bootcamp_id"), ("learners[0]", "learner_type")]


def test_money_as_a_float_that_is_not_whole_pence_is_refused_at_its_row():
    """Issue 21, item 6: ``0.1 + 0.2`` became Decimal('0.30000000000000004'). A float that is
    a whole number of pence (what a database's REAL column gives back) is still money."""
    rows = _rows()
    rows["payments"][0]["amount_paid"] = 0.1 + 0.2
    with pytest.raises(kpidsl.DataError) as e:
        kpidsl.Dataset.from_rows(**rows)
    (d,) = e.value.diagnostics
    assert (d.file, d.field, d.value) == ("cofunding[0]", "amount_paid", 0.1 + 0.2)
    assert d.message.endswith(": amount_paid: 0.30000000000000004 is a float that is not a whole "
                              "number of pence (a float cannot hold pence exactly)")
    assert d.hint == "pass money as a Decimal or as text, e.g. Decimal('0.30')"
    rows["payments"][0]["amount_paid"] = 150.25
    assert kpidsl.Dataset.from_rows(**rows) == COHORT


@pytest.mark.parametrize("make", [kpidsl.Dataset, kpidsl.Dataset.from_rows])
def test_one_row_given_for_a_table_is_refused_once_with_how_to_write_it(make):
    """``providers={...}`` (one mapping, not a list of one) was read key by key, and text
    letter by letter: one error per key, none saying what was wrong."""
    for given in ({"provider_id": "P1", "name": "Acme"}, "P1"):
        with pytest.raises(kpidsl.DataError) as e:
            make(providers=given)
        assert e.value.render() == (
            f"providers: error: expected a list of rows, not a {type(given).__name__}\n"
            "  hint: one row is a list of one: providers=[...]\n\n1 error")
