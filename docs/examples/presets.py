"""A preset of your own, derived from a built-in one; and one view's CSP
derived from the preset's in one line."""

from __future__ import annotations

from flask import Flask

from flask_header_policy import HeaderPolicy
from flask_header_policy import only_for
from flask_header_policy import PRESETS
from flask_header_policy import XFrameOptions

# strict, but this app's pages may be framed by itself, and it sends no
# Permissions-Policy (None drops a header).
mine = PRESETS["strict"].replace(
    {
        "X-Frame-Options": XFrameOptions.SAMEORIGIN,
        "Permissions-Policy": None,
    },
    name="mine",
)

app = Flask(__name__)
policy = HeaderPolicy(app, preset=mine)


@app.get("/")
def index() -> str:
    return "Hello"


@app.get("/embed")
@policy.headers({"X-Frame-Options": None})  # cancel one header for one view
def embed() -> str:
    return "Embeddable"


# The preset's CSP, plus data: images, for this view's HTML; its JSON and
# other responses keep the preset's locked fallback.
@app.get("/chart")
@policy.headers(
    {
        "Content-Security-Policy": only_for(
            "text/html", mine.csp.with_sources("img-src", "data:")
        )
    }
)
def chart() -> str:
    return '<img src="data:image/png;base64,iVBORw0KGgo=" alt="chart">'
