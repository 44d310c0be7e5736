"""The seed's three views, and their declarative twin, send what they promise."""

from __future__ import annotations

import importlib
import pathlib
import types

import pytest
from flask import Flask

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _example(name: str) -> types.ModuleType:
    # The examples live next to src/, not in it: import them from the repo root.
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(ROOT))
        return importlib.import_module(f"examples.{name}")


@pytest.fixture(scope="module")
def seed_app() -> Flask:
    app: Flask = _example("seed").app
    return app


@pytest.fixture(scope="module")
def declarative_app() -> Flask:
    app: Flask = _example("declarative").app
    return app


def _headers(app: Flask, path: str) -> tuple[bytes, dict[str, str], int]:
    response = app.test_client().get(path)
    headers = {name: value for name, value in response.headers.items()}
    assert len(headers) == len(response.headers), "a header was sent twice"
    return response.data, headers, response.status_code


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        (
            "/",
            b"Hello with headers!",
            {
                "Content-Type": "text/plain; charset=utf-8",
                "Content-Length": "19",
                "X-Custom-Header": "MyHeaderValue",
            },
        ),
        (
            "/wrong",
            b"Hello",
            {"Content-Type": "text/html; charset=utf-8", "Content-Length": "5"},
        ),
        (
            "/right",
            b"Hello",
            {
                "Content-Type": "text/html; charset=utf-8",
                "Content-Length": "5",
                "X-Success": "Works",
            },
        ),
    ],
)
def test_seed(
    seed_app: Flask, path: str, body: bytes, expected: dict[str, str]
) -> None:
    assert _headers(seed_app, path) == (body, expected, 200)


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        (
            "/",
            b"Hello with headers!",
            {
                "Content-Type": "text/plain; charset=utf-8",
                "Content-Length": "19",
                "X-Custom-Header": "MyHeaderValue",
            },
        ),
        (
            "/wrong",
            b"Hello",
            {
                "Content-Type": "text/html; charset=utf-8",
                "Content-Length": "5",
                "X-Success": "Works",
            },
        ),
        (
            "/right",
            b"Hello",
            {
                "Content-Type": "text/html; charset=utf-8",
                "Content-Length": "5",
                "X-Success": "Works",
            },
        ),
    ],
)
def test_declarative(
    declarative_app: Flask, path: str, body: bytes, expected: dict[str, str]
) -> None:
    assert _headers(declarative_app, path) == (body, expected, 200)


@pytest.mark.parametrize("path", ["/", "/wrong", "/right"])
def test_declarative_matches_seed_bodies(
    seed_app: Flask, declarative_app: Flask, path: str
) -> None:
    seed = seed_app.test_client().get(path)
    declarative = declarative_app.test_client().get(path)
    assert declarative.data == seed.data
    assert declarative.status_code == seed.status_code == 200
