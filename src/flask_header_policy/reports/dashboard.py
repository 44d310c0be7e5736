"""The dashboard: the reports page, served to whom the app allows, and nobody else.

Off by default. ``policy.collect_reports(app, dashboard=is_admin)`` serves it
at ``dashboard_url`` (default ``/__csp-reports/dashboard``); each request calls
``is_admin()`` (no arguments: read ``flask.request``, ``flask_login``'s
``current_user``…) and gets the page only when it returns a true value. Any
other answer, or an exception, is a 404: the page does not say it exists.
The page is sent with its own strict CSP (a nonce for its one ``<style>``),
``Cache-Control: no-store`` and ``X-Robots-Tag: noindex``.
"""

from __future__ import annotations

import typing as t

from flask import abort
from flask import current_app
from flask import Flask

from ..csp import ContentSecurityPolicy
from ..csp import NONCE
from ..csp import NONE
from ..nonce import csp_nonce
from ..rules import force

if t.TYPE_CHECKING:
    from ..extension import HeaderPolicy

__all__ = ["DASHBOARD_ENDPOINT", "install_dashboard", "reports_dashboard"]

DASHBOARD_ENDPOINT = "header_policy_reports_dashboard"

_DASHBOARD_CSP = ContentSecurityPolicy(
    default_src=NONE,
    style_src=NONCE,
    base_uri=NONE,
    form_action=NONE,
    frame_ancestors=NONE,
)


def install_dashboard(app: Flask, policy: HeaderPolicy, url: str) -> None:
    """Serve the dashboard at ``url`` with its own headers."""
    app.add_url_rule(url, endpoint=DASHBOARD_ENDPOINT, view_func=reports_dashboard)
    policy.add_view_headers(
        DASHBOARD_ENDPOINT,
        {
            "Content-Security-Policy": force(_DASHBOARD_CSP),
            "Cache-Control": force("no-store"),
            "X-Robots-Tag": "noindex",
            "Referrer-Policy": "no-referrer",
        },
    )


def reports_dashboard() -> str:
    """The dashboard view: 404 unless the authorization callable says yes."""
    from .collector import collector_of
    from .html import render_html
    from .suggest import suggest

    app = t.cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
    collector = collector_of(app)
    authorize = collector.options.dashboard
    try:
        allowed = authorize is not None and bool(authorize())
    except Exception as error:  # a broken check must not open the page
        app.logger.error("Header policy reports: the dashboard check raised %r", error)
        allowed = False
    if not allowed:
        abort(404)
    try:
        rows = collector.store.fingerprints(limit=1000)
        counters = collector.store.counters()
    except Exception as error:  # the database is down: say so, briefly
        app.logger.error("Header policy reports: cannot read the reports: %r", error)
        abort(503)
    suggestions = suggest(
        app,
        rows,
        quiet_days=collector.options.enforce_days,
        min_reports=collector.options.enforce_reports,
    )
    return render_html(
        rows, counters, suggestions, title=app.import_name, nonce=csp_nonce()
    )
