"""Benchmark: whole ``kpidsl`` processes against hand-written baselines and the yardstick.

``python benchmarks/bench.py [--sizes 100000 1000000] [--repeats 3] [--json PATH]
[--compare PREVIOUS.json]``

For each size it generates a data folder once (``kpidsl generate --seed 1``, kept under
``benchmarks/.data``), then runs these programs in turns, ``--repeats`` rounds, each as a
process of its own, and reports the median wall time and the peak memory (max RSS) of each:

- ``kpidsl evaluate --format json`` on the default engine (DuckDB), and on ``--engine python``;
- ``baseline_python.py``: the seven KPIs as a straightforward hand-written Python program;
- ``baseline_duckdb.py``: the seven KPIs hand-written as DuckDB SQL, as an expert would;
- the yardstick, ``../shared/yardsticks/duckdb_kpis.py`` beside the repository when it is
  there: an independent DuckDB program of the seven KPIs that a baseline must be at least as
  fast as, or its ratio flatters kpidsl (a loud line says so when one is not).

The ratios are kpidsl's median over each other program's. kpidsl does more than the others (it
checks every cell and reference of the data, evaluates the framework rule, the data-quality
findings and the follow-up actions); the numbers say what they measure. The results of the
seven KPIs are compared across all programs before anything is timed; a baseline that
disagrees stops the benchmark, a yardstick that disagrees is reported (it is not ours to fix).

It also times, in turns with a process that only imports kpidsl's dependencies (``python -c
"import duckdb, lark, attrs, dateutil"``), ``evaluate`` and ``check`` on the sample data;
``kpidsl history`` over 36 month ends (as JSON and as its table) against one ``evaluate`` at
``--history-size`` learners, ``evaluate --format xlsx`` (the report workbook, every record
explained) against ``--format json`` at the same size, reading ILR returns against reading
CSV files at ``--ilr-size`` learners (:func:`ilr_bench`), loading into and evaluating on
PostgreSQL at ``--postgres-size`` (:func:`postgres_bench`), and ``kpidsl --help``. Issue
20's targets (:func:`targets`) are printed last, each met or missed, and every figure, with
every run's time, goes into the ``--json`` file.

Regressions: the run is compared with ``--compare PREVIOUS.json`` (default: the last run,
``benchmarks/.results/last.json``, which each run then replaces); a figure has moved when it
changed by more than the noise, the larger of 10% and the spread of either run's times
(:func:`compare`). ``--compare OLD.json NEW.json`` compares two files and runs nothing.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
#: The yardstick: an independent program of the seven KPIs, kept outside the repository.
YARDSTICK = REPO.parent / "shared" / "yardsticks" / "duckdb_kpis.py"
RESULTS = HERE / ".results"
PY = sys.executable
KPIDSL = [PY, "-m", "kpidsl"]
#: The floor of any kpidsl command: a Python process that imports its dependencies.
IMPORTS = [PY, "-c", "import duckdb, lark, attrs, dateutil"]
#: The sample data set and the date its README evaluates it at.
SAMPLE, SAMPLE_AS_OF = REPO / "examples" / "sample", "2025-03-31"
PYTHON, SQL, YARD = "hand-written Python", "hand-written DuckDB SQL", "yardstick (DuckDB)"
#: How much slower than the yardstick each baseline may be before its ratio flatters kpidsl,
#: and at which size (None: any): the SQL baseline must be at least as fast; a straightforward
#: Python program took 1.55 s where the yardstick took 0.57 s, at 100,000 learners
#: (shared/yardsticks/README.md; at 1,000,000 the yardstick's start is a smaller part of it).
BASELINE_LIMITS: dict[str, tuple[float, int | None]] = {SQL: (1.0, None),
                                                        PYTHON: (1.55 / 0.57, 100_000)}
SEVEN = ("employer_engagement", "employer_cofunding", "learner_dropout", "new_skills",
         "guaranteed_interview", "career_progression", "referral")


def _measure(cmd: list[str], keep: bool) -> tuple[float, int, bytes, str | None]:
    """Wall seconds, peak memory (max RSS, from ``wait4``), output (if ``keep``) and, if it
    failed, the error output of one process, run in the repository (``kpidsl check`` and
    ``evaluate`` read its ``rules/``)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    chunks = []
    assert proc.stdout is not None
    while chunk := proc.stdout.read(1 << 20):
        if keep:
            chunks.append(chunk)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    assert proc.stderr is not None
    err = proc.stderr.read()
    failed = err.decode()[-2000:] if os.waitstatus_to_exitcode(status) else None
    return seconds, usage.ru_maxrss * 1024, b"".join(chunks), failed


