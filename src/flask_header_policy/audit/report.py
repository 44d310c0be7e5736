"""Render audits: a terminal table, JSON for machines, an HTML page for people.

Shared by ``flask headers audit`` and ``header-policy-audit``; each renderer
takes the list of :class:`~.results.RouteAudit` an audit returns.
"""

from __future__ import annotations

import collections.abc as cabc
import datetime
import json
import typing as t
from importlib import resources

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ._types import Blocked
from .results import below
from .results import grade_rank
from .results import GRADES
from .results import RouteAudit

__all__ = [
    "failing",
    "grade_cell",
    "grade_colour",
    "print_table",
    "render_html",
    "render_json",
    "to_data",
]

#: Blocked items listed per page in the terminal and the HTML report (all in JSON).
MAX_LISTED = 100
#: Shown for the 404 page, which no endpoint serves.
NO_ENDPOINT = "(no route: 404)"
_TOP_FINDINGS = 3


def grade_colour(grade: str) -> str:
    """A CSS colour for ``grade``: green for A, through amber, to red for F."""
    letter = grade[:1].upper()
    if grade.upper() == "A+":
        return "#137333"
    return {
        "A": "#2e7d32",
        "B": "#7a8b00",
        "C": "#c77700",
        "D": "#d9480f",
    }.get(letter, "#c62828")


def _rich_style(grade: str) -> str:
    rank = grade_rank(grade) if grade in GRADES else len(GRADES)
    if rank <= GRADES.index("A-"):
        return "bold green"
    if rank <= GRADES.index("C-"):
        return "bold yellow"
    return "bold red"


def _endpoint(audit: RouteAudit) -> str:
    if audit.endpoint is not None:
        return audit.endpoint
    return "" if audit.redirects else NO_ENDPOINT


def to_data(audits: cabc.Iterable[RouteAudit]) -> list[dict[str, t.Any]]:
    """The JSON-ready form of ``audits``: one dict per route or URL."""
    return [
        {
            "path": audit.path,
            "endpoint": audit.endpoint,
            "url": audit.url,
            "status": audit.status,
            "grade": audit.grade,
            "score": audit.score,
            "verdict": audit.verdict,
            "tests": [
                {
                    "name": test.name,
                    "result": test.result,
                    "score_modifier": test.score_modifier,
                }
                for test in audit.result.tests
            ],
            "findings": [
                {
                    "severity": finding.severity,
                    "code": finding.code,
                    "message": finding.message,
                    "fix": finding.fix,
                }
                for finding in audit.result.findings
            ],
            "blocked": [_blocked_data(item) for item in audit.result.breaks],
            "reports": [_blocked_data(item) for item in audit.result.reports],
            "headers": [[name, value] for name, value in audit.headers],
            "redirects": [
                {"url": hop.url, "status": hop.status} for hop in audit.redirects
            ],
        }
        for audit in audits
    ]


def _blocked_data(item: Blocked) -> dict[str, t.Any]:
    return {
        "directive": item.directive,
        "kind": item.kind,
        "element": item.element,
        "line": item.line,
        "url": item.url,
        "sample": item.sample,
        "when": item.when,
        "policy": item.policy,
        "fix": item.fix,
    }


def render_json(audits: cabc.Iterable[RouteAudit]) -> str:
    """``audits`` as an indented JSON list (see :func:`to_data`)."""
    return json.dumps(to_data(audits), indent=2)


def failing(
    audits: cabc.Iterable[RouteAudit], minimum: str | None, *, breaks: bool = False
) -> list[RouteAudit]:
    """The audits that grade below ``minimum`` (``"A"`` fails ``"A-"``).

    :param minimum: the lowest passing grade; ``None``: any grade passes.
    :param breaks: also fail the pages whose CSP blocks something.
    """
    return [
        audit
        for audit in audits
        if (minimum is not None and below(audit.grade, minimum))
        or (breaks and audit.breaks)
    ]


def grade_cell(audit: RouteAudit) -> Text:
    """The grade, and the "breaks" verdict next to it when the CSP blocks
    something in the page."""
    cell = Text(audit.grade, style=_rich_style(audit.grade))
    if audit.breaks:
        cell.append(" breaks", style="bold red")
    return cell


def terminal(out: t.TextIO) -> Console:
    """A console for tables: folded to the terminal, never folded in a pipe.

    Piped output keeps one line per row, as ``flask routes`` does, so that
    ``grep`` finds a whole header value.
    """
    return Console(file=out, width=None if out.isatty() else 100_000, soft_wrap=False)


