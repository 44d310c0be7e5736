"""Violation reports: try the strict CSP report-only, and collect what breaks."""

from __future__ import annotations

from flask import Flask

from flask_header_policy import HeaderPolicy
from flask_header_policy import only_for
from flask_header_policy.presets import STRICT_CSP


def create_app(instance_path: str | None = None) -> Flask:
    app = Flask(__name__, instance_path=instance_path)
    policy = HeaderPolicy(
        app,
        headers={
            # 1. The policy to adopt, tried out first: browsers only report.
            "Content-Security-Policy-Report-Only": only_for("text/html", STRICT_CSP),
        },
    )

    @app.get("/gallery")
    def gallery() -> str:
        return '<img src="https://www.gravatar.com/avatar/0">'

    # 2. Collect: POST /__csp-reports, every CSP pointed at it, SQLite in
    #    the instance folder (created when the first report arrives).
    policy.collect_reports(app)
    return app


app = create_app()
