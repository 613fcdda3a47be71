"""Baseline: the seven KPIs hand-written as DuckDB SQL, as an analyst would write them.

``python benchmarks/baseline_duckdb.py DATA_DIR AS_OF`` prints the KPI-SPEC §4 results (JSON)
of the seven KPIs for every bootcamp, provider and the programme. It shares nothing with
kpidsl: the CSV files are read by DuckDB with declared types, each KPI is one query of
per-bootcamp counts, and the statuses are worked out in a few lines of Python. It does not
check the data.
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction

import duckdb

TABLES = {
    "bootcamps": "bootcamp_id VARCHAR, provider_id VARCHAR, title VARCHAR, start_date DATE, "
                 "end_date DATE, course_cost DECIMAL(18,2), accelerated_apprenticeship BOOLEAN",
    "providers": "provider_id VARCHAR, name VARCHAR, ukprn VARCHAR",
    "employers": "employer_id VARCHAR, name VARCHAR, employees BIGINT",
    "engagements": "bootcamp_id VARCHAR, employer_id VARCHAR, roles VARCHAR, "
                   "contact_attempts BIGINT, reached BOOLEAN, role_confirmed BOOLEAN, "
                   "satisfaction BIGINT, recorded_date DATE",
    "learners": "learner_id VARCHAR, bootcamp_id VARCHAR, learner_type VARCHAR, "
                "employer_id VARCHAR, start_date DATE, milestone1_date DATE, "
                "withdrawal_date DATE, completion_date DATE, initial_assessment_date DATE, "
                "final_assessment_date DATE, skills_gained BOOLEAN, wants_interview BOOLEAN, "
                "new_role_evidence_date DATE, outcome VARCHAR, outcome_date DATE, "
                "referral_date DATE, referral_kind VARCHAR",
    "interviews": "learner_id VARCHAR, employer_id VARCHAR, offer_date DATE, actual_job BOOLEAN,"
                  " matches_skills BOOLEAN, full_apprenticeship BOOLEAN, result VARCHAR",
    "cofunding": "learner_id VARCHAR, amount_paid DECIMAL(18,2), paid_date DATE",
}

TARGETS = {"employer_engagement": (">=", Fraction(1)), "employer_cofunding": (">=", Fraction(1)),
           "learner_dropout": ("<=", Fraction(1, 5)), "new_skills": (">=", Fraction(1)),
           "guaranteed_interview": (">=", Fraction(1)),
           "career_progression": (">=", Fraction(3, 4)), "referral": (">=", Fraction(1))}

# Each learner as of the date ($1): dates after it are NULL.
AS_OF_LEARNERS = """
CREATE TEMP TABLE l AS SELECT learner_id, bootcamp_id, learner_type, employer_id,
  wants_interview, skills_gained, outcome, referral_kind,
  CASE WHEN milestone1_date <= $1 THEN milestone1_date END AS m1,
  CASE WHEN withdrawal_date <= $1 THEN withdrawal_date END AS wd,
  CASE WHEN completion_date <= $1 THEN completion_date END AS cd,
  CASE WHEN initial_assessment_date <= $1 THEN initial_assessment_date END AS ia,
  CASE WHEN final_assessment_date <= $1 THEN final_assessment_date END AS fa,
  CASE WHEN new_role_evidence_date <= $1 THEN new_role_evidence_date END AS nre,
  CASE WHEN outcome_date <= $1 THEN outcome_date END AS od,
  CASE WHEN referral_date <= $1 THEN referral_date END AS rd
FROM learners;
CREATE TEMP TABLE c AS SELECT l.*, CAST(l.cd + INTERVAL 6 MONTH AS DATE) AS deadline,
  l.od IS NOT NULL AND l.od <= CAST(l.cd + INTERVAL 6 MONTH AS DATE) AND (
    (l.learner_type = 'co_funded' AND l.outcome IN ('new_role', 'new_responsibilities'))
    OR ((l.learner_type = 'independent' OR (l.learner_type = 'self_employed'
         AND l.wants_interview IS TRUE))
        AND (l.outcome IN ('new_job', 'accelerated_apprenticeship')
             OR (l.outcome = 'apprenticeship' AND NOT b.accelerated_apprenticeship)))
    OR (l.learner_type = 'self_employed' AND l.wants_interview IS NOT TRUE
        AND l.outcome IN ('action_plan', 'new_contract'))) AS positive,
  b.accelerated_apprenticeship AS accelerated
FROM l JOIN bootcamps b USING (bootcamp_id) WHERE l.cd IS NOT NULL;
"""

KPIS = {
    "employer_engagement": """
SELECT bootcamp_id, count(*) AS n,
  count_if(role_confirmed IS TRUE AND (satisfaction IS NULL OR satisfaction >= 3)) AS k, 0 AS p
FROM engagements WHERE reached IS TRUE AND (recorded_date IS NULL OR recorded_date <= $1)
GROUP BY bootcamp_id""",
    "employer_cofunding": """
