"""The seed's three views with Flask-Header-Policy: plain strings, declared headers.

``make demo`` serves it at http://127.0.0.1:5000/declarative/; the demo's index,
http://127.0.0.1:5000/, lists its routes and the headers each one sends.
"""

from __future__ import annotations

from flask import Flask

from flask_header_policy import force
from flask_header_policy import HeaderPolicy

app = Flask(__name__)
policy = HeaderPolicy(app)


@app.route("/")
@policy.headers(
    {
        "X-Custom-Header": "MyHeaderValue",
        # Flask sets text/html on every response, so replacing it is a force.
        "Content-Type": force("text/plain; charset=utf-8"),
    }
)
def index() -> str:
    return "Hello with headers!"


@app.route("/wrong")
@policy.headers({"X-Success": "Works"})
def wrong() -> str:
    # Not wrong any more: the header is declared, the view returns a string.
    return "Hello"


@app.route("/right")
@policy.headers({"X-Success": "Works"})
def right() -> str:
    return "Hello"
