"""Plain Flask: the three mistakes that headers set by hand invite."""

from __future__ import annotations

from flask import Flask
from flask import jsonify
from flask import make_response
from flask import Response

app = Flask(__name__)


# 1. A view that returns a string has no response object to set a header on.
@app.route("/string")
def string() -> str:
    return "Hello"  # the X-Success header this view was meant to send is lost


# 2. A hook that sets a header on every response replaces the view's own.
@app.after_request
def text_everywhere(response: Response) -> Response:
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    return response


@app.route("/data")
def data() -> Response:
    return jsonify(ok=True)  # sent as text/plain: the hook overwrote it


# 3. The header is set on a response that is never returned.
@app.route("/forgot")
def forgot() -> str:
    response = make_response("Hello")
    response.headers["X-Success"] = "Works"
    return "Hello"  # a new response: the one with the header is dropped
