"""Apps that fail under a strict CSP the way real Flask apps do.

``create_app(cdn_url)`` is a small server-rendered app in the style of many
real ones: a layout that loads a jQuery-like and a Bootstrap-like script and
a stylesheet from a "CDN" (another origin), a Flask-Moment-like helper whose
Python code returns ``<script>`` tags, inline scripts, an inline
``onsubmit="return confirm(…)"`` in a macro, ``style`` attributes, a
``<style>`` block, a ``javascript:`` link, an image from another origin and a
``data:`` SVG icon drawn by the CDN's CSS; and an "admin" blueprint, standing
in for another extension, with its own template folder, layout, macros and
static files. ``create_cdn()`` serves the CDN's files.

None of the templates carries a nonce. What adopting the strict preset takes
beyond stamping is applied here, as docs/tutorials/strict-csp.rst documents
it: the image host is added to ``img-src``, and the helper's Markup is piped
through ``| trust_scripts`` (``create_app(..., fixes=False)`` leaves both out:
the app as it was before). ``BEHAVIOUR`` lists what a browser must see working.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

from flask import abort
from flask import Blueprint
from flask import Flask
from flask import render_template
from flask import send_from_directory
from markupsafe import Markup

from flask_header_policy import HeaderPolicy
from flask_header_policy import only_for
from flask_header_policy.presets import HTML
from flask_header_policy.presets import LOCKED_CSP
from flask_header_policy.presets import STRICT_CSP

HERE = Path(__file__).parent
POSTS = [
    {"id": 1, "title": "First", "posted": "2024-05-01T12:00:00Z"},
    {"id": 2, "title": "Second", "posted": "2024-06-02T08:30:00Z"},
]


class Moment:
    """Like Flask-Moment: Python code that returns ``<script>`` Markup."""

    def __init__(self, cdn_url: str) -> None:
        self.cdn_url = cdn_url

    def include_moment(self) -> Markup:
        return Markup(
            f'<script src="{self.cdn_url}/moment.js"></script>\n'
            "<script>\n"
            "function flask_moment_render_all() {\n"
            '  document.querySelectorAll(".flask-moment").forEach(function (el) {\n'
            "    el.textContent = moment(el.dataset.timestamp).format();\n"
            '    el.dataset.rendered = "yes";\n'
            "  });\n"
            "}\n"
            'document.addEventListener("DOMContentLoaded", flask_moment_render_all);\n'
            "</script>"
        )


def create_cdn() -> Flask:
    """The "CDN": static files on another origin, with CORS-free defaults."""
    cdn = Flask("realistic_cdn", static_folder=None)

    @cdn.get("/<name>")
    def asset(name: str) -> t.Any:
        if name not in {"jq.js", "bs.js", "bs.css", "moment.js", "avatar.svg"}:
            abort(404)
        return send_from_directory(HERE / "cdn", name)

    return cdn


def create_admin() -> Blueprint:
    """Another extension's views: a blueprint with its own templates."""
    admin = Blueprint(
        "admin",
        __name__,
        url_prefix="/admin",
        template_folder="admin/templates",
        static_folder="admin/static",
    )

    @admin.get("/")
    def index() -> str:
        return render_template("admin/index.html")

    return admin


