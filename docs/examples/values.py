"""What a declared value may be: text, a number, a builder, a callable."""

from __future__ import annotations

from flask import Flask
from flask import Request
from flask import Response

from flask_header_policy import HeaderPolicy
from flask_header_policy import only_for
from flask_header_policy import StrictTransportSecurity


# [dynamic]
def request_id(request: Request, response: Response) -> str | None:
    """Evaluated per response; ``None`` leaves the header out."""
    return request.headers.get("X-Request-Id")


# [/dynamic]

app = Flask(__name__)
HeaderPolicy(
    app,
    headers={
        "X-Content-Type-Options": "nosniff",  # text
        "Access-Control-Max-Age": 600,  # a number
        "Strict-Transport-Security": StrictTransportSecurity(),  # a builder
        "X-Request-Id": request_id,  # a callable
        # [only_for]
        "X-Frame-Options": only_for("text/html", "DENY"),
        "Cross-Origin-Resource-Policy": only_for(
            ["text/html", "application/xhtml+xml"],
            "same-origin",
            otherwise="cross-origin",  # images and JSON may be embedded
        ),
        # [/only_for]
    },
)


@app.get("/")
def index() -> str:
    return "<p>Hello</p>"


@app.get("/data.json")
def data() -> dict[str, int]:
    return {"answer": 42}
