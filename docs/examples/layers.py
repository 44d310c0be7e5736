"""Layers: the app, a blueprint, a nested blueprint and a view."""

from __future__ import annotations

from flask import Blueprint
from flask import Flask

from flask_header_policy import append
from flask_header_policy import force
from flask_header_policy import HeaderPolicy
from flask_header_policy import remove

app = Flask(__name__)
policy = HeaderPolicy(
    app,
    headers={
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "X-Powered-By": remove(),
    },
)

api = Blueprint("api", __name__, url_prefix="/api")
v1 = Blueprint("v1", __name__, url_prefix="/v1")
policy.add_blueprint_headers(
    api,
    {
        "Cache-Control": force("no-store"),
        "X-Frame-Options": None,  # JSON is never framed: no need for it here
    },
)
policy.add_blueprint_headers("api.v1", {"Deprecation": "@1767225600"})


@v1.get("/items")
def items() -> dict[str, list[str]]:
    return {"items": []}


api.register_blueprint(v1)
app.register_blueprint(api)


@app.get("/")
@policy.headers({"Vary": append("Cookie"), "Referrer-Policy": "same-origin"})
def index() -> str:
    return "Hello"


@app.get("/legacy")
def legacy() -> tuple[str, dict[str, str]]:
    # The view's own header wins over a default-mode declaration.
    return "Old page", {"X-Frame-Options": "SAMEORIGIN", "X-Powered-By": "PHP/5"}
