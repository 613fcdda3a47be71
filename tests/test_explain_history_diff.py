"""``explain``, ``history`` and ``diff``: why each record counts, statuses over months, and
what a rule change does to the results.

The explanations must add up to exactly what ``evaluate`` reports; a month of the history
must be exactly a separate ``evaluate`` at that month end; a diff must list exactly the results
whose status or counts change.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

import kpidsl
from cohort import FIXTURE_RULES, LATE, completer, dataset, fixture_rules, starter, withdrawn
from kpidsl.api import history, month_ends, rules_fingerprint
from kpidsl.cli import main
from kpidsl.data.csvfiles import load_data, write_data
from kpidsl.data.generate import generate
from kpidsl.engines.python import PythonEngine
from kpidsl.language.changes import compare_rules
from kpidsl.language.words import percent
from kpidsl.outputs.svg import history_svg
from kpidsl.outputs.text import render_explain, render_history
from kpidsl.plan.lower import lower

D = dt.date.fromisoformat
RULES = FIXTURE_RULES
DATES = (D("2024-03-31"), D("2024-12-31"), D("2025-06-30"))


def explain(rules: kpidsl.RuleSet, data: kpidsl.Dataset, as_of: dt.date, kpi: str,
            group: str = "all") -> list[kpidsl.Verdict]:
    """The reference engine's verdicts, through the engine protocol."""
    return PythonEngine().load(data).verdicts(lower(rules), as_of, kpi, group)


@functools.lru_cache(maxsize=2)
def generated(seed: int) -> kpidsl.Dataset:
    return generate(1500, seed=seed)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("generated")
    write_data(generate(400, seed=3), folder)
    return folder


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---- explain agrees with evaluate -------------------------------------------------------------


@pytest.mark.parametrize("seed", [11, 12])
def test_explain_adds_up_to_evaluate_for_every_kpi_group_and_date(seed):
    data, rules = generated(seed), fixture_rules()
    provider_of = {b.bootcamp_id: b.provider_id for b in data.bootcamps}
    for as_of in DATES:
        report = kpidsl.evaluate(rules, data, as_of)
        for kpi in rules.kpis:
            verdicts = explain(rules, data, as_of, kpi.name)
            results = [r for r in report.results if r.kpi == kpi.name]
            if kpi.per is not None:  # one verdict per provider: its actual, planned, status
                by_provider = {v.record.split()[-1]: v for v in verdicts}
                for r in results:
                    if r.scope == "provider":
                        v = dict(by_provider[r.group].values)
                        assert (v["actual"], v["planned"]) == (r.numerator, r.denominator)
                        assert by_provider[r.group].verdict == r.status
                continue
            counts: Counter[tuple[str, str]] = Counter()
            for v in verdicts:
                for group in (v.bootcamp, provider_of[v.bootcamp], "all"):
                    counts[(group, "n")] += 1
                    counts[(group, v.verdict)] += 1
            for r in results:
                got = (counts[(r.group, "counted")], counts[(r.group, "n")],
                       counts[(r.group, "pending")])
                assert got == (r.numerator, r.denominator, r.pending), (kpi.name, r, as_of)


def test_explain_for_one_group_lists_just_its_records():
    data, rules = generated(11), fixture_rules()
    everyone = explain(rules, data, DATES[1], "learner_dropout")
    bootcamp, provider = data.bootcamps[0].bootcamp_id, data.bootcamps[0].provider_id
    mine = {b.bootcamp_id for b in data.bootcamps if b.provider_id == provider}
    assert explain(rules, data, DATES[1], "learner_dropout", bootcamp) == \
        [v for v in everyone if v.bootcamp == bootcamp]
    assert explain(rules, data, DATES[1], "learner_dropout", provider) == \
        [v for v in everyone if v.bootcamp in mine]
    assert explain(rules, data, DATES[1], "learner_dropout", "NOPE") == []
    # judged per provider: no bootcamp groups
    assert explain(rules, data, DATES[1], "delivery_against_profile", bootcamp) == []


# ---- explain: what a person reads ---------------------------------------------------------


