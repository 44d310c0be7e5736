"""The raw WSGI header list an app hands to the server (shared test helper)."""

from __future__ import annotations

import typing as t

from flask import Flask
from werkzeug.test import EnvironBuilder


def wire_headers(
    app: Flask, path: str = "/", **environ: t.Any
) -> list[tuple[str, str]]:
    """The raw WSGI header list the app hands to the server for ``path``."""
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
