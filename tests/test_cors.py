"""Flask-CORS and the policy on one app: CORS headers intact, one merged Vary."""

from __future__ import annotations

import collections.abc as cabc
import typing as t

import pytest
from flask import Flask
from flask import make_response
from flask import Response
from flask_cors import CORS
from wire import wire_headers

from flask_header_policy import append
from flask_header_policy import HeaderPolicy

ORIGINS = ["https://a.example", "https://b.example"]
POLICY: dict[str, t.Any] = {
    "Vary": append("Accept-Encoding"),
    "X-Frame-Options": "DENY",
}


def cors_first(app: Flask) -> None:
    CORS(app, origins=ORIGINS)
    HeaderPolicy(app, headers=POLICY)


def policy_first(app: Flask) -> None:
    HeaderPolicy(app, headers=POLICY)
    CORS(app, origins=ORIGINS)


@pytest.fixture(params=[cors_first, policy_first], ids=["cors-first", "policy-first"])
def app(request: pytest.FixtureRequest) -> Flask:
    app = Flask("test_app")
    app.testing = True
    install: cabc.Callable[[Flask], None] = request.param
    install(app)

    @app.route("/", methods=["GET", "POST"])
    def index() -> str:
        return "index"

    @app.route("/varies")
    def varies() -> Response:
        response = make_response("varies")
        response.headers["Vary"] = "accept-encoding, Cookie"
        return response

    return app


def lines(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [v for n, v in headers if n.lower() == name.lower()]


@pytest.mark.parametrize(
    ("path", "origin", "allow_origin", "vary"),
    [
        ("/", "https://a.example", ["https://a.example"], ["Origin, Accept-Encoding"]),
        ("/", "https://b.example", ["https://b.example"], ["Origin, Accept-Encoding"]),
        (
            "/varies",
            "https://a.example",
            ["https://a.example"],
            ["accept-encoding, Cookie, Origin"],
        ),
        # A foreign origin gets no CORS headers, and Vary stays the policy's.
        ("/", "https://evil.example", [], ["Accept-Encoding"]),
        ("/", None, [], ["Accept-Encoding"]),
    ],
)
def test_cors_headers_and_one_vary(
    app: Flask,
    path: str,
    origin: str,
    allow_origin: list[str],
    vary: list[str],
) -> None:
    headers = wire_headers(app, path, headers={"Origin": origin})
    assert lines(headers, "Access-Control-Allow-Origin") == allow_origin
    assert lines(headers, "Vary") == vary
    assert lines(headers, "X-Frame-Options") == ["DENY"]


def test_preflight(app: Flask) -> None:
    headers = wire_headers(
        app,
        "/",
        method="OPTIONS",
        headers={
            "Origin": "https://b.example",
            "Access-Control-Request-Method": "POST",
        },
    )
    assert lines(headers, "Access-Control-Allow-Origin") == ["https://b.example"]
    methods = lines(headers, "Access-Control-Allow-Methods")
    assert len(methods) == 1
    assert "POST" in methods[0].split(", ")
    assert lines(headers, "Vary") == ["Origin, Accept-Encoding"]
    assert lines(headers, "X-Frame-Options") == ["DENY"]


def test_client_sees_the_same(app: Flask) -> None:
    response = app.test_client().get("/", headers={"Origin": "https://a.example"})
    assert response.headers.getlist("Access-Control-Allow-Origin") == [
        "https://a.example"
    ]
    assert response.headers.getlist("Vary") == ["Origin, Accept-Encoding"]
    assert response.vary.as_set() == {"origin", "accept-encoding"}
