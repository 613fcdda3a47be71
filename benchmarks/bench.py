"""Benchmark: kpidsl's rule interpreter against the hand-written baseline (``tests/oracle.py``).

Run ``python benchmarks/bench.py [--sizes 10000 100000 1000000] [--as-of 2025-03-31]``. For each
size it generates a data set with ``kpidsl.data.generate.generate(n, seed=1)`` and, in this one
process, times both implementations (``time.perf_counter``; best of ``--repeats`` for sizes up
to ``--repeat-max``, one run above), checks that kpidsl's results equal the baseline's on the
seven KPIs the baseline knows, and measures memory three ways:

- tracemalloc peak: Python allocations made during one call (the data set is not counted).
  Tracing slows the call several times, so it is a separate, untimed run, made only for sizes up
  to ``--trace-max``.
- call RSS: growth of resident memory during one call, measured in a forked child (its max RSS
  minus its RSS at the fork), so each implementation gets its own high-water mark. Linux only.
- process max RSS: ``resource.getrusage`` high-water mark of this process after each stage; it
  includes the data set and everything run before, so read it as cumulative.

``--baseline-only`` skips kpidsl (for use before ``kpidsl.evaluate`` exists). ``--json PATH``
writes the table as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import gc
import json
import os
import platform
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import kpidsl
from kpidsl.engines.python import evaluate_kpis
from oracle import KPIS, evaluate_by_hand

FIELDS = ("status", "numerator", "denominator", "pending")
MB = 2**20


def best_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Fastest of ``repeats`` timed calls, and the last call's result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        result = None  # let the previous result go before the next call
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def traced_peak(fn: Callable[[], Any]) -> int:
    """Peak bytes Python allocated during one call (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def current_rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def max_rss() -> int:
    """High-water resident memory of this process, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def call_rss_growth(fn: Callable[[], Any]) -> int | None:
    """Max RSS reached during one call minus RSS before it, measured in a forked child."""
    if not hasattr(os, "fork") or not Path("/proc/self/statm").exists():
        return None
    gc.collect()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: a fresh RSS high-water mark that starts at the inherited pages
        os.close(read)
        try:
            before = current_rss()
            fn()
            out = str(max_rss() - before).encode()
        except BaseException as e:  # report, never fall back into the parent's code
            out = f"error {e!r}".encode()
        os.write(write, out)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        answer = f.read().decode()
    os.waitpid(pid, 0)
    if not answer or answer.startswith("error"):
        print(f"  call RSS measurement failed: {answer or 'no answer'}", file=sys.stderr)
        return None
    return int(answer)


def plain(value: Any) -> Any:
    """A result field as a plain value (an enum member as its value)."""
    return value.value if isinstance(value, enum.Enum) else value


def compare(baseline: list[dict], results: Any) -> list[str]:
    """Disagreements between kpidsl's results and the baseline's, on the baseline's KPIs."""
    want = {(r["kpi"], r["scope"], r["group"]): r for r in baseline}
    got: dict[tuple[str, str, str], dict] = {}
    problems = []
    for res in results:
        key = (plain(res.kpi), plain(res.scope), plain(res.group))
        if key[0] not in KPIS:
            continue  # delivery_against_profile and anything else the baseline does not have
        if key in got:
            problems.append(f"{key}: reported twice by kpidsl")
        got[key] = {f: plain(getattr(res, f)) for f in FIELDS}
    for key in sorted(want.keys() - got.keys()):
        problems.append(f"{key}: missing from kpidsl (baseline {_fields(want[key])})")
    for key in sorted(got.keys() - want.keys()):
        problems.append(f"{key}: not in the baseline (kpidsl {_fields(got[key])})")
    for key in sorted(want.keys() & got.keys()):
        if any(want[key][f] != got[key][f] for f in FIELDS):
            problems.append(f"{key}: kpidsl {_fields(got[key])} != baseline {_fields(want[key])}")
    return problems


def _fields(r: dict) -> str:
    return "{} {}/{} pending {}".format(*(r[f] for f in FIELDS))


def mb(n: int | None) -> str:
    return "-" if n is None else f"{n / MB:,.1f}"


def secs(s: float | None) -> str:
    return "-" if s is None else f"{s:.3f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2025, 3, 31))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per size (best is kept)")
    ap.add_argument("--repeat-max", type=int, default=100_000, help="larger sizes run once")
    ap.add_argument("--trace-max", type=int, default=100_000, help="tracemalloc up to this size")
    ap.add_argument("--no-fork", action="store_true", help="skip the forked call-RSS runs")
    ap.add_argument("--baseline-only", action="store_true", help="do not run kpidsl")
    ap.add_argument("--json", type=Path, help="also write the table here as JSON")
    args = ap.parse_args(argv)

    try:
        from kpidsl.data.generate import generate
    except ImportError as e:
        print(f"bench: cannot import kpidsl.data.generate ({e})", file=sys.stderr)
        return 2

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    notes: list[str] = []
    load_s = None
    rules = None
    if not args.baseline_only:
        if not (hasattr(kpidsl, "load_rules") and hasattr(kpidsl, "evaluate")):
            print(
                "bench: kpidsl.load_rules / kpidsl.evaluate do not exist yet; "
                "run with --baseline-only",
                file=sys.stderr,
            )
            return 2
        start = time.perf_counter()
        rules = kpidsl.load_rules()
        load_s = time.perf_counter() - start
        # like for like: only the KPIs the baseline computes
        same_kpis = attrs.evolve(rules, kpis=tuple(k for k in rules.kpis if k.name in KPIS))
        log(f"load_rules (parse + check, once): {load_s:.3f} s")

    oracle_rules = rules or kpidsl.load_rules()  # the baseline reads the policy's numbers
    rows = []
    disagreements = 0
    for n in args.sizes:
        log(f"size {n:,}: generating…")
        start = time.perf_counter()
        data = generate(n, seed=args.seed)
        gen_s = time.perf_counter() - start
        # a data set is checked once, when it is built (load_data does it while loading)
        start = time.perf_counter()
        data.problems()
        validate_s = time.perf_counter() - start
        gc.collect()
        row: dict[str, Any] = {
            "size": n,
            "learners": len(data.learners),
            "interviews": len(data.interviews),
            "payments": len(data.payments),
            "engagements": len(data.engagements),
            "bootcamps": len(data.bootcamps),
            "generate_s": gen_s,
            "validate_s": validate_s,
            "max_rss_after_generate_bytes": max_rss(),
        }
        repeats = args.repeats if n <= args.repeat_max else 1
        row["repeats"] = repeats

        def baseline_call(data=data) -> list[dict]:
            return evaluate_by_hand(oracle_rules, data, args.as_of)

        log(f"size {n:,}: baseline × {repeats}…")
        row["baseline_s"], baseline = best_time(baseline_call, repeats)
        row["max_rss_after_baseline_bytes"] = max_rss()

        kpidsl_call = None
        if rules is not None:

            def kpidsl_call(data=data) -> Any:
                return kpidsl.evaluate(rules, data, as_of=args.as_of)

            def kpidsl_kpis_call(data=data) -> Any:
                return evaluate_kpis(same_kpis, data, args.as_of)

            log(f"size {n:,}: kpidsl KPIs only × {repeats}…")
            row["kpidsl_kpis_s"], _ = best_time(kpidsl_kpis_call, repeats)
            log(f"size {n:,}: kpidsl full report × {repeats}…")
            row["kpidsl_s"], report = best_time(kpidsl_call, repeats)
            row["max_rss_after_kpidsl_bytes"] = max_rss()
            problems = compare(baseline, report.results)
            del report
            row["disagreements"] = len(problems)
            disagreements += len(problems)
            for p in problems[:50]:
                print(f"DISAGREE size {n}: {p}")
            if len(problems) > 50:
                print(f"DISAGREE size {n}: … and {len(problems) - 50} more")
            row["ratio"] = row["kpidsl_kpis_s"] / row["baseline_s"]
        del baseline

        if n <= args.trace_max:
            log(f"size {n:,}: tracemalloc runs (untimed)…")
            row["baseline_traced_peak_bytes"] = traced_peak(baseline_call)
            if kpidsl_call is not None:
                row["kpidsl_traced_peak_bytes"] = traced_peak(kpidsl_call)
        if not args.no_fork:
            log(f"size {n:,}: forked call-RSS runs…")
            row["baseline_call_rss_bytes"] = call_rss_growth(baseline_call)
            if kpidsl_call is not None:
                row["kpidsl_call_rss_bytes"] = call_rss_growth(kpidsl_call)
        rows.append(row)
        del data, baseline_call, kpidsl_call
        gc.collect()

    if any(r["size"] > args.trace_max for r in rows):
        notes.append(
            f"tracemalloc peak not measured above {args.trace_max:,} learners "
            "(tracing slows the call several times); see the smaller sizes, and call RSS"
        )
    notes.append(
        "kpidsl KPIs = the same work as the baseline (the seven KPIs per group); kpidsl full = "
        "kpidsl.evaluate, which also evaluates delivery_against_profile and lists data-quality "
        "findings and follow-up actions; check s = the data set's one-time integrity check; "
        "ratio k/b = kpidsl KPIs / baseline; peak and call RSS are for the full report"
    )
    notes.append(
        "traced peak = Python allocations during one call, data excluded; call RSS = resident "
        "growth during one call in a forked child; max RSS = process high-water mark, "
        "cumulative (data set included)"
    )
    if args.baseline_only:
        notes.append("kpidsl not run (--baseline-only)")

    print(
        f"as of {args.as_of}; Python {platform.python_version()}; "
        f"{os.cpu_count()} CPUs; kpidsl load_rules {secs(load_s)} s"
    )
    header = (
        "size",
        "gen s",
        "check s",
        "kpidsl KPIs s",
        "baseline s",
        "ratio k/b",
        "kpidsl full s",
        "kpidsl peak MB",
        "base peak MB",
        "kpidsl callRSS MB",
        "base callRSS MB",
        "max RSS MB",
        "disagree",
    )
    table = [header]
    for r in rows:
        ratio = r.get("ratio")
        table.append(
            (
                f"{r['size']:,}",
                secs(r["generate_s"]),
                secs(r["validate_s"]),
                secs(r.get("kpidsl_kpis_s")),
                secs(r["baseline_s"]),
                "-" if ratio is None else f"{ratio:.2f}",
                secs(r.get("kpidsl_s")),
                mb(r.get("kpidsl_traced_peak_bytes")),
                mb(r.get("baseline_traced_peak_bytes")),
                mb(r.get("kpidsl_call_rss_bytes")),
                mb(r.get("baseline_call_rss_bytes")),
                mb(r.get("max_rss_after_kpidsl_bytes", r["max_rss_after_baseline_bytes"])),
                str(r.get("disagreements", "-")),
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)))
    for note in notes:
        print(f"note: {note}")

    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "as_of": args.as_of.isoformat(),
                    "seed": args.seed,
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "load_rules_s": load_s,
                    "rows": rows,
                    "notes": notes,
                },
                indent=2,
            )
            + "\n"
        )
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