def _explained(kpi: str, ds: kpidsl.Dataset, as_of: dt.date, group: str = "B1") -> list[str]:
    rules = fixture_rules()
    report = kpidsl.evaluate(rules, ds, as_of)
    verdicts = explain(rules, ds, as_of, kpi, group)
    return render_explain(verdicts, report.result(kpi, "bootcamp", group), as_of).splitlines()


def test_dropout_lines_show_the_deciding_clause_and_its_values():
    ds = dataset([withdrawn("W", "2024-03-01"), completer("C"), starter("S")])
    lines = _explained("learner_dropout", ds, LATE)
    assert lines[:2] == [
        "learner_dropout for bootcamp B1 as of 2026-12-31: not met (target: at most 20%)",
        "3 records: 1 counted, 1 not counted, 1 pending; rate 33.3%",
    ]
    text = "\n".join(lines)
    assert "\n".join([
        "learner W (B1): counted",
        "  counted when: withdrawal_date is set",
        "    withdrawal_date = 2024-03-01",
    ]) in text
    assert "\n".join([
        "learner C (B1): not counted",
        "  counted when: withdrawal_date is set",
        "    withdrawal_date = —",
        "  pending when: completion_date is missing",
        "    completion_date = 2024-06-30",
    ]) in text
    assert "\n".join([
        "learner S (B1): pending",
        "  pending when: withdrawal_date is missing and completion_date is missing",
        "    withdrawal_date = —, completion_date = —",
    ]) in text


def test_a_date_after_the_as_of_date_is_shown_missing():
    lines = _explained("learner_dropout", dataset([withdrawn("W", "2024-03-01")]),
                       D("2024-02-29"))
    assert lines[3:6] == [
        "learner W (B1): pending",
        "  pending when: withdrawal_date is missing and completion_date is missing",
        "    withdrawal_date = —, completion_date = —",
    ]


def test_career_progression_shows_the_deadline_that_passed_and_what_the_outcome_reads():
    lines = _explained("career_progression", dataset([completer("C", "2024-08-31")]),
                       D("2025-03-31"))
    assert lines[3:11] == [
        "learner C (B1): not counted",
        "  counted when: positive_outcome",
        "    positive_outcome = false, completer = true, completion_date = 2024-08-31,",
        "    outcome_date = —, deadline = 2025-02-28, seeks_job = true,",
        "    learner_type = independent, wants_interview = —, outcome = —,",
        "    bootcamp.accelerated_apprenticeship = false",
        "  pending when: as_of <= deadline",
        "    as_of = 2025-03-31, deadline = 2025-02-28, completion_date = 2024-08-31",
    ]


def test_a_not_counted_record_names_the_first_false_part_of_counted_when():
    ds = dataset([completer("A", initial_assessment_date="2024-01-02",
                            final_assessment_date="2024-06-30", skills_gained=False)])
    lines = _explained("new_skills", ds, LATE)
    assert lines[3:6] == [
        "learner A (B1): not counted",
        "  counted when: skills_gained",
        "    skills_gained = false",
    ]


def test_delivery_against_profile_explains_each_provider(data_dir):
    rules, data = fixture_rules(), load_data(data_dir)
    verdicts = explain(rules, data, D("2025-03-31"), "delivery_against_profile")
    assert [v.record for v in verdicts] == [f"provider {p.provider_id}" for p in data.providers]
    names = [name for name, _ in verdicts[0].values]
    assert names[:2] == ["actual", "planned"] and "management_point" in names
    assert "tolerance(management_point, management_point.date)" in names
    assert dict(verdicts[0].values)["management_point"].label == "R04"


# ---- history ----------------------------------------------------------------------------


def test_month_ends_include_both_ends_and_clamp_february():
    assert month_ends(D("2023-12-01"), D("2024-02-01")) == [
        D("2023-12-31"), D("2024-01-31"), D("2024-02-29")]


