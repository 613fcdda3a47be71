"""The report page: an evaluation, or a history, as one self-contained HTML file.

The page is meant to be sent: it has no script, no external style sheet, font or image, so it
works offline and as an e-mail attachment. It is written to meet WCAG 2.2 AA: every colour pair
in :data:`COLOURS` and :data:`STATUS_COLOURS` has a contrast of at least 4.5:1 (the tests
compute it), a status is always written as a word with its symbol (colour only repeats it),
the tables are real tables (a ``<caption>``, ``<th scope>`` for every header), and the trend
chart has a text alternative and a table with the same numbers.

When a docs URL is given (the rule reference of the documentation site), each KPI's title and
target link to its page there, ``{docs_url}/rules/{kpi}.html``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from kpidsl.language.checker import RuleSet
from kpidsl.language.words import COUNTED, human, percent
from kpidsl.outputs.report import Months, Names, Report
from kpidsl.outputs.svg import history_svg
from kpidsl.outputs.text import (
    SYMBOLS,
    audit_lines,
    group_title,
    kpi_title,
    kpi_words,
    rate_series,
    rule_url,
)
from kpidsl.plan.results import Entry, Result
from kpidsl.version import __version__

#: Text and background of each status (text, background).
STATUS_COLOURS: dict[str, tuple[str, str]] = {
    "met": ("#14532d", "#dcfce7"),
    "not_met": ("#7f1d1d", "#fee2e2"),
    "on_track": ("#1e3a8a", "#dbeafe"),
    "at_risk": ("#7c2d12", "#ffedd5"),
    "no_data": ("#374151", "#f3f4f6"),
}
#: The page's other colour pairs (foreground, background).
COLOURS: dict[str, tuple[str, str]] = {
    "text": ("#1f2937", "#ffffff"),
    "muted": ("#4b5563", "#ffffff"),
    "link": ("#1d4ed8", "#ffffff"),
    "header": ("#111827", "#e5e7eb"),
}

_SCOPES = ("programme", "provider", "bootcamp")


def _css() -> str:
    text, muted, link, header = (COLOURS[k] for k in ("text", "muted", "link", "header"))
    statuses = "\n".join(f".status-{s} {{ color: {fg}; background: {bg}; }}"
                         for s, (fg, bg) in STATUS_COLOURS.items())
    return f"""
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: {text[0]}; background: {text[1]}; margin: 0 auto; max-width: 72rem;
  padding: 1rem 1.5rem 3rem; line-height: 1.45; }}
