"""Evidence for audit: a bundle that ties reported figures to what produced them, and its check.

A bundle is a folder written by :func:`record_evidence` (``kpidsl evaluate --record DIR``):

- ``rules/``: the rule files as evaluated, at their paths relative to their common folder;
- ``report.json``: the report, as ``evaluate --format json`` prints it;
- ``manifest.json``: the kpidsl version, the engine, the as-of date, the fingerprint of the
  rules and of each rule file, the fingerprint of the data and of each data file (sha256 of
  its bytes, as ``sha256sum`` prints it), and the sha256 of ``report.json``.

The data itself is not copied (it names people); :func:`verify` re-evaluates the bundle's
rules on the data given, at the recorded date, and compares every figure. The evidence holds
only for the data recorded: data whose fingerprint differs are not verified, even where the
figures happen to match, unless only the figures are asked to be compared.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import attrs

from kpidsl.api import Data, as_date, evaluate, load_rules, rules_fingerprint
from kpidsl.classes import fields_methods
from kpidsl.contract.records import RECORD_TYPES
from kpidsl.data.csvfiles import file_fingerprints
from kpidsl.data.dataset import Dataset
from kpidsl.data.datasheet import sheet_name
from kpidsl.errors import DataError, Diagnostic, UsageError
from kpidsl.language.checker import RuleSet
from kpidsl.language.rulesets import rule_texts
from kpidsl.language.words import human
from kpidsl.outputs.jsonout import result_json
from kpidsl.outputs.report import Report

MANIFEST, REPORT, RULES = "manifest.json", "report.json", "rules"
#: The figures of a result that must be reproduced.
FIGURES = ("status", "numerator", "denominator", "pending", "target")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_evidence(report: Report, rules: RuleSet,
                    data: Dataset | str | os.PathLike[str] | None,
                    folder: str | os.PathLike[str]) -> Path:
    """Write the evidence bundle of ``report`` (evaluated with ``rules`` on ``data``, records
    or a data folder; ``None``: the data the report says it evaluated) into ``folder``, which
    must be new or empty: evidence is never overwritten. A report evaluated in a database (or
    on a connection of one's own) has no files to fingerprint: the bundle says so, and
    :func:`verify` compares only the figures."""
    data = report.data if data is None else data
    out = Path(folder)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out} exists and is not an empty folder",
                         "give a new folder: an evidence bundle is never overwritten")
    texts = rule_texts(rules)
    report_text = report.to_json() + "\n"
    manifest = {
        "kpidsl": report.version, "engine": report.engine, "as_of": report.as_of.isoformat(),
        "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rules": {"fingerprint": report.rules_fingerprint,
                  "files": {path: _sha256(text) for path, text in texts.items()}},
        "data": {"fingerprint": report.data_fingerprint,
                 "files": {} if data is None else file_fingerprints(data)},
        "report": _sha256(report_text),
    }
    try:
        for path, text in texts.items():
            target = out / RULES / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="")
        (out / REPORT).write_text(report_text, encoding="utf-8", newline="")
        (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8",
                                    newline="")
    except OSError as e:
        raise UsageError(f"cannot write the evidence bundle to {out}: {e.strerror or e}"
                         ) from None
    return out


@attrs.frozen(kw_only=True)
@fields_methods
class Verification:
    """Whether a bundle's figures are reproduced on the data it was recorded from."""

    as_of: dt.date
    """The recorded as-of date, at which the rules were evaluated again."""
    recorded: dict[str, Any]
    """The bundle's manifest."""
    checked: int
    """How many results were compared."""
    differences: tuple[str, ...]
    """Each figure not reproduced (or change to the bundle itself), in report order."""
    data_changes: tuple[str, ...]
    """The data files whose fingerprint differs from the recorded one."""
    figures_only: bool = False
    """Only the figures were asked to be compared: data that differ do not count."""
    report: Report
    """The report evaluated now."""

    @property
    def data_matched(self) -> bool | None:
        """The data are the recorded data (every file's fingerprint is as recorded); ``None``
        when the recorded data were a database's own tables, which have no fingerprint, so
        only the figures can be compared."""
        if not self.recorded.get("data", {}).get("fingerprint"):
            return None
        return not self.data_changes

    @property
    def figures_reproduced(self) -> bool:
        """Every figure was reproduced, from rules as recorded (whatever the data)."""
        return not self.differences

    @property
    def reproduced(self) -> bool:
        """Every figure was reproduced, from rules as recorded, on the data as recorded (or,
        with :attr:`figures_only` or data that have no fingerprint, on any data)."""
        return self.figures_reproduced and (self.figures_only or self.data_matched is not False)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError([Diagnostic(message="not in the evidence bundle", file=str(path),
                                    hint="give the folder written by evaluate --record")]
                        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise DataError([Diagnostic(message=f"cannot be read as JSON: {e}", file=str(path))]
                        ) from None


def _brief(r: dict[str, Any]) -> str:
    text = f"{human(r['status'])}, {r['numerator']} of {r['denominator']}"  # as tables print it
    return text + (f", {r['pending']} pending" if r["pending"] else "") + \
        f" (target {r['target']})"


def verify(bundle: str | os.PathLike[str], data: Data, *,
           figures_only: bool = False) -> Verification:
    """Evaluate a bundle's rules again on ``data`` (as for :func:`kpidsl.evaluate`: a data
    folder, a workbook, ILR returns with their datasheet, records) at the recorded date, with
    the recorded engine, and compare every figure of the recorded report (each result's
    status, k, n, pending and target, and the number of findings and actions). Changes to
    the bundle itself (its rules or its report edited after recording) are differences too.

    Data whose fingerprint differs from the recorded one are not the evidence: the bundle is
    not :attr:`~Verification.reproduced` even where the figures match, unless
    ``figures_only``. A bundle recorded from a database's own tables has no fingerprint of
    its data, and only its figures are compared."""
    folder = Path(bundle)
    if not folder.is_dir():
        raise UsageError(f"{folder}: not an evidence bundle folder",
                         "give the folder written by kpidsl evaluate --record DIR")
    manifest = _read_json(folder / MANIFEST)
    report_path = folder / REPORT
    recorded = _read_json(report_path)
    differences = []
    if _sha256(report_path.read_text(encoding="utf-8")) != manifest.get("report"):
        differences.append(f"{REPORT} was changed after it was recorded")
    rules = load_rules(folder / RULES)
    fingerprint = manifest.get("rules", {}).get("fingerprint")
    if rules_fingerprint(rules) != fingerprint:
        hashes = {p: _sha256(t) for p, t in rule_texts(rules).items()}
        was = manifest.get("rules", {}).get("files", {})
        changed = sorted(p for p in {*hashes, *was} if hashes.get(p) != was.get(p))
        differences.append("the bundle's rules were changed after they were recorded: "
                           + ", ".join(changed))
    when = as_date(manifest.get("as_of", recorded.get("as_of", "")), "the recorded as_of")
    report = evaluate(rules, data, as_of=when, engine=manifest.get("engine"))
    # a workbook's or the ILR returns', of the records read
    files_now = file_fingerprints(report.data) if report.data is not None else {}
    files_then = manifest.get("data", {}).get("files", {})
    data_changes = tuple(name for name in sorted({*files_now, *files_then})
                         if files_now.get(name) != files_then.get(name))
    if not manifest.get("data", {}).get("fingerprint"):  # a database's: nothing to compare
        data_changes = ()
    now = {(r.kpi, r.scope, r.group): result_json(r) for r in report.results}
    seen = set()
    for r in recorded.get("results", []):
        key = (r["kpi"], r["scope"], r["group"])
        seen.add(key)
        where = f"{r['kpi']} for " + ("the programme" if r["scope"] == "programme"
                                      else f"{r['scope']} {r['group']}")
        again = now.get(key)
        if again is None:
            differences.append(f"{where}: recorded {_brief(r)}; there is no such result now")
        elif any(r.get(f) != again[f] for f in FIGURES):
            differences.append(f"{where}: recorded {_brief(r)}; now {_brief(again)}")
    for key, r in now.items():
        if key not in seen:
            differences.append(f"{key[0]} for {key[1]} {key[2]}: not recorded; now "
                               f"{_brief(r)}")
    for kind, entries in (("findings", report.findings), ("actions", report.actions)):
        then = len(recorded.get(kind, []))
        if then != len(entries):
            differences.append(f"{kind}: recorded {then}, now {len(entries)}")
    return Verification(as_of=when, recorded=manifest, checked=len(seen),
                        differences=tuple(differences), data_changes=data_changes,
                        figures_only=figures_only, report=report)


def _changed(v: Verification) -> str:
    """The data that differ as a person finds them: a workbook's by its sheet
    (``book.xlsx:learners``), as its findings are located, since it has no ``learners.csv``;
    records merged from ILR returns keep the contract's file names."""
    data = v.report.data
    book = data.book if isinstance(data, Dataset) and not data.origins else None
    sheets = {t.file: sheet_name(t) for t in RECORD_TYPES}
    return ", ".join(f"{book}:{sheets[n]}" if book is not None and n in sheets else n
                     for n in v.data_changes)


def render(v: Verification, bundle: str) -> str:
    """For a person: what was recorded, whether the rules and data are as recorded, and
    whether every figure is reproduced, naming the first that is not; data that differ are
    named in the verdict, so that a match of the figures alone is never read as evidence."""
    m = v.recorded
    out = [f"Evidence {bundle}: recorded by kpidsl {m.get('kpidsl')} ({m.get('engine')} engine) "
           f"as of {v.as_of.isoformat()}, at {m.get('recorded_at', 'an unknown time')}"]
    data_fp = m.get("data", {}).get("fingerprint", "")
    out.append(f"rules: {m.get('rules', {}).get('fingerprint', '')[:12]} (the bundle's rules/)")
    differ = f"the data differ from the recorded data, in {_changed(v)}"
    if v.data_matched is None:
        out.append("data: a database's own tables when recorded, not fingerprinted: only the "
                   "figures are compared")
    elif not v.report.data_fingerprint:
        differ = ("the data are a database's own tables, which have no fingerprint to show "
                  "that they are the recorded data")
        out.append(f"data: a database's own tables, not fingerprinted; recorded: {data_fp[:12]}")
    elif v.data_changes:
        out.append(f"data: differs from the recorded data in {_changed(v)}")
    else:
        out.append(f"data: as recorded ({data_fp[:12]})")
    same = f"all {v.checked} results, and the findings and actions, are as recorded"
    if v.figures_reproduced and v.data_matched is False:
        if v.figures_only:
            out.append(f"REPRODUCED (figures only): {same}, but {differ}")
        else:
            out.append(f"NOT REPRODUCED: {differ}; the figures are as recorded, but the "
                       f"evidence holds for the recorded data only (--figures-only compares "
                       f"the figures alone)")
    elif v.figures_reproduced:
        out.append(f"REPRODUCED: {same}" + (" (the figures only: the recorded data have no "
                                            "fingerprint)" if v.data_matched is None else ""))
    else:
        out.append(f"NOT REPRODUCED: {v.differences[0]}")
        if len(v.differences) > 1:
            out += [f"  and {len(v.differences) - 1} more:"] + \
                [f"  {d}" for d in v.differences[1:20]]
            if len(v.differences) > 20:
                out.append(f"  … and {len(v.differences) - 20} more")
    return "\n".join(out)