def test_history_json_is_a_separate_evaluate_at_each_month_end(capsys, data_dir):
    code, out, _ = run(capsys, "history", "--data", str(data_dir), "--from", "2024-11",
                       "--to", "2025-02", "--format", "json")
    assert code == 0
    got = json.loads(out)
    assert list(got) == ["audit", "months", "rules"]
    assert got["rules"] == {"folder": "rules", "shipped": False,
                            "fingerprint": rules_fingerprint(fixture_rules())[:12]}
    assert [m["as_of"] for m in got["months"]] == [
        "2024-11-30", "2024-12-31", "2025-01-31", "2025-02-28"]
    data, rules = load_data(data_dir), fixture_rules()
    for month in got["months"]:
        assert list(month) == ["as_of", "results"]
        expected = kpidsl.evaluate(rules, data, D(month["as_of"])).to_dict()["results"]
        assert month["results"] == expected


def test_history_filters_by_kpi_and_group(capsys, data_dir):
    code, out, _ = run(capsys, "history", "--data", str(data_dir), "--from", "2025-01",
                       "--to", "2025-02", "--format", "json", "--kpi", "referral",
                       "--group", "all")
    assert code == 0
    results = [r for m in json.loads(out)["months"] for r in m["results"]]
    assert len(results) == 2 and {(r["kpi"], r["group"]) for r in results} == {("referral", "all")}


def test_history_table_fits_80_columns_and_wraps_into_blocks():
    rules, data = fixture_rules(), generated(11)
    months = history(rules, data, month_ends(D("2023-01-01"), D("2025-12-01")))  # 36 months
    text = render_history(months)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    headers = [line for line in lines if line.startswith("KPI  ")]
    assert len(headers) == 2  # 36 months: two blocks of 18
    assert headers[0].split()[1:] == list("JFMAMJJASONDJFMAMJ")
    for kpi in rules.kpis:
        assert sum(line.startswith(kpi.name + " ") for line in lines) == 2
    dropout = next(line for line in reversed(lines) if line.startswith("learner_dropout "))
    assert dropout.endswith("≤ 20%")
    assert "✓ met  ✗ not met  · on track  ! at risk  – no data" in lines


def test_history_table_shows_each_months_status(capsys, data_dir):
    code, out, _ = run(capsys, "history", "--data", str(data_dir), "--from", "2024-06",
                       "--to", "2024-08")
    assert code == 0
    report = kpidsl.evaluate(fixture_rules(), load_data(data_dir), D("2024-07-31"))
    symbol = {"met": "✓", "not_met": "✗", "on_track": "·", "at_risk": "!", "no_data": "–"}
    row = next(line for line in out.splitlines() if line.startswith("learner_dropout "))
    assert row.split()[2] == symbol[report.result("learner_dropout").status]


def test_history_chart_is_svg_with_one_line_per_kpi(capsys, data_dir, tmp_path):
    chart = tmp_path / "chart.svg"
    code, _, _ = run(capsys, "history", "--data", str(data_dir), "--from", "2024-01",
                     "--to", "2025-06", "--chart", str(chart))
    assert code == 0
    root = ET.parse(chart).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    rates = [p for p in root.iter(f"{ns}path") if p.get("class") == "rate"]
    assert [p.get("data-kpi") for p in rates] == [k.name for k in fixture_rules().kpis]
    targets = [p for p in root.iter(f"{ns}path") if p.get("class") == "target"]
    assert len(targets) == len(rates)
    labels = {t.text for t in root.iter(f"{ns}text")}
    assert {"Jan", "2024", "2025"} <= labels


