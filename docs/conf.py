"""Sphinx configuration for the kpidsl documentation (``nox -s docs``)."""

from __future__ import annotations

import kpidsl

project = "kpidsl"
author = "kpidsl maintainers"
copyright = "2026, kpidsl maintainers"
release = version = kpidsl.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "kpidsl.sphinx",
]

# The rule reference is generated from ../rules into rules/ (git-ignored) on every build.
kpidsl_rules_path = "../rules"
kpidsl_generated_dir = "rules"
# The worked examples of the guide and the command-line page (kpi:run, kpi:check) edit and run
# a frozen copy of the rules at the guidance's numbers, the one the test suite uses, so that a
# policy edit to ../rules never changes them (or breaks the build).
kpidsl_example_rules = "../tests/fixtures/rules"

exclude_patterns = ["_build"]
highlight_language = "text"
pygments_style = "sphinx"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True}

html_theme = "alabaster"
html_title = "kpidsl"
html_theme_options = {
    "description": "The Skills Bootcamps KPIs as rule files",
    "fixed_sidebar": True,
    "page_width": "1200px",
    "sidebar_width": "240px",
}
html_sidebars = {"**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]}
