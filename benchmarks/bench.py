"""Benchmark: whole ``kpidsl`` processes against two hand-written baselines, same data, in turns.

``python benchmarks/bench.py [--sizes 100000 1000000] [--repeats 3] [--json PATH]``

For each size it generates a data folder once (``kpidsl generate --seed 1``, kept under
``benchmarks/.data``), then runs these programs in turns, ``--repeats`` rounds, each as a
process of its own, and reports the median wall time and the peak memory (max RSS) of each:

- ``kpidsl evaluate --format json`` on the default engine (DuckDB), and on ``--engine python``;
- ``baseline_python.py``: the seven KPIs as a straightforward hand-written Python program;
- ``baseline_duckdb.py``: the seven KPIs hand-written as DuckDB SQL.

The ratios are kpidsl's median over each baseline's. kpidsl does more than the baselines (it
checks every cell and reference of the data, evaluates the framework rule, the data-quality
findings and the follow-up actions); the numbers say what they measure. The results of the
seven KPIs are compared across all programs before anything is timed; a disagreement stops
the benchmark.

It also times ``kpidsl history`` over 36 month ends against one ``evaluate`` at
``--history-size`` learners, ``evaluate --format xlsx`` (the report workbook, every record
explained) against ``--format json`` at the same size, reading ILR returns against reading CSV
files at ``--ilr-size`` learners (:func:`ilr_bench`), loading into and evaluating on PostgreSQL
at ``--postgres-size`` (:func:`postgres_bench`), and ``kpidsl --help``.
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
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PY = sys.executable
KPIDSL = [PY, "-m", "kpidsl"]
SEVEN = ("employer_engagement", "employer_cofunding", "learner_dropout", "new_skills",
         "guaranteed_interview", "career_progression", "referral")


def _measure(cmd: list[str], keep: bool) -> tuple[float, int, bytes, str | None]:
    """Wall seconds, peak memory (max RSS, from ``wait4``), output (if ``keep``) and, if it
    failed, the error output of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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
    out["hand-written Python"] = [PY, str(HERE / "baseline_python.py"), str(folder), as_of]
    out["hand-written DuckDB SQL"] = [PY, str(HERE / "baseline_duckdb.py"), str(folder), as_of]
    return out


def in_turns(cmds: dict[str, list[str]], repeats: int) -> dict[str, dict[str, float]]:
    times: dict[str, list[float]] = {name: [] for name in cmds}
    peaks: dict[str, int] = dict.fromkeys(cmds, 0)
    for _ in range(repeats):
        for name, cmd in cmds.items():
            seconds, rss, _ = measured(cmd, keep=False)
            times[name].append(seconds)
            peaks[name] = max(peaks[name], rss)
    return {name: {"median_s": statistics.median(t), "runs": len(t),
                   "max_rss_mb": peaks[name] / 2**20} for name, t in times.items()}


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
        timing[name] = {"median_s": statistics.median(times), "runs": len(times)}
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--as-of", default="2025-03-31")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--python-engine-max", type=int, default=100_000,
                    help="time the Python engine only up to this size")
    ap.add_argument("--history-size", type=int, default=100_000)
    ap.add_argument("--ilr-size", type=int, default=100_000,
                    help="time reading ILR returns at this size (0: not at all)")
    ap.add_argument("--postgres-size", type=int, default=100_000,
                    help="time loading into and evaluating on PostgreSQL at this size, on a "
                    "server the bench starts from the OS package (0: not at all)")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    report: dict[str, object] = {"cpus": os.cpu_count(), "as_of": args.as_of, "sizes": {}}
    global _SPAWNER
    _SPAWNER = multiprocessing.get_context("forkserver").Pool(1, maxtasksperchild=1)
    compiled()

    for size in args.sizes:
        folder = data_folder(size)
        cmds = programs(folder, args.as_of, size <= args.python_engine_max)
        answers = {name: seven(measured(cmd)[2]) for name, cmd in cmds.items()}
        first = next(iter(answers.values()))
        for name, got in answers.items():
            if got != first:
                wrong = sum(got.get(k) != v for k, v in first.items())
                raise SystemExit(f"bench: {name} disagrees on {wrong} results at {size}")
        timing = in_turns(cmds, args.repeats)
        ours = timing["kpidsl (duckdb)"]["median_s"]
        for name in ("hand-written Python", "hand-written DuckDB SQL"):
            timing[name]["kpidsl_ratio"] = ours / timing[name]["median_s"]
        report["sizes"][size] = timing  # type: ignore[index]
        print(f"\n{size:,} learners, {args.repeats} rounds in turns (same results: yes)")
        for name, t in timing.items():
            ratio = f"  kpidsl / this = {t['kpidsl_ratio']:.2f}" if "kpidsl_ratio" in t else ""
            print(f"  {name:26} {t['median_s']:7.2f} s  {t['max_rss_mb']:7.0f} MB{ratio}")

    folder = data_folder(args.history_size)
    history = [*KPIDSL, "history", "--data", str(folder), "--from", "2023-01", "--to", "2025-12",
               "--format", "json"]
    one = programs(folder, args.as_of, False)["kpidsl (duckdb)"]
    h = in_turns({"history (36 months)": history, "one evaluate": one}, args.repeats)
    ratio = h["history (36 months)"]["median_s"] / h["one evaluate"]["median_s"]
    report["history"] = {**h, "ratio": ratio, "learners": args.history_size}
    print(f"\nhistory of 36 month ends at {args.history_size:,} learners: "
          f"{h['history (36 months)']['median_s']:.2f} s = {ratio:.2f} × one evaluate "
          f"({h['one evaluate']['median_s']:.2f} s)")

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

    helps = sorted(measured([*KPIDSL, "--help"])[0] for _ in range(max(5, args.repeats)))
    report["help_median_s"] = statistics.median(helps)
    print(f"kpidsl --help: {statistics.median(helps):.3f} s (median of {len(helps)})")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