def print_table(
    audits: cabc.Sequence[RouteAudit],
    out: t.TextIO,
    *,
    details: bool | None = None,
) -> None:
    """Print one row per route: route, status, grade, score, top findings.

    :param details: also print each route's tests, findings with fixes and
        redirects; by default only when there is a single route.
    """
    console = terminal(out)
    table = Table(box=None, pad_edge=False, header_style="bold", show_edge=False)
    # Live audits have no endpoints: leave the column out.
    endpoints = any(not audit.redirects for audit in audits)
    columns = ["Route", "Endpoint", "Status", "Grade", "Score", "Top findings"]
    for column in columns if endpoints else columns[:1] + columns[2:]:
        table.add_column(column, overflow="fold")
    for audit in audits:
        findings = audit.result.findings[:_TOP_FINDINGS]
        lines = [f"{f.severity}: {f.message}" for f in findings]
        more = len(audit.result.findings) - len(findings)
        if more > 0:
            lines.append(f"(+{more} more)")
        cells: list[str | Text] = [
            audit.path,
            _endpoint(audit),
            str(audit.status),
            grade_cell(audit),
            str(audit.score),
            "\n".join(lines) or "-",
        ]
        table.add_row(*(cells if endpoints else cells[:1] + cells[2:]))
    console.print(table)
    if details is None:
        details = len(audits) == 1
    if details:
        for audit in audits:
            _print_details(console, audit)


def _print_details(console: Console, audit: RouteAudit) -> None:
    console.print()
    console.print(
        Text.assemble(
            (audit.url, "bold"),
            f"  {audit.status}  grade ",
            grade_cell(audit),
            f"  score {audit.score}",
        )
    )
    if len(audit.redirects) > 1:
        chain = " -> ".join(f"{hop.url} ({hop.status})" for hop in audit.redirects)
        console.print(f"redirects: {chain}", soft_wrap=True)
    tests = Table(box=None, pad_edge=False, header_style="bold", show_edge=False)
    for column in ("Test", "Result", "Modifier", "Meaning"):
        tests.add_column(column, overflow="fold")
    for test in audit.result.tests:
        style = "red" if test.score_modifier < 0 else ""
        tests.add_row(
            test.name,
            test.result,
            Text(
                f"{test.score_modifier:+d}" if test.score_modifier else "0", style=style
            ),
            test.description,
        )
    console.print(tests)
    for finding in audit.result.findings:
        console.print(
            Text.assemble(
                (f"{finding.severity:<6}", "bold"),
                f" {finding.code}: {finding.message}\n       fix: {finding.fix}",
            ),
            soft_wrap=True,
        )
    for title, items in (
        ("Blocked by the CSP", audit.result.breaks),
        ("Reported by the report-only CSP", audit.result.reports),
    ):
        if items:
            console.print(Text(f"{title} ({len(items)})", style="bold"))
            console.print(_blocked_table(items))
            if len(items) > MAX_LISTED:
                console.print(f"(+{len(items) - MAX_LISTED} more: --json lists all)")


def _blocked_table(items: cabc.Sequence[Blocked]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold", show_edge=False)
    for column in ("Line", "Directive", "Element", "When", "Fix"):
        table.add_column(column, overflow="fold")
    for item in items[:MAX_LISTED]:
        # Text, not markup: the element and the fix quote the page.
        cells = (str(item.line), item.directive, item.element, item.when, item.fix)
        table.add_row(*map(Text, cells))
    return table


def render_html(audits: cabc.Sequence[RouteAudit], *, title: str) -> str:
    """A self-contained HTML page (inline CSS, no external assets).

    Every value is escaped (Jinja autoescape).
    """
    import jinja2

    source = resources.files(__package__).joinpath("report.html").read_text("utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(source)
    worst = max(audits, key=lambda a: grade_rank(a.grade), default=None)
    counts = {g: sum(a.grade == g for a in audits) for g in GRADES}
    broken = sum(bool(a.breaks) for a in audits)
    return template.render(
        title=title,
        generated=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        audits=audits,
        worst=worst,
        counts={g: n for g, n in counts.items() if n},
        broken=broken,
        max_listed=MAX_LISTED,
        colour=grade_colour,
        endpoint=_endpoint,
    )
