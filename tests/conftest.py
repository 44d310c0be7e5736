from __future__ import annotations

import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_header_policy import HeaderPolicy


@pytest.fixture
def app() -> Flask:
    app = Flask("test_app")
    app.testing = True
    return app


@pytest.fixture
def policy(app: Flask) -> HeaderPolicy:
    return HeaderPolicy(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def wire_headers(
    app: Flask, path: str = "/", **environ: t.Any
) -> list[tuple[str, str]]:
    """The raw WSGI header list the app hands to the server for ``path``."""
    from werkzeug.test import EnvironBuilder

    env = EnvironBuilder(path=path, **environ).get_environ()
    captured: list[tuple[str, str]] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
    ) -> t.Any:
        captured.extend(headers)
        return lambda data: None

    body = app.wsgi_app(env, start_response)
    b"".join(body)
    getattr(body, "close", lambda: None)()
    return captured