_SPAWNER: Any = None


def measured(cmd: list[str], keep: bool = True) -> tuple[float, int, bytes]:
    """:func:`_measure` in a fresh, small process forked from a fork server started before
    the benchmark held anything: Linux counts the peak memory of the process that starts a
    program in the program's own (``ru_maxrss`` survives ``exec``), so a program started by
    this process after it held a history's output would seem to use as much."""
    seconds, rss, out, failed = _SPAWNER.apply(_measure, (cmd, keep))
    if failed is not None:
        raise SystemExit(f"bench: {' '.join(cmd)} failed:\n{failed}")
    return seconds, rss, out


def seven(output: bytes) -> dict[tuple[str, str, str], tuple[object, ...]]:
    results = json.loads(output)["results"]
    return {(r["kpi"], r["scope"], r["group"]): (r["status"], r["numerator"],
                                                 r["denominator"], r["pending"])
            for r in results if r["kpi"] in SEVEN}


def data_folder(size: int) -> Path:
    folder = HERE / ".data" / f"learners-{size}"
    if not (folder / "learners.csv").exists():
        print(f"generating {size:,} learners in {folder}", file=sys.stderr)
        subprocess.run([*KPIDSL, "generate", "--learners", str(size), "--seed", "1",
                        "--out", str(folder)], check=True, stdout=subprocess.DEVNULL)
    return folder


def programs(folder: Path, as_of: str, python_engine: bool) -> dict[str, list[str]]:
    evaluate = [*KPIDSL, "evaluate", "--data", str(folder), "--as-of", as_of, "--format", "json"]
    out = {"kpidsl (duckdb)": evaluate}
    if python_engine:
        out["kpidsl (python engine)"] = [*evaluate, "--engine", "python"]
    out[PYTHON] = [PY, str(HERE / "baseline_python.py"), str(folder), as_of]
    out[SQL] = [PY, str(HERE / "baseline_duckdb.py"), str(folder), as_of]
    if YARDSTICK.exists():
        out[YARD] = [PY, str(YARDSTICK), str(folder), as_of]
    return out


def figure(times: list[float], peak: int | None = None) -> dict[str, Any]:
    """A timed program's figures: the median, every run's time, their spread (max − min over
    the median: the noise of this machine at that moment) and the peak memory."""
    median = statistics.median(times)
    out: dict[str, Any] = {"median_s": median, "runs": len(times), "times_s": times,
                           "spread": (max(times) - min(times)) / median if median else 0.0}
    if peak is not None:
        out["max_rss_mb"] = peak / 2**20
    return out


