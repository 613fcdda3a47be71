"""Baseline: the seven KPIs as a straightforward hand-written Python program.

``python benchmarks/baseline_python.py DATA_DIR AS_OF`` reads the CSV files with the standard
``csv`` module into plain objects, evaluates the seven KPIs with the independent oracle's
functions (``tests/oracle.py``, written from KPI-SPEC by hand) and prints the results as JSON.
It shares no code with kpidsl's loader or engines, and it does not check the data.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from oracle import SPEC, evaluate_by_hand


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _bool(text: str) -> bool | None:
    return text.lower() == "true" if text else None


def _int(text: str) -> int | None:
    return int(text) if text else None


TYPES = {
    "start_date": _date, "end_date": _date, "milestone1_date": _date, "withdrawal_date": _date,
    "completion_date": _date, "initial_assessment_date": _date, "final_assessment_date": _date,
    "new_role_evidence_date": _date, "outcome_date": _date, "referral_date": _date,
    "offer_date": _date, "paid_date": _date, "recorded_date": _date,
    "course_cost": Decimal, "amount_paid": Decimal,
    "employees": _int, "contact_attempts": _int, "satisfaction": _int, "planned_starts": _int,
    "accelerated_apprenticeship": _bool, "reached": _bool, "role_confirmed": _bool,
    "skills_gained": _bool, "wants_interview": _bool, "actual_job": _bool,
    "matches_skills": _bool, "full_apprenticeship": _bool,
}
FILES = {"providers": "providers", "bootcamps": "bootcamps", "employers": "employers",
         "engagements": "engagements", "learners": "learners", "interviews": "interviews",
         "payments": "cofunding"}


def read(folder: Path, name: str) -> list[SimpleNamespace]:
    with open(folder / f"{name}.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for row in rows:
        values = {k: (TYPES[k](v) if k in TYPES else (v or None)) for k, v in row.items()}
        out.append(SimpleNamespace(**values))
    return out


def main(folder: str, as_of: str) -> None:
    data = SimpleNamespace(**{attr: read(Path(folder), name) for attr, name in FILES.items()})
    results = evaluate_by_hand(SPEC, data, dt.date.fromisoformat(as_of))  # type: ignore[arg-type]
    json.dump({"as_of": as_of, "results": results}, sys.stdout, indent=2)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
