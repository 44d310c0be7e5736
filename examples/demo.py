"""``make demo``: the example apps side by side on http://127.0.0.1:5000.

``/`` lists every mounted app's routes with the headers each one sends (the
same data as ``flask headers show``); each example app is mounted below it.
"""

from __future__ import annotations

from flask import Flask
from flask import render_template
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import run_simple

from flask_header_policy import HeaderPolicy
from flask_header_policy.cli import route_headers

from . import declarative
from . import security

#: Mount point -> (app, what it shows).
MOUNTS: dict[str, tuple[Flask, str]] = {
    "/declarative": (
        declarative.app,
        "The seed's three views, headers declared instead of set by hand.",
    ),
    "/strict": (
        security.strict_app,
        "The strict preset: nonce-based CSP, HSTS (on HTTPS), hardened cookies.",
    ),
    "/basic": (
        security.basic_app,
        "The basic preset: helmet-like, no nonces.",
    ),
}

index_app = Flask(__name__)
HeaderPolicy(
    index_app,
    headers={
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
    },
)


@index_app.route("/")
def index() -> str:
    mounts = {
        mount: (app, about, route_headers(app))
        for mount, (app, about) in MOUNTS.items()
    }
    return render_template("index.html", mounts=mounts)


application = DispatcherMiddleware(
    index_app, {mount: app for mount, (app, _) in MOUNTS.items()}
)


def main() -> None:
    run_simple("127.0.0.1", 5000, application, use_reloader=False, threaded=True)


if __name__ == "__main__":
    main()