def test_history_chart_draws_each_kpi_in_a_panel_of_its_own_on_one_time_axis(data_dir):
    """Issue 21, item 11: small multiples. Each KPI has a panel titled with its title and
    target, holding only its rate and target lines; the panels do not overlap, and the i-th
    month is at the same place across them (their time axis is shared); plain SVG."""
    rules = fixture_rules()
    dates = month_ends(D("2024-01-01"), D("2025-06-01"))
    months = history(rules, load_data(data_dir), dates)
    text = history_svg(months, "all", rules)
    assert "<script" not in text and "javascript:" not in text
    ns = "{http://www.w3.org/2000/svg}"
    root = ET.fromstring(text)
    panels = [g for g in root.iter(f"{ns}g") if g.get("class") == "panel"]
    assert [g.get("data-kpi") for g in panels] == [k.name for k in rules.kpis]
    last = {(r.kpi, r.scope): r for r in months[-1][1]}
    spans, columns = [], {}
    for g, kpi in zip(panels, rules.kpis, strict=True):
        title = kpi.meta_value("title")
        target = last[kpi.name, "programme"]
        sign = "≥" if target.direction == "at least" else "≤"
        heading = next(t for t in g.iter(f"{ns}text") if t.get("class") == "panel-title").text
        shown = title if len(title) <= 44 else title[:43].rstrip() + "…"
        assert heading == f"{shown} ({sign} {percent(target.target)})"
        assert g.find(f"{ns}title").text == title  # the whole title, on hover
        paths = {p.get("class"): p for p in g.iter(f"{ns}path")}
        assert set(paths) == {"rate", "target"}
        assert {p.get("data-kpi") for p in paths.values()} == {kpi.name}
        points = [[float(v) for v in step.split()[1:]] for step in
                  paths["rate"].get("d").replace("M", "|M").replace("L", "|L").split("|")[1:]]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        spans.append((min(xs), max(xs), min(ys), max(ys)))
        ticks = [float(line.get("x1")) for line in g.iter(f"{ns}line")
                 if line.get("x1") == line.get("x2")]
        assert len(ticks) == len(dates)  # one tick a month
        columns.setdefault(ticks[0], []).append(ticks)
    for a, b in itertools.combinations(spans, 2):
        # side by side, or one under the other: never drawn over each other
        assert a[1] < b[0] or b[1] < a[0] or a[3] < b[2] or b[3] < a[2], (a, b)
    assert len(columns) == 2 and all(len({tuple(t) for t in c}) == 1
                                     for c in columns.values())
    labels = [t.text for t in root.iter(f"{ns}text")]
    assert labels.count("2025") == 2  # each year once, under each column's bottom panel


def test_history_chart_of_one_kpi_with_gaps_is_well_formed():
    rules, data = fixture_rules(), generated(12)
    months = [(d, [r for r in rs if r.kpi == "referral"])
              for d, rs in history(rules, data, month_ends(D("2023-09-01"), D("2024-03-01")))]
    root = ET.fromstring(history_svg(months))
    assert len([p for p in root.iter("{http://www.w3.org/2000/svg}path")
                if p.get("class") == "rate"]) == 1


# ---- diff -------------------------------------------------------------------------------


def test_diff_lists_exactly_the_dropout_results_whose_status_changes(capsys, tmp_path,
                                                                     data_dir):
    new = tmp_path / "rules"
    shutil.copytree(RULES, new)
    rule = new / "03_learner_dropout.kpi"
    text = rule.read_text(encoding="utf-8")
    assert text.count("target: at most 20%") == 1
    rule.write_text(text.replace("target: at most 20%", "target: at most 10%"), encoding="utf-8")
    as_of = "2025-06-30"
    data = load_data(data_dir)
    before = kpidsl.evaluate(kpidsl.load_rules(RULES), data, D(as_of))
    after = kpidsl.evaluate(kpidsl.load_rules(new), data, D(as_of))
    expected = [(b.kpi, b.scope, b.group, b.status, a.status)
                for b, a in zip(before.results, after.results, strict=True)
                if b.status != a.status]
    assert expected and {e[0] for e in expected} == {"learner_dropout"}

    code, out, _ = run(capsys, "diff", str(RULES), str(new), "--data", str(data_dir),
                       "--as-of", as_of, "--format", "json")
    assert code == 0
    got = json.loads(out)
    assert got["added"] == got["removed"] == []
    assert [(c["kpi"], c["scope"], c["group"], c["old"]["status"], c["new"]["status"])
            for c in got["changes"]] == expected

    code, out, _ = run(capsys, "diff", str(RULES), str(new), "--data", str(data_dir),
                       "--as-of", as_of)
    assert code == 0
    old_line, new_line, rest = out.split("\n", 2)
    assert old_line == f"Old rules: {RULES} (fingerprint {rules_fingerprint(fixture_rules())[:12]})"
    assert new_line.startswith(f"New rules: {new} (fingerprint ")
    assert rest.startswith("Rule changes, which can change results: 1\n"
                           "  kpi learner_dropout: target: at most 20% → at most 10%\n\n"
                           "Text changes, which change no result: none\n\n"
                           "Test changes: none\n\n"
                           f"Results as of {as_of}: {len(expected)} results change status or "
                           "counts\n")
    assert "learner_dropout  (target: at most 20% → at most 10%)" in out


