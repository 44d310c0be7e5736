"""Tests of an app's headers with the pytest plugin (installed with the package)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_header_policy import HeaderPolicy
from flask_header_policy.audit.results import RouteAudit
from flask_header_policy.pytest_plugin import assert_grade
from flask_header_policy.pytest_plugin import assert_headers


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    HeaderPolicy(app, preset="strict")

    @app.get("/")
    def index() -> str:
        return "<p>Hello</p>"

    @app.get("/user/<int:user_id>")
    def user(user_id: int) -> str:
        return f"<p>User {user_id}</p>"

    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_home(client: FlaskClient) -> None:
    response = client.get("/", base_url="https://localhost/")
    assert_headers(
        response,
        {
            "X-Frame-Options": "DENY",
            "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
            "Server": None,  # None: must be absent
        },
    )
    assert_grade(response, "A+")


@pytest.mark.header_audit(paths=["/user/1"])
def test_every_route(header_audit: list[RouteAudit]) -> None:
    grades = {audit.path: audit.grade for audit in header_audit}
    assert grades["/user/1"] == "A+"
    assert all(grade in ("A+", "A") for grade in grades.values()), grades
    # No page's CSP blocks what the page uses.
    assert [audit.path for audit in header_audit if audit.breaks] == []
