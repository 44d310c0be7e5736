"""A nonce per response: in every CSP header, and in the template."""

from __future__ import annotations

from flask import Flask
from flask import render_template_string

from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import HeaderPolicy
from flask_header_policy import NONCE
from flask_header_policy import NONE
from flask_header_policy import only_for
from flask_header_policy import SELF
from flask_header_policy import STRICT_DYNAMIC

csp = ContentSecurityPolicy(
    default_src=[SELF],
    script_src=[NONCE, STRICT_DYNAMIC],
    style_src=[SELF, NONCE],
    object_src=[NONE],
    base_uri=[NONE],
)

app = Flask(__name__)
HeaderPolicy(
    app,
    headers={
        "Content-Security-Policy": only_for("text/html", csp),
        # A stricter trial: same nonce, reported instead of enforced.
        "Content-Security-Policy-Report-Only": only_for(
            "text/html", csp.with_directive("style-src", NONCE)
        ),
    },
)

# [template]
PAGE = """<!doctype html>
<style nonce="{{ csp_nonce() }}">p { color: teal; }</style>
<p>Hello</p>
<script nonce="{{ csp_nonce() }}">console.log("allowed")</script>
<script>console.log("blocked: no nonce")</script>
"""
# [/template]


@app.get("/")
def index() -> str:
    return render_template_string(PAGE)


@app.get("/data.json")
def data() -> dict[str, str]:
    return {"csp": "none"}  # not HTML: no CSP, and no nonce is made
