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

import click

from .._text import indented
from .._text import printable
from .._text import table
from ._types import Blocked
from .results import below
from .results import grade_rank
from .results import GRADES
from .results import RouteAudit

__all__ = [
    "failing",
    "grade_colour",
    "printable",
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


def _grade_colour_name(grade: str) -> str:
    rank = grade_rank(grade) if grade in GRADES else len(GRADES)
    if rank <= GRADES.index("A-"):
        return "green"
    if rank <= GRADES.index("C-"):
        return "yellow"
    return "red"


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
            "document": audit.document,
            "url": audit.url,
            "status": audit.status,
            "error": audit.error,
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
    """The audits that grade below ``minimum`` (``"A"`` fails ``"A-"``), and
    every route whose view raised.

    :param minimum: the lowest passing grade; ``None``: any grade passes
        (a route whose view raised still fails).
    :param breaks: also fail the pages whose CSP blocks something.
    """
    return [
        audit
        for audit in audits
        if audit.error is not None
        or (minimum is not None and below(audit.grade, minimum))
        or (breaks and audit.breaks)
    ]


def _grade_cell(grade: str) -> str:
    # click.style adds colour; click.echo drops it when stdout is no terminal.
    return click.style(grade, fg=_grade_colour_name(grade), bold=True)


def _breaks_cell() -> str:
    return click.style("breaks", fg="red", bold=True)


def _verdict(audit: RouteAudit) -> str:
    """Status, grade (and "breaks"), score: the summary line of a route."""
    status = "error" if audit.error else audit.status
    breaks = f" {_breaks_cell()}" if audit.breaks else ""
    return f"{status}  grade {_grade_cell(audit.grade)}{breaks}  score {audit.score}"


def _route_cell(audit: RouteAudit) -> str:
    if audit.document:
        return audit.path
    return f"{audit.path} ({audit.mimetype or 'no type'}: not a page)"


def print_table(
    audits: cabc.Sequence[RouteAudit],
    *,
    width: int | None = None,
    details: bool | None = None,
) -> list[str]:
    """The lines of the terminal report: one row per route (route, status,
    grade, score, top findings), as a table when it fits ``width``, else one
    block per route.

    Every value is printed as plain text, control characters escaped.

    :param width: the terminal's width; ``None`` (a pipe) never wraps.
    :param details: also give each route's tests, findings with fixes and
        redirects; by default only when there is a single route.
    """
    # Live audits have no endpoints: leave the column out.
    endpoints = any(not audit.redirects for audit in audits)
    header = ["Route", "Endpoint", "Status", "Grade", "Score", "Top findings"]
    rows = []
    for audit in audits:
        findings = audit.result.findings[:_TOP_FINDINGS]
        lines = [printable(f"{f.severity}: {f.message}") for f in findings]
        more = len(audit.result.findings) - len(findings)
        if more > 0:
            lines.append(f"(+{more} more)")
        rows.append(
            [
                _route_cell(audit),
                _endpoint(audit),
                "error" if audit.error else str(audit.status),
                audit.grade + (" breaks" if audit.breaks else ""),
                str(audit.score),
                "\n".join(lines) or "-",
            ]
        )
    if not endpoints:
        header.pop(1)
        for row in rows:
            row.pop(1)
    grade_column = header.index("Grade")
    wrapping = {0: 20, len(header) - 1: 40}
    out = table(header, rows, width=width, wrap_columns=wrapping)
    if out is None:
        out = _blocks(audits, rows, width)
    else:
        out = [_colour_grade(line, out[0], grade_column) for line in out]
    if details is None:
        details = len(audits) == 1
    if details:
        for audit in audits:
            out.extend(_details(audit, width))
    return out


def _colour_grade(line: str, header: str, column: int) -> str:
    """Colour the grade in a table line (its column starts where its title
    does)."""
    start = header.index("Grade")
    grade = line[start : start + 2].strip()
    if line is header or grade not in GRADES or line[start - 2 : start].strip():
        return line
    rest = line[start + len(grade) :]
    if rest.startswith(" breaks"):
        rest = " " + _breaks_cell() + rest[len(" breaks") :]
    return line[:start] + _grade_cell(grade) + rest


def _blocks(
    audits: cabc.Sequence[RouteAudit], rows: list[list[str]], width: int | None
) -> list[str]:
    out: list[str] = []
    for audit, row in zip(audits, rows, strict=True):
        if out:
            out.append("")
        title = f"{audit.path}  {_endpoint(audit)}".rstrip()
        out.extend(indented(title, width, "", "  "))
        summary = _verdict(audit)
        if not audit.document:
            summary += f"  ({audit.mimetype or 'no type'}: not a page)"
        out.append("  " + summary)
        for line in row[-1].split("\n"):
            out.extend(indented(line, width, "  ", "    "))
    return out


def _details(audit: RouteAudit, width: int | None) -> list[str]:
    out = [""]
    title = printable(audit.url)
    out.append(f"{click.style(title, bold=True)}  {_verdict(audit)}")
    if len(audit.redirects) > 1:
        chain = " -> ".join(f"{hop.url} ({hop.status})" for hop in audit.redirects)
        out.extend(indented(f"redirects: {chain}", width, "", "  "))
    rows = [
        [
            test.name,
            test.result,
            f"{test.score_modifier:+d}" if test.score_modifier else "0",
            test.description,
        ]
        for test in audit.result.tests
    ]
    tests = table(
        ["Test", "Result", "Modifier", "Meaning"],
        rows,
        width=width,
        wrap_columns={1: 20, 3: 20},
    )
    if tests is None:
        tests = []
        for name, result, modifier, meaning in rows:
            tests.extend(indented(f"{name}: {result} {modifier}", width, "", "  "))
            tests.extend(indented(meaning, width, "  ", "  "))
    out.extend(tests)
    for finding in audit.result.findings:
        out.extend(
            indented(
                f"{finding.code}: {finding.message}",
                width,
                f"{finding.severity:<6} ",
                "       ",
            )
        )
        out.extend(indented(f"fix: {finding.fix}", width, "       ", "       "))
    for title, items in (
        ("Blocked by the CSP", audit.result.breaks),
        ("Reported by the report-only CSP", audit.result.reports),
    ):
        if items:
            out.append(click.style(f"{title} ({len(items)})", bold=True))
            out.extend(_blocked_table(items, width))
            if len(items) > MAX_LISTED:
                out.append(f"(+{len(items) - MAX_LISTED} more: --json lists all)")
    return out


def _blocked_table(items: cabc.Sequence[Blocked], width: int | None) -> list[str]:
    # Plain text: the element and the fix quote the page.
    rows = [
        [str(item.line), item.directive, item.element, item.when, item.fix]
        for item in items[:MAX_LISTED]
    ]
    lines = table(
        ["Line", "Directive", "Element", "When", "Fix"],
        rows,
        width=width,
        wrap_columns={2: 20, 4: 30},
    )
    if lines is None:
        lines = []
        for line, directive, element, when, fix in rows:
            title = f"line {line}: {directive} ({when}) {element}"
            lines.extend(indented(title, width, "", "  "))
            lines.extend(indented(f"fix: {fix}", width, "  ", "  "))
    return lines


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