def test_diff_without_changes_exits_0_and_lists_added_and_removed_kpis(capsys, tmp_path,
                                                                      data_dir):
    code, out, _ = run(capsys, "diff", str(RULES), str(RULES), "--data", str(data_dir),
                       "--as-of", "2025-03-31")
    assert code == 0 and out.split("\n", 2)[2] == (
        "No changes: the rules, their texts and their tests are the same.\n")
    more = tmp_path / "more"
    shutil.copytree(RULES, more)
    dropout = (RULES / "03_learner_dropout.kpi").read_text(encoding="utf-8")
    (more / "09_strict.kpi").write_text(dropout.replace("kpi learner_dropout:", "kpi strict:")
                                        .replace("at most 20%", "at most 5%"), encoding="utf-8")
    for old, new, added, removed in ((RULES, more, ["strict"], []),
                                     (more, RULES, [], ["strict"])):
        code, out, _ = run(capsys, "diff", str(old), str(new), "--data", str(data_dir),
                           "--as-of", "2025-03-31", "--format", "json")
        got = json.loads(out)
        assert code == 0 and (got["added"], got["removed"], got["changes"]) == (added, removed, [])
        assert [c["words"] for c in got["rule_changes"]] == [
            f"kpi strict: {'added' if added else 'removed'}"]


def test_diff_reports_a_target_change_that_moves_no_result(capsys, tmp_path, data_dir):
    """The issue's complaint: 'no result changes' and not a word about the target."""
    new = tmp_path / "rules"
    shutil.copytree(RULES, new)
    rule = new / "03_learner_dropout.kpi"
    rule.write_text(rule.read_text(encoding="utf-8").replace("target: at most 20%",
                                                             "target: at most 21%"),
                    encoding="utf-8")
    code, out, _ = run(capsys, "diff", str(RULES), str(new), "--data", str(data_dir),
                       "--as-of", "2023-06-30")  # before anyone starts: every status no_data
    assert code == 0
    assert out.split("\n", 2)[2] == (
        "Rule changes, which can change results: 1\n"
        "  kpi learner_dropout: target: at most 20% → at most 21%\n\n"
        "Text changes, which change no result: none\n\n"
        "Test changes: none\n\n"
        "Results as of 2023-06-30: no result changes status or counts\n")


@pytest.mark.parametrize(("file", "old", "new", "words"), [
    ("02_employer_cofunding.kpi", "sme: 10%", "sme: 12%",
     "table cofunding_rate: sme: 10% → 12%"),
    ("08_delivery_against_profile.kpi", "R08: 10%", "R08: 12%",
     "table tolerance: from 2020-08-01: R08: 10% → 12%"),
    ("08_delivery_against_profile.kpi", "R08: 30 April", "R08: 31 May",
     "schedule management_point: R08: 30 April → 31 May"),
    ("definitions.kpi", "completion_date + 6 months", "completion_date + 5 months",
     "define deadline for learner: completion_date + 6 months → completion_date + 5 months"),
    ("07_referral.kpi", "counted when: referral_date is set and",
     "counted when: referral_date is set or",
     "kpi referral: counted when: referral_date is set and referral_kind in {job, training}"
     " → referral_date is set or referral_kind in {job, training}"),
    ("01_employer_engagement.kpi", "contact_attempts >= 3", "contact_attempts >= 4",
     "action employer_unreachable: for: engagements where not reached and "
     "contact_attempts >= 3 → engagements where not reached and contact_attempts >= 4"),
])
def test_each_kind_of_rule_change_in_words(tmp_path, file, old, new, words):
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    changes = compare_rules(fixture_rules(), kpidsl.load_rules(folder))
    assert [c.words() for c in changes] == [words]


