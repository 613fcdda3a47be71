"""How the cost of hostile-shaped inputs grows: each workload timed at a size and at twice it.

Run ``python benchmarks/growth.py [--scale 1.0]``. A ratio near 2 is linear growth; a ratio near
4 is quadratic and much more is exponential. The workloads are the shapes that once grew faster
than linearly (issue 11):

- ``fmt``: ``kpidsl fmt`` on a file of N definitions, each with a comment (quadratic before);
- ``fmt-minus``: ``fmt`` on ``- - … -1`` with N minus signs (2**N before);
- ``check-cases``: checking a classification of N cases (quadratic before);
- ``evaluate-chain``: evaluating a finding that reads a chain of N definitions, each using the
  one before twice (2**N before), on the sample data.

Timings are ``time.perf_counter`` seconds, best of ``--repeats``; the numbers are not asserted
anywhere (a shared machine's clock is no test), they are for people to read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import kpidsl
from kpidsl.language.formatter import format_source
from kpidsl.language.parser import parse

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample"


def best(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def fmt_file(n: int) -> Callable[[], object]:
    text = "".join(f"# definition {i}\ndefine d{i} for learner: completion_date is set and "
                   f"withdrawal_date is missing  # why\n" for i in range(n))
    return lambda: format_source(text)


def fmt_minus(n: int) -> Callable[[], object]:
    text = "define n: " + "-" * n + "1\n"
    return lambda: format_source(text)


def check_cases(n: int) -> Callable[[], object]:
    cases = "".join(f"  c{i} when employees = {i}\n" for i in range(n))
    tree = parse(f"define size for employer:\n{cases}  other otherwise\n", "cases.kpi")
    from kpidsl.language.checker import check

    return lambda: check([tree])


def evaluate_chain(n: int) -> Callable[[], object]:
    folder = Path(tempfile.mkdtemp(prefix="kpidsl-growth-"))
    shutil.copytree(kpidsl.default_rules_path(), folder / "rules")
    chain = "define c0 for learner: completion_date is set\n" + "".join(
        f"define c{i} for learner: c{i - 1} or c{i - 1}\n" for i in range(1, n + 1))
    (folder / "rules" / "chain.kpi").write_text(
        chain + f'finding deep:\n  message: "m"\n  for: learners where c{n}\n', encoding="utf-8")
    rules = kpidsl.load_rules(folder / "rules")
    data = kpidsl.load_data(SAMPLE)
    return lambda: kpidsl.evaluate(rules, data, as_of=dt.date(2025, 3, 31))


WORKLOADS: dict[str, tuple[Callable[[int], Callable[[], object]], int]] = {
    "fmt": (fmt_file, 10_000),
    "fmt-minus": (fmt_minus, 45),
    "check-cases": (check_cases, 2_000),
    "evaluate-chain": (evaluate_chain, 24),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every base size")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--only", nargs="*", choices=sorted(WORKLOADS), help="some workloads")
    args = ap.parse_args(argv)
    print(f"{'workload':<16}{'n':>8}{'seconds':>10}{'2n':>8}{'seconds':>10}{'ratio':>8}")
    for name, (make, base) in WORKLOADS.items():
        if args.only and name not in args.only:
            continue
        n = max(1, int(base * args.scale))
        if name in ("fmt-minus", "evaluate-chain"):
            n = min(n, 49 if name == "fmt-minus" else 25)  # 2n stays within the nesting limits
        small, large = best(make(n), args.repeats), best(make(2 * n), args.repeats)
        print(f"{name:<16}{n:>8}{small:>10.3f}{2 * n:>8}{large:>10.3f}{large / small:>8.2f}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
