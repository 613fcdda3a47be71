"""Tests of reading and writing the CSV data contract (KPI-SPEC §1)."""

from __future__ import annotations

import datetime as dt
import gc
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import pytest

from cohort import FIXTURE_RULES
from kpidsl.contract.records import (
    FIELDS,
    Bootcamp,
    Employer,
    Engagement,
    Interview,
    Learner,
    Payment,
    Profile,
    Provider,
)
from kpidsl.data.csvfiles import MAX_DIAGNOSTICS, load_data, write_data
from kpidsl.data.dataset import Dataset
from kpidsl.errors import DataError

if TYPE_CHECKING:
    from kpidsl.engines.duckdb import DuckDBEngine

# A small, valid data set. Tests replace one file at a time to make one thing wrong.
BASE = {
    "providers.csv": "provider_id,name,ukprn\nP1,Acme Training,10000001\n",
    "bootcamps.csv": (
        "bootcamp_id,provider_id,title,start_date,end_date,course_cost,accelerated_apprenticeship\n"
        "B1,P1,Data,2024-01-08,2024-03-29,1500.00,false\n"
    ),
    "employers.csv": "employer_id,name,employees\nE1,Big Co,300\n",
    "engagements.csv": (
        "bootcamp_id,employer_id,roles,contact_attempts,reached,role_confirmed,satisfaction\n"
        "B1,E1,co_design;delivery,1,true,true,4\n"
    ),
    "learners.csv": (
        "learner_id,bootcamp_id,learner_type,employer_id,start_date,completion_date\n"
        "L1,B1,co_funded,E1,2024-01-08,2024-03-29\n"
        "L2,B1,independent,,2024-01-08,\n"
    ),
    "interviews.csv": (
        "learner_id,employer_id,offer_date,actual_job,matches_skills\n"
        "L1,E1,2024-03-01,TRUE,False\n"
    ),
    "cofunding.csv": "learner_id,amount_paid,paid_date\nL1,450,2024-02-01\n",
}