def in_turns(cmds: dict[str, list[str]], repeats: int) -> dict[str, dict[str, Any]]:
    """Each program run once a round, in the same order, ``repeats`` rounds: a load on the
    machine that comes and goes falls on all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in cmds}
    peaks: dict[str, int] = dict.fromkeys(cmds, 0)
    for _ in range(repeats):
        for name, cmd in cmds.items():
            seconds, rss, _ = measured(cmd, keep=False)
            times[name].append(seconds)
            peaks[name] = max(peaks[name], rss)
    return {name: figure(t, peaks[name]) for name, t in times.items()}


def ilr_folder(size: int) -> Path:
    """The same data set as :func:`data_folder`'s, written as ILR returns with their
    datasheet in ``datasheet/`` (``kpidsl generate --ilr``)."""
    folder = HERE / ".data" / f"ilr-{size}"
    if not (folder / "datasheet" / "learners.csv").exists():
        print(f"generating {size:,} learners as ILR returns in {folder}", file=sys.stderr)
        subprocess.run([*KPIDSL, "generate", "--ilr", "--learners", str(size), "--seed", "1",
                        "--out", str(folder)], check=True, stdout=subprocess.DEVNULL)
    return folder


#: A process that reads a data set with ``kpidsl.load_data`` (its paths are the arguments).
READ = "import sys, kpidsl; kpidsl.load_data(sys.argv[1:], kpidsl.load_rules())"
#: A process that streams every learner of the returns in a folder and keeps none of them:
#: its peak memory is what parsing costs, whatever the size of the returns.
STREAM = ("import sys; from kpidsl.data.ilr import return_files; "
          "from kpidsl.data.ilr.returns import Tally, read_header, read_learners\n"
          "for f in return_files(sys.argv[1]):\n"
          "    for _ in read_learners(read_header(f), Tally()): pass")


def ilr_bench(size: int, as_of: str, repeats: int) -> dict[str, object]:
    """Reading ``size`` learners from ILR returns with their datasheet against reading the
    same data set from CSV files, as whole processes in turns (issue 18: at most 2×); the
    same evaluated end to end (the results compared first); and the peak memory of
    streaming returns of a tenth of the size and of the whole size (flat: parsing holds one
    learner at a time)."""
    csv, ilr = data_folder(size), ilr_folder(size)
    small = ilr_folder(size // 10)
    evaluate = [*KPIDSL, "evaluate", "--as-of", as_of, "--format", "json"]
    both = {"evaluate CSV": [*evaluate, "--data", str(csv)],
            "evaluate returns + datasheet": [*evaluate, "--data", str(ilr), "--data",
                                             str(ilr / "datasheet")]}
    answers = [seven(measured(cmd)[2]) for cmd in both.values()]
    if answers[0] != answers[1]:
        raise SystemExit(f"bench: the returns and the CSV files disagree at {size}")
    cmds = {"read CSV": [PY, "-c", READ, str(csv)],
            "read returns + datasheet": [PY, "-c", READ, str(ilr), str(ilr / "datasheet")],
            "read returns alone": [PY, "-c", READ, str(ilr)],
            **both,
            f"stream returns ({size // 10:,})": [PY, "-c", STREAM, str(small)],
            f"stream returns ({size:,})": [PY, "-c", STREAM, str(ilr)]}
    timing = in_turns(cmds, repeats)
    read = timing["read returns + datasheet"]["median_s"] / timing["read CSV"]["median_s"]
    whole = timing["evaluate returns + datasheet"]["median_s"] / \
        timing["evaluate CSV"]["median_s"]
    mb = sum(p.stat().st_size for p in ilr.glob("*.xml")) / 2**20
    print(f"\nILR returns at {size:,} learners ({mb:.0f} MB of XML), {repeats} rounds in "
          "turns (same results: yes)")
    for name, t in timing.items():
        print(f"  {name:32} {t['median_s']:7.2f} s  {t['max_rss_mb']:7.0f} MB")
    print(f"  read returns + datasheet / read CSV = {read:.2f} (target at most 2)")
    print(f"  evaluate returns + datasheet / evaluate CSV = {whole:.2f}")
    return {"programs": timing, "read_ratio": read, "evaluate_ratio": whole, "xml_mb": mb,
            "learners": size}


def postgres_bench(size: int, as_of: str, repeats: int) -> dict[str, object]:
    """On a PostgreSQL server of the OS package (started as the tests start one): ``kpidsl
    load`` of the data folder against COPY of the same files plus the same checks
    (``baseline_pg_copy.py``), each into a new database every round (made before the clock
    starts); then ``evaluate`` on that database against the DuckDB engine on the folder
    (issue 19: at most 2×), the results compared first."""
    sys.path.insert(0, str(HERE.parent / "tests"))
    try:
        import psycopg

        import pg

        pg.server()
    except BaseException as e:  # pytest's skip, when there is no PostgreSQL
        print(f"\nPostgreSQL: not measured ({e})")
        return {}
    folder = data_folder(size)
    loads: dict[str, list[float]] = {"kpidsl load": [], "COPY + checks (baseline)": []}
    for _ in range(repeats):
        for name in loads:
            url = pg.fresh_database()
            cmd = [*KPIDSL, "load", str(folder), "--into", url] if name == "kpidsl load" \
                else [PY, str(HERE / "baseline_pg_copy.py"), str(folder), url]
            loads[name].append(measured(cmd, keep=False)[0])
            if name == "kpidsl load":
                loaded = url
    evaluate = [*KPIDSL, "evaluate", "--as-of", as_of, "--format", "json"]
    both = {"evaluate on PostgreSQL": [*evaluate, "--data", loaded],
            "evaluate on DuckDB (folder)": [*evaluate, "--data", str(folder)]}
    if seven(measured(both["evaluate on PostgreSQL"])[2]) != \
            seven(measured(both["evaluate on DuckDB (folder)"])[2]):
        raise SystemExit("bench: PostgreSQL and DuckDB disagree")
    timing = in_turns(both, repeats)
    for name, times in loads.items():
        timing[name] = figure(times)
    with psycopg.connect(pg.url(), autocommit=True) as con:
        version = con.execute("SHOW server_version").fetchone()
    load = timing["kpidsl load"]["median_s"] / timing["COPY + checks (baseline)"]["median_s"]
    whole = timing["evaluate on PostgreSQL"]["median_s"] / \
        timing["evaluate on DuckDB (folder)"]["median_s"]
    print(f"\nPostgreSQL {version[0] if version else '?'} at {size:,} learners, {repeats} "
          "rounds in turns (same results: yes)")
    for name, t in timing.items():
        print(f"  {name:32} {t['median_s']:7.2f} s")
    print(f"  kpidsl load / COPY + checks = {load:.2f} (target at most 1)")
    print(f"  evaluate on PostgreSQL / on DuckDB = {whole:.2f} (target at most 2)")
    return {"programs": timing, "load_ratio": load, "evaluate_ratio": whole,
            "learners": size}


def compiled() -> None:
    """Write kpidsl's bytecode, as an installation from a wheel has it (an editable install
    run with ``PYTHONDONTWRITEBYTECODE`` would otherwise compile every module at every start,
    which no user's installation does)."""
    import compileall

    import kpidsl

    compileall.compile_dir(Path(kpidsl.__file__).parent, quiet=1)


