"""Configuration from the environment, with Flask's ``from_prefixed_env``.

``FLASK_HEADER_POLICY_PRESET=basic`` sets ``HEADER_POLICY_PRESET``; a value
that parses as JSON becomes that value, so
``FLASK_HEADER_POLICY_HSTS_ONLY_SECURE=false`` is ``False`` and
``FLASK_HEADER_POLICY_COOKIES='{"samesite": "Strict"}'`` a mapping.
"""

from __future__ import annotations

from flask import Flask

from flask_header_policy import HeaderPolicy

policy = HeaderPolicy()


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["HEADER_POLICY_HEADERS"] = {"X-Frame-Options": "DENY"}
    app.config.from_prefixed_env()  # FLASK_* variables override the above
    policy.init_app(app)

    @app.get("/")
    def index() -> str:
        return "Hello"

    return app
