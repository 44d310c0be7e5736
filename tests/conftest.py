from __future__ import annotations

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