def agreement(answers: dict[str, dict[tuple[str, str, str], tuple[object, ...]]],
              size: int, warnings: list[str]) -> dict[str, dict[str, int]]:
    """The programs' results of the seven KPIs against kpidsl's: a baseline that disagrees
    stops the benchmark; the yardstick is not ours to fix, so its disagreements are counted
    per KPI, said loudly and kept in the report."""
    ours = answers["kpidsl (duckdb)"]
    differ: dict[str, dict[str, int]] = {}
    for name, got in answers.items():
        wrong = Counter(key[0] for key in ours.keys() | got.keys() if got.get(key) != ours.get(key))
        if not wrong:
            continue
        per_kpi = ", ".join(f"{kpi} {n}" for kpi, n in sorted(wrong.items()))
        if name != YARD:
            raise SystemExit(f"bench: {name} disagrees with kpidsl on {wrong.total()} results "
                             f"at {size:,} learners ({per_kpi})")
        differ[name] = dict(wrong)
        warn(warnings, f"the yardstick disagrees with kpidsl on {wrong.total()} results at "
             f"{size:,} learners ({per_kpi}): it is timed all the same, but on those KPIs it "
             "does not compute what kpidsl computes")
    return differ


def warn(warnings: list[str], text: str) -> None:
    """A loud line, printed now and again at the end, and kept in the report."""
    warnings.append(text)
    print(f"!!! {text}")


