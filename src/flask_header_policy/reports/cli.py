"""``flask headers reports`` and ``flask headers suggest``.

Both read the database of the collector installed on the app (its URL comes
from the app's config, so the CLI reads what the servers wrote). Importing
this module does not import SQLAlchemy; the commands do.
"""

from __future__ import annotations

import collections.abc as cabc
import datetime
import json
import re
import typing as t

import click
from flask import current_app
from flask import Flask
from flask.cli import with_appcontext

from .._text import counted
from .._text import indented
from .._text import table
from ..audit.cli import terminal_width
from .collect import clean

if t.TYPE_CHECKING:
    from .collector import _AppCollector

__all__ = ["parse_since", "reports_command", "suggest_command"]

_RELATIVE_RE = re.compile(r"([0-9]{1,6})([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, now: datetime.datetime | None = None) -> datetime.datetime:
    """``7d``, ``12h``, ``30m``, ``2w`` ago, or an ISO date or date-time (UTC
    unless it says otherwise).

    :raise ValueError: anything else.
    """
    now = now or datetime.datetime.now(datetime.UTC)
    match = _RELATIVE_RE.fullmatch(value.strip().lower())
    if match is not None:
        amount, unit = match.groups()
        return now - datetime.timedelta(**{_UNITS[unit]: int(amount)})
    try:
        when = datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"{value!r} is neither a duration (7d, 12h, 30m, 2w) nor an ISO"
            " date (2024-05-01 or 2024-05-01T10:00)"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)


