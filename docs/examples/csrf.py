"""Flask-WTF's CSRF protection, with the report collector exempt."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from flask_header_policy import HeaderPolicy


def create_app(**config: object) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="docs-example-only", **config)
    policy = HeaderPolicy(app, preset="strict")
    csrf = CSRFProtect(app)
    collector = policy.collect_reports(app)
    csrf.exempt(collector.view)  # browsers send no CSRF token
    return app