def test_layout_and_prose_are_not_rule_changes(tmp_path):
    """Prose is a text change (``compare_texts``, tests in ``test_diff.py``), and a KPI's
    ``level`` is prose: it states the target to readers, and changes no result."""
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    path = folder / "03_learner_dropout.kpi"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("target: at most 20%", "target:   at most   20%  # max")
                    .replace("Providers are measured", "Providers are judged")
                    .replace('level: "Max 20% dropout"', 'level: "Max 15% dropout"'),
                    encoding="utf-8")
    assert compare_rules(fixture_rules(), kpidsl.load_rules(folder)) == []


# ---- the command line -------------------------------------------------------------------


def test_explain_cli_table_and_json(capsys, tmp_path):
    folder = tmp_path / "cohort"
    write_data(dataset([withdrawn("W"), *(completer(f"C{i}") for i in range(4))]), folder)
    code, out, err = run(capsys, "explain", "learner_dropout", "--data", str(folder),
                         "--as-of", "2025-01-31", "--group", "B1")
    assert (code, err) == (0, "")
    assert out.splitlines()[:3] == [
        f"Rules: rules (fingerprint {rules_fingerprint(fixture_rules())[:12]})",
        "learner_dropout for bootcamp B1 as of 2025-01-31: met (target: at most 20%)",
        "5 records: 1 counted, 4 not counted, 0 pending; rate 20%",
    ]
    code, out, _ = run(capsys, "explain", "learner_dropout", "--data", str(folder),
                       "--as-of", "2025-01-31", "--format", "json")
    got = json.loads(out)
    assert code == 0 and got["result"]["status"] == "met" and len(got["records"]) == 5
    assert got["records"][0] == {
        "record": "learner W", "record_type": "learner", "record_id": "W", "bootcamp": "B1",
        "provider": "P1", "verdict": "counted",
        "reasons": [{"clause": "counted when", "source": "withdrawal_date is set",
                     "values": {"withdrawal_date": "2024-03-01"}}]}


def test_explain_verdict_shows_some_records_under_the_whole_result(capsys, tmp_path):
    folder = tmp_path / "cohort"
    write_data(dataset([withdrawn("W"), *(completer(f"C{i}") for i in range(4))]), folder)
    code, out, err = run(capsys, "explain", "learner_dropout", "--data", str(folder),
                         "--as-of", "2025-01-31", "--group", "B1", "--verdict", "counted")
    assert (code, err) == (0, "")
    assert out.splitlines()[2:4] == ["5 records: 1 counted, 4 not counted, 0 pending; rate 20%",
                                     "shown: the 1 record counted"]
    code, out, err = run(capsys, "explain", "learner_dropout", "--data", str(folder),
                         "--verdict", "met")
    assert code == 2 and err == ("kpidsl explain: error: verdict 'met' does not apply to "
                                 "learner_dropout: a record of it is counted, not counted or "
                                 "pending\n")
    assert "counted, not counted or pending" in err


def test_evaluate_explain_adds_explanations_and_leaves_the_default_json_alone(capsys,
                                                                               data_dir):
    args = ("evaluate", "--data", str(data_dir), "--as-of", "2025-03-31", "--format", "json")
    _, plain, _ = run(capsys, *args)
    code, out, _ = run(capsys, *args, "--explain")
    assert code == 0
    plain_json, got = json.loads(plain), json.loads(out)
    assert list(plain_json) == ["as_of", "audit", "results", "findings", "actions", "rules"]
    assert {k: v for k, v in got.items() if k != "explanations"} == plain_json
    assert list(got["explanations"]) == [k.name for k in fixture_rules().kpis]
    dropout = next(r for r in plain_json["results"]
                   if (r["kpi"], r["group"]) == ("learner_dropout", "all"))
    verdicts = Counter(v["verdict"] for v in got["explanations"]["learner_dropout"])
    assert (verdicts["counted"], verdicts.total(), verdicts["pending"]) == (
        dropout["numerator"], dropout["denominator"], dropout["pending"])


