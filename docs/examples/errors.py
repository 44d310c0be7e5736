"""Mistakes a declaration cannot make: each raises when declared."""

from __future__ import annotations

from flask import Blueprint
from flask import Flask

from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import HeaderPolicy
from flask_header_policy import InvalidHeaderError
from flask_header_policy import only_for
from flask_header_policy import ReferrerPolicy
from flask_header_policy import StrictTransportSecurity

app = Flask(__name__)
policy = HeaderPolicy(app)
api = Blueprint("api", __name__)

mistakes = [
    lambda: policy.add_blueprint_headers(api, {"X-Custom": "line\r\nSet-Cookie: x"}),
    lambda: policy.add_view_headers("index", {"Content-Type": "text/plain"}),
    lambda: HeaderPolicy(headers={"X Frame Options": "DENY"}),
    lambda: ContentSecurityPolicy(script_src=["self"]),
    # Plain text is read by the builder's own from_header():
    lambda: policy.add_view_headers("index", {"Referrer-Policy": "no-referer"}),
    lambda: HeaderPolicy(headers={"X-Frame-Options": "ALLOW-FROM https://x.example"}),
    lambda: ReferrerPolicy("no-referer"),
    # Names and values that cannot be sent safely:
    lambda: policy.add_view_headers("index", {"Connection": "close"}),
    lambda: HeaderPolicy(headers={"X-Note": "caf\x85e"}),  # a C1 control (NEL)
    lambda: HeaderPolicy(
        headers={"Content-Security-Policy": "script-src 'nonce-1a2b3c'"}
    ),
    lambda: StrictTransportSecurity(max_age=10**5000),
    lambda: HeaderPolicy(
        headers={"X-Frame-Options": only_for("text/html; charset=utf-8", "DENY")}
    ),
]
for mistake in mistakes:
    try:
        mistake()
    except InvalidHeaderError as error:
        print(error)

# A wrong shape is a TypeError that shows what to write.
shapes = [
    lambda: HeaderPolicy(headers=[("X-Frame-Options", "DENY")]),  # type: ignore[arg-type]
    lambda: HeaderPolicy(preset=123),  # type: ignore[arg-type]
]
for shape in shapes:
    try:
        shape()
    except TypeError as error:
        print(error)
