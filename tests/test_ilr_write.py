"""A data set written as ILR returns and a datasheet (:mod:`kpidsl.data.ilr.write`) reads back
as the same records, and evaluates to the same results as its CSV files.

The returns validate against DfE's 2025-26 schema (``../shared/ilr``, beside the repository;
those tests skip where it is absent). The data sets are generated, and shifted by whole years
so that their programmes start before 1 August 2025 (events as event aims), on both sides of
it, or after it (events as EVI records).
"""

from __future__ import annotations

import collections
import datetime as dt
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from dateutil.relativedelta import relativedelta
from lxml import etree

import kpidsl
from cohort import FIXTURE_RULES
from kpidsl.contract.records import FIELDS, RECORD_TYPES
from kpidsl.data.csvfiles import write_data
from kpidsl.data.generate import generate
from kpidsl.data.ilr import Choices
from kpidsl.data.ilr.write import write_ilr
from kpidsl.data.sources import load_sources
from kpidsl.errors import DataError
from kpidsl.plan.lower import lower

SHARED = Path(__file__).resolve().parents[2] / "shared" / "ilr"
SCHEMA = SHARED / "ILR-2025-26-schema.xsd"
NS = re.compile(rb'xmlns="ESFA/ILR/[0-9]{4}-[0-9]{2}"')
#: Years each data set is shifted by: 0 (starts from August 2023 to June 2025: event aims),
#: 1 (both encodings), 2 (starts from August 2025: EVI records).
SHIFTS = (0, 1, 2)
LEARNERS = 300


@attrs.frozen
class Written:
    data: kpidsl.Dataset
    returns: list[str]
    sheet: str
    csv: str
    """The same data set as CSV files."""
    shift: int

    def day(self, text: str) -> dt.date:
        return dt.date.fromisoformat(text) + relativedelta(years=self.shift)


@pytest.fixture(scope="module")
def rules() -> kpidsl.RuleSet:
    return kpidsl.load_rules(FIXTURE_RULES, tests=False)


@pytest.fixture(scope="module")
def choices(rules: kpidsl.RuleSet) -> Choices:
    plan = lower(rules)
    return Choices.from_tables(plan.tables, plan.sources)


def shifted(data: kpidsl.Dataset, years: int) -> kpidsl.Dataset:
    """``data`` with every date moved by ``years`` (29 February to the 28th)."""
    delta = relativedelta(years=years)

    def move(name: str, r: Any) -> Any:
        return attrs.evolve(r, **{f: getattr(r, f) + delta for f, fi in FIELDS[name].items()
                                  if fi.kind == "date" and getattr(r, f) is not None})

    return kpidsl.Dataset(**{t.table: [move(t.name, r) for r in data.of(t.name)]
                             for t in RECORD_TYPES})


@pytest.fixture(scope="module")
def writes(tmp_path_factory: pytest.TempPathFactory, choices: Choices
           ) -> Callable[[int], Written]:
    """The generated data set shifted by some years, written as returns and as CSV files
    (once per shift)."""
    done: dict[int, Written] = {}

    def write(shift: int) -> Written:
        if shift not in done:
            data = shifted(generate(LEARNERS, seed=7), shift)
            folder = tmp_path_factory.mktemp(f"ilr{shift}")
            returns, sheet = write_ilr(data, folder / "returns", choices)
            write_data(data, folder / "csv")
            done[shift] = Written(data, returns, sheet, str(folder / "csv"), shift)
        return done[shift]

    return write


@pytest.fixture(scope="module", params=SHIFTS, ids=[f"+{s}y" for s in SHIFTS])
def written(request: pytest.FixtureRequest, writes: Callable[[int], Written]) -> Written:
    return writes(request.param)


def _programme_aims(path: str) -> dict[str, Any]:
    """The programme aim of each learner of a return, by ``LearnRefNumber``."""
    root = etree.parse(path).getroot()
    ns = {"i": etree.QName(root).namespace}
    return {learner.findtext("i:LearnRefNumber", namespaces=ns):
            learner.find("i:LearningDelivery[i:AimType='1']", namespaces=ns)
            for learner in root.iterfind("i:Learner", namespaces=ns)}


# ---- the returns -----------------------------------------------------------------------------


@pytest.mark.skipif(not SCHEMA.exists(), reason=f"DfE's schema is not at {SCHEMA}")
def test_every_return_validates_against_the_schema(written: Written):
    """Other years have the 2025-26 shape: checked with its namespace and year."""
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    for path in written.returns:
        text = Path(path).read_bytes()
        text = re.sub(rb"<Year>[0-9]{4}</Year>", b"<Year>2526</Year>",
                      NS.sub(b'xmlns="ESFA/ILR/2025-26"', text))
        assert schema.validate(etree.ElementTree(etree.fromstring(text))), \
            (path, schema.error_log.filter_from_errors()[:3])


