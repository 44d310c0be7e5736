"""An existing app, written without a thought for CSP: the tutorial's start.

Its templates load Bootstrap and jQuery from CDNs, run an inline script,
confirm with an inline ``onsubmit`` handler, style with ``style=``
attributes, show avatars from Gravatar, and use a helper that returns
``<script>`` tags from Python, like Flask-Moment's ``include_moment()``.
"""

from __future__ import annotations

import typing as t

from flask import Flask
from flask import render_template
from markupsafe import Markup

ORDERS = [
    {"id": 17, "item": "Teapot"},
    {"id": 18, "item": "Cups (6)"},
]


def include_moment() -> Markup:
    """Like Flask-Moment: ``<script>`` tags built in Python."""
    return Markup(
        '<script src="https://cdn.jsdelivr.net/npm/moment@2.30.1/moment.min.js">'
        "</script>\n"
        '<script>moment.locale("en");</script>'
    )


def create_app(templates: str = "before", **config: t.Any) -> Flask:
    """The shop, with the templates of ``templates/<templates>/``."""
    app = Flask(__name__, template_folder=f"templates/{templates}")
    app.config.update(config)
    app.jinja_env.globals["include_moment"] = include_moment

    @app.get("/")
    def orders() -> str:
        return render_template("orders.html", orders=ORDERS)

    @app.post("/orders/<int:order_id>/cancel")
    def cancel(order_id: int) -> str:
        return f"Order {order_id} cancelled"

    return app


app = create_app()
