"""Baseline: the seven KPIs hand-written as DuckDB SQL, as an expert would write them.

``python benchmarks/baseline_duckdb.py DATA_DIR AS_OF`` prints the KPI-SPEC §4 results (JSON)
of the seven KPIs for every bootcamp, provider and the programme. It is written from KPI-SPEC
alone and shares nothing with kpidsl. It does not check the data (it assumes data that passes
KPI-SPEC §1) and leaves out the framework rule, the findings and the follow-up actions.

How it is made fast:

- each file is a view over ``read_csv`` with its header read here and every column's type
  declared, so DuckDB neither sniffs nor guesses, and reads only the columns a query uses;
  a column that is not in the header (allowed for a column without ``*``) reads as missing,
  an absent file as no rows;
- interviews and co-funding payments are folded to one row per learner first (the first
  fitting offer, the number of unsuccessful attempts, the sum paid), so no learner is joined
  to more than one row of them;
- one pass over the learners gives every KPI's population, counted and pending records as
  0/1 flags, tallied per bootcamp; ``GROUPING SETS`` sums the bootcamps up to providers and
  the programme;
- statuses are integer arithmetic in SQL (rate k/n at least a/b is k·b ≥ a·n: no fractions,
  no floating point), and DuckDB builds the JSON text, which is written out as it is.

Decisions where the spec leaves room: a missing boolean is not true; a comparison with a
missing date is not true (so an outcome whose date is after the as-of date is no positive
outcome); a co-funded learner whose employer has 250 or more employees pays at the large rate,
any other at the SME rate.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import sys

import duckdb

MONEY = "DECIMAL(38,10)"  # exact: pounds and pence, and then some
#: The columns of each file that the seven KPIs read, with their types (KPI-SPEC §1).
COLUMNS = {
    "providers": {"provider_id": "VARCHAR"},
    "bootcamps": {"bootcamp_id": "VARCHAR", "provider_id": "VARCHAR", "course_cost": MONEY,
                  "accelerated_apprenticeship": "BOOLEAN"},
    "employers": {"employer_id": "VARCHAR", "employees": "BIGINT"},
    "engagements": {"bootcamp_id": "VARCHAR", "reached": "BOOLEAN", "role_confirmed": "BOOLEAN",
                    "satisfaction": "BIGINT", "recorded_date": "DATE"},
    "learners": {"learner_id": "VARCHAR", "bootcamp_id": "VARCHAR", "learner_type": "VARCHAR",
                 "employer_id": "VARCHAR", "milestone1_date": "DATE", "withdrawal_date": "DATE",
                 "completion_date": "DATE", "initial_assessment_date": "DATE",
                 "final_assessment_date": "DATE", "skills_gained": "BOOLEAN",
                 "wants_interview": "BOOLEAN", "new_role_evidence_date": "DATE",
                 "outcome": "VARCHAR", "outcome_date": "DATE", "referral_date": "DATE",
                 "referral_kind": "VARCHAR"},
    "interviews": {"learner_id": "VARCHAR", "offer_date": "DATE", "actual_job": "BOOLEAN",
                   "matches_skills": "BOOLEAN", "full_apprenticeship": "BOOLEAN",
                   "result": "VARCHAR"},
    "cofunding": {"learner_id": "VARCHAR", "amount_paid": MONEY, "paid_date": "DATE"},
}

#: Each learner with what the KPIs ask of them, as of the date: ``happened(d)`` is true when
#: the date ``d`` is recorded and on or before the as-of date (a later date reads as missing).
LEARNERS = """
WITH paid AS (
  SELECT learner_id, sum(amount_paid) AS paid FROM cofunding
  WHERE paid_date <= {as_of} GROUP BY learner_id
), offers AS (
  SELECT learner_id,
    min(offer_date) FILTER (actual_job AND matches_skills) AS first_fit,
    min(offer_date) FILTER (actual_job AND matches_skills
                            AND full_apprenticeship IS NOT TRUE) AS first_fit_short,
    count(*) FILTER (result = 'unsuccessful') AS unsuccessful
  FROM interviews WHERE offer_date <= {as_of} GROUP BY learner_id
), learner AS (
  SELECT l.bootcamp_id, l.learner_type = 'co_funded' AS co_funded,
    l.wants_interview IS TRUE AS wants_interview,
    happened(l.milestone1_date) AS started,
    happened(l.withdrawal_date) AS withdrawn,
    happened(l.completion_date) AS completed,
    happened(l.initial_assessment_date) AND happened(l.final_assessment_date)
      AND l.skills_gained IS TRUE AS assessed_skills,
    happened(l.new_role_evidence_date) AS new_role_evidence,
    happened(l.referral_date) AND l.referral_kind IN ('job', 'training') AS referred,
    CAST(l.completion_date + INTERVAL 6 MONTH AS DATE) AS deadline,  -- clamped to month end
    happened(l.outcome_date) AND l.outcome_date <= deadline AND CASE
      WHEN l.learner_type = 'co_funded' THEN l.outcome IN ('new_role', 'new_responsibilities')
      WHEN l.learner_type = 'independent' OR l.wants_interview
        THEN l.outcome IN ('new_job', 'accelerated_apprenticeship')
             OR (l.outcome = 'apprenticeship' AND NOT b.accelerated)
      ELSE l.outcome IN ('action_plan', 'new_contract') END IS TRUE AS positive,
    ((CASE WHEN b.accelerated THEN o.first_fit_short ELSE o.first_fit END)
      <= l.completion_date) IS TRUE AS interviewed,
    coalesce(o.unsuccessful, 0) AS unsuccessful,
    coalesce(p.paid, 0) * 10 >= b.course_cost * CASE WHEN e.employees >= 250 THEN 3 ELSE 1 END
      AS paid_enough
  FROM learners l
  JOIN (SELECT bootcamp_id, course_cost, accelerated_apprenticeship IS TRUE AS accelerated
        FROM bootcamps) b USING (bootcamp_id)
  LEFT JOIN employers e ON e.employer_id = l.employer_id AND l.learner_type = 'co_funded'
  LEFT JOIN paid p ON p.learner_id = l.learner_id AND l.learner_type = 'co_funded'
  LEFT JOIN offers o ON o.learner_id = l.learner_id
)
SELECT bootcamp_id, {tallies} FROM learner GROUP BY bootcamp_id
"""

#: The KPIs: id, records, population, counted, pending (SQL over the records' columns),
#: target (at least or at most a/b).
KPIS = [
    ("employer_engagement", "engagement", "reached", "confirmed", "false", ">=", 1, 1),
    ("employer_cofunding", "learner", "co_funded AND started", "paid_enough",
     "NOT paid_enough AND NOT completed AND NOT withdrawn", ">=", 1, 1),
    ("learner_dropout", "learner", "started", "withdrawn", "NOT withdrawn AND NOT completed",
     "<=", 1, 5),
    ("new_skills", "learner", "completed", "assessed_skills", "false", ">=", 1, 1),
    ("guaranteed_interview", "learner", "completed AND (wants_interview OR co_funded)",
     "interviewed OR (co_funded AND new_role_evidence)", "false", ">=", 1, 1),
    ("career_progression", "learner", "completed", "positive",
     "NOT positive AND {as_of} <= deadline", ">=", 3, 4),
    ("referral", "learner",
     "completed AND NOT positive AND {as_of} > deadline AND unsuccessful >= 2", "referred",
     "false", ">=", 1, 1),
]

ENGAGEMENTS = """
SELECT bootcamp_id, {tallies} FROM (
  SELECT bootcamp_id, reached IS TRUE AS reached,
    role_confirmed IS TRUE AND (satisfaction IS NULL OR satisfaction >= 3) AS confirmed
  FROM engagements WHERE recorded_date IS NULL OR recorded_date <= {as_of})
