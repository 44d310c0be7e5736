"""``header-policy-audit URL``: grade a live site from the command line.

The options, the live audit and the output are shared with
``flask headers audit`` (:mod:`flask_header_policy.cli`), which also audits
the current app in process.
"""

from __future__ import annotations

import collections
import collections.abc as cabc
import contextlib
import math
import os
import shutil
import sys
import typing as t
import urllib.parse

import click

from .._text import printable
from ._scoring import ALGORITHMS
from ._scoring import DEFAULT_ALGORITHM
from .results import GRADES
from .results import RouteAudit

__all__ = ["audit_options", "emit", "main", "progress", "run_live", "terminal_width"]

F = t.TypeVar("F", bound=cabc.Callable[..., t.Any])

#: Progress goes to stderr from this many routes on.
PROGRESS_FROM = 5
_LIVE_MISSING = "Auditing a URL needs httpx: pip install flask-header-policy[live]"


def _finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if math.isnan(value):
        raise click.BadParameter("nan is not a number of seconds")
    return value


def _grade(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    grade = value.strip().upper()
    if grade not in GRADES:
        raise click.BadParameter(
            f"{value!r} is not a grade: use one of {', '.join(GRADES)}"
        )
    return grade


def terminal_width() -> int | None:
    """The width to wrap output to: ``COLUMNS`` when set, the terminal's when
    stdout is one, else ``None`` (a pipe: one line per row, for ``grep``)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return None


def audit_options(f: F) -> F:
    """The options both audit commands take (after the URL argument)."""
    options = [
        click.option(
            "--url",
            "paths",
            multiple=True,
            metavar="PATH",
            help="Also audit this path (repeatable): a route with arguments,"
            " e.g. /user/1, or another page of the URL's site.",
        ),
        click.option(
            "--json", "as_json", is_flag=True, help="Print JSON for machines."
        ),
        click.option(
            "--html",
            "html_file",
            type=click.Path(dir_okay=False, writable=True),
            help="Also write a self-contained HTML report to this file.",
        ),
        click.option(
            "--min-grade",
            callback=_grade,
            metavar="GRADE",
            help="Exit with status 1 if any route grades below GRADE"
            " (A+ > A > A- > B+ > ... > F).",
        ),
        click.option(
            "--fail-on-breaks/--allow-breaks",
            "fail_on_breaks",
            default=None,
            help="Exit with status 1 if the CSP of any page blocks something the"
            " page uses (its verdict is 'breaks'). On by default with"
            " --min-grade; --allow-breaks checks the grade only.",
        ),
        click.option(
            "--algorithm",
            type=click.Choice([str(a) for a in ALGORITHMS]),
            default=str(DEFAULT_ALGORITHM),
            show_default=True,
            help="The Observatory's scoring algorithm: 5 is what MDN's site"
            " runs; 6 (its next release) also scores Cross-Origin-Opener-Policy"
            " and Cross-Origin-Embedder-Policy.",
        ),
        click.option(
            "--timeout",
            # nan passes any range: the callback refuses it.
            type=click.FloatRange(min=0, max=3600, min_open=True),
            callback=_finite,
            default=10.0,
            show_default=True,
            help="Seconds for each fetch as a whole: connection, redirects,"
            " headers and body (live audits only).",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


class _Progress:
    """``on_progress`` callback: lines on stderr, or one line rewritten in
    place on a terminal (and cleared at the end)."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.live = sys.stderr.isatty()
        self.shown = False

    def __call__(self, done: int, total: int, path: str) -> None:
        if total < self.threshold:
            return
        if not path:
            self.clear()
            return
        line = f"auditing {done + 1}/{total} {printable(path)}"
        if self.live:
            width = shutil.get_terminal_size().columns - 1
            sys.stderr.write("\r\x1b[K" + line[:width])
            sys.stderr.flush()
            self.shown = True
        else:
            click.echo(line, err=True)

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False


@contextlib.contextmanager
def progress(threshold: int = PROGRESS_FROM) -> cabc.Iterator[_Progress]:
    """An ``on_progress(done, total, path)`` callback for the span of the block.

    :param threshold: report nothing when there are fewer routes than this.
    """
    bar = _Progress(threshold)
    try:
        yield bar
    finally:
        bar.clear()


def run_live(
    url: str,
    paths: cabc.Sequence[str],
    timeout: float,
    algorithm: int = DEFAULT_ALGORITHM,
) -> list[RouteAudit]:
    """Audit ``url`` and each of ``paths`` on its site; errors become usage-free.

    :raise click.ClickException: httpx is missing, or a URL cannot be audited.
    """
    try:
        from .live import audit_url
        from .live import AuditError
        from .live import normalize_url
    except ModuleNotFoundError as exc:
        if exc.name != "httpx":
            raise
        raise click.ClickException(_LIVE_MISSING) from None
    try:
        url = normalize_url(url)
    except AuditError as exc:
        raise click.ClickException(printable(exc)) from None
    urls = [url] + [urllib.parse.urljoin(url, path) for path in paths]
    audits = []
    # A network audit is slow: report progress from two URLs on.
    with progress(2) as on_progress:
        for index, target in enumerate(urls):
            on_progress(index, len(urls), target)
            try:
                audits.append(audit_url(target, timeout=timeout, algorithm=algorithm))
            except AuditError as exc:
                raise click.ClickException(printable(exc)) from None
    return audits


def emit(
    audits: cabc.Sequence[RouteAudit],
    *,
    title: str,
    as_json: bool = False,
    html_file: str | None = None,
    min_grade: str | None = None,
    fail_on_breaks: bool | None = None,
) -> None:
    """Print ``audits`` (table or JSON), write the HTML report, check the grade.

    :param fail_on_breaks: fail when a page's CSP blocks something in it;
        ``None``: only when ``min_grade`` is given.
    :raise click.exceptions.Exit: with status 1 when a route grades below
        ``min_grade`` or (see ``fail_on_breaks``) breaks; the failing routes
        are listed on stderr.
    """
    from .report import failing
    from .report import print_table
    from .report import render_html
    from .report import render_json

    if as_json:
        click.echo(render_json(audits))
    else:
        for line in print_table(audits, width=terminal_width()):
            click.echo(line)
    if html_file is not None:
        try:
            with open(html_file, "w", encoding="utf-8") as f:
                f.write(render_html(audits, title=title))
        except OSError as exc:
            message = f"cannot write {html_file}: {exc.strerror}"
            raise click.ClickException(message) from None
        click.echo(f"wrote {printable(html_file)}", err=True)
    breaks = min_grade is not None if fail_on_breaks is None else fail_on_breaks
    low = failing(audits, min_grade) if min_grade is not None else []
    broken = [audit for audit in audits if audit.breaks] if breaks else []
    if low:
        click.echo(f"{len(low)} of {len(audits)} below {min_grade}:", err=True)
        for audit in low:
            grade = "error" if audit.error else f"{audit.grade:<2} {audit.score:>4}"
            click.echo(f"  {grade}  {printable(audit.path)}", err=True)
    if broken:
        click.echo(
            f"{len(broken)} of {len(audits)} break (the CSP blocks what the page"
            " uses; --allow-breaks to accept):",
            err=True,
        )
        for audit in broken:
            counts = collections.Counter(item.directive for item in audit.breaks)
            blocked = ", ".join(f"{d} x{n}" for d, n in counts.most_common())
            click.echo(
                f"  {audit.grade:<2} {audit.score:>4}  {printable(audit.path)}"
                f"  {blocked}",
                err=True,
            )
    if low or broken:
        raise click.exceptions.Exit(1)


@click.command("header-policy-audit")
@click.argument("url")
@audit_options
def audit_command(
    url: str,
    paths: tuple[str, ...],
    as_json: bool,
    html_file: str | None,
    min_grade: str | None,
    fail_on_breaks: bool | None,
    algorithm: str,
    timeout: float,
) -> None:
    """Grade URL's response headers on the MDN HTTP Observatory's rules.

    URL is an http:// or https:// URL, or a host name (meaning https://).
    Redirects are followed; for an https:// URL the http:// variant is
    probed too, for the redirection test.
    """
    audits = run_live(url, paths, timeout, int(algorithm))
    emit(
        audits,
        title=url,
        as_json=as_json,
        html_file=html_file,
        min_grade=min_grade,
        fail_on_breaks=fail_on_breaks,
    )


def main(argv: cabc.Sequence[str] | None = None) -> None:
    """Console script entry point: ``header-policy-audit``."""
    audit_command.main(
        args=list(argv) if argv is not None else None,
        prog_name="header-policy-audit",
    )
