"""Benchmark: reading a data set from a datasheet workbook against reading it from CSV.

Run ``python benchmarks/bench_workbook.py [--sizes 10000 100000] [--repeats 3]``. For each size
it generates a data set (``generate(n, seed=1)``), writes it both as a folder of CSV files and
as a workbook (``kpidsl template --data``'s writer) in a temporary folder, then times
``kpidsl.load_data`` on each (``time.perf_counter``, best of ``--repeats``), checks that the two
give equal data sets, and prints the times and their ratio. The target (issue 10) is a ratio
of at most ``--max-ratio`` (3); the script exits 1 when a size misses it.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time

import kpidsl
from kpidsl.data.datasheet import write_workbook
from kpidsl.data.generate import generate


def best(path: str, repeats: int) -> tuple[float, kpidsl.Dataset]:
    """The fastest of ``repeats`` loads, and the data set loaded."""
    times, data = [], None
    for _ in range(repeats):
        data = None
        gc.collect()
        start = time.perf_counter()
        data = kpidsl.load_data(path)
        times.append(time.perf_counter() - start)
    assert data is not None
    return min(times), data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-ratio", type=float, default=3.0)
    args = ap.parse_args(argv)
    print(f"{'learners':>9}  {'rows':>8}  {'csv MB':>6}  {'xlsx MB':>7}  {'csv s':>6}  "
          f"{'xlsx s':>6}  {'ratio':>5}")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            data = generate(n, seed=1)
            folder, book = os.path.join(tmp, f"csv{n}"), os.path.join(tmp, f"book{n}.xlsx")
            kpidsl.write_data(data, folder)
            write_workbook(book, data)
            rows = sum(len(data.of(t)) for t in ("provider", "bootcamp", "employer",
                                                   "engagement", "learner", "interview",
                                                   "payment", "profile"))
            del data
            csv_s, from_csv = best(folder, args.repeats)
            xlsx_s, from_book = best(book, args.repeats)
            if from_csv != from_book:
                print(f"size {n}: the workbook and the CSV files give different data sets")
                return 1
            del from_csv, from_book
            csv_mb = sum(os.path.getsize(os.path.join(folder, f))
                         for f in os.listdir(folder)) / 2**20
            ratio = xlsx_s / csv_s
            failed |= ratio > args.max_ratio
            print(f"{n:>9,}  {rows:>8,}  {csv_mb:>6.1f}  {os.path.getsize(book) / 2**20:>7.1f}  "
                  f"{csv_s:>6.3f}  {xlsx_s:>6.3f}  {ratio:>5.2f}")
    print(f"ratio = workbook load / CSV load; target at most {args.max_ratio}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