GROUP BY bootcamp_id
"""

#: Per bootcamp, provider and the programme (empty groups too): each KPI's n, k and p, its
#: status, and the whole output as one JSON text.
REPORT = """
WITH per_bootcamp AS (
  SELECT b.bootcamp_id, b.provider_id, {columns}
  FROM bootcamps b LEFT JOIN learner_tallies USING (bootcamp_id)
  LEFT JOIN engagement_tallies USING (bootcamp_id)
), rolled AS (
  SELECT CASE WHEN grouping(bootcamp_id) = 0 THEN 'bootcamp'
              WHEN grouping(provider_id) = 0 THEN 'provider' ELSE 'programme' END AS scope,
         coalesce(bootcamp_id, provider_id, 'all') AS grp, {sums}
  FROM per_bootcamp GROUP BY GROUPING SETS ((bootcamp_id), (provider_id), ())
), groups AS (
  SELECT 1 AS rank, 'bootcamp' AS scope, bootcamp_id AS grp FROM bootcamps
  UNION ALL SELECT 2, 'provider', provider_id FROM providers
  UNION ALL SELECT 3, 'programme', 'all'
), results AS (
  SELECT g.rank, g.grp, g.scope, unnest([{kpis}]) AS r
  FROM groups g LEFT JOIN rolled USING (scope, grp)
), judged AS (
  SELECT rank, grp, scope, r.*, status(r.n, r.k, r.p, r.at_least, r.a, r.b) AS status
  FROM results
)
SELECT to_json({{'as_of': {as_of}::VARCHAR, 'results': list(
  {{'kpi': kpi, 'scope': scope, 'group': grp, 'status': status, 'numerator': k,
    'denominator': n, 'pending': p}} ORDER BY ord, rank, grp)}})