def test_returns_are_named_and_headed_as_dfe_says(written: Written):
    for path in written.returns:
        m = re.fullmatch(r"ILR-([0-9]{8})-([0-9]{2})([0-9]{2})-([0-9]{8})-([0-9]{6})-01\.xml",
                         os.path.basename(path))
        assert m, path
        text = Path(path).read_text(encoding="utf-8")
        year = 2000 + int(m.group(2))
        assert int(m.group(3)) == (year + 1) % 100
        assert f'xmlns="ESFA/ILR/{year}-{m.group(3)}"' in text
        assert f"<UKPRN>{m.group(1)}</UKPRN>" in text
        assert f"<FilePreparationDate>{year + 1}-07-31</FilePreparationDate>" in text
        assert "OFFICIAL-SENSITIVE-Personal" in text and "<ULN>9999999999</ULN>" in text


def test_events_are_event_aims_before_august_2025_and_evi_records_after(written: Written):
    text = "".join(Path(p).read_text(encoding="utf-8") for p in written.returns)
    evi = len(re.findall(r"<LearnDelFAMType>EVI</LearnDelFAMType><LearnDelFAMCode>[12]<"
                         r"/LearnDelFAMCode><LearnDelFAMDateFrom>", text))
    event_aims = text.count("<LearnAimRef>Z0059747<") + text.count("<LearnAimRef>Z0059748<")
    assert (evi > 0) is (written.shift >= 1)
    assert (event_aims > 0) is (written.shift <= 1)
    if written.shift == 0:
        assert text.count("<LearnAimRef>Z0059748<") > 0


# ---- reading them back -----------------------------------------------------------------------


def test_the_returns_and_datasheet_read_back_as_the_records(written: Written,
                                                            choices: Choices):
    back = load_sources([os.path.dirname(written.returns[0]), written.sheet], choices)
    for t in RECORD_TYPES:
        assert collections.Counter(back.of(t.name)) == collections.Counter(
            written.data.of(t.name)), t.table
    # No conflict, nothing missing, no stand-in left (the employers, EmpId 999999999 in the
    # returns, are the datasheet's alone, as employers often are). Where the data set has no
    # Milestone 1 the returns derive one, and the datasheet's empty cell says it is missing.
    assert [n.message.split(" (")[0] for n in back.notices] in (
        [], ["milestone1_date: the datasheet's empty cells replace the returns' value"])


def test_evaluating_them_gives_the_csv_files_results(written: Written, rules: kpidsl.RuleSet,
                                                     engine: str):
    returns = os.path.dirname(written.returns[0])
    for day in ("2024-03-31", "2025-07-31"):
        when = written.day(day)
        expected = kpidsl.evaluate(rules, written.csv, when, engine=engine)
        got = kpidsl.evaluate(rules, [returns, written.sheet], when, engine=engine)
        assert got.results == expected.results
        assert sorted(got.actions, key=repr) == sorted(expected.actions, key=repr)


def test_evaluating_them_on_spark_gives_the_csv_files_results(
        writes: Callable[[int], Written], rules: kpidsl.RuleSet, spark: Any):
    """Once, Spark being slow: on the data set with both encodings, against the reference
    engine on the CSV files (tests/test_spark.py shows Spark gives the reference engine's
    results)."""
    written = writes(1)
    when = written.day("2025-03-31")
    expected = kpidsl.evaluate(rules, written.csv, when, engine="python")
    got = kpidsl.evaluate(rules, [os.path.dirname(written.returns[0]), written.sheet], when,
                          engine=spark)
    assert got.results == expected.results


def test_a_learner_of_two_years_is_read_from_the_later_return(
        writes: Callable[[int], Written], choices: Choices):
    """The earlier year's return holds the programme as it stood on 31 July (continuing);
    the later one its end. Reading both takes the later; reading the earlier alone does not
    know the end."""
    written = writes(0)
    first, second = dt.date(2024, 7, 31), dt.date(2025, 7, 31)
    learner = next(
        lr for lr in written.data.learners if lr.start_date <= first
        and lr.withdrawal_date is not None and first < lr.withdrawal_date <= second)
    provider = next(b.provider_id for b in written.data.bootcamps
                    if b.bootcamp_id == learner.bootcamp_id)
    ukprn = next(p.ukprn for p in written.data.providers if p.provider_id == provider)
    earlier, later = (next(p for p in written.returns
                           if os.path.basename(p).startswith(f"ILR-{ukprn}-{year}"))
                      for year in ("2324", "2425"))
    ns = "{ESFA/ILR/2023-24}"
    aim = _programme_aims(earlier)[learner.learner_id]
    assert aim.findtext(f"{ns}CompStatus") == "1"
    assert aim.find(f"{ns}LearnActEndDate") is None
    assert str(learner.withdrawal_date) not in Path(earlier).read_text(encoding="utf-8")
    aim = _programme_aims(later)[learner.learner_id]
    assert aim.findtext("{ESFA/ILR/2024-25}CompStatus") == "3"
    assert aim.findtext("{ESFA/ILR/2024-25}LearnActEndDate") == str(learner.withdrawal_date)

    back = load_sources([os.path.dirname(earlier), written.sheet], choices)
    read = next(lr for lr in back.learners if lr.learner_id == learner.learner_id)
    assert read == learner
    assert back.origins["learner", learner.learner_id].returns.file == later  # and a datasheet
    alone = load_sources([earlier], choices)
    assert next(lr for lr in alone.learners
                if lr.learner_id == learner.learner_id).withdrawal_date is None


