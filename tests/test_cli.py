from __future__ import annotations

import json

from click.testing import CliRunner
from flask import Blueprint
from flask import Flask
from flask.cli import FlaskGroup

from flask_header_policy import append
from flask_header_policy import force
from flask_header_policy import HeaderPolicy
from flask_header_policy import remove


def create_app() -> Flask:
    app = Flask("cli_app")
    policy = HeaderPolicy(
        app,
        headers={
            "X-Frame-Options": "DENY",
            "Vary": append("Cookie"),
            "X-Powered-By": remove(),
            "X-Request-Path": lambda request, response: request.path,
        },
    )
    api = Blueprint("api", __name__, url_prefix="/api")
    policy.add_blueprint_headers(api, {"X-Frame-Options": None, "X-Api": "1"})

    @api.get("/items")
    @policy.headers({"Cache-Control": force("no-store")})
    def items() -> dict[str, list[int]]:
        return {"items": []}

    app.register_blueprint(api)

    @app.get("/")
    def index() -> str:
        return "hi"

    return app


def invoke(*args: str, create: object = create_app) -> tuple[int, str]:
    cli = FlaskGroup(create_app=create)  # type: ignore[arg-type]
    result = CliRunner().invoke(cli, ["headers", "show", *args])
    return result.exit_code, result.output


def test_show_table_lists_routes_headers_and_layers() -> None:
    code, output = invoke()
    assert code == 0, output
    lines = output.splitlines()
    assert lines[0].split() == [
        "Endpoint",
        "Methods",
        "Rule",
        "Header",
        "Value",
        "Layer",
        "Mode",
    ]
    # The table is aligned: every column starts at the same offset on each row.
    value_column = lines[0].index("Value")
    deny = next(line for line in lines if "X-Frame-Options" in line)
    assert deny.index("DENY") == value_column
    assert any(line.split()[:3] == ["api.items", "GET", "/api/items"] for line in lines)
    assert any("X-Api" in line and "blueprint:api" in line for line in lines)
    assert any(
        "Cache-Control" in line and "view" in line and "force" in line for line in lines
    )
    assert any("X-Request-Path" in line and "dynamic" in line for line in lines)
    assert any("X-Powered-By" in line and "remove" in line for line in lines)
    assert any(line.startswith("(unmatched URL: 404/405)") for line in lines)


def test_show_json_is_exact() -> None:
    code, output = invoke("--endpoint", "api.items", "--json")
    assert code == 0, output
    rows = json.loads(output)
    assert [row["endpoint"] for row in rows] == ["api.items"]
    assert rows[0]["rule"] == "/api/items"
    assert rows[0]["methods"] == ["GET"]
    layers = {
        h["name"]: (h["value"], h["layer"], h["mode"]) for h in rows[0]["headers"]
    }
    assert layers == {
        "Vary": ("Cookie", "app", "append"),
        "X-Powered-By": ("(removed)", "app", "remove"),
        "X-Request-Path": (
            "<dynamic: create_app.<locals>.<lambda>>",
            "dynamic",
            "default",
        ),
        "X-Api": ("1", "blueprint:api", "default"),
        "Cache-Control": ("no-store", "view", "force"),
    }


def test_show_unmatched_page_has_app_layer_only() -> None:
    code, output = invoke("--endpoint", "(unmatched URL: 404/405)", "--json")
    assert code == 0, output
    (row,) = json.loads(output)
    assert [h["name"] for h in row["headers"]] == [
        "X-Frame-Options",
        "Vary",
        "X-Powered-By",
        "X-Request-Path",
    ]


def test_show_unknown_endpoint_is_a_usage_error() -> None:
    code, output = invoke("--endpoint", "nope")
    assert code == 2
    assert "no endpoint named 'nope'" in output


def test_show_without_extension_says_how_to_install() -> None:
    code, output = invoke(create=lambda: Flask("bare"))
    assert code == 1
    assert "no header policy" in output
    assert "HeaderPolicy(app)" in output


def test_show_with_nothing_declared_is_friendly() -> None:
    def create() -> Flask:
        app = Flask("empty")
        HeaderPolicy(app)
        return app

    code, output = invoke(create=create)
    assert code == 0
    assert "No headers are declared for any route yet" in output


def test_show_matches_what_is_sent() -> None:
    """Every static value the JSON promises is what a request to the route gets."""
    code, output = invoke("--json")
    assert code == 0
    client = create_app().test_client()
    checked = 0
    for row in json.loads(output):
        if row["endpoint"] == "static":
            continue
        path = row["rule"] or "/no-such-page"
        response = client.get(path)
        for header in row["headers"]:
            if header["mode"] == "remove":
                assert header["name"] not in response.headers
            elif header["layer"] != "dynamic":
                assert response.headers[header["name"]] == header["value"]
            else:
                assert response.headers[header["name"]] == path
            checked += 1
    assert checked == 13


def test_show_keeps_long_values_on_one_line_when_piped() -> None:
    def create() -> Flask:
        app = Flask("long")
        HeaderPolicy(app, preset="strict")

        @app.get("/")
        def index() -> str:
            return "x"

        return app

    code, output = invoke("--endpoint", "index", create=create)
    assert code == 0
    (line,) = [
        line for line in output.splitlines() if "Content-Security-Policy" in line
    ]
    assert (
        "default-src 'none'" in line and "frame-ancestors 'none' (other types" in line
    )