FROM judged
"""

#: KPI-SPEC §2's status, in integers. A target is a half-line of rates, so it holds for every
#: rate in [k/n, (k+p)/n] when it holds at both ends, and for none when it fails at both.
MACROS = """
CREATE MACRO happened(d) AS coalesce(d <= {as_of}, false);
CREATE MACRO holds(k, n, at_least, a, b) AS
  CASE WHEN at_least THEN k * b >= a * n ELSE k * b <= a * n END;
CREATE MACRO status(n, k, p, at_least, a, b) AS CASE
  WHEN n = 0 THEN 'no_data'
  WHEN holds(k, n, at_least, a, b) AND holds(k + p, n, at_least, a, b) THEN 'met'
  WHEN NOT holds(k, n, at_least, a, b) AND NOT holds(k + p, n, at_least, a, b) THEN 'not_met'
  WHEN n = p OR holds(k, n - p, at_least, a, b) THEN 'on_track'
  ELSE 'at_risk' END;
"""


def tallies(records: str, as_of: str) -> str:
    """``count_if`` of each KPI's population, counted and pending records of ``records``."""
    out = []
    for i, (_, kind, population, counted, pending, *_) in enumerate(KPIS):
        if kind == records:
            out += [f"count_if({population}) AS n{i}",
                    f"count_if(({population}) AND ({counted})) AS k{i}",
                    f"count_if(({population}) AND NOT ({counted}) AND ({pending})) AS p{i}"]
    return ", ".join(out).format(as_of=as_of)


def view(con: duckdb.DuckDBPyConnection, folder: str, name: str) -> None:
    """``name`` as a view over its file, read with the header's columns and declared types."""
    wanted = COLUMNS[name]
    path = os.path.join(folder, f"{name}.csv")
    if not os.path.exists(path):  # KPI-SPEC §1: absent only when it would be empty
        con.execute(f"CREATE VIEW {name} AS SELECT "
                    + ", ".join(f"NULL::{t} AS {c}" for c, t in wanted.items()) + " LIMIT 0")
        return
    with open(path, encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f), [])
    types = ", ".join(f"'{c}': '{wanted.get(c, 'VARCHAR')}'"
                      for c in (h.replace("'", "''") for h in header))
    select = ", ".join(c if c in header else f"NULL::{t} AS {c}" for c, t in wanted.items())
    con.execute(f"CREATE VIEW {name} AS SELECT {select} FROM read_csv('"
                + path.replace("'", "''") + "', header = true, auto_detect = false, "
                f"delim = ',', quote = '\"', escape = '\"', nullstr = '', "
                f"columns = {{{types}}})")


def main(folder: str, as_of: str) -> None:
    day = f"DATE '{dt.date.fromisoformat(as_of).isoformat()}'"
    con = duckdb.connect()
    con.execute(MACROS.format(as_of=day))
    for name in COLUMNS:
        view(con, folder, name)
    con.execute("CREATE TEMP TABLE learner_tallies AS "
                + LEARNERS.format(as_of=day, tallies=tallies("learner", day)))
    con.execute("CREATE TEMP TABLE engagement_tallies AS "
                + ENGAGEMENTS.format(as_of=day, tallies=tallies("engagement", day)))
    columns = ", ".join(f"coalesce({c}{i}, 0) AS {c}{i}" for i in range(len(KPIS))
                        for c in "nkp")
    sums = ", ".join(f"sum({c}{i})::BIGINT AS {c}{i}" for i in range(len(KPIS)) for c in "nkp")
    kpis = ", ".join(
        f"{{'ord': {i}, 'kpi': '{kpi}', 'n': coalesce(n{i}, 0), 'k': coalesce(k{i}, 0), "
        f"'p': coalesce(p{i}, 0), 'at_least': {op == '>='}, 'a': {a}, 'b': {b}}}"
        for i, (kpi, *_, op, a, b) in enumerate(KPIS))
    report = REPORT.format(columns=columns, sums=sums, kpis=kpis, as_of=day)
    sys.stdout.write(con.execute(report).fetchone()[0] + "\n")  # type: ignore[index]


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
