"""An app with routes of several grades, for the audit's pages."""

from __future__ import annotations

from flask import Flask
from flask import make_response
from flask import render_template_string
from flask import Response

from flask_header_policy import HeaderPolicy
from flask_header_policy import only_for
from flask_header_policy.presets import PRESETS
from flask_header_policy.presets import STRICT_CSP

app = Flask(__name__)
policy = HeaderPolicy(app, preset=PRESETS["strict"])


@app.get("/")
def home() -> str:
    return render_template_string(
        '<p>Home</p><script nonce="{{ csp_nonce() }}">console.log(1)</script>'
    )


@app.get("/maps")
@policy.headers(
    {
        # A script from another origin, allowed by host and loaded without SRI.
        "Content-Security-Policy": only_for(
            "text/html",
            STRICT_CSP.with_directive("script-src", "https://maps.example"),
        ),
    }
)
def maps() -> str:
    return '<script src="https://maps.example/embed.js"></script>'


@app.get("/legacy")
@policy.headers({"Content-Security-Policy": None, "X-Frame-Options": None})
def legacy() -> Response:
    response = make_response("<p>An old page without CSP</p>")
    response.set_cookie("prefs", "compact", httponly=False)
    return response


@app.get("/api/items")
def items() -> dict[str, list[str]]:
    return {"items": []}
