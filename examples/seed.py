"""The classic Flask guide to response headers, unchanged: three views.

``/`` builds a response with ``make_response`` and sets two headers; ``/wrong``
returns a plain string, so its header is lost (the guide's pitfall); ``/right``
remembers to build, modify and return the response.
"""

from flask import Flask
from flask import make_response

app = Flask(__name__)


@app.route("/")
def index():
    response = make_response("Hello with headers!")
    response.headers["X-Custom-Header"] = "MyHeaderValue"
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    return response


@app.route("/wrong")
def wrong():
    # A plain string: there is no response object to put the header on.
    return "Hello"


@app.route("/right")
def right():
    response = make_response("Hello")
    response.headers["X-Success"] = "Works"
    return response
