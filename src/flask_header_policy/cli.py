"""``flask headers``: see the headers each route sends, and where they come from."""

from __future__ import annotations

import json
import typing as t

import click
from flask import current_app
from flask import Flask
from flask.cli import ScriptInfo
from flask.cli import with_appcontext

from ._check import UNMATCHED as UNMATCHED
from ._show import render
from .audit.cli import audit_options
from .audit.cli import terminal_width
from .reports.cli import reports_command
from .reports.cli import suggest_command
from .rules import Declared


@click.group("headers")
def headers_cli() -> None:
    """Show and audit the response headers of this app's routes."""


# Violation reports (the reports package): flask headers reports / suggest.
headers_cli.add_command(reports_command)
headers_cli.add_command(suggest_command)


def _layer(declared: Declared) -> str:
    if declared.dynamic is not None:
        return "dynamic"
    return declared.source


def _main_value(declared: Declared) -> str:
    """The value without its other-types part (see ``Declared.describe``)."""
    return (
        declared.describe()
        if declared.otherwise is None
        else (declared.describe().removesuffix(f" (other types: {declared.otherwise})"))
    )


def _entry(declared: Declared) -> dict[str, t.Any]:
    entry = {
        "name": declared.name,
        "value": declared.describe(),
        "declared_value": _main_value(declared),
        "otherwise": declared.otherwise,
        "layer": _layer(declared),
        "declared_in": declared.source,
        "mode": declared.mode.value,
        "mimetypes": sorted(declared.mimetypes) if declared.mimetypes else None,
        "secure_only": declared.secure_only,
        "http_value": None,
        "http_value_omitted": False,
    }
    plain = declared.plain
    if plain is not None:
        # Plain-HTTP responses get another value (a CSP without
        # upgrade-insecure-requests), or none.
        entry["http_value_omitted"] = plain.cancel
        entry["http_value"] = None if plain.cancel else _main_value(plain)
    return entry


def route_headers(app: Flask, endpoint: str | None = None) -> list[dict[str, t.Any]]:
    """Every route (and the unmatched-URL page) with its effective headers.

    :param endpoint: only this endpoint (``UNMATCHED`` for the 404 page).
    """
    policy = app.extensions["header_policy"].policy
    rows: list[dict[str, t.Any]] = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if endpoint is not None and rule.endpoint != endpoint:
            continue
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        rows.append(
            {
                "endpoint": rule.endpoint,
                "methods": methods,
                "rule": rule.rule,
                "headers": [_entry(d) for d in policy.effective(app, rule.endpoint)],
            }
        )
    if endpoint in (None, UNMATCHED):
        rows.append(
            {
                "endpoint": UNMATCHED,
                "methods": [],
                "rule": "",
                "headers": [_entry(d) for d in policy.effective(app, None)],
            }
        )
    return rows


@headers_cli.command("show")
@click.option("--endpoint", help="Show only this endpoint.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.option(
    "--check",
    is_flag=True,
    help="Also request each GET route in process (as https://localhost/) and"
    " mark the headers the response's own value overrode or that were not sent.",
)
@with_appcontext
def show_command(endpoint: str | None, as_json: bool, check: bool) -> None:
    """Show the headers each route is declared to send, and the layer each
    came from.

    These are the declarations, not a response: a view that sets a header
    itself keeps its own value over a default-mode declaration (--check
    requests the routes and marks those).

    Layers: preset:<name>, app, blueprint:<name>, view, dynamic (computed
    per request). Mode: default (the response's own header wins), force,
    append, remove; HTML only, HTTPS only.
    """
    app = t.cast(Flask, t.cast(t.Any, current_app)._get_current_object())
    if "header_policy" not in app.extensions:
        raise click.ClickException(
            "This app has no header policy: install it with HeaderPolicy(app)"
            " or policy.init_app(app)."
        )
    known = {rule.endpoint for rule in app.url_map.iter_rules()} | {UNMATCHED}
    if endpoint is not None and endpoint not in known:
        raise click.BadParameter(
            f"no endpoint named {endpoint!r}; see 'flask routes'",
            param_hint="--endpoint",
        )
    rows = route_headers(app, endpoint)
    if check:
        from ._check import check_rows

        check_rows(app, rows)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not any(row["headers"] for row in rows):
        click.echo(
            "No headers are declared for any route yet. Declare some with"
            " HeaderPolicy(app, headers={...}) or @policy.headers({...})."
        )
        return
    for line in render(rows, terminal_width()):
        click.echo(line)


@headers_cli.command("audit")
@click.argument("url", required=False)
@audit_options
@click.pass_context
def audit_command(
    ctx: click.Context,
    url: str | None,
    paths: tuple[str, ...],
    as_json: bool,
    html_file: str | None,
    min_grade: str | None,
    fail_on_breaks: bool | None,
    algorithm: str,
    timeout: float,
) -> None:
    """Grade each route's headers on the MDN HTTP Observatory's rules.

    Without URL, the current app is audited in process, as if served at
    https://localhost/: every GET route without URL arguments, the 404 page
    and one static file (add routes with arguments with --url /user/1).
    With URL, that live site is fetched over the network instead (needs
    httpx), with --url adding more pages of it.

    Each HTML page is also checked against its own CSP: what the CSP would
    block there is listed, and the page's verdict is "breaks".
    """
    from .audit.cli import emit
    from .audit.cli import progress
    from .audit.cli import run_live

    if url is not None:
        audits = run_live(url, paths, timeout, int(algorithm))
        title = url
    else:
        from .audit.app import audit_app

        info = ctx.ensure_object(ScriptInfo)
        app = info.load_app()
        with app.app_context(), progress() as on_progress:
            audits = audit_app(
                app, paths=paths, on_progress=on_progress, algorithm=int(algorithm)
            )
        # Name the app as the user did (--app or FLASK_APP), not its module.
        title = info.app_import_path or app.import_name
    emit(
        audits,
        title=title,
        as_json=as_json,
        html_file=html_file,
        min_grade=min_grade,
        fail_on_breaks=fail_on_breaks,
    )
