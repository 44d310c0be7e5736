"""The same page under two presets, to compare in the browser's devtools.

``strict``: a nonce-based CSP; the inline script carries ``csp_nonce()``.
``basic``: a helmet-like policy for apps that cannot adopt nonces yet.
Both set a session cookie, which the ``strict`` preset hardens.
"""

from __future__ import annotations

from flask import Flask
from flask import render_template
from flask import request
from flask import session

from flask_header_policy import HeaderPolicy


def create_app(preset: str) -> Flask:
    """A small server-rendered app under ``preset``."""
    app = Flask(__name__)
    app.secret_key = f"demo-only-{preset}"  # a demo: never hard-code a real key
    HeaderPolicy(app, preset=preset)

    @app.route("/", methods=["GET", "POST"])
    def page() -> str:
        session["visits"] = session.get("visits", 0) + 1
        name = request.form.get("name", "")
        return render_template("page.html", preset=preset, name=name)

    return app


strict_app = create_app("strict")
basic_app = create_app("basic")