@pytest.mark.parametrize(("argv", "message"), [
    (["history", "--from", "2024-13", "--to", "2025-01"], "'2024-13' is not a month"),
    (["history", "--from", "2024/01", "--to", "2025-01"], "write YYYY-MM"),
    (["history", "--from", "2025-02", "--to", "2025-01"], "the first month, 2025-02, is after the last, 2025-01"),
    (["history", "--from", "2025-01", "--to", "2025-01", "--kpi", "dropout"],
     "did you mean `learner_dropout`?"),
    (["history", "--from", "2025-01", "--to", "2025-01", "--group", "NOPE"],
     "no group 'NOPE'; the groups are all, "),
    (["explain", "learner_drop"], "no KPI called 'learner_drop'; did you mean `learner_dropout`?"),
    (["explain", "learner_dropout", "--group", "NOPE"], "the groups are all, "),
    (["explain", "delivery_against_profile", "--group", "BC0001"], "judged per provider"),
    (["evaluate", "--explain"], "--explain needs --format json"),
    (["diff", "rules", "no/such/rules"], "no/such/rules: no such file or folder"),
])
def test_usage_errors_exit_2_with_a_clear_message(capsys, data_dir, argv, message):
    code, out, err = run(capsys, *argv, "--data", str(data_dir))
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_rule_and_data_errors_exit_1(capsys, tmp_path, data_dir):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "bad.kpi").write_text('kpi x:\n  title: "X"\n  populaton: learners\n',
                                 encoding="utf-8")
    code, _, err = run(capsys, "diff", str(RULES), str(bad), "--data", str(data_dir))
    assert code == 1 and "bad.kpi:3:3" in err
    broken = tmp_path / "broken"
    shutil.copytree(data_dir, broken)
    with (broken / "learners.csv").open("a", encoding="utf-8") as f:
        f.write("L_BAD,NOPE,independent,,2024-01-01,,,,,,,,,,,,\n")
    for argv in (["explain", "learner_dropout"], ["history", "--from", "2025-01", "--to",
                                                  "2025-01"]):
        code, _, err = run(capsys, *argv, "--data", str(broken))
        assert code == 1 and "learners.csv" in err and "Traceback" not in err


def test_history_shows_no_engagement_before_it_was_recorded():
    """An engagement recorded after a month's end does not exist in that month: a bootcamp
    whose engagements are all dated has no employer-engagement data before the first of them,
    however well it was engaged later (KPI-SPEC §2)."""
    data = generated(11)
    first: dict[str, dt.date] = {}
    undated = {e.bootcamp_id for e in data.engagements if e.recorded_date is None}
    for e in data.engagements:
        if e.recorded_date is not None and e.reached:
            first[e.bootcamp_id] = min(first.get(e.bootcamp_id, e.recorded_date), e.recorded_date)
    months = history(fixture_rules(), data, month_ends(D("2023-05-01"), D("2025-07-31")))
    checked = 0
    for when, results in months:
        for r in results:
            if r.kpi != "employer_engagement" or r.scope != "bootcamp" or r.group in undated:
                continue
            if r.group not in first or when < first[r.group]:
                assert (r.status, r.denominator) == ("no_data", 0), (when, r.group)
                checked += 1
            else:
                assert r.denominator > 0, (when, r.group)
    assert checked > 100
    may_2023 = next(rs for w, rs in months if w == D("2023-05-31"))
    programme = next(r for r in may_2023 if (r.kpi, r.scope) == ("employer_engagement",
                                                                 "programme"))
    # months before any bootcamp: only the undated engagements that were reached exist
    reached_undated = sum(1 for e in data.engagements if e.recorded_date is None and e.reached)
    assert programme.denominator == reached_undated
