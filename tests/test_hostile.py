"""Regression tests for hostile and careless inputs (issue 11): each case once broke a promise —
no hang, no internal error, no silent loss, every error located."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

import kpidsl
from kpidsl.cli import main
from kpidsl.engines.python import reused_definitions

D = dt.date
SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample"
AS_OF = ["--as-of", "2025-03-31"]


def _shipped(tmp_path: Path, extra: str | None = None) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(kpidsl.default_rules_path(), folder)
    if extra is not None:
        (folder / "extra.kpi").write_text(extra, encoding="utf-8")
    return folder


def _sample(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data)
    return data


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---- High ------------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_old_mac_and_windows_line_ends_keep_every_kpi(tmp_path, newline):
    """A CR-only file whose first line is a comment was one long comment: the KPI vanished."""
    rules = _shipped(tmp_path)
    path = rules / "03_learner_dropout.kpi"
    path.write_bytes(path.read_bytes().replace(b"\n", newline.encode()))
    loaded = kpidsl.load_rules(rules)
    assert "learner_dropout" in [k.name for k in loaded.kpis]
    report = kpidsl.evaluate(loaded, kpidsl.load_data(SAMPLE), as_of=D(2025, 3, 31))
    assert report.result("learner_dropout").denominator > 0


def test_cr_only_line_ends_locate_errors_on_the_right_line(tmp_path):
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "x.kpi").write_bytes(b"# one\r# two\rdefine x for learner: completon_date is set\r")
    with pytest.raises(kpidsl.RuleError) as e:
        kpidsl.load_rules(folder)
    assert "x.kpi:3:23: error: unknown name `completon_date`" in e.value.render()


_CHAIN = "define c0 for learner: completion_date is set\n" + "".join(
    f"define c{i} for learner: c{i - 1} or c{i - 1}\n" for i in range(1, 26))
_CONSUMERS = {
    "finding": 'finding deep:\n  message: "m"\n  for: learners where c25\n',
    "action": 'action deep:\n  message: "m"\n  for: learners where c25\n',
    "measure": ('kpi deep:\n  title: "T"\n  per: provider\n'
                '  actual: count(learners where c25)\n  planned: count(learners)\n'
                '  target: at least 50%\n'),
}


@pytest.mark.parametrize("consumer", sorted(_CONSUMERS))
def test_a_definition_chain_is_remembered_for_every_consumer(tmp_path, consumer, capsys):
    """`c25` would take 2**25 steps per learner unless each `c` is remembered; before the fix
    only KPI clauses shared them, and a finding, an action or a measure ran for ever."""
    rules = kpidsl.load_rules(_shipped(tmp_path, _CHAIN + _CONSUMERS[consumer]))
    assert {("learner", f"c{i}") for i in range(1, 25)} <= reused_definitions(rules)
    code, out, _ = _run(capsys, "evaluate", "--data", str(SAMPLE), "--rules",
                        str(tmp_path / "rules"), *AS_OF, "--format", "json")
    assert code == 0 and "deep" in out


def test_explain_remembers_the_chain_too(tmp_path, capsys):
    rules = _shipped(tmp_path, _CHAIN + 'kpi deep:\n  title: "T"\n  population: learners\n'
                     '  counted when: c25\n  target: at least 1%\n')
    code, out, _ = _run(capsys, "explain", "deep", "--data", str(SAMPLE), "--rules", str(rules),
                        *AS_OF)
    assert code == 0 and "counted" in out


@pytest.mark.parametrize("kind", ["dangling", "looping", "fifo", "device"])
def test_a_data_file_that_is_not_a_regular_file_is_refused(tmp_path, kind, capsys):
    """A broken link was read as an absent file (exit 0, co-funding changed); a FIFO blocked
    for ever; a link to /dev/zero ate all memory."""
    data = _sample(tmp_path)
    target = data / "cofunding.csv"
    target.unlink()
    if kind == "dangling":
        target.symlink_to(data / "nowhere.csv")
        why = f"it is a symbolic link to {data / 'nowhere.csv'}, which does not exist"
    elif kind == "looping":
        target.symlink_to(target)
        why = "it is a symbolic link that leads back to itself"
    elif kind == "fifo":
        os.mkfifo(target)
        why = "it is a named pipe (FIFO), not a regular file"
    else:
        target.symlink_to("/dev/zero")
        why = "it is a device, not a regular file"
    code, out, err = _run(capsys, "evaluate", "--data", str(data), *AS_OF)
    assert code == 1 and out == ""
    assert f"{target}: error: cannot read the file: {why}" in err


def test_a_rule_file_that_is_a_fifo_is_refused(tmp_path, capsys):
    rules = _shipped(tmp_path)
    os.mkfifo(rules / "pipe.kpi")
    code, _, err = _run(capsys, "check", str(rules))
    assert code == 1
    assert f"{rules / 'pipe.kpi'}: error: cannot read the rule file: it is a named pipe" in err