a {{ color: {link[0]}; }}
h1 {{ font-size: 1.6rem; margin-bottom: .25rem; }}
h2 {{ font-size: 1.25rem; margin-top: 2.25rem; border-bottom: 1px solid #9ca3af; }}
.meta, .note {{ color: {muted[0]}; }}
.scroll {{ overflow-x: auto; }}
table {{ border-collapse: collapse; margin: .75rem 0 1.25rem; }}
caption {{ text-align: left; font-weight: 600; padding-bottom: .35rem; }}
th, td {{ border: 1px solid #9ca3af; padding: .3rem .6rem; text-align: left;
  vertical-align: top; }}
thead th {{ color: {header[0]}; background: {header[1]}; }}
.nowrap {{ white-space: nowrap; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.status {{ display: inline-block; padding: 0 .45rem; border-radius: .25rem; font-weight: 600;
  white-space: nowrap; }}
{statuses}
.visually-hidden {{ position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }}
nav ul {{ display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; padding: 0;
  list-style: none; }}
figure {{ margin: 1rem 0; }}
svg {{ max-width: 100%; height: auto; }}
@media print {{ body {{ max-width: none; }} a {{ color: inherit; }} }}
"""


def _page(title: str, subtitle: str, body: list[str], footer: Sequence[str] = ()) -> str:
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="kpidsl {__version__}">',
        f"<title>{escape(title)}</title>",
        f"<style>{_css()}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(subtitle)}</p>',
        "</header>",
        "<main>",
        *body,
        "</main>",
        *([f'<footer><p class="meta">{escape(" ".join(footer))}</p></footer>'] if footer else []),
        "</body>",
        "</html>",
        "",
    ])


def status_html(status: str) -> str:
    """A status as a word with its symbol, in its colours."""
    return (f'<span class="status status-{status}"><span aria-hidden="true">'
            f"{SYMBOLS[status]}</span> {human(status)}</span>")


def target_words(r: Result) -> str:
    return f"{r.direction} {percent(r.target)}" if r.target is not None else "none in force"


class _Titles:
    """KPI titles from the rules, linked to the rule reference when there is one."""

    def __init__(self, rules: RuleSet | None, docs_url: str | None) -> None:
        self.rules = rules
        self.docs_url = docs_url

    def title(self, kpi: str) -> str:
        return kpi_title(self.rules, kpi)

    def link(self, kpi: str, text: str) -> str:
        url = rule_url(self.docs_url, kpi)
        return escape(text) if url is None else f'<a href="{escape(url)}">{escape(text)}</a>'


def _date(d: dt.date) -> str:
    return f"{d.day} {d:%B %Y}"


def _scroll(caption: str) -> str:
    """The start of a table that scrolls sideways on a narrow screen: a region a keyboard
    can reach, named by the table's caption."""
    return (f'<div class="scroll" role="region" tabindex="0" aria-label="{escape(caption)}">'
            f"<table><caption>{escape(caption)}</caption>")


def count_headers(words: tuple[str, str]) -> tuple[str, str]:
    """The headers of a KPI's k and n columns: ``Counted (k)``, ``Actual (k)``, …"""
    return f"{words[0].capitalize()} (k)", f"{words[1].capitalize()} (n)"


def _results_table(title: str, results: Sequence[Result], names: Names,
                   words: tuple[str, str]) -> list[str]:
    k, n = count_headers(words)
    pending = words == COUNTED  # a KPI measured per provider has no records to wait for
    out = [_scroll(f"{title}: status of each group"),
           '<thead><tr><th scope="col">Group</th><th scope="col">Name</th>'
           '<th scope="col">Status</th><th scope="col">Rate</th>'
           f'<th scope="col">{k}</th><th scope="col">{n}</th>'
           + ('<th scope="col">Pending</th>' if pending else "") + "</tr></thead>",
           "<tbody>"]
    for r in sorted(results, key=lambda r: (_SCOPES.index(r.scope), r.group)):
        out.append(f'<tr><th scope="row">{escape(group_title(r.scope, r.group))}</th>'
                   f'<td>{escape(names.get((r.scope, r.group), ""))}</td>'
                   f"<td>{status_html(r.status)}</td><td class=\"num\">{percent(r.rate)}</td>"
                   f'<td class="num">{r.numerator}</td><td class="num">{r.denominator}</td>'
                   + (f'<td class="num">{r.pending}</td>' if pending else "") + "</tr>")
    out.append("</tbody></table></div>")
    return out


def _named(bootcamp: str | None, names: Names) -> str:
    """A bootcamp's id with its title: ``BC0001 — Electric Vehicle Maintenance``."""
    title = names.get(("bootcamp", bootcamp)) if bootcamp else None
    return f"{bootcamp} — {title}" if title else bootcamp or ""


def _entries_table(caption: str, entries: Sequence[Entry], names: Names) -> list[str]:
    if not entries:
        return [f"<p>{escape(caption)}: none.</p>"]
    out = [_scroll(caption),
           '<thead><tr><th scope="col">Record</th><th scope="col">Where</th>'
           '<th scope="col">Bootcamp</th><th scope="col">Rule</th>'
           '<th scope="col">What to look at</th></tr></thead>',
           "<tbody>"]
    for e in entries:
        out.append(f'<tr><th scope="row">{escape(e.record)}</th>'
                   f'<td>{escape(e.location or "")}</td><td>{escape(_named(e.group, names))}'
                   f"</td><td>{escape(e.name)}</td><td>{escape(e.message)}</td></tr>")
    out.append("</tbody></table></div>")
    return out


def report_html(report: Report, rules: RuleSet | None = None, *,
                docs_url: str | None = None) -> str:
    """The evaluation as a page: a summary of each KPI for the programme, each KPI's status
    for every group, then the data-quality findings and the follow-up actions."""
    titles = _Titles(rules, docs_url)
    by_kpi: dict[str, list[Result]] = {}
    for r in report.results:
        by_kpi.setdefault(r.kpi, []).append(r)
    body = ['<nav aria-label="Contents"><ul>',
            '<li><a href="#summary">Summary</a></li>',
            *(f'<li><a href="#kpi-{escape(k)}">{escape(titles.title(k))}</a></li>'
              for k in by_kpi),
            '<li><a href="#findings">Data-quality findings</a></li>',
            '<li><a href="#actions">Follow-up actions</a></li>',
            "</ul></nav>",
            '<h2 id="summary">Summary</h2>',
            _scroll("Each KPI for the whole programme"),
            '<thead><tr><th scope="col">KPI</th><th scope="col">Target</th>'
            '<th scope="col">Status</th><th scope="col">Rate</th>'
            '<th scope="col">Counted (k)</th><th scope="col">Population (n)</th>'
            '<th scope="col">Pending</th><th scope="col">Groups met</th></tr></thead>',
            "<tbody>"]
    measured = []
    for kpi, results in by_kpi.items():
        top = next((r for r in results if r.scope == "programme"), None) or \
            next(r for r in results if r.scope == "provider")
        groups = [r for r in results if r.scope != "programme"]
        met = sum(r.status == "met" for r in groups)
        words = kpi_words(rules, kpi)
        k, n = ("", "") if words == COUNTED else (f" {words[0]}", f" {words[1]}")
        if words != COUNTED:
            measured.append((kpi, words))
        body.append(
            f'<tr><th scope="row">{titles.link(kpi, titles.title(kpi))}</th>'
            f'<td class="nowrap">{titles.link(kpi, target_words(top))}</td>'
            f"<td>{status_html(top.status)}</td>"
            f'<td class="num">{percent(top.rate)}</td>'
            f'<td class="num nowrap">{top.numerator}{k}</td>'
            f'<td class="num nowrap">{top.denominator}{n}</td>'
            f'<td class="num">{top.pending if words == COUNTED else ""}</td>'
            f'<td class="num">{met} of {len(groups)}</td></tr>')
    body.append("</tbody></table></div>")
    body.append('<p class="note">Rate = counted ÷ population'
                + "".join(f"; for {escape(titles.title(kpi))}, {words[0]} ÷ {words[1]}, "
                          "summed over the providers" for kpi, words in measured)
                + ". Pending records are not "
                "decided yet: a KPI is met or not met once it would be whichever way they go; "
                "until then it is on track or at risk by the records decided so far. "
                "Groups met: bootcamps and providers whose status is met.</p>")
    for kpi, results in by_kpi.items():
        title = titles.title(kpi)
        body.append(f'<h2 id="kpi-{escape(kpi)}">{titles.link(kpi, title)}</h2>')
        body.append(f"<p>Target: {titles.link(kpi, target_words(results[0]))}. "
                    f"KPI id <code>{escape(kpi)}</code>.</p>")
        body += _results_table(title, results, report.names, kpi_words(rules, kpi))
    body.append('<h2 id="findings">Data-quality findings</h2>')
    body.append("<p>Records that contradict each other or the data contract's expectations; "
                "they are evaluated as written.</p>")
    body += _entries_table(f"Data-quality findings ({len(report.findings)})", report.findings,
                           report.names)
    body.append('<h2 id="actions">Follow-up actions</h2>')
    body += _entries_table(f"Follow-up actions ({len(report.actions)})", report.actions,
                           report.names)
    return _page("Skills Bootcamps KPIs", f"As of {_date(report.as_of)}. "
                 f"Generated by kpidsl {__version__}.", body, audit_lines(report))


def history_html(months: Months, rules: RuleSet | None = None, group: str = "all", *,
                 docs_url: str | None = None, audit: dict[str, str] | None = None,
                 names: Names | None = None) -> str:
    """A history as a page: the trend chart (inline SVG), then each KPI's status and rate at
    every month end, the same numbers as a table; ``audit`` (:func:`audit_json`) says what
    produced it, in the footer."""
    titles = _Titles(rules, docs_url)
    series = rate_series(months, group)
    dates = [d for d, _ in months]
    scope = next((r.scope for s in series.values() for r in s.values()), "programme")
    where = group_title(scope, group, names)
    span = f"{dates[0]:%B %Y} to {dates[-1]:%B %Y}" if dates else "no months"
    svg = history_svg(months, group, rules, names).replace(
        "<svg ", '<svg role="img" aria-labelledby="chart-caption" ', 1)
    body = [f"<h2>Rates at each month end, {escape(where)}</h2>",
            f"<figure>{svg}",
            f'<figcaption id="chart-caption">One small chart for each KPI, titled with its '
            f"title and target: its rate at each month end, {escape(where)}, {span}, as a "
            "solid line, and the target in force each month as a dashed line. Every chart "
            "has the same months at the same places. The table below gives the same "
            "numbers.</figcaption></figure>",
            f"<h2>Status at each month end, {escape(where)}</h2>",
            _scroll(f"Status and rate of each KPI at each month end, {where}"),
            '<thead><tr><th scope="col">KPI</th><th scope="col">Target</th>',
            *(f'<th scope="col">{d:%b %Y}</th>' for d in dates),
            "</tr></thead><tbody>"]
    for kpi, by_date in series.items():
        latest = by_date.get(dates[-1]) if dates else None
        target = target_words(latest) if latest else ""
        cells = []
        for d in dates:
            r = by_date.get(d)
            cells.append("<td>–</td>" if r is None else
                         f'<td class="num">{status_html(r.status)} <br>{percent(r.rate)}</td>')
        body.append(f'<tr><th scope="row">{titles.link(kpi, titles.title(kpi))}</th>'
                    f'<td class="nowrap">{titles.link(kpi, target)}</td>{"".join(cells)}</tr>')
    body.append("</tbody></table></div>")
    return _page("Skills Bootcamps KPI trends", f"{where[0].upper()}{where[1:]}, {span}. "
                 f"Generated by kpidsl {__version__}.", body, audit_lines(audit) if audit else ())
