"""A Content-Security-Policy for the app, and views that derive their own."""

from __future__ import annotations

from flask import Flask
from flask import render_template_string

from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import hash_source
from flask_header_policy import HeaderPolicy
from flask_header_policy import NONCE
from flask_header_policy import NONE
from flask_header_policy import only_for
from flask_header_policy import SELF
from flask_header_policy import STRICT_DYNAMIC

# [csp]
csp = ContentSecurityPolicy(
    default_src=[NONE],
    script_src=[NONCE, STRICT_DYNAMIC],
    style_src=[SELF],
    img_src=[SELF],
    base_uri=[NONE],
    object_src=[NONE],
    frame_ancestors=[NONE],
)

app = Flask(__name__)
policy = HeaderPolicy(
    app, headers={"Content-Security-Policy": only_for("text/html", csp)}
)
# [/csp]

PAGE = '<script nonce="{{ csp_nonce() }}">console.log("hi")</script>'


@app.get("/")
def index() -> str:
    return render_template_string(PAGE)


# [derive]
@app.get("/chart")
@policy.headers(
    {
        # This view draws images from data: URLs too.
        "Content-Security-Policy": only_for(
            "text/html", csp.with_sources("img-src", "data:")
        ),
    }
)
def chart() -> str:
    return render_template_string(PAGE)


# [/derive]


# [hash]
ANALYTICS = "window.dataLayer = [];"


@app.get("/static-page")
@policy.headers(
    {
        # No template, no nonce: allow the one inline script by its hash.
        "Content-Security-Policy": csp.with_directive(
            "script-src", hash_source(ANALYTICS)
        ),
    }
)
def static_page() -> str:
    return f"<script>{ANALYTICS}</script>"


# [/hash]


@app.get("/api/status")
def status() -> dict[str, bool]:
    return {"ok": True}  # JSON: only_for("text/html", ...) sends it no CSP
