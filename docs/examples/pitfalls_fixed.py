"""The same app with Flask-Header-Policy: nothing to forget, nothing clobbered."""

from __future__ import annotations

from flask import Flask
from flask import jsonify
from flask import Response

from flask_header_policy import force
from flask_header_policy import HeaderPolicy

app = Flask(__name__)
# The app layer: a default that a view's own header always wins over.
policy = HeaderPolicy(app, headers={"Cache-Control": "no-store"})


# 1. A string is fine: the header is declared, not set on a response.
@app.route("/string")
@policy.headers({"X-Success": "Works"})
def string() -> str:
    return "Hello"


# 2. Content-Type is replaced only where it is declared, and only with force().
@app.route("/text")
@policy.headers({"Content-Type": force("text/plain; charset=utf-8")})
def text() -> str:
    return "Hello"


@app.route("/data")
def data() -> Response:
    response = jsonify(ok=True)  # stays application/json
    response.cache_control.max_age = 60  # the view's own header wins
    return response


# 3. There is no response to forget to return.
