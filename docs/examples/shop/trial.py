"""Step 4: the policy in report-only, with a collector for the reports."""

from __future__ import annotations

import typing as t

from flask import Flask

from flask_header_policy import HeaderPolicy
from flask_header_policy import only_for
from flask_header_policy import PRESETS

from .app import create_app

csp = PRESETS["strict"].csp.with_sources("img-src", "https://www.gravatar.com")


def create_trial(**config: t.Any) -> Flask:
    app = create_app(templates="fixed", **config)
    policy = HeaderPolicy(
        app,
        preset="strict",
        headers={
            # Pages: enforce nothing yet; report what the policy would block.
            "Content-Security-Policy": None,
            "Content-Security-Policy-Report-Only": only_for("text/html", csp),
        },
    )
    # POST /__csp-reports, and every CSP pointed at it; stored in SQLite in
    # the instance folder (or HEADER_POLICY_REPORTS_DATABASE).
    policy.collect_reports(app)
    return app


app = create_trial()