def test_records_no_return_holds_come_back_from_the_datasheet(tmp_path: Path,
                                                               choices: Choices):
    """A bootcamp without learners (its provider_id is then in the datasheet) and a provider
    without a UKPRN or learners are in no return: the datasheet keeps them."""
    data = generate(60, seed=3)
    camp = data.bootcamps[0]
    data = attrs.evolve(
        data, providers=[*data.providers, kpidsl.Provider(provider_id="PX", name="None yet")],
        bootcamps=[*data.bootcamps, attrs.evolve(camp, bootcamp_id="IDLE1"),
                   attrs.evolve(camp, bootcamp_id="IDLE2", provider_id="PX")])
    _, sheet = write_ilr(data, tmp_path, choices)
    back = load_sources([tmp_path, sheet], choices)
    for t in RECORD_TYPES:
        assert collections.Counter(back.of(t.name)) == collections.Counter(data.of(t.name))
    only = [n.message.split(" (")[1].split(":")[0] for n in back.notices
            if n.message.startswith("in the datasheet but in no ILR return")]
    assert only == ["1 provider", "2 bootcamps"]


# ---- what cannot be written ------------------------------------------------------------------


def _broken(data: kpidsl.Dataset, what: str) -> kpidsl.Dataset:
    first = data.learners[0]
    if what == "ukprn":
        return attrs.evolve(data, providers=[attrs.evolve(p, ukprn=None)
                                             for p in data.providers])
    if what == "learner_id":
        return attrs.evolve(data, learners=[attrs.evolve(first, learner_id="L-1"),
                                            *data.learners[1:]])
    return attrs.evolve(
        data, bootcamps=[attrs.evolve(b, bootcamp_id="BC 1")
                         if b.bootcamp_id == first.bootcamp_id else b for b in data.bootcamps],
        learners=[attrs.evolve(lr, bootcamp_id="BC 1")
                  if lr.bootcamp_id == first.bootcamp_id else lr for lr in data.learners])


@pytest.mark.parametrize(("what", "message"), ids=["ukprn", "learner_id", "bootcamp_id"],
                         argvalues=[
    ("ukprn", "provider P001: ukprn: has learners but no UKPRN: an ILR return is the return "
     "of a UKPRN"),
    ("learner_id", "learner L-1: learner_id: is not a LearnRefNumber: 1 to 12 letters, digits "
     "or spaces"),
    ("bootcamp_id", "bootcamp BC 1: bootcamp_id: is not a ConRefNumber: 1 to 20 characters "
     "without spaces"),
])
def test_what_the_ilr_cannot_hold_is_an_error_naming_it(what: str, message: str,
                                                        tmp_path: Path, choices: Choices):
    """Found before anything is written."""
    with pytest.raises(DataError) as e:
        write_ilr(_broken(generate(60, seed=3), what), tmp_path / "out", choices)
    assert any(d.message.startswith(message) for d in e.value.diagnostics), \
        [d.message for d in e.value.diagnostics]
    assert not (tmp_path / "out").exists()


# ---- the bundled example ------------------------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "ilr"
SAMPLE = EXAMPLE.parent / "sample"


def test_the_bundled_returns_are_the_sample_written_as_returns(tmp_path: Path,
                                                               rules: kpidsl.RuleSet):
    """``examples/ilr`` is ``examples/sample`` as ILR returns and their datasheet, written by
    ``kpidsl.api.write_ilr``: written again, every file is the same; read, the same records."""
    kpidsl.api.write_ilr(kpidsl.load_data(SAMPLE), tmp_path, rules)
    ours = sorted(p.relative_to(EXAMPLE) for p in EXAMPLE.rglob("*") if p.is_file())
    again = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert ours == again
    for name in ours:
        assert (EXAMPLE / name).read_bytes() == (tmp_path / name).read_bytes(), name
    back, sample = kpidsl.load_data([EXAMPLE, EXAMPLE / "datasheet"], rules), \
        kpidsl.load_data(SAMPLE)
    for t in RECORD_TYPES:
        assert collections.Counter(back.of(t.name)) == collections.Counter(sample.of(t.name))


def test_worker_processes_read_the_same_records(written: Written, choices: Choices,
                                                monkeypatch: pytest.MonkeyPatch):
    """Many returns are read by worker processes: the records, their order, where each value
    came from and the findings are those of reading them here."""
    import kpidsl.data.ilr as ilr

    paths = [os.path.dirname(written.returns[0]), written.sheet]
    here = load_sources(paths, choices)
    monkeypatch.setattr(ilr, "SHARED_BYTES", 0)
    shared = load_sources(paths, choices)
    for t in RECORD_TYPES:
        assert shared.of(t.name) == here.of(t.name), t.table
    assert shared.origins == here.origins
    assert [d.message for d in shared.notices] == [d.message for d in here.notices]