def size_bench(size: int, args: argparse.Namespace, warnings: list[str]) -> dict[str, Any]:
    """Every program at ``size`` learners, results compared, then timed in turns."""
    folder = data_folder(size)
    cmds = programs(folder, args.as_of, size <= args.python_engine_max)
    answers = {name: seven(measured(cmd)[2]) for name, cmd in cmds.items()}
    differ = agreement(answers, size, warnings)
    print(f"\n{size:,} learners, {args.repeats} rounds in turns (same results: "
          f"{'yes' if not differ else 'yes, but for the yardstick'})")
    timing = in_turns(cmds, args.repeats)
    ours = timing["kpidsl (duckdb)"]
    for name in (PYTHON, SQL, YARD):
        if name in timing:
            timing[name]["kpidsl_ratio"] = ours["median_s"] / timing[name]["median_s"]
    limits = {YARD: 1.3, PYTHON: 0.4} if size in (100_000, 1_000_000) else {}
    for name, t in timing.items():
        line = f"  {name:26} {t['median_s']:7.2f} s  {t['max_rss_mb']:7.0f} MB"
        if "kpidsl_ratio" in t:
            line += f"  kpidsl / this = {t['kpidsl_ratio']:.2f}"
            if name in limits:
                line += f" (target at most {limits[name]}: " \
                        f"{shown(verdict(t['kpidsl_ratio'], limits[name]))})"
        elif name == "kpidsl (duckdb)" and size == 1_000_000:
            line += f"  (target at most 1,024 MB: {shown(verdict(t['max_rss_mb'], 1024))})"
        print(line)
    if YARD in timing:
        for name, (limit, at) in BASELINE_LIMITS.items():
            times = timing[name]["median_s"] / timing[YARD]["median_s"]
            if times > limit and at in (None, size):
                warn(warnings, f"baseline slower than the yardstick: ratios flatter kpidsl "
                     f"({name} {timing[name]['median_s']:.2f} s = {times:.2f} × the yardstick "
                     f"{timing[YARD]['median_s']:.2f} s at {size:,} learners; at most "
                     f"{limit:.2f} ×)")
    return {"programs": timing, "disagreements": differ, "learners": size}


def sample_bench(repeats: int) -> dict[str, Any]:
    """``evaluate`` on the sample data (as the README runs it) and ``check`` of the rules,
    against a process that only imports kpidsl's dependencies, in turns: what kpidsl adds to
    the start of any program that uses the same libraries."""
    cmds = {"import duckdb, lark, attrs, dateutil": IMPORTS,
            "kpidsl evaluate (sample)": [*KPIDSL, "evaluate", "--data", str(SAMPLE),
                                         "--as-of", SAMPLE_AS_OF],
            "kpidsl check": [*KPIDSL, "check"]}
    timing = in_turns(cmds, repeats)
    floor = timing["import duckdb, lark, attrs, dateutil"]["median_s"]
    print(f"\nthe sample data ({SAMPLE.relative_to(REPO)}), {repeats} rounds in turns")
    for name, t in timing.items():
        t["floor_ratio"] = t["median_s"] / floor
        print(f"  {name:36} {t['median_s']:6.3f} s = {t['floor_ratio']:.2f} × the imports")
    return {"programs": timing}


def verdict(value: float | None, limit: float) -> str:
    return "not measured" if value is None else "met" if value <= limit else "missed"


