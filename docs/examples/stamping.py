"""A template written without nonces, under the ``strict`` preset."""

from __future__ import annotations

from flask import Flask
from flask import render_template
from flask import request
from markupsafe import Markup

from flask_header_policy import HeaderPolicy

app = Flask(__name__)
HeaderPolicy(app, preset="strict")  # stamps; or stamp_nonces=True


def charts() -> Markup:
    """A helper that returns <script> tags built in Python."""
    return Markup('<script src="https://cdn.example/charts.js"></script>')


app.jinja_env.globals["charts"] = charts


@app.get("/")
def orders() -> str:
    # ``query`` is user input, reflected unsafely (``| safe``): an attack.
    return render_template("stamping.html", query=request.args.get("q", ""))
