"""The documentation: the Sphinx extension, the examples in docs/, the Pygments lexer.

The Sphinx tests build ``tests/roots/test-kpi`` (one small rule file in ``kpi/``) with Sphinx's
own test fixtures and look at the HTML. Examples: every ``.. code-block:: kpi`` in ``docs/*.rst``
must parse and check, together with the frozen fixture rules when it uses their definitions
(the examples are the docs' own: they never depend on the policy in ``rules/``). An example
that shows a mistake on purpose starts with a comment ``# error: TEXT``; it must then fail, with
a message that contains TEXT.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import typing
from collections.abc import Iterator
from importlib.metadata import entry_points
from io import StringIO
from pathlib import Path

import attrs
import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Error
from sphinx.testing.util import SphinxTestApp

from cohort import FIXTURE_RULES, fixture_rules
from kpidsl.api import load_rules, rule_files, rules_fingerprint
from kpidsl.contract.records import FIELDS
from kpidsl.errors import RuleError
from kpidsl.language import ast
from kpidsl.language.checker import check
from kpidsl.language.lexer import KpiLexer
from kpidsl.language.parser import parse
from kpidsl.language.words import Words, to_text

pytest_plugins = ("sphinx.testing.fixtures",)

HERE = Path(__file__).parent
DOCS = HERE.parent / "docs"
ROOT = HERE / "roots" / "test-kpi"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SphinxTestApp]:
    """The test root, built once for the tests that only read it."""
    src = tmp_path_factory.mktemp("docs") / "site"
    shutil.copytree(ROOT, src)
    app = SphinxTestApp("html", srcdir=src, status=StringIO(), warning=StringIO())
    try:
        app.build()
        yield app
    finally:
        app.cleanup()


def _text(html: str) -> str:
    """The words of an HTML page, tags removed and spaces collapsed."""
    text = re.sub(r"<[^>]+>", "", html)
    return " ".join(text.replace("&#8217;", "'").replace("&amp;", "&").split())


# ---- the site ------------------------------------------------------------------------------


def test_a_rule_page_is_generated_for_each_kpi(site: SphinxTestApp) -> None:
    app = site
    assert app.warning.getvalue() == ""
    page = app.outdir / "rules" / "dropout.html"
    html = page.read_text(encoding="utf-8")
    text = _text(html)
    assert "<title>Learner Drop-Out" in html
    assert "<h1>Learner Drop-Out" in html
    # the guidance table, policy, decision and the rule in words
    assert "Monitoring stage On Milestone 1 and monthly to Milestone 2" in text
    assert "maximum drop-out of 20%" in text
    assert "Learners still in learning are pending" in text
    assert "all learners for whom starter holds" in text
    assert "the withdrawal date is recorded" in text
    assert "at most 20% of the population is counted" in text
    # the rule's source, highlighted, numbered as in its file
    assert "highlight-kpi" in html
    assert '<span class="kd">kpi</span><span class="w"> </span><span class="nc">dropout</span>' in html
    assert "kpi/dropout.kpi" in text
    # the definition it uses links to the definitions page
    assert 'href="definitions.html#kpi-def-learner-starter"' in html


def test_cross_references_index_and_search(site: SphinxTestApp) -> None:
    app = site
    index = (app.outdir / "index.html").read_text(encoding="utf-8")
    assert 'href="rules/dropout.html#kpi-rule-dropout"' in index
    assert 'href="rules/definitions.html#kpi-def-learner-starter"' in index
    definitions = _text((app.outdir / "rules" / "definitions.html").read_text(encoding="utf-8"))
    assert "A learner who reached Milestone 1." in definitions
    assert "it holds when the milestone1 date is recorded" in definitions
    assert "Used by KPIs: Learner Drop-Out" in definitions
    domain_index = (app.outdir / "kpi-ruleindex.html").read_text(encoding="utf-8")
    assert "Learner Drop-Out" in domain_index
    search = (app.outdir / "searchindex.js").read_text(encoding="utf-8")
    assert '"Learner Drop-Out"' in search  # the page title is searchable
    rule_index = _text((app.outdir / "rules" / "index.html").read_text(encoding="utf-8"))
    assert "Learner Drop-Out Max 20% dropout at most 20%" in rule_index


def test_generated_reference_pages(site: SphinxTestApp) -> None:
    app = site
    text = _text((app.outdir / "reference.html").read_text(encoding="utf-8"))
    for record, fields in FIELDS.items():
        for name in fields:
            assert name in text, (record, name)
    assert "one of independent, co_funded, self_employed" in text
    assert "kpidsl evaluate" in text and "--as-of YYYY-MM-DD" in text
    assert "count" in text and "earliest" in text
    # kpi:check shows what kpidsl check really says
    assert "unknown name `withdrawl_date` on learner" in text
    assert "did you mean `withdrawal_date`?" in text
    # kpi:rule with its own :rules: folder, not indexed twice
    assert text.count("at most 20% of the population is counted") == 1


def test_kpi_links_look_like_links_not_code(site: SphinxTestApp) -> None:
    """A KPI is linked by its title (``:kpi:rule:`dropout```) in the text's own font, not as
    a literal; a definition keeps its name in code, coloured as the link it is."""
    index = (site.outdir / "index.html").read_text(encoding="utf-8")
    link = re.search(r'<a class="reference internal" href="rules/dropout.html#kpi-rule-dropout"'
                     r'[^>]*>(.*?)</a>', index)
    assert link, index
    assert link.group(1) == '<span class="xref kpi kpi-rule">Learner Drop-Out</span>'
    assert "<code" not in link.group(1) and "literal" not in link.group(1)
    css = (site.outdir / "_static" / "kpidsl.css").read_text(encoding="utf-8")
    assert re.search(r"a\.reference code\.xref\.kpi \{[^}]*color: inherit", css)


def test_command_output_wraps_rather_than_running_off_the_column(site: SphinxTestApp) -> None:
    """The output of a command shown in the docs (kpi:run, kpi:check) wraps, so that the end
    of a long line (``target: at most 15%`` in the guide) is in view; it does not scroll."""
    css = (site.outdir / "_static" / "kpidsl.css").read_text(encoding="utf-8")
    plain = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    rules = {k.strip(): v for k, v in re.findall(r"([^{}]+)\{([^}]*)\}", plain)}
    output = rules["div.kpi-run pre, div.kpi-check-output pre"]
    assert "white-space: pre-wrap" in output and "overflow-wrap: anywhere" in output
    assert not any("kpi-run" in selector and "white-space: pre;" in body
                   for selector, body in rules.items())


def test_the_home_page_starts_with_three_entry_points() -> None:
    """docs/index.rst opens (before any table of contents) with one short paragraph for each
    kind of reader, each linking to pages that exist."""
    text = (DOCS / "index.rst").read_text(encoding="utf-8")
    start = text.index("Start here\n----------\n")
    assert start < text.index(".. toctree::")
    entries = re.findall(r"^\*\*(I [^*]+)\*\*\n((?:   .*\n)+)", text[start:], re.M)
    assert [title for title, _ in entries] == [
        "I edit rules.", "I integrate kpidsl.", "I read the rules."]
    for title, body in entries:
        docs = re.findall(r":doc:`(?:[^`<]*<)?([^`>]+)>?`", body)
        refs = re.findall(r":ref:`(?:[^`<]*<)?([^`>]+)>?`", body)
        assert len(docs) + len(refs) >= 3, title
        for target in docs:
            assert (DOCS / f"{target}.rst").exists() or target == "rules/index", target
        for label in refs:
            assert label == "kpi-ruleindex" or re.search(
                rf"^\.\. _{label}:$", "".join(p.read_text("utf-8") for p in DOCS.glob("*.rst")),
                re.M), label
    assert "guide" in re.findall(r":doc:`([^`]+)`", entries[0][1])
    assert "api" in re.findall(r":doc:`([^`]+)`", entries[1][1])
    assert "rules/index" in re.findall(r":doc:`([^`]+)`", entries[2][1])


def _copy_root(tmp_path: Path) -> Path:
    src = tmp_path / "site"
    shutil.copytree(ROOT, src)
    return src


def test_a_broken_rule_file_is_a_located_warning(make_app, tmp_path: Path) -> None:
    src = _copy_root(tmp_path)
    (src / "kpi" / "broken.kpi").write_text(
        'kpi broken:\n  title: "Broken"\n  counted when withdrawal_date is set\n',
        encoding="utf-8")
    app = make_app("html", srcdir=src)
    app.build()
    warnings = app.warning.getvalue()
    assert re.search(r"kpi/broken\.kpi:3: WARNING: unexpected `withdrawal_date`", warnings), warnings
    # the sound file is still documented
    assert (app.outdir / "rules" / "dropout.html").exists()
    assert not (src / "rules" / "broken.rst").exists()


def test_a_rule_file_that_does_not_check_is_a_located_warning(make_app, tmp_path: Path) -> None:
    src = _copy_root(tmp_path)
    (src / "kpi" / "typo.kpi").write_text(
        'kpi typo:\n  title: "Typo"\n  population: learners where starter\n'
        '  counted when: withdrawl_date is set\n  target: at most 20%\n', encoding="utf-8")
    app = make_app("html", srcdir=src)
    app.build()
    warnings = app.warning.getvalue()
    assert re.search(r"kpi/typo\.kpi:4: WARNING: unknown name `withdrawl_date` on learner "
                     r"\(did you mean `withdrawal_date`\?\)", warnings), warnings
    assert (app.outdir / "rules" / "dropout.html").exists()
    assert not (src / "rules" / "typo.rst").exists()


def test_pages_follow_the_rule_files(make_app, tmp_path: Path) -> None:
    src = _copy_root(tmp_path)
    page = src / "_build" / "html" / "rules" / "dropout.html"

    def build() -> str:
        app = make_app("html", srcdir=src)
        app.build()
        warnings = app.warning.getvalue()
        app.cleanup()
        return warnings

    build()
    assert "at most 20% of the population" in _text(page.read_text(encoding="utf-8"))
    generated = (src / "rules" / "dropout.rst").read_text(encoding="utf-8")

    # an edited rule rebuilds its page (the generated .rst itself does not change)
    rule = src / "kpi" / "dropout.kpi"
    rule.write_text(rule.read_text(encoding="utf-8").replace("at most 20%", "at most 15%"),
                    encoding="utf-8")
    assert build() == ""
    assert (src / "rules" / "dropout.rst").read_text(encoding="utf-8") == generated
    assert "at most 15% of the population" in _text(page.read_text(encoding="utf-8"))

    # a new rule file is a new page, and goes when its file goes
    (src / "kpi" / "skills.kpi").write_text(
        'kpi skills:\n  title: "New Skills"\n  population: learners where starter\n'
        '  counted when: skills_gained\n  target: at least 100%\n', encoding="utf-8")
    assert build() == ""
    skills = src / "_build" / "html" / "rules" / "skills.html"
    assert "<title>New Skills" in skills.read_text(encoding="utf-8")
    assert "skills gained is true" in _text(skills.read_text(encoding="utf-8"))
    (src / "kpi" / "skills.kpi").unlink()
    assert build() == ""
    assert not (src / "rules" / "skills.rst").exists()


def test_the_ilr_tables_say_kpidsl_reads_them_for_ilr_returns(make_app, tmp_path: Path):
    """No rule names them, yet they change results: their pages say who reads them, not
    that nothing does."""
    src = _copy_root(tmp_path)
    shutil.copy(FIXTURE_RULES / "ilr.kpi", src / "kpi" / "ilr.kpi")
    (src / "kpi" / "spare.kpi").write_text("table spare_weeks:\n  4\n", encoding="utf-8")
    app = make_app("html", srcdir=src)
    app.build()
    assert app.warning.getvalue() == ""
    text = _text((app.outdir / "rules" / "definitions.html").read_text(encoding="utf-8"))
    said = "Used by Reading ILR returns: kpidsl reads this table when --data names ILR returns"
    assert text.count(said) == 5
    for table in ("ilr_event_codes", "ilr_milestone1_after", "ilr_default_outcome",
                  "ilr_sme_employees", "ilr_large_employees"):
        section = text.split(f"{table} (parameter table)")[1].split("(parameter table)")[0]
        assert said in section, table
    spare = text.split("spare_weeks (parameter table)")[1].split("(parameter table)")[0]
    assert "Used by: no rule uses it yet." in spare and "ILR" not in spare


def test_any_role_and_misused_directives(make_app, tmp_path: Path) -> None:
    src = _copy_root(tmp_path)
    rule = src / "kpi" / "dropout.kpi"
    rule.write_text(rule.read_text(encoding="utf-8") + (
        "\ndefine long_chain for learner:\n"
        "  milestone1_date is set and completion_date is set and skills_gained\n"),
        encoding="utf-8")
    with (src / "index.rst").open("a", encoding="utf-8") as index:
        index.write(
            "\nAny: :any:`dropout` and :any:`starter`.\n\n"
            ".. kpi:rule:: nosuch\n\n"
            ".. kpi:check::\n\n   define fine for learner: milestone1_date is set\n")
    app = make_app("html", srcdir=src)
    app.build()
    warnings = app.warning.getvalue()
    assert re.search(r"index\.rst:\d+: WARNING: no KPI called nosuch", warnings), warnings
    assert re.search(r"index\.rst:\d+: WARNING: this example was expected to give an error, "
                     r"but kpidsl check says: \(no problems found\)", warnings), warnings
    index_html = (app.outdir / "index.html").read_text(encoding="utf-8")
    assert 'href="rules/dropout.html#kpi-rule-dropout"' in index_html
    assert index_html.count('href="rules/definitions.html#kpi-def-learner-starter"') == 2
    # a long chain is a lead, then one bullet a part
    definitions = (app.outdir / "rules" / "definitions.html").read_text(encoding="utf-8")
    assert "it holds when all of these hold:" in _text(definitions)
    assert re.search(r"all of these hold:</p>\s*<ul", definitions), definitions


# ---- rules in words ----------------------------------------------------------------------------

WORDS = [
    ("withdrawal_date is set", "the withdrawal date is recorded"),
    ("withdrawal_date is missing", "the withdrawal date is not recorded"),
    ("not (withdrawal_date is set)", "the withdrawal date is not recorded"),
    ("not skills_gained", "skills gained is not true"),
    ("not completer", "completer does not hold"),
    ("as_of <= deadline", "the as-of date is on or before the deadline"),
    ("start_date < 2024-08-31", "the start date is before 31 August 2024"),
    ("unsuccessful_attempts >= 2", "the unsuccessful_attempts is at least 2"),
    ("learner_type = co_funded", "the learner type is co_funded"),
    ("learner_type != co_funded", "the learner type is recorded and is not co_funded"),
    ("referral_kind in {job, training}", "the referral kind is either job or training"),
    ("referral_kind not in {job}", "the referral kind is recorded and is not job"),
    ("outcome in {new_job, new_role, action_plan}",
     "the outcome is one of new_job, new_role, action_plan"),
    ("completer and (skills_gained or wants_interview)",
     "completer holds and (skills gained is true or wants interview is true)"),
    ("not (completer and skills_gained)",
     "it is not the case that (completer holds and skills gained is true)"),
    ("completion_date + 6 months <= as_of",
     "the completion date plus 6 months is on or before the as-of date"),
    ("sum(payments.amount_paid) >= bootcamp.course_cost * 10%",
     "the total amount paid of the payments is at least the bootcamp's course cost times 10%"),
    ("bootcamp.course_cost - (£100 + £1,250.50) > -£5",
     "the bootcamp's course cost minus (£100 plus £1,250.50) is more than minus £5"),
    ("count(interviews where result = unsuccessful) >= 2",
     "the number of the interviews for which the result is unsuccessful is at least 2"),
    ("any(interviews where valid_interview)",
     "there is at least one of the interviews for which valid_interview holds"),
    ("cofunding_rate(employer.size) = 30%",
     "the cofunding_rate for the employer's size is 30%"),
    ("bootcamp.accelerated_apprenticeship", "the bootcamp's accelerated apprenticeship is true"),
    ("true", "always"),
]


@pytest.mark.parametrize(("expr", "words"), WORDS, ids=[w[0] for w in WORDS])
def test_conditions_in_words(expr: str, words: str) -> None:
    source = f"define example for learner: {expr}\n"
    files = [f for f in fixture_rules().files if not f.path.endswith("example.kpi")]
    rules = check([*files, parse(source, "example.kpi")])
    definition = rules.definitions[("learner", "example")]
    assert to_text(Words(rules).condition(definition.body)) == words


def test_every_expression_node_has_words() -> None:
    for node_type in typing.get_args(ast.Expr):
        assert hasattr(Words, f"value_{node_type.__name__}"), node_type


def test_an_unknown_node_falls_back_to_its_rule_text() -> None:
    rule = parse("define x for learner: completion_date + 6 months\n", "x.kpi")
    body = rule.items[0].body

    @attrs.frozen
    class Novel:
        span: object

    words = Words(None, {"x.kpi": rule.source})
    assert to_text(words.value(Novel(span=body.span))) == "completion_date + 6 months"
    assert to_text(words.value(body)) == "the completion date plus 6 months"


def test_the_rules_read_in_words() -> None:
    rules = load_rules(FIXTURE_RULES)
    words = Words(rules)
    dropout = rules.kpi("learner_dropout")
    assert to_text(words.population(dropout.population.expr)[0]) == (
        "all learners for whom milestone1_starter holds")
    assert to_text(words.target(dropout)) == "at most 20% of the population is counted"
    for kpi in rules.kpis:
        for clause in (kpi.population, kpi.counted, kpi.pending, kpi.target,
                       getattr(kpi, "actual", None), getattr(kpi, "planned", None)):
            if clause is not None:
                text = to_text(words.value(clause.expr)) + to_text(words.clause(clause.expr)[0])
                assert "Name(" not in text and "Binary" not in text, (kpi.name, text)


def test_the_words_need_no_sphinx_and_the_extension_keeps_its_first_name() -> None:
    """The plain words are below the documentation: the HTML report and ``explain`` may use
    them without docutils or Sphinx. ``kpidsl.sphinxext`` (the test site's ``conf.py``) is the
    same extension as ``kpidsl.sphinx`` (the documentation's)."""
    code = ("import sys, kpidsl.language.words\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('docutils', 'sphinx')"
            " or m.startswith('kpidsl.sphinx') or m.startswith('kpidsl.outputs')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
    import kpidsl.sphinx
    import kpidsl.sphinxext

    assert kpidsl.sphinxext.setup is kpidsl.sphinx.setup


# ---- examples in the documentation ------------------------------------------------------------

_BLOCK = re.compile(r"^( *)\.\. code-block:: kpi\n((?:\1 +:.*\n)*)\n((?:\1 +.*\n|[ \t]*\n)+)",
                    re.M)


def _examples() -> list[tuple[str, str]]:
    found = []
    for page in sorted(DOCS.glob("*.rst")):
        text = page.read_text(encoding="utf-8")
        for m in _BLOCK.finditer(text):
            line = text[:m.start()].count("\n") + 1
            block = m.group(3).rstrip()
            lines = block.split("\n")
            indent = min(len(x) - len(x.lstrip()) for x in lines if x.strip())
            found.append((f"{page.name}:{line}", "\n".join(x[indent:] for x in lines) + "\n"))
    return found


EXAMPLES = _examples()


def test_the_docs_have_examples() -> None:
    assert len(EXAMPLES) >= 20


def _new_kpis_before(where: str, example: ast.RuleFile) -> list[ast.RuleFile]:
    """A test example may be about a KPI that an earlier example of the same page writes
    (the guide's new KPI, then its tests): that example, for the KPIs the tests expect and the
    rules do not have."""
    page, line = where.split(":")
    known = {k.name for k in fixture_rules().kpis} | {
        i.name for i in example.items if isinstance(i, ast.Kpi)}
    needed = {e.kpi for t in example.items if isinstance(t, ast.Test) for e in t.expects}
    needed -= known
    out = []
    for other, text in EXAMPLES:
        other_page, other_line = other.split(":")
        if not needed or other_page != page or int(other_line) >= int(line):
            continue
        try:
            earlier = parse(text, other)
        except RuleError:
            continue
        kpis = tuple(i for i in earlier.items if isinstance(i, ast.Kpi) and i.name in needed)
        if kpis:
            out.append(attrs.evolve(earlier, items=kpis))
            needed -= {k.name for k in kpis}
    return out


@pytest.mark.parametrize(("where", "text"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_example_in_the_docs_checks(where: str, text: str) -> None:
    expected = re.match(r"# error: (.+)", text)
    try:
        example = parse(text, where)
        declared = {(type(i).__name__, getattr(i, "name", None)) for i in example.items}
        shipped = []
        for f in fixture_rules().files:
            items = tuple(i for i in f.items
                          if (type(i).__name__, getattr(i, "name", None)) not in declared)
            shipped.append(attrs.evolve(f, items=items))
        check([*shipped, *_new_kpis_before(where, example), example])
    except RuleError as e:
        if expected is None:
            raise
        assert expected.group(1).strip() in e.render()
    else:
        assert expected is None, f"{where} should give an error: {expected.group(1)}"


# ---- the lexer -------------------------------------------------------------------------------


def test_the_lexer_is_registered_with_pygments() -> None:
    (ep,) = [e for e in entry_points(group="pygments.lexers") if e.name == "kpidsl"]
    assert ep.load() is KpiLexer
    assert isinstance(get_lexer_by_name("kpi"), KpiLexer)
    assert isinstance(get_lexer_by_name("kpidsl"), KpiLexer)
    assert isinstance(get_lexer_for_filename("03_learner_dropout.kpi"), KpiLexer)


GRAMMAR_SAMPLES = [*rule_files([FIXTURE_RULES]),
                   *sorted((HERE / "goldens" / "parse").glob("*.kpi"))]


@pytest.mark.parametrize("path", GRAMMAR_SAMPLES, ids=lambda p: p.name)
def test_the_lexer_reads_every_rule_file_and_golden(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    tokens = list(KpiLexer().get_tokens(text))
    assert [t for t in tokens if t[0] in Error] == []
    assert "".join(v for _, v in tokens) == text


def test_the_lexer_reads_every_example() -> None:
    for where, text in EXAMPLES:
        if text.startswith("# error:"):
            continue  # a mistake on purpose may well be a character the language lacks
        bad = [v for t, v in KpiLexer().get_tokens(text) if t in Error]
        assert bad == [], where


def test_prose_that_disagrees_with_the_rule_is_shown_on_its_page(make_app, tmp_path: Path):
    """The rule now says 15%; its level and policy still say 20%: the page says so, in a
    warning box, and the build itself has no warning (the rules are valid)."""
    src = _copy_root(tmp_path)
    rule = src / "kpi" / "dropout.kpi"
    rule.write_text(rule.read_text(encoding="utf-8").replace("target: at most 20%",
                                                             "target: at most 15%"),
                    encoding="utf-8")
    app = make_app("html", srcdir=src)
    app.build()
    assert "WARNING" not in app.warning.getvalue()
    page = _text((app.outdir / "rules" / "dropout.html").read_text(encoding="utf-8"))
    assert ("The text of this rule states numbers that the rule does not use; the rule decides "
            "the results. kpidsl check says:") in page
    assert ("kpi/dropout.kpi:10: the level of dropout says 20%, a percentage its rule does not "
            "use. Hint: the rule uses 15%") in page
    assert "kpi/dropout.kpi:12: the policy of dropout says 20%" in page


def test_the_shipped_pages_have_no_prose_warning(site: SphinxTestApp):
    page = _text((site.outdir / "rules" / "dropout.html").read_text(encoding="utf-8"))
    assert "states numbers that the rule does not use" not in page


@pytest.mark.parametrize(("where", "text"), [e for e in EXAMPLES if e[0].startswith("guide.rst")],
                         ids=[e[0] for e in EXAMPLES if e[0].startswith("guide.rst")])
def test_the_guides_examples_are_laid_out_as_fmt_lays_them_out(where: str, text: str) -> None:
    """A policy officer copies the guide; CI runs `kpidsl fmt --check rules`: the copy must
    pass it."""
    from kpidsl.language.formatter import format_source

    assert format_source(text, where) == text


# ---- output of real runs, and pictures ----------------------------------------------------------


def _pre_blocks(html: str) -> list[str]:
    import html as html_module

    return [html_module.unescape(re.sub(r"<[^>]+>", "", m)).rstrip("\n")
            for m in re.findall(r"<pre>(.*?)</pre>", html, re.S)]


def test_kpi_run_shows_the_real_output_of_the_command(make_app, tmp_path: Path) -> None:
    """The output is kpidsl's own, on a copy of the documented rules edited as the content
    says; the documented rules themselves are untouched; a wrong exit code is a warning."""
    src = _copy_root(tmp_path)
    (src / "index.rst").write_text((src / "index.rst").read_text(encoding="utf-8")
                                   + "   run\n", encoding="utf-8")
    (src / "run.rst").write_text(
        "Run\n===\n\n"
        ".. kpi:run:: kpidsl check\n\n"
        ".. kpi:run:: kpidsl check\n\n"
        "   rules/dropout.kpi: target: at most 20% => target: at most 15%\n\n"
        ".. kpi:run:: kpidsl check\n   :exit: 1\n\n"
        ".. kpi:run:: kpidsl check --rules nowhere\n   :lines: 1\n", encoding="utf-8")
    app = make_app("html", srcdir=src)
    app.build()
    original = (src / "kpi" / "dropout.kpi").read_text(encoding="utf-8")
    assert "target: at most 20%" in original  # the edit was made on a copy
    plain, edited, wrong_exit, usage = _pre_blocks(
        (app.outdir / "run.html").read_text(encoding="utf-8"))
    folder = tmp_path / "rules"
    shutil.copytree(src / "kpi", folder)
    fingerprint = rules_fingerprint(load_rules(folder))[:12]
    assert plain == (f"$ kpidsl check\nRules: rules (fingerprint {fingerprint})\n"
                     "1 rule file OK: 1 KPI, 1 definition, 0 tables, 0 schedules, 0 findings "
                     "and actions, 0 tests")
    assert "rules/dropout.kpi:10:15: warning: the level of dropout says 20%" in edited
    assert edited.endswith("; 2 warnings about the prose")  # the level and the policy
    assert wrong_exit.startswith("$ kpidsl check\nRules: rules")
    assert usage == "$ kpidsl check --rules nowhere\nkpidsl check: error: nowhere: no such file or folder"
    warnings = app.warning.getvalue()
    assert re.search(r"run\.rst:\d+: WARNING: `kpidsl check` exited with 0, not 1", warnings)
    assert re.search(r"run\.rst:\d+: WARNING: `kpidsl check --rules nowhere` exited with 2, "
                     r"not 0: kpidsl check: error: nowhere: no such file or folder", warnings)


def test_the_data_model_picture_is_drawn_from_the_record_schema() -> None:
    from kpidsl.contract.records import LINKS, RECORD_TYPES
    from kpidsl.outputs.diagrams import data_model_svg

    svg = data_model_svg()
    for rt in RECORD_TYPES:
        assert f">{rt.file}</text>" in svg
    assert svg.count('marker-end="url(#arrow)"') == sum(not lk.many for lk in LINKS)
    assert "refers by: bootcamp_id, employer_id" in svg  # engagements.csv


def test_the_status_picture_names_every_status() -> None:
    from kpidsl.outputs.diagrams import status_svg

    svg = status_svg()
    for status in ("no_data", "met", "not_met", "on_track", "at_risk"):
        assert re.search(rf">(yes: |no: )?{status}</text>", svg), status