@pytest.fixture
def make(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write BASE with some files replaced (``None`` removes one) as ``data/``; return "data".

    The tests run in ``tmp_path`` so that messages show the path as given: ``data/x.csv``.
    """
    monkeypatch.chdir(tmp_path)

    def make(files: dict[str, str | None] | None = None, *, encode=lambda text: text) -> str:
        folder = tmp_path / "data"
        folder.mkdir()
        for name, text in {**BASE, **(files or {})}.items():
            if text is not None:
                (folder / name).write_bytes(encode(text).encode("utf-8"))
        return "data"

    return make


def rendered(folder: str) -> str:
    """The whole message a person reads when loading ``folder`` fails."""
    with pytest.raises(DataError) as excinfo:
        load_data(folder)
    return same_on_duckdb(folder, excinfo.value)


def same_on_duckdb(folder: str, error: DataError) -> str:
    """``error``'s text, once the DuckDB engine's own reading of ``folder`` (its checks in
    SQL, then the loader) has raised the very same: a small folder is evaluated in Python by
    default, so the SQL checks are held to the loader here."""
    from kpidsl.engines.duckdb import DuckDBEngine

    with pytest.raises(DataError) as on_duckdb:
        DuckDBEngine().load(folder)
    assert str(on_duckdb.value) == str(error)
    return str(error)


# --------------------------------------------------------------------------- round trip


def every_field_dataset() -> Dataset:
    """A data set that uses every field, with both present and missing optional values."""
    d = dt.date
    return Dataset(
        providers=[
            Provider(provider_id="P1", name="Acme, \"the\" trainers", ukprn="10000001"),
            Provider(provider_id="P2", name="Other"),
        ],
        bootcamps=[
            Bootcamp(bootcamp_id="B1", provider_id="P1", title="Data\nand AI",
                     start_date=d(2024, 1, 8), end_date=d(2024, 3, 29),
                     course_cost=Decimal("1500.50"), accelerated_apprenticeship=True),
            Bootcamp(bootcamp_id="B2", provider_id="P2", title="Web",
                     start_date=d(2024, 2, 1), end_date=d(2024, 4, 1), course_cost=Decimal("0")),
        ],
        employers=[Employer(employer_id="E1", name="Big Co", employees=300)],
        engagements=[
            Engagement(bootcamp_id="B1", employer_id="E1",
                       roles=frozenset({"own_staff", "co_design"}), contact_attempts=3,
                       reached=True, role_confirmed=False, satisfaction=0),
            Engagement(bootcamp_id="B2", employer_id="E1"),
        ],
        learners=[
            Learner(learner_id="L1", bootcamp_id="B1", learner_type="co_funded",
                    employer_id="E1", start_date=d(2024, 1, 8),
                    milestone1_date=d(2024, 1, 15), withdrawal_date=None,
                    completion_date=d(2024, 3, 29), initial_assessment_date=d(2024, 1, 8),
                    final_assessment_date=d(2024, 3, 28), skills_gained=True,
                    wants_interview=False, new_role_evidence_date=d(2024, 5, 1),
                    outcome="new_role", outcome_date=d(2024, 5, 1),
                    referral_date=d(2024, 6, 1), referral_kind="skills_bootcamp"),
            Learner(learner_id="L2", bootcamp_id="B2", learner_type="independent",
                    start_date=d(2024, 2, 1)),
        ],
        interviews=[
            Interview(learner_id="L1", employer_id="E1", offer_date=d(2024, 3, 1),
                      actual_job=True, matches_skills=False, full_apprenticeship=True,
                      result="declined"),
            Interview(learner_id="L2", employer_id="E1", offer_date=d(2024, 3, 2),
                      actual_job=False, matches_skills=True),
        ],
        payments=[Payment(learner_id="L1", amount_paid=Decimal("450.25"),
                          paid_date=d(2024, 2, 1))],
        profiles=[Profile(provider_id="P1", month=d(2024, 8, 1), planned_starts=12)],
    )


def test_round_trip_keeps_every_value(tmp_path: Path) -> None:
    original = every_field_dataset()
    write_data(original, tmp_path)
    loaded = load_data(tmp_path)
    assert loaded == original
    assert loaded.notices == ()
    assert [r.line for r in loaded.bootcamps] == [2, 4]  # B1's title spans lines 2 and 3


def test_written_files_use_the_contract_spelling(tmp_path: Path) -> None:
    write_data(every_field_dataset(), tmp_path)
    assert (tmp_path / "engagements.csv").read_bytes().decode() == (
        "bootcamp_id,employer_id,roles,contact_attempts,reached,role_confirmed,satisfaction,"
        "recorded_date\n"
        "B1,E1,co_design;own_staff,3,true,false,0,\n"
        "B2,E1,,0,,,,\n"
    )
    assert (tmp_path / "profiles.csv").read_text() == (
        "provider_id,month,planned_starts\nP1,2024-08,12\n"
    )
    assert (tmp_path / "cofunding.csv").read_text() == (
        "learner_id,amount_paid,paid_date\nL1,450.25,2024-02-01\n"
    )


def test_empty_dataset_writes_headers_and_no_profiles(tmp_path: Path) -> None:
    write_data(Dataset(), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bootcamps.csv", "cofunding.csv", "employers.csv", "engagements.csv",
        "interviews.csv", "learners.csv", "providers.csv",
    ]
    assert (tmp_path / "providers.csv").read_text() == "provider_id,name,ukprn\n"
    assert load_data(tmp_path) == Dataset()


def test_money_is_never_written_in_exponent_notation(tmp_path: Path) -> None:
    ds = Dataset(payments=[Payment(learner_id="L1", amount_paid=Decimal("1E+3"),
                                   paid_date=dt.date(2024, 1, 1))])
    write_data(ds, tmp_path)
    assert (tmp_path / "cofunding.csv").read_text().splitlines()[1] == "L1,1000,2024-01-01"


# --------------------------------------------------------------------------- accepted input


def test_byte_order_mark_and_crlf_line_ends_are_accepted(make) -> None:
    plain = load_data(make())
    Path("data").rename("plain")
    spreadsheet = load_data(make(encode=lambda text: "\ufeff" + text.replace("\n", "\r\n")))
    assert spreadsheet == plain
    assert spreadsheet.learners[1].line == 3


def test_spreadsheet_exports_report_the_same_places(make) -> None:
    learners = (
        "learner_id,bootcamp_id,learner_type,employer_id,start_date,completion_date\n"
        "L1,B1,co_funded,E1,2024-01-08,2024-13-01\n"
    )
    folder = make({"learners.csv": learners}, encode=lambda t: "\ufeff" + t.replace("\n", "\r\n"))
    assert rendered(folder) == (
        "data/learners.csv:2:31: error: completion_date: '2024-13-01' is not a date\n"
        "  1 | learner_id,bootcamp_id,learner_type,employer_id,start_date,completion_date\n"
        "  2 | L1,B1,co_funded,E1,2024-01-08,2024-13-01\n"
        "    |                               ^^^^^^^^^^\n"
        "  hint: the month must be 01 to 12\n"
        "\n"
        "1 error"
    )


def test_values_are_read_as_typed_fields(make) -> None:
    ds = load_data(make({
        "learners.csv": (
            "learner_id,bootcamp_id,learner_type,employer_id,start_date,completion_date\n"
            "  L1 , B1,co_funded,E1,2024-01-08 ,2024-03-29\n"
            "L2,B1,independent,,2024-01-08,\n"
        ),
    }))
    assert ds.learners[0] == Learner(
        learner_id="L1", bootcamp_id="B1", learner_type="co_funded", employer_id="E1",
        start_date=dt.date(2024, 1, 8), completion_date=dt.date(2024, 3, 29),
    )
    assert ds.learners[1].employer_id is None
    assert ds.engagements[0].roles == frozenset({"co_design", "delivery"})
    assert ds.engagements[0].satisfaction == 4
    assert ds.bootcamps[0].course_cost == Decimal("1500.00")
    assert ds.interviews[0].actual_job is True
    assert ds.interviews[0].matches_skills is False


def test_left_out_columns_and_empty_cells_take_the_defaults(make) -> None:
    ds = load_data(make({
        "engagements.csv": "bootcamp_id,employer_id,roles,reached\nB1,E1,,\n",
        "interviews.csv": (
            "learner_id,employer_id,offer_date,actual_job,matches_skills,result\n"
            "L1,E1,2024-03-01,true,true,\n"
        ),
    }))
    assert ds.engagements[0] == Engagement(bootcamp_id="B1", employer_id="E1",
                                           roles=frozenset(), contact_attempts=0)
    assert ds.interviews[0].result == "pending"
    assert ds.interviews[0].full_apprenticeship is False


def test_set_cells_ignore_blank_parts_and_spaces(make) -> None:
    ds = load_data(make({
        "engagements.csv": "bootcamp_id,employer_id,roles\nB1,E1, delivery ;own_staff;\n",
    }))
    assert ds.engagements[0].roles == frozenset({"delivery", "own_staff"})


def test_blank_rows_are_skipped_and_lines_still_count(make) -> None:
    ds = load_data(make({
        "learners.csv": (
            "learner_id,bootcamp_id,learner_type,employer_id,start_date\n"
            "\n"
            "L1,B1,co_funded,E1,2024-01-08\n"
            ",,,,\n"
            "L2,B1,independent,,2024-01-08\n"
        ),
    }))
    assert [(r.learner_id, r.line) for r in ds.learners] == [("L1", 3), ("L2", 5)]


def test_profiles_are_optional_and_read_by_month(make) -> None:
    assert load_data(make()).profiles == ()
    Path("data").rename("without")
    ds = load_data(make({"profiles.csv": "provider_id,month,planned_starts\nP1,2024-08,5\n"}))
    assert ds.profiles == (Profile(provider_id="P1", month=dt.date(2024, 8, 1), planned_starts=5),)


def test_unknown_column_is_a_notice_not_an_error(make) -> None:
    ds = load_data(make({
        "providers.csv": "provider_id,name,ukprn,region\nP1,Acme Training,10000001,West Midlands\n",
    }))
    assert ds.providers == (Provider(provider_id="P1", name="Acme Training", ukprn="10000001"),)
    assert [n.render() for n in ds.notices] == [
        "data/providers.csv:1:24: warning: unknown column 'region' is ignored\n"
        "  1 | provider_id,name,ukprn,region\n"
        "    |                        ^^^^^^\n"
        "  2 | P1,Acme Training,10000001,West Midlands\n"
        "  hint: known columns: provider_id, name, ukprn"
    ]


def test_an_absent_empty_file_is_a_notice(make) -> None:
    ds = load_data(make({"cofunding.csv": None}))
    assert ds.payments == ()
    assert [n.render() for n in ds.notices] == [
        "data/cofunding.csv: warning: file is absent; read as having no payments"
    ]


def test_a_0_byte_file_is_read_like_an_absent_one(make) -> None:
    # Spreadsheets export an empty sheet as a 0-byte file.
    ds = load_data(make({"interviews.csv": "", "profiles.csv": ""}))
    assert ds.interviews == () and ds.profiles == ()
    assert [n.render() for n in ds.notices] == [
        "data/interviews.csv: warning: file is empty; read as having no interviews"
    ]


def test_a_folder_without_any_data_file_is_an_error(make) -> None:
    folder = make(dict.fromkeys(BASE))
    Path(folder, "Learners.CSV").write_text("learner_id\n")
    Path(folder, "notes.txt").write_text("not data\n")
    assert rendered(folder) == (
        "data: error: no data files in data: expected providers.csv, bootcamps.csv, "
        "employers.csv, engagements.csv, learners.csv, interviews.csv, cofunding.csv\n"
        "\n"
        "data/Learners.CSV: warning: not a file of the data contract; it is ignored\n"
        "  hint: did you mean `learners.csv`?\n"
        "\n"
        "1 error"
    )
    for name in BASE:  # 0-byte files are no better
        Path(folder, name).write_text("")
    assert "error: no data files in data" in rendered(folder)


def test_a_misspelt_file_name_is_a_notice(make) -> None:
    folder = make()
    Path(folder, "learner.csv").write_text("learner_id\n")
    assert [n.render() for n in load_data(folder).notices] == [
        "data/learner.csv: warning: not a file of the data contract; it is ignored\n"
        "  hint: did you mean `learners.csv`?"
    ]


# --------------------------------------------------------------------------- rejected input


def test_bad_date(make) -> None:
    assert rendered(make({"learners.csv": (
        "learner_id,bootcamp_id,learner_type,employer_id,start_date,completion_date\n"
        "L1,B1,co_funded,E1,2024-01-08,2024-13-01\n"
        "L2,B1,independent,,2024-01-08,\n"
    )})) == (
        "data/learners.csv:2:31: error: completion_date: '2024-13-01' is not a date\n"
        "  1 | learner_id,bootcamp_id,learner_type,employer_id,start_date,completion_date\n"
        "  2 | L1,B1,co_funded,E1,2024-01-08,2024-13-01\n"
        "    |                               ^^^^^^^^^^\n"
        "  3 | L2,B1,independent,,2024-01-08,\n"
        "  hint: the month must be 01 to 12\n"
        "\n"
        "1 error"
    )


def test_bad_enum_value_suggests_the_nearest(make) -> None:
    assert rendered(make({"learners.csv": (
        "learner_id,bootcamp_id,learner_type,employer_id,start_date\n"
        "L1,B1,cofunded,E1,2024-01-08\n"
    )})) == (
        "data/learners.csv:2:7: error: learner_type: 'cofunded' is not one of the allowed values\n"
        "  1 | learner_id,bootcamp_id,learner_type,employer_id,start_date\n"
        "  2 | L1,B1,cofunded,E1,2024-01-08\n"
        "    |       ^^^^^^^^\n"
        "  hint: did you mean `co_funded`?\n"
        "\n"
        "1 error"
    )


def test_missing_required_column(make) -> None:
    assert rendered(make({"learners.csv": (
        "learner_id,bootcamp_id,employer_id,start_date\n"
        "L1,B1,E1,2024-01-08\n"
    )})) == (
        "data/learners.csv:1: error: missing required column learner_type\n"
        "  1 | learner_id,bootcamp_id,employer_id,start_date\n"
        "  2 | L1,B1,E1,2024-01-08\n"
        "  hint: the required columns are learner_id, bootcamp_id, learner_type, start_date\n"
        "\n"
        "1 error"
    )


def test_misspelt_required_column(make) -> None:
    assert rendered(make({"employers.csv": "employer_id,name,Employes\nE1,Big Co,300\n"})) == (
        "data/employers.csv:1:18: warning: unknown column 'Employes' is ignored\n"
        "  1 | employer_id,name,Employes\n"
        "    |                  ^^^^^^^^\n"
        "  2 | E1,Big Co,300\n"
        "  hint: did you mean `employees`?\n"
        "\n"
        "data/employers.csv:1: error: missing required column employees\n"
        "  1 | employer_id,name,Employes\n"
        "  2 | E1,Big Co,300\n"
        "  hint: is column `Employes` meant to be `employees`?\n"
        "\n"
        "1 error"
    )


def test_missing_required_value(make) -> None:
    assert rendered(make({"bootcamps.csv": (
        "bootcamp_id,provider_id,title,start_date,end_date,course_cost\n"
        "B1,P1,,2024-01-08,2024-03-29,1500.00\n"
    )})) == (
        "data/bootcamps.csv:2:7: error: title: missing required value\n"
        "  1 | bootcamp_id,provider_id,title,start_date,end_date,course_cost\n"
        "  2 | B1,P1,,2024-01-08,2024-03-29,1500.00\n"
        "    |       ^\n"
        "\n"
        "1 error"
    )


def test_duplicate_id(make) -> None:
    assert rendered(make({
        "employers.csv": "employer_id,name,employees\nE1,Big Co,300\nE1,Small Co,12\n",
    })) == (
        "data/employers.csv:3:1: error: duplicate employer: employer_id 'E1' appears earlier\n"
        "  2 | E1,Big Co,300\n"
        "  3 | E1,Small Co,12\n"
        "    | ^^\n"
        "  hint: the first is on line 2\n"
        "\n"
        "1 error"
    )


def test_dangling_reference(make) -> None:
    assert rendered(make({"learners.csv": (
        "learner_id,bootcamp_id,learner_type,employer_id,start_date\n"
        "L1,B1,co_funded,E1,2024-01-08\n"
        "L2,B2,independent,,2024-01-08\n"
    )})) == (
        "data/learners.csv:3:4: error: no bootcamp has bootcamp_id 'B2'\n"
        "  2 | L1,B1,co_funded,E1,2024-01-08\n"
        "  3 | L2,B2,independent,,2024-01-08\n"
        "    |    ^^\n"
        "  hint: add the bootcamp to bootcamps.csv, or correct the id\n"
        "\n"
        "1 error"
    )


@pytest.mark.parametrize(("file", "row", "message"), [
    ("providers.csv", "P1,Other,10000002", "duplicate provider: provider_id 'P1'"),
    ("bootcamps.csv", "B1,P1,Web,2024-01-08,2024-03-29,10,false", "duplicate bootcamp"),
    ("employers.csv", "E1,Small Co,3", "duplicate employer: employer_id 'E1'"),
    ("engagements.csv", "B1,E1,,1,true,true,4", "duplicate engagement"),
    ("learners.csv", "L2,B1,independent,,2024-01-08,", "duplicate learner: learner_id 'L2'"),
    ("bootcamps.csv", "B2,P9,Web,2024-01-08,2024-03-29,10,false",
     "no provider has provider_id 'P9'"),
    ("engagements.csv", "B9,E1,,1,true,true,4", "no bootcamp has bootcamp_id 'B9'"),
    ("engagements.csv", "B1,E9,,1,true,true,4", "no employer has employer_id 'E9'"),
    ("learners.csv", "L3,B9,independent,,2024-01-08,", "no bootcamp has bootcamp_id 'B9'"),
    ("learners.csv", "L3,B1,independent,E9,2024-01-08,", "no employer has employer_id 'E9'"),
    ("interviews.csv", "L9,E1,2024-03-01,true,true", "no learner has learner_id 'L9'"),
    ("interviews.csv", "L1,E9,2024-03-01,true,true", "no employer has employer_id 'E9'"),
    ("cofunding.csv", "L9,10,2024-02-01", "no learner has learner_id 'L9'"),
    ("profiles.csv", "P9,2024-08,3", "no provider has provider_id 'P9'"),
])
def test_duckdb_finds_each_id_held_twice_or_by_none(make, file: str, row: str,
                                                    message: str) -> None:
    # the SQL check counts each type's ids with the references to them: every key and every
    # reference is held to the loader's (a load it let through would raise nothing)
    text = BASE.get(file, "provider_id,month,planned_starts\n") + row + "\n"
    with pytest.raises(DataError) as excinfo:
        load_data(make({file: text}))
    assert [d.message.startswith(message) for d in excinfo.value.diagnostics] == [True]
    same_on_duckdb("data", excinfo.value)


def test_co_funded_learner_without_employer(make) -> None:
    assert rendered(make({"learners.csv": (
        "learner_id,bootcamp_id,learner_type,employer_id,start_date\n"
        "L1,B1,co_funded,,2024-01-08\n"
        "L2,B1,independent,,2024-01-08\n"
    )})) == (
        "data/learners.csv:2:17: error: a co-funded learner must name its employer\n"
        "  1 | learner_id,bootcamp_id,learner_type,employer_id,start_date\n"
        "  2 | L1,B1,co_funded,,2024-01-08\n"
        "    |                 ^\n"
        "  3 | L2,B1,independent,,2024-01-08\n"
        "  hint: fill in employer_id, or change learner_type\n"
        "\n"
        "1 error"
    )


def test_wrong_cell_count_does_not_cascade_into_dangling_references(make) -> None:
    # B1 is lost with its row, yet learners and engagements naming B1 raise nothing more.
    assert rendered(make({"bootcamps.csv": (
        "bootcamp_id,provider_id,title,start_date,end_date,course_cost\n"
        "B1,P1,Data, analytics,2024-01-08,2024-03-29,1500.00\n"
    )})) == (
        "data/bootcamps.csv:2: error: this row has 7 cells but the header has 6 columns\n"
        "  1 | bootcamp_id,provider_id,title,start_date,end_date,course_cost\n"
        "  2 | B1,P1,Data, analytics,2024-01-08,2024-03-29,1500.00\n"
        "  hint: a value that contains a comma must be written in double quotes\n"
        "\n"
        "1 error"
    )


def test_absent_file_that_is_referred_to(make) -> None:
    assert rendered(make({"employers.csv": None, "engagements.csv": None})) == (
        "data/employers.csv: warning: file is absent; read as having no employers\n"
        "\n"
        "data/engagements.csv: warning: file is absent; read as having no engagements\n"
        "\n"
        "data/learners.csv:2:17: error: no employer has employer_id 'E1'\n"
        "  1 | learner_id,bootcamp_id,learner_type,employer_id,start_date,completion_date\n"
        "  2 | L1,B1,co_funded,E1,2024-01-08,2024-03-29\n"
        "    |                 ^^\n"
        "  3 | L2,B1,independent,,2024-01-08,\n"
        "  hint: add the employer to employers.csv, or correct the id\n"
        "\n"
        "data/interviews.csv:2:4: error: no employer has employer_id 'E1'\n"
        "  1 | learner_id,employer_id,offer_date,actual_job,matches_skills\n"
        "  2 | L1,E1,2024-03-01,TRUE,False\n"
        "    |    ^^\n"
        "  hint: add the employer to employers.csv, or correct the id\n"
        "\n"
        "2 errors"
    )


def test_a_file_of_blank_lines_has_no_header(make) -> None:
    assert rendered(make({"employers.csv": "\n \n"})) == (
        "data/employers.csv:1: error: the file is empty; expected a header row\n"
        "  hint: the header is: employer_id,name,employees\n"
        "\n"
        "1 error"
    )


def test_folder_that_does_not_exist(make) -> None:
    make()
    assert rendered("nowhere") == "nowhere: error: data folder does not exist\n\n1 error"
    assert rendered("data/providers.csv") == (
        "data/providers.csv: error: not a folder; a data set is a folder of CSV files or an "
        ".xlsx workbook\n\n1 error"
    )


def test_not_utf8(make) -> None:
    folder = make()
    Path(folder, "employers.csv").write_bytes(b"employer_id,name,employees\nE1,Caf\xe9 Ltd,3\n")
    assert rendered(folder) == (
        "data/employers.csv:2: error: the file is not UTF-8 text: byte 0xe9 cannot be read\n"
        "  1 | employer_id,name,employees\n"
        "  2 | E1,Caf\ufffd Ltd,3\n"
        "  hint: save the file as UTF-8 (“CSV UTF-8”)\n"
        "\n"
        "1 error"
    )


def test_every_problem_is_reported_in_one_error(make) -> None:
    with pytest.raises(DataError) as excinfo:
        load_data(make({
            "employers.csv": "employer_id,name,employees\nE1,Big Co,lots\n",
            "learners.csv": (
                "learner_id,bootcamp_id,learner_type,employer_id,start_date\n"
                "L1,B1,co_funded,E1,08/01/2024\n"
                "L2,B9,independent,,2024-01-08\n"
            ),
        }))
    assert [(d.location, d.message) for d in excinfo.value.diagnostics] == [
        ("data/employers.csv:2:11", "employees: 'lots' is not a whole number"),
        ("data/learners.csv:2:20", "start_date: '08/01/2024' is not a date"),
        ("data/learners.csv:3:4", "no bootcamp has bootcamp_id 'B9'"),
    ]


def test_diagnostics_are_capped_with_a_count_of_the_rest(make) -> None:
    assert MAX_DIAGNOSTICS == 200
    rows = "".join(f"L{i},B1,student,,2024-01-08\n" for i in range(250))
    with pytest.raises(DataError) as excinfo:
        load_data(make({
            "learners.csv": "learner_id,bootcamp_id,learner_type,employer_id,start_date\n" + rows,
            "cofunding.csv": "learner_id,amount_paid,paid_date\n",
        }))
    diagnostics = excinfo.value.diagnostics
    assert len(diagnostics) == 201
    assert diagnostics[0].render() == (
        "data: note: 250 problems found; only the first 200 are listed"
    )
    assert diagnostics[-1].location == "data/learners.csv:201:9"  # L199,B1,student


def test_lines_count_quoted_line_breaks(make) -> None:
    with pytest.raises(DataError) as excinfo:
        load_data(make({"bootcamps.csv": (
            "bootcamp_id,provider_id,title,start_date,end_date,course_cost\n"
            'B1,P1,"Data\nand AI",2024-01-08,2024-31-03,1500.00\n'
            "B2,P1,Web,2024-01-08,2024-03-29,-5\n"
        )}))
    assert [(d.location, d.message) for d in excinfo.value.diagnostics] == [
        ("data/bootcamps.csv:3:20", "end_date: '2024-31-03' is not a date"),
        ("data/bootcamps.csv:4:33", "course_cost: '-5' is less than 0"),
    ]


BOOTCAMP = (
    "bootcamp_id,provider_id,title,start_date,end_date,course_cost,accelerated_apprenticeship\n"
)
ENGAGEMENT = "bootcamp_id,employer_id,roles,contact_attempts,reached,role_confirmed,satisfaction\n"
INTERVIEW = "learner_id,employer_id,offer_date,actual_job,matches_skills,result\n"
LEARNER = "learner_id,bootcamp_id,learner_type,employer_id,start_date\n"


DATE_HINT = "expected a date written YYYY-MM-DD, e.g. 2024-08-31"


@pytest.mark.parametrize(
    ("file", "text", "message", "hint"),
    [
        # dates
        ("bootcamps.csv", BOOTCAMP + "B1,P1,Data,2024-01-08,31/08/2024,1500,false",
         "end_date: '31/08/2024' is not a date", "dates are written YYYY-MM-DD: write 2024-08-31"),
        ("bootcamps.csv", BOOTCAMP + "B1,P1,Data,2024-1-8,2024-03-29,1500,false",
         "start_date: '2024-1-8' is not a date", DATE_HINT),
        ("bootcamps.csv", BOOTCAMP + "B1,P1,Data,2024-01-08 00:00:00,2024-03-29,1500,false",
         "start_date: '2024-01-08 00:00:00' is not a date", "write the date alone: 2024-01-08"),
        ("bootcamps.csv", BOOTCAMP + "B1,P1,Data,2023-02-29,2024-03-29,1500,false",
         "start_date: '2023-02-29' is not a date", "February 2023 has 28 days"),
        # DuckDB casts a year before the common era ('-024' is 25 BC), year 0 and a tab before
        # the year; the loader does not
        ("bootcamps.csv", BOOTCAMP + "B1,P1,Data,-024-01-08,2024-03-29,1500,false",
         "start_date: '-024-01-08' is not a date", DATE_HINT),
        ("bootcamps.csv", BOOTCAMP + "B1,P1,Data,0000-01-08,2024-03-29,1500,false",
         "start_date: '0000-01-08' is not a date", "years start at 0001"),
        ("bootcamps.csv", BOOTCAMP + "B1,P1,Data,\t024-01-08,2024-03-29,1500,false",
         "start_date: '024-01-08' is not a date", DATE_HINT),
        # money
        ("bootcamps.csv", BOOTCAMP + 'B1,P1,Data,2024-01-08,2024-03-29,"£1,500",false',
         "course_cost: '£1,500' is not a number of pounds", "write 1500, without '£' or commas"),
        ("bootcamps.csv", BOOTCAMP + "B1,P1,Data,2024-01-08,2024-03-29,1.5e3,false",
         "course_cost: '1.5e3' is not a number of pounds", "write the number in full: 1500"),
        ("bootcamps.csv", BOOTCAMP + "B1,P1,Data,2024-01-08,2024-03-29,NaN,false",
         "course_cost: 'NaN' is not a number of pounds",
         "expected a number of pounds, e.g. 1200.50"),
        ("bootcamps.csv", BOOTCAMP + "B1,P1,Data,2024-01-08,2024-03-29,-0.01,false",
         "course_cost: '-0.01' is less than 0", "expected at least 0"),
        ("cofunding.csv", "learner_id,amount_paid,paid_date\nL1,,2024-02-01",
         "amount_paid: missing required value", None),
        # booleans
        ("bootcamps.csv", BOOTCAMP + "B1,P1,Data,2024-01-08,2024-03-29,1500,yes",
         "accelerated_apprenticeship: 'yes' is not true or false", "expected true or false"),
        # integers and ranges
        ("employers.csv", "employer_id,name,employees\nE1,Big Co,12.5",
         "employees: '12.5' is not a whole number", "expected a whole number, e.g. 3"),
        ("employers.csv", "employer_id,name,employees\nE1,Big Co,250.0",
         "employees: '250.0' is not a whole number", "write 250"),
        pytest.param("employers.csv", "employer_id,name,employees\nE1,Big Co," + "9" * 500,
                     "employees: '" + "9" * 30 + "…' has 500 digits; at most 40 are allowed",
                     "no value of the data contract is that large; is the cell correct?",
                     id="integer-of-500-digits"),
        pytest.param("employers.csv", "employer_id,name,employees\nE1,Big Co," + "9" * 5000,
                     "a cell has more than 1,000 characters",
                     "no value of the data contract is that long; is a quote left open?",
                     id="cell-of-5000-characters"),
        ("employers.csv", "employer_id,name,employees\nE1,Big Co,-3",
         "employees: '-3' is less than 0", "expected at least 0"),
        ("engagements.csv", ENGAGEMENT + "B1,E1,,1,true,true,6",
         "satisfaction: '6' is more than 5", "expected a value from 0 to 5"),
        ("engagements.csv", ENGAGEMENT + "B1,E1,,-1,true,true,",
         "contact_attempts: '-1' is less than 0", "expected at least 0"),
        ("profiles.csv", "provider_id,month,planned_starts\nP1,2024-08,-1",
         "planned_starts: '-1' is less than 0", "expected at least 0"),
        # patterns
        ("providers.csv", "provider_id,name,ukprn\nP1,Acme,1234567",
         "ukprn: '1234567' is not exactly 8 digits", None),
        # months
        ("profiles.csv", "provider_id,month,planned_starts\nP1,2024-8,5",
         "month: '2024-8' is not a month", "expected a month written YYYY-MM, e.g. 2024-08"),
        ("profiles.csv", "provider_id,month,planned_starts\nP1,2024-08-01,5",
         "month: '2024-08-01' is not a month", "write the month alone: 2024-08"),
        ("profiles.csv", "provider_id,month,planned_starts\nP1,-024-08,5",
         "month: '-024-08' is not a month", "expected a month written YYYY-MM, e.g. 2024-08"),
        # enums and sets
        ("learners.csv", LEARNER + "L1,B1,Co-Funded,E1,2024-01-08",
         "learner_type: 'Co-Funded' is not one of the allowed values", "did you mean `co_funded`?"),
        ("interviews.csv", INTERVIEW + "L1,E1,2024-03-01,true,true,maybe",
         "result: 'maybe' is not one of the allowed values",
         "allowed values: offered_job, unsuccessful, declined, pending"),
        ("engagements.csv", ENGAGEMENT + "B1,E1,co_design;interview,1,true,true,",
         "roles: 'interview' is not one of the allowed values", "did you mean `interviewing`?"),
        # required text (DuckDB's trim takes away a space, not a tab or any other character
        # ``str.strip`` does)
        ("learners.csv", LEARNER + " ,B1,co_funded,E1,2024-01-08",
         "learner_id: missing required value", None),
        ("learners.csv", LEARNER + "\t,B1,co_funded,E1,2024-01-08",
         "learner_id: missing required value", None),
        ("learners.csv", LEARNER + "\x85\x1c,B1,co_funded,E1,2024-01-08",
         "learner_id: missing required value", None),
    ],
)
def test_bad_cell(make, file: str, text: str, message: str, hint: str | None) -> None:
    with pytest.raises(DataError) as excinfo:
        load_data(make({file: text + "\n"}))
    assert [(d.file, d.line, d.message, d.hint) for d in excinfo.value.diagnostics] == [
        (f"data/{file}", 2, message, hint)
    ]
    same_on_duckdb("data", excinfo.value)


SPACES = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()]


def same_tables(folder: str) -> DuckDBEngine:
    """The DuckDB engine's reading of ``folder``, once its tables have been found to hold
    the very same as those of the Python loader's reading."""
    from kpidsl.engines.duckdb import DuckDBEngine

    fast, slow = DuckDBEngine().load(folder), DuckDBEngine().load(load_data(folder))
    for t in ("providers", "bootcamps", "employers", "learners"):
        query = f"SELECT * FROM {t} ORDER BY _line"
        assert fast.con.execute(query).fetchall() == slow.con.execute(query).fetchall()
    return fast


@pytest.mark.parametrize("space", SPACES, ids=lambda c: f"U+{ord(c):04X}")
def test_duckdb_strips_a_text_cell_as_the_loader_does(make, space: str) -> None:
    # DuckDB's trim takes away only Unicode's spaces: a name kept a tab, '\x1c' or '\x85'
    s = space
    folder = make({"providers.csv": f'provider_id,name,ukprn\nP1,"{s}Acme{s}",10000001\n'})
    tables = same_tables(folder)
    assert tables.con.execute("SELECT name FROM providers").fetchall() == [("Acme",)]


def test_duckdb_strips_every_kind_of_cell_as_the_loader_does(make) -> None:
    # the cells of a file are read as they are first, and read again stripped when one
    # needs it: ids, references, a pattern, an enum, dates, money, whole cells of spaces
    s = iter(SPACES * 2)
    folder = make({
        "providers.csv": f'provider_id,name,ukprn\n"{next(s)}P1",Acme,"10000001{next(s)}"\n',
        "bootcamps.csv": (
            "bootcamp_id,provider_id,title,start_date,end_date,course_cost,"
            f'accelerated_apprenticeship\nB1,"P1{next(s)}",Data,2024-01-08,2024-03-29,'
            f'"{next(s)}1500.00",{next(s)}\n'),
        "employers.csv": f'employer_id,name,employees\nE1,"{next(s)}Big Co",300{next(s)}\n',
        "learners.csv": (
            "learner_id,bootcamp_id,learner_type,employer_id,start_date,completion_date\n"
            f'"{next(s)}L1{next(s)}",B1,"co_funded{next(s)}",E1,"{next(s)}2024-01-08",'
            f'2024-03-29\nL2,B1,independent,"{next(s)}{next(s)}",2024-01-08,"{next(s)}"\n'),
    })
    same_tables(folder)


def test_duckdb_takes_a_cell_of_1000_characters_of_more_bytes(make) -> None:
    # the SQL measures a cell in bytes, the loader in characters: a name of 1,000 letters
    # é (2,000 bytes) is within the limit, and is read whole
    tables = same_tables(make({"providers.csv": f"provider_id,name,ukprn\nP1,{'é' * 1000},\n"}))
    assert tables.con.execute("SELECT name FROM providers").fetchall() == [("é" * 1000,)]


def test_duckdb_counts_lines_as_the_loader_does(make) -> None:
    # a '\r' alone within quotes ends a line for the loader (the csv module), not a row for
    # DuckDB: the next record was on line 3, not 4
    tables = same_tables(make({"providers.csv": (
        'provider_id,name,ukprn\nP1,"Acme\rTraining",10000001\r\nP2,Other,\r\n')}))
    assert tables.con.execute("SELECT provider_id, _line FROM providers").fetchall() == [
        ("P1", 2), ("P2", 4)
    ]


def near(written: str) -> list[str]:
    """Cells one slip away from ``written``: each of its characters replaced by, or with
    before it, one that DuckDB's date cast reads, skips or stops at; each left out."""
    odd = "019 \t\n-+/\\.Tx:é\u0660\x85\u3000"
    out = [written + c for c in odd]
    for i in range(len(written)):
        out += [written[:i] + written[i + 1:]]
        out += [written[:i] + c + written[i + 1:] for c in odd]
        out += [written[:i] + c + written[i:] for c in odd]
    return out


@pytest.mark.parametrize(("record", "field", "written"), [
    ("learner", "start_date", ["2024-02-29", "2023-02-28", "0001-01-01", "9999-12-31"]),
    ("profile", "month", ["2024-02", "0001-01", "9999-12"]),
])
def test_duckdb_takes_a_date_exactly_as_the_loader_does(record: str, field: str,
                                                        written: list[str]) -> None:
    # the SQL check of a cell as read (unstripped: a cell with a space at an edge is read
    # again, stripped) holds exactly when the loader takes the cell as it is
    import duckdb

    from kpidsl.contract.values import BadValue, cell_converter
    from kpidsl.engines.duckdb import _convert

    fi = FIELDS[record][field]
    cells = sorted({c for w in written for c in near(w)} | {
        "2024-02-29 12:00", "2024-02-29T12:00", "2024-02-29 (BC)", "0001-02-28 (BC)",
        "-024-01-08", "10000-01-01", "+2024-02-29", "infinity", "-infinity", "epoch",
        "2024-02-30", "2024-13-01", "0000-01", "2024-00", "10000-01", "2024-1", "24-02"})
    convert = cell_converter(fi)

    def taken(cell: str) -> bool:
        try:
            convert(cell)
        except BadValue:
            return False
        return cell == cell.strip()

    _, ok = _convert(fi, "x")
    found = duckdb.connect().execute(f"SELECT x, {ok} FROM unnest(?) AS t(x)", [cells])
    differ = [(x, checked) for x, checked in found.fetchall() if checked != taken(x)]
    assert len(cells) > 400
    assert differ == []


def test_duckdb_loads_side_by_side_every_file_and_says_if_one_failed() -> None:
    from kpidsl.engines.duckdb import _side_by_side

    done: list[str] = []

    def load(job: tuple[str, str, list[str], int]) -> bool:
        done.append(job[0])
        if job[0] == "raises":
            raise KeyError(job[1])
        return job[0] != "fails"

    jobs = [(name, f"{name}.csv", [], 0) for name in ("a", "b", "c", "d", "e")]
    assert _side_by_side(load, jobs) is True
    assert sorted(done) == ["a", "b", "c", "d", "e"]
    assert _side_by_side(load, [*jobs, ("fails", "", [], 0)]) is False
    with pytest.raises(KeyError) as excinfo:
        _side_by_side(load, [*jobs, ("raises", "raises.csv", [], 0)])
    assert excinfo.value.args == ("raises.csv",)


def test_the_duckdb_engine_strips_what_str_strip_does() -> None:
    from kpidsl.engines.duckdb import _SPACES

    assert sorted(_SPACES) == SPACES


def test_range_checks_are_schema_metadata() -> None:
    limits = {
        (t, f.name): (f.minimum, f.maximum, f.pattern)
        for t, fields in FIELDS.items()
        for f in fields.values()
        if (f.minimum, f.maximum, f.pattern) != (None, None, None)
    }
    assert limits == {
        ("provider", "ukprn"): (None, None, ("[0-9]{8}", "exactly 8 digits")),
        ("bootcamp", "course_cost"): (0, None, None),
        ("employer", "employees"): (0, None, None),
        ("engagement", "contact_attempts"): (0, None, None),
        ("engagement", "satisfaction"): (0, 5, None),
        ("payment", "amount_paid"): (0, None, None),
        ("profile", "planned_starts"): (0, None, None),
    }


def test_the_garbage_collector_is_running_again_after_a_load(make) -> None:
    # The loader pauses it for speed; a failed load must not leave it off.
    folder = make()
    load_data(folder)
    assert gc.isenabled()
    Path(folder, "employers.csv").write_text("")
    with pytest.raises(DataError):
        load_data(folder)
    assert gc.isenabled()


# --------------------------------------------------------------------------- data sets made in Python


D = dt.date


def valid_dataset(**changes: list) -> Dataset:
    """A small valid data set, with some record lists replaced."""
    records = {
        "providers": [Provider(provider_id="P1", name="Acme", ukprn="10000001")],
        "bootcamps": [Bootcamp(bootcamp_id="B1", provider_id="P1", title="Data",
                               start_date=D(2024, 1, 8), end_date=D(2024, 3, 29),
                               course_cost=Decimal("1500"))],
        "employers": [Employer(employer_id="E1", name="Big Co", employees=300)],
        "learners": [Learner(learner_id="L1", bootcamp_id="B1", learner_type="co_funded",
                             employer_id="E1", start_date=D(2024, 1, 8))],
    }
    return Dataset(**{**records, **changes})


@pytest.mark.parametrize(("make", "messages"), [
    (lambda: Provider(provider_id="P1", name="Acme", ukprn="123"),
     ["Provider P1: ukprn: '123' is not exactly 8 digits"]),
    (lambda: attrs.evolve(valid_dataset().bootcamps[0], course_cost=Decimal(-5)),
     ["Bootcamp B1: course_cost: -5 is less than 0"]),
    (lambda: Employer(employer_id="E1", name="Big Co", employees=-3),
     ["Employer E1: employees: -3 is less than 0"]),
    (lambda: Employer(employer_id="E2", name="Small Co", employees=True),
     ["Employer E2: employees: expected an int, not bool True"]),
    (lambda: Engagement(bootcamp_id="B1", employer_id="E1", satisfaction=6,
                        roles=frozenset({"delivery", "interview"})),
     ["Engagement B1/E1: roles: 'interview' is not one of co_design, needs_analysis, "
      "approved_solution, delivery, interviewing, own_staff",
      "Engagement B1/E1: satisfaction: 6 is more than 5"]),
    (lambda: attrs.evolve(valid_dataset().learners[0], learner_type="cofunded", start_date=None),
     ["Learner L1: learner_type: 'cofunded' is not one of the allowed values",
      "Learner L1: start_date: missing required value"]),
    (lambda: Interview(learner_id="L1", employer_id="E1", offer_date=D(2024, 3, 1),
                       actual_job=None, matches_skills=2),
     ["Interview of L1: actual_job: missing required value",
      "Interview of L1: matches_skills: expected a bool, not int 2"]),
    (lambda: Payment(learner_id="L1", amount_paid=Decimal("NaN"), paid_date=D(2024, 2, 1)),
     ["Payment of L1: amount_paid: NaN is not a number"]),
    (lambda: Profile(provider_id="P1", month=D(2024, 8, 15), planned_starts=0),
     ["Profile of P1: month: 2024-08-15 is not the first day of a month"]),
    (lambda: Learner(learner_id="L1", bootcamp_id="B1", learner_type="independent",
                     start_date="2024-01-08", completion_date="2024-13-01", skils_gained=True),
     ["Learner L1: completion_date: '2024-13-01' is not a date",
      "Learner L1: skils_gained: no such field"]),
    (lambda: Bootcamp(bootcamp_id="B1", provider_id="P1", title="Data",
                      start_date=dt.datetime(2024, 1, 8, 9, 30), end_date=D(2024, 3, 29)),
     ["Bootcamp B1: start_date: datetime.datetime(2024, 1, 8, 9, 30) has a time of day",
      "Bootcamp B1: course_cost: missing required value"]),
])
def test_a_record_checks_its_values_when_it_is_made(make, messages) -> None:
    with pytest.raises(DataError) as e:
        make()
    assert [d.message for d in e.value.diagnostics] == messages


def test_a_record_error_carries_the_record_field_and_value() -> None:
    with pytest.raises(DataError) as e:
        Learner(learner_id="L12", bootcamp_id="B1", learner_type="independent",
                start_date=D(2024, 1, 8), completion_date="2024-13-01")
    (d,) = e.value.diagnostics
    assert (d.record_type, d.record_id, d.field, d.value) == (
        "learner", "L12", "completion_date", "2024-13-01")
    assert d.hint == "the month must be 01 to 12"
    assert e.value.render().splitlines()[0] == \
        "error: Learner L12: completion_date: '2024-13-01' is not a date"


def test_a_record_converts_what_loses_nothing() -> None:
    camp = Bootcamp(bootcamp_id=7, provider_id="P1", title="Data", start_date="2024-01-08",
                    end_date=dt.datetime(2024, 3, 29), course_cost=2000.5,
                    accelerated_apprenticeship=0)
    assert camp == Bootcamp(bootcamp_id="7", provider_id="P1", title="Data",
                            start_date=D(2024, 1, 8), end_date=D(2024, 3, 29),
                            course_cost=Decimal("2000.5"), accelerated_apprenticeship=False)
    assert type(camp.course_cost) is Decimal
    interview = Interview(learner_id="L1", employer_id="E1", offer_date="2024-03-01",
                          actual_job="TRUE", matches_skills=1, result=None)
    assert (interview.actual_job, interview.matches_skills, interview.result) == (
        True, True, "pending")  # None is a missing value: the default, as an empty CSV cell
    engagement = Engagement(bootcamp_id="B1", employer_id="E1", roles=["delivery"],
                            contact_attempts=3.0, reached=None)
    assert (engagement.roles, engagement.contact_attempts) == (frozenset({"delivery"}), 3)
    assert Payment(learner_id="L1", amount_paid=450, paid_date=D(2024, 2, 1)).amount_paid == \
        Decimal(450)


def test_data_made_without_checks_is_still_checked_before_evaluation() -> None:
    """Records made past their checks (``unchecked``, as the loader makes them) are checked
    by ``Dataset.problems()``; a wrong id is reported once and integrity is still checked."""
    import kpidsl
    from kpidsl.contract.records import unchecked

    learner = attrs.asdict(valid_dataset().learners[0], recurse=False)
    ds = valid_dataset(learners=[
        unchecked(Learner, {**learner, "learner_id": ["L1"]}),  # not even hashable
        unchecked(Learner, {**learner, "learner_id": "L2", "bootcamp_id": 7}),
        unchecked(Learner, {**learner, "learner_id": "L3", "bootcamp_id": "B9"}),
        unchecked(Learner, {**learner, "learner_id": "L3", "learner_type": "independent",
                            "employer_id": None}),
    ])
    assert [(r.learner_id, f, m) for r, f, m in ds.problems()] == [
        (["L1"], "learner_id", "expected a str, not list ['L1']"),
        ("L2", "bootcamp_id", "expected a str, not int 7"),
        ("L3", "learner_id", "duplicate learner: learner_id 'L3' appears earlier"),
        ("L3", "bootcamp_id", "no bootcamp has bootcamp_id 'B9'"),
    ]
    bad = valid_dataset(learners=[unchecked(Learner, {**learner, "learner_type": "cofunded"})])
    with pytest.raises(DataError) as excinfo:
        kpidsl.evaluate(kpidsl.load_rules(FIXTURE_RULES), bad, as_of=D(2025, 3, 31))
    assert [d.message for d in excinfo.value.diagnostics] == [
        "Learner L1: learner_type: 'cofunded' is not one of independent, co_funded, self_employed"
    ]


def test_the_check_is_made_once_per_data_set(make, monkeypatch: pytest.MonkeyPatch) -> None:
    made = valid_dataset()
    loaded = load_data(make())
    assert made.problems() == [] and loaded.problems() == []
    assert loaded.notices == ()

    def again(*args):
        raise AssertionError("checked again")

    # The loader's check is the one its data set keeps: evaluate does not pay for it twice.
    monkeypatch.setattr(Dataset, "_integrity_problems", again)
    monkeypatch.setattr(Dataset, "_value_problems", again)
    assert made.problems() == [] and loaded.problems() == []
    # A changed copy is a new data set: it is checked (values too) afresh.
    with pytest.raises(AssertionError, match="checked again"):
        attrs.evolve(loaded, learners=loaded.learners[:1]).problems()


def test_loaded_values_are_not_checked_twice(make, monkeypatch: pytest.MonkeyPatch) -> None:
    import kpidsl.data.dataset

    def value_check(*args):
        raise AssertionError("the loader checked every cell already")

    monkeypatch.setattr(kpidsl.data.dataset, "value_problem", value_check)
    monkeypatch.setattr(kpidsl.data.dataset, "plainly_valid", value_check)
    assert load_data(make()).problems() == []


def test_employer_size_is_left_to_the_rules() -> None:
    import kpidsl.contract.records

    doc = FIELDS["employer"]["employees"].doc
    assert "250" not in doc and "rules/definitions.kpi" in doc
    assert not hasattr(kpidsl.contract.records, "Record")  # the unused alias is gone


def test_a_cell_holding_a_carriage_return_is_written_so_that_it_reads_back(
        tmp_path: Path) -> None:
    original = every_field_dataset()
    named = attrs.evolve(original, providers=[
        attrs.evolve(original.providers[0], name="Acme\rTraining"), *original.providers[1:]])
    write_data(named, tmp_path)
    assert load_data(tmp_path) == named
    assert b'"Acme\rTraining"' in (tmp_path / "providers.csv").read_bytes()
