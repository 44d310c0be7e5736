from __future__ import annotations

from flask import Flask

from flask_header_policy import HeaderPolicy

app = Flask(__name__)
policy = HeaderPolicy(app, preset="strict")


@app.get("/report")
@policy.headers({"Cache-Control": "no-store"})
def report() -> str:
    return "<h1>Monthly report</h1>"
