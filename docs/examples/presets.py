"""A preset of your own, derived from a built-in one."""

from __future__ import annotations

from flask import Flask

from flask_header_policy import HeaderPolicy
from flask_header_policy import XFrameOptions
from flask_header_policy.presets import PRESETS

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
