"""A server-rendered page under the ``strict`` preset."""

from __future__ import annotations

from flask import Flask
from flask import render_template_string
from flask import session

from flask_header_policy import HeaderPolicy

app = Flask(__name__)
app.secret_key = "docs-example-only"  # never hard-code a real key
HeaderPolicy(app, preset="strict")

PAGE = """<!doctype html>
<title>Hello</title>
<p>Hello, visitor {{ visits }}.</p>
<script>document.title += " (scripted)";</script>
"""


@app.get("/")
def index() -> str:
    session["visits"] = session.get("visits", 0) + 1
    return render_template_string(PAGE, visits=session["visits"])