WITH paid AS (SELECT learner_id, sum(amount_paid) AS paid FROM cofunding
              WHERE paid_date <= $1 GROUP BY learner_id),
v AS (SELECT l.bootcamp_id, coalesce(paid.paid, 0) >= b.course_cost *
        CASE WHEN e.employees >= 250 THEN 0.30 ELSE 0.10 END AS ok,
        l.cd IS NULL AND l.wd IS NULL AS open
      FROM l JOIN bootcamps b USING (bootcamp_id) JOIN employers e USING (employer_id)
      LEFT JOIN paid USING (learner_id)
      WHERE l.learner_type = 'co_funded' AND l.m1 IS NOT NULL)
SELECT bootcamp_id, count(*), count_if(ok), count_if(NOT ok AND open) FROM v
GROUP BY bootcamp_id""",
    "learner_dropout": """
SELECT bootcamp_id, count(*), count_if(wd IS NOT NULL), count_if(wd IS NULL AND cd IS NULL)
FROM l WHERE m1 IS NOT NULL GROUP BY bootcamp_id""",
    "new_skills": """
SELECT bootcamp_id, count(*),
  count_if(ia IS NOT NULL AND fa IS NOT NULL AND skills_gained IS TRUE), 0
FROM l WHERE cd IS NOT NULL GROUP BY bootcamp_id""",
    "guaranteed_interview": """
WITH valid AS (SELECT DISTINCT i.learner_id FROM interviews i JOIN c USING (learner_id)
               WHERE i.offer_date <= $1 AND i.actual_job AND i.matches_skills
                 AND i.offer_date <= c.cd AND NOT (c.accelerated AND i.full_apprenticeship))
SELECT c.bootcamp_id, count(*),
  count_if(valid.learner_id IS NOT NULL OR (c.learner_type = 'co_funded' AND c.nre IS NOT NULL)),
  0
FROM c LEFT JOIN valid USING (learner_id)
WHERE c.wants_interview IS TRUE OR c.learner_type = 'co_funded' GROUP BY c.bootcamp_id""",
    "career_progression": """
SELECT bootcamp_id, count(*), count_if(positive), count_if(NOT positive AND $1 <= deadline)
FROM c GROUP BY bootcamp_id""",
    "referral": """
WITH tries AS (SELECT learner_id, count(*) AS n FROM interviews
               WHERE offer_date <= $1 AND result = 'unsuccessful' GROUP BY learner_id)
SELECT c.bootcamp_id, count(*),
  count_if(c.rd IS NOT NULL AND c.referral_kind IN ('job', 'training')), 0
FROM c JOIN tries USING (learner_id)
WHERE NOT c.positive AND $1 > c.deadline AND tries.n >= 2 GROUP BY c.bootcamp_id""",
}


def status(op: str, target: Fraction, n: int, k: int, p: int) -> str:
    def ok(rate: Fraction) -> bool:
        return rate >= target if op == ">=" else rate <= target

    if n == 0:
        return "no_data"
    low, high = ok(Fraction(k, n)), ok(Fraction(k + p, n))
    if p == 0 or low == high:
        return "met" if low else "not_met"
    return "on_track" if n == p or ok(Fraction(k, n - p)) else "at_risk"


def main(folder: str, as_of: str) -> None:
    con = duckdb.connect()
    for name, columns in TABLES.items():
        cols = "{" + ", ".join(f"'{c.split()[0]}': '{' '.join(c.split()[1:])}'"
                               for c in columns.split(", ") if c) + "}"
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv('{folder}/{name}.csv', "
                    f"header = true, columns = {cols})")
    day = as_of
    for statement in AS_OF_LEARNERS.split(";"):
        if statement.strip():
            con.execute(statement.replace("$1", f"DATE '{day}'"))
    bootcamps = con.execute("SELECT bootcamp_id, provider_id FROM bootcamps "
                            "ORDER BY bootcamp_id").fetchall()
    providers = [r[0] for r in con.execute("SELECT provider_id FROM providers "
                                           "ORDER BY provider_id").fetchall()]
    results = []
    for kpi, sql in KPIS.items():
        counts = {r[0]: r[1:] for r in
                  con.execute(sql.replace("$1", f"DATE '{day}'")).fetchall()}
        per_provider = {p: [0, 0, 0] for p in providers}
        total = [0, 0, 0]
        rows = []
        for b, p in bootcamps:
            c = counts.get(b, (0, 0, 0))
            rows.append(("bootcamp", b, c))
            for i in range(3):
                per_provider[p][i] += c[i]
                total[i] += c[i]
        rows += [("provider", p, per_provider[p]) for p in providers]
        rows.append(("programme", "all", total))
        op, target = TARGETS[kpi]
        results += [{"kpi": kpi, "scope": s, "group": g, "status": status(op, target, *c),
                     "numerator": c[1], "denominator": c[0], "pending": c[2]}
                    for s, g, c in rows]
    json.dump({"as_of": as_of, "results": results}, sys.stdout, indent=2)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