def shown(verdict: str) -> str:
    """A verdict as printed: a missed target stands out."""
    return verdict.upper() if verdict == "missed" else verdict


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 20's targets, each with its figure, its limit, its verdict and the noise of its
    figure (the spreads of the runs it is made of, added)."""
    out: list[dict[str, Any]] = []

    def ratio(name: str, a: dict[str, Any] | None, b: dict[str, Any] | None,
              limit: float) -> None:
        value = a["median_s"] / b["median_s"] if a and b else None
        noise = a["spread"] + b["spread"] if a and b else None
        out.append({"target": name, "measured": value, "limit": limit, "unit": "×",
                    "noise": noise, "verdict": verdict(value, limit)})

    sizes = report["sizes"]
    for size in (100_000, 1_000_000):
        timing = sizes.get(size, {}).get("programs", {})
        ours = timing.get("kpidsl (duckdb)")
        ratio(f"evaluate / yardstick at {size:,}", ours, timing.get(YARD), 1.3)
        ratio(f"evaluate / hand-written Python at {size:,}", ours, timing.get(PYTHON), 0.4)
    sample = report.get("sample", {}).get("programs", {})
    floor = sample.get("import duckdb, lark, attrs, dateutil")
    ratio("sample: evaluate / importing the dependencies",
          sample.get("kpidsl evaluate (sample)"), floor, 2.0)
    ratio("sample: check / importing the dependencies", sample.get("kpidsl check"), floor, 1.5)
    history = report.get("history", {})
    ratio(f"history (36 months, JSON) / one evaluate at {history.get('learners', 100_000):,}",
          history.get("history (36 months)"), history.get("one evaluate"), 2.5)
    ratio(f"history (36 months, table) / one evaluate at {history.get('learners', 100_000):,}",
          history.get("history (36 months, table)"), history.get("one evaluate"), 2.5)
    big = sizes.get(1_000_000, {}).get("programs", {}).get("kpidsl (duckdb)")
    memory = big["max_rss_mb"] if big else None
    out.append({"target": "peak memory of evaluate at 1,000,000", "measured": memory,
                "limit": 1024, "unit": "MB", "noise": 0.0, "verdict": verdict(memory, 1024)})
    return out


def print_targets(rows: list[dict[str, Any]]) -> None:
    print("\ntargets (issue 20)")
    for t in rows:
        value = "—" if t["measured"] is None else \
            f"{t['measured']:.0f} MB" if t["unit"] == "MB" else f"{t['measured']:.2f} ×"
        limit = f"{t['limit']:,} MB" if t["unit"] == "MB" else f"{t['limit']} ×"
        print(f"  {t['target']:52} {value:>9}  at most {limit:9} {shown(t['verdict'])}")


def figures(report: dict[str, Any]) -> dict[str, tuple[float, float, str]]:
    """Every figure of a report (as read from its JSON): name → (value, noise, unit). A timed
    program gives its median time (noise: the spread of its runs) and its peak memory; a
    target gives its measured value (noise: the spreads of what it is made of)."""
    out: dict[str, tuple[float, float, str]] = {}

    def walk(node: object, path: str) -> None:
        if not isinstance(node, dict):
            return
        if "median_s" in node:
            out[f"{path}: time"] = (node["median_s"], node.get("spread", 0.0), "s")
            if "max_rss_mb" in node:
                out[f"{path}: peak memory"] = (node["max_rss_mb"], 0.0, "MB")
            return
        for key, value in node.items():
            if key in ("sizes", "programs"):  # names enough without them
                walk(value, path)
            elif key != "targets":
                name = f"{int(key):,} learners" if key.isdigit() else key
                walk(value, f"{path} / {name}" if path else name)

    walk(report, "")
    for t in report.get("targets", []):
        if t["measured"] is not None:
            out[f"target: {t['target']}"] = (t["measured"], t["noise"] or 0.0, t["unit"])
    return out


def compare(previous: dict[str, Any], current: dict[str, Any],
            floor: float = 0.10) -> list[dict[str, Any]]:
    """The figures of ``current`` that moved from ``previous`` by more than the noise: the
    larger of ``floor`` (10%) and the spread of either run's times. Both are reports as
    written to JSON; a figure only one of them has is not compared."""
    old, new = figures(previous), figures(current)
    moved = []
    for name in sorted(old.keys() & new.keys()):
        (before, noise_before, unit), (after, noise_after, _) = old[name], new[name]
        if not before:
            continue
        change = after / before - 1
        noise = max(floor, noise_before, noise_after)
        if abs(change) > noise:
            moved.append({"figure": name, "before": before, "after": after, "unit": unit,
                          "change": change, "noise": noise})
    return moved


def print_moved(moved: list[dict[str, Any]], previous: dict[str, Any],
                current: dict[str, Any], against: str, compared: int) -> None:
    print(f"\ncompared with {against} ({previous.get('date', '?')}, commit "
          f"{(previous.get('commit') or '?')[:12]}): {len(moved)} of {compared} figures moved "
          "by more than the noise")
    times = [m["change"] for m in moved if m["unit"] == "s"]
    if len(times) >= 3 and (all(c > 0 for c in times) or all(c < 0 for c in times)):
        print(f"  every time that moved went the same way ({statistics.median(times):+.0%} in "
              f"the median; load average {previous.get('load_average', '?')} then, "
              f"{current.get('load_average', '?')} now): that is the machine more than the "
              "code; the ratios, timed in turns (target: …), are the figures to go by")
    words = {"s": ("slower", "faster"), "MB": ("more memory", "less memory"),
             "×": ("higher", "lower")}
    for m in moved:
        up, down = words[m["unit"]]
        print(f"  {up if m['change'] > 0 else down:11} {m['figure']}: {m['before']:.3g} → "
              f"{m['after']:.3g} {m['unit']} ({m['change']:+.0%}; noise ±{m['noise']:.0%})")


def run_compare(path: str, current: dict[str, Any]) -> dict[str, Any]:
    """Compare ``current`` (a report as written to JSON) with the report in ``path``, print
    what moved and return it for the report."""
    previous = json.loads(Path(path).read_text(encoding="utf-8"))
    moved = compare(previous, current)
    compared = len(figures(previous).keys() & figures(current).keys())
    print_moved(moved, previous, current, path, compared)
    return {"file": path, "compared": compared, "moved": moved}


def commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--as-of", default="2025-03-31")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sample-repeats", type=int, default=10,
                    help="rounds for the sample data's short processes (default 10)")
    ap.add_argument("--python-engine-max", type=int, default=100_000,
                    help="time the Python engine only up to this size")
    ap.add_argument("--history-size", type=int, default=100_000)
    ap.add_argument("--ilr-size", type=int, default=100_000,
                    help="time reading ILR returns at this size (0: not at all)")
    ap.add_argument("--postgres-size", type=int, default=100_000,
                    help="time loading into and evaluating on PostgreSQL at this size, on a "
                    "server the bench starts from the OS package (0: not at all)")
    ap.add_argument("--json", metavar="PATH", help="write every figure here too")
    ap.add_argument("--compare", metavar="JSON", nargs="+",
                    help="PREVIOUS.json: compare this run with it (default: the last run, "
                    f"{RESULTS.relative_to(REPO)}/last.json, if any); PREVIOUS.json "
                    "CURRENT.json: compare two runs and run nothing")
    ap.add_argument("--no-save", action="store_true",
                    help=f"do not replace {RESULTS.relative_to(REPO)}/last.json with this run")
    args = ap.parse_args(argv)
    if args.compare and len(args.compare) > 2:
        ap.error("--compare takes PREVIOUS.json, or PREVIOUS.json CURRENT.json")
    if args.compare and len(args.compare) == 2:
        run_compare(args.compare[0],
                    json.loads(Path(args.compare[1]).read_text(encoding="utf-8")))
        return 0
    last = RESULTS / "last.json"
    previous = args.compare[0] if args.compare else str(last) if last.exists() else None

    load = os.getloadavg()
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"), "commit": commit(), "cpus": os.cpu_count(),
        "python": sys.version.split()[0], "load_average": [round(x, 2) for x in load],
        "as_of": args.as_of, "repeats": args.repeats,
        "yardstick": str(YARDSTICK) if YARDSTICK.exists() else None, "sizes": {}}
    warnings: list[str] = []
    if not YARDSTICK.exists():
        warn(warnings, f"no yardstick at {YARDSTICK}: the baselines are not checked against it")
    if load[0] > (os.cpu_count() or 1):
        print(f"note: load average {load[0]:.1f} on {os.cpu_count()} cores: other processes "
              "are running; the ratios (programs in turns) stay fair, the times are slower")
    global _SPAWNER
    _SPAWNER = multiprocessing.get_context("forkserver").Pool(1, maxtasksperchild=1)
    compiled()

    for size in args.sizes:
        report["sizes"][size] = size_bench(size, args, warnings)

    report["sample"] = sample_bench(max(args.sample_repeats, args.repeats))

    folder = data_folder(args.history_size)
    history = [*KPIDSL, "history", "--data", str(folder), "--from", "2023-01", "--to", "2025-12"]
    one = programs(folder, args.as_of, False)["kpidsl (duckdb)"]
    # JSON (every result at every month end: 186 MB at 100,000 learners) and the command's
    # own table (each KPI's status for the programme at each month end), in the same turns
    h = in_turns({"history (36 months)": [*history, "--format", "json"],
                  "history (36 months, table)": history, "one evaluate": one}, args.repeats)
    ratio = h["history (36 months)"]["median_s"] / h["one evaluate"]["median_s"]
    table = h["history (36 months, table)"]["median_s"] / h["one evaluate"]["median_s"]
    report["history"] = {**h, "ratio": ratio, "table_ratio": table,
                         "learners": args.history_size}
    print(f"\nhistory of 36 month ends at {args.history_size:,} learners, one evaluate "
          f"{h['one evaluate']['median_s']:.2f} s (target at most 2.5×):\n"
          f"  --format json  {h['history (36 months)']['median_s']:.2f} s = {ratio:.2f} × "
          f"({shown(verdict(ratio, 2.5))})\n"
          f"  table          {h['history (36 months, table)']['median_s']:.2f} s = "
          f"{table:.2f} × ({shown(verdict(table, 2.5))})")

    book = HERE / ".data" / "report.xlsx"
    workbook = [*one[:one.index("--format")], "--format", "xlsx", "--out", str(book)]
    x = in_turns({"evaluate --format xlsx": workbook, "evaluate --format json": one},
                 args.repeats)
    ratio = x["evaluate --format xlsx"]["median_s"] / x["evaluate --format json"]["median_s"]
    report["xlsx"] = {**x, "ratio": ratio, "learners": args.history_size}
    print(f"evaluate --format xlsx at {args.history_size:,} learners: "
          f"{x['evaluate --format xlsx']['median_s']:.2f} s = {ratio:.2f} × --format json "
          f"({x['evaluate --format json']['median_s']:.2f} s)")

    if args.ilr_size:
        report["ilr"] = ilr_bench(args.ilr_size, args.as_of, args.repeats)
    if args.postgres_size:
        report["postgres"] = postgres_bench(args.postgres_size, args.as_of, args.repeats)

    helps = [measured([*KPIDSL, "--help"])[0] for _ in range(max(5, args.repeats))]
    report["help"] = figure(helps)
    print(f"kpidsl --help: {statistics.median(helps):.3f} s (median of {len(helps)})")

    report["targets"] = targets(report)
    print_targets(report["targets"])
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    report["warnings"] = warnings
    for text in warnings:
        print(f"!!! {text}")
    written = json.loads(json.dumps(report))  # as a later run reads it (sizes as text)
    if previous:
        report["compared_with"] = run_compare(previous, written)
    text = json.dumps(report, indent=2)
    if args.json:
        Path(args.json).write_text(text, encoding="utf-8")
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        last.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