def _since_option(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> datetime.datetime | None:
    if value is None:
        return None
    try:
        return parse_since(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _collector() -> _AppCollector:
    app = t.cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
    try:
        import sqlalchemy  # noqa: F401
    except ModuleNotFoundError as error:
        raise click.ClickException(
            f"reports need {error.name}: pip install 'flask-header-policy[reports]'"
        ) from None
    from .collector import collector_of

    try:
        collector = collector_of(app)
    except LookupError as error:
        raise click.ClickException(str(error)) from None
    # In the server's own process, write what is queued first.
    collector.writer.flush(timeout=5.0)
    return collector


def _read(
    collector: _AppCollector, **query: t.Any
) -> tuple[list[dict[str, t.Any]], dict[str, int]]:
    import sqlalchemy as sa

    try:
        return collector.store.fingerprints(**query), collector.store.counters()
    except sa.exc.SQLAlchemyError as error:
        url = collector.store.url.render_as_string(hide_password=True)
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise click.ClickException(
            f"cannot read the reports at {url}: {first}"
        ) from None


def _show(value: t.Any, limit: int = 300) -> str:
    # Whatever is in the database, print no control characters.
    return clean("" if value is None else str(value), limit)


def row_data(row: cabc.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """A stored row as JSON: times in ISO 8601."""
    return {
        key: value.isoformat() if isinstance(value, datetime.datetime) else value
        for key, value in row.items()
    }


@click.command("reports")
@click.option(
    "--since",
    callback=_since_option,
    help="Only reports seen since: 7d, 12h, 30m or a date.",
)
@click.option("--route", help="Only this endpoint or URL rule.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write the dashboard page to this file.",
)
@with_appcontext
def reports_command(
    since: datetime.datetime | None,
    route: str | None,
    as_json: bool,
    html_file: str | None,
) -> None:
    """List the violation reports browsers sent, one row per kind (fingerprint).

    Columns: route, the layer that declared the violated policy, the
    directive, what was blocked, how many reports, when last seen, and
    whether the policy was enforced or report-only.
    """
    collector = _collector()
    rows, counters = _read(collector, since=since, route=route)
    if html_file is not None:
        from .html import render_html
        from .suggest import suggest

        app = t.cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
        suggestions = suggest(
            app,
            rows,
            quiet_days=collector.options.enforce_days,
            min_reports=collector.options.enforce_reports,
        )
        page = render_html(rows, counters, suggestions, title=app.import_name)
        with open(html_file, "w", encoding="utf-8") as file:
            file.write(page)
    if as_json:
        data = {"reports": [row_data(row) for row in rows], "counters": counters}
        click.echo(json.dumps(data, indent=2))
        return
    if not rows:
        scope = " matching these options" if since or route else ""
        click.echo(
            f"No reports{scope} yet. Browsers send them to {collector.options.url}"
            " when a page breaks its policy; try report-only first"
            " (Content-Security-Policy-Report-Only) and open some pages."
        )
    else:
        _print_rows(rows)
    dropped = {
        name: n for name, n in sorted(counters.items())
        if not name.startswith(("received", "accepted"))
    }  # fmt: skip
    if dropped:
        shown = ", ".join(f"{name} {n}" for name, n in dropped.items())
        click.echo(f"Not stored: {shown}")


def _print_rows(rows: list[dict[str, t.Any]]) -> None:
    header = [
        "Route", "Layer", "Directive", "Blocked", "Count", "Last seen",
        "Disposition", "Browser",
    ]  # fmt: skip
    cells = [
        [
            _show(cell)
            for cell in (
                row["endpoint"] or "(no route)",
                row["layer"] or "-",
                row["directive"] or "-",
                row["blocked"],
                str(row["count"]),
                row["last_seen"].strftime("%Y-%m-%d %H:%M"),
                row["disposition"],
                row["browser"],
            )
        ]
        for row in rows
    ]
    # Plain text, control characters escaped: these values come from
    # whoever sent a report.
    width = terminal_width()
    lines = table(header, cells, width=width, wrap_columns={3: 20})
    if lines is None:
        lines = []
        for row in cells:
            if lines:
                lines.append("")
            lines.extend(indented(f"{row[0]}  {row[2]}  {row[3]}", width, "", "  "))
            lines.extend(
                indented(
                    f"count {row[4]}, last seen {row[5]}, {row[6]}, layer {row[1]},"
                    f" {row[7]}",
                    width,
                    "  ",
                    "  ",
                )
            )
    for line in lines:
        click.echo(line)


@click.command("suggest")
@click.option(
    "--quiet-days",
    type=click.FloatRange(min=0),
    help="Days without a new kind of report before a report-only policy is"
    " ready to enforce (default HEADER_POLICY_REPORTS_ENFORCE_DAYS).",
)
@click.option(
    "--min-reports",
    type=click.IntRange(min=0),
    help="Reports a report-only policy must have collected first (default"
    " HEADER_POLICY_REPORTS_ENFORCE_REPORTS).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@with_appcontext
def suggest_command(
    quiet_days: float | None, min_reports: int | None, as_json: bool
) -> None:
    """Suggest the smallest change of each layer's declarations that allows
    what was reported, and say when a report-only policy is ready to enforce.

    Never suggests 'unsafe-inline', 'unsafe-eval', * or a bare scheme.
    """
    from .suggest import suggest
    from .suggest import to_data

    collector = _collector()
    rows, _ = _read(collector)
    app = t.cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
    suggestions = suggest(
        app,
        rows,
        quiet_days=collector.options.enforce_days if quiet_days is None else quiet_days,
        min_reports=collector.options.enforce_reports
        if min_reports is None
        else min_reports,
    )
    if as_json:
        click.echo(json.dumps(to_data(suggestions), indent=2))
        return
    if not suggestions:
        click.echo(
            "Nothing to suggest: no reports ask for a change"
            + ("" if rows else " (no reports yet)")
            + "."
        )
        return
    for suggestion in suggestions:
        head = f"{suggestion.header} declared by {suggestion.declared_by}"
        if suggestion.endpoints:
            head += f" (routes: {', '.join(suggestion.endpoints[:8])}"
            head += ", …)" if len(suggestion.endpoints) > 8 else ")"
        click.echo(head)
        click.echo(f"  now:     {_show(suggestion.current, 2000)}")
        if suggestion.python is not None:
            click.echo(f"  change:  {_show(suggestion.python, 2000)}")
            click.echo(f"    in:    {_show(suggestion.where, 2000)}")
            click.echo(f"  header:  {_show(suggestion.new_header, 2000)}")
            for change in suggestion.changes:
                browsers = ", ".join(sorted(change.browsers))
                once = (
                    " — seen once: check that it is yours"
                    if change.reports == 1
                    else ""
                )
                click.echo(
                    f"    {change.directive} += {_show(' '.join(change.sources))}"
                    f" ({counted(change.reports, 'report')}, {browsers}){once}"
                )
        for advice in suggestion.advice:
            click.echo(
                f"  advice:  {_show(advice.directive)} {_show(advice.blocked)}:"
                f" {_show(advice.text, 1000)} ({counted(advice.reports, 'report')})"
            )
            if advice.python:
                click.echo(f"           {_show(advice.python, 1000)}")
        if suggestion.readiness is not None:
            click.echo(f"  {suggestion.readiness.reason}")
            if suggestion.readiness.ready:
                enforced = suggestion.header.removesuffix("-Report-Only")
                click.echo(
                    f"    declare it as {enforced} in {_show(suggestion.where, 2000)}"
                )
        click.echo("")