def create_app(
    cdn_url: str,
    *,
    stamp_nonces: bool | None = None,
    fixes: bool = True,
    **config: t.Any,
) -> Flask:
    """The app, under the ``strict`` preset.

    :param cdn_url: the CDN's base URL (``http://127.0.0.1:PORT``).
    :param stamp_nonces: passed to :class:`HeaderPolicy` (``None``: the
        preset's choice, on).
    :param fixes: apply the two code changes the README lists for what
        stamping cannot do: the CDN in ``img-src`` and ``| trust_scripts`` on
        the helper's Markup.
    """
    app = Flask("realistic", root_path=str(HERE))
    app.config.update(config)
    # The one change to the policy: images come from another host too.
    csp = STRICT_CSP.with_sources("img-src", cdn_url) if fixes else STRICT_CSP
    HeaderPolicy(
        app,
        preset="strict",
        stamp_nonces=stamp_nonces,
        headers={"Content-Security-Policy": only_for(HTML, csp, otherwise=LOCKED_CSP)},
    )
    app.jinja_env.globals["moment"] = Moment(cdn_url)
    app.jinja_env.globals["cdn"] = cdn_url
    app.jinja_env.globals["trust_helper"] = fixes
    app.register_blueprint(create_admin())

    @app.get("/")
    def index() -> str:
        return render_template("index.html", posts=POSTS)

    @app.post("/posts/<int:post_id>/delete")
    def delete(post_id: int) -> str:
        return f"deleted {post_id}"

    return app


#: Behaviour checks: name -> (path, JavaScript that is true when it works,
#: the message of the dialog it must open or ``None``).
BEHAVIOUR: dict[str, tuple[str, str, str | None]] = {
    "jquery from the CDN": ("/", "typeof window.jQuery === 'function'", None),
    "bootstrap from the CDN": (
        "/",
        "document.documentElement.dataset.bs === 'loaded'",
        None,
    ),
    "inline script": (
        "/",
        "document.getElementById('ready').textContent === 'ready'",
        None,
    ),
    "dropdown opens": (
        "/",
        "getComputedStyle(document.getElementById('menu-items')).display === 'none'"
        " && (document.getElementById('menu').click(),"
        " getComputedStyle(document.getElementById('menu-items')).display"
        " === 'block')",
        None,
    ),
    "timestamps rendered": (
        "/",
        "[...document.querySelectorAll('.flask-moment')].every("
        "(el) => el.dataset.rendered === 'yes' && /^\\d{4}-\\d\\d-\\d\\d$/.test("
        "el.textContent))",
        None,
    ),
    "client-side template": (
        "/",
        "document.querySelectorAll('#rows .row').length === 2",
        None,
    ),
    "style attribute": (
        "/",
        "getComputedStyle(document.getElementById('styled')).color === 'rgb(1, 2, 3)'",
        None,
    ),
    "style block": (
        "/",
        "getComputedStyle(document.getElementById('title')).color === 'rgb(0, 128, 0)'",
        None,
    ),
    "stylesheet from the CDN": (
        "/",
        "getComputedStyle(document.getElementById('delete-1')).color"
        " === 'rgb(200, 0, 0)'",
        None,
    ),
    "image from another origin": (
        "/",
        "document.getElementById('avatar').naturalWidth === 32",
        None,
    ),
    "data: icon from the CSS": (
        "/",
        "new Promise((resolve) => { const image = new Image();"
        " image.onload = () => resolve(true); image.onerror = () => resolve(false);"
        " image.src = getComputedStyle(document.getElementById('toggler-icon'))"
        ".backgroundImage.slice(5, -2).replaceAll('\\\\\"', '\"'); })",
        None,
    ),
    "delete asks for confirmation": (
        "/",
        "(document.getElementById('delete-1').click(), true)",
        "Delete this post?",
    ),
    "javascript: link with handler": (
        "/",
        "(document.getElementById('back').click(),"
        " document.getElementById('clicked').textContent === 'clicked')",
        None,
    ),
    "admin script": (
        "/admin/",
        "document.documentElement.dataset.admin === 'loaded'",
        None,
    ),
    "admin inline script": (
        "/admin/",
        "document.body.dataset.adminInline === 'ran'",
        None,
    ),
    "admin stylesheet": (
        "/admin/",
        "getComputedStyle(document.body).backgroundColor === 'rgb(250, 250, 250)'",
        None,
    ),
    "admin style attribute": (
        "/admin/",
        "getComputedStyle(document.getElementById('action-purge')).fontWeight"
        " === '700'",
        None,
    ),
    "admin action asks for confirmation": (
        "/admin/",
        "(document.getElementById('action-purge').click(), true)",
        "Really?",
    ),
}
