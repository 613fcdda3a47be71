"""A tiny site with one rule file, built by tests/test_docs.py."""

extensions = ["kpidsl.sphinxext"]
kpidsl_rules_path = "kpi"
exclude_patterns = ["_build", "kpi"]
