"""The same pages under two presets, to compare in the browser's devtools.

``strict``: a nonce-based CSP; the inline script carries ``csp_nonce()``.
``basic``: a helmet-like policy for apps that cannot adopt nonces yet.
Both set a session cookie, which the ``strict`` preset hardens.

``/legacy`` is a page written without nonces: a script from a "CDN" (the
``cdn`` blueprint), an inline script, an inline ``onclick`` handler and a
``style`` attribute. Under ``strict`` it works because the preset stamps
nonces into templates and allows their static handlers by hash.
"""

from __future__ import annotations

from flask import Blueprint
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

    @app.route("/legacy")
    def legacy() -> str:
        return render_template("legacy.html", preset=preset)

    # Stands in for a CDN: scripts the templates load with <script src>.
    app.register_blueprint(
        Blueprint("cdn", __name__, static_folder="cdn", static_url_path="/cdn")
    )
    return app


strict_app = create_app("strict")
basic_app = create_app("basic")
