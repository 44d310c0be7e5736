"""A pytest plugin that installs ``HeaderPolicy(app, preset="strict")`` in a
Flask example app whose code we do not edit (``tests/test_flask_examples.py``
runs the example's own test suite with ``-p tests.apps.strict_install``).

It is imported before the example's ``conftest.py``, so the names the
example's tests import are already the wrapped ones:

- ``flaskr``: ``flaskr.create_app`` becomes a factory that calls the
  original one, then installs the policy on the app it returns;
- ``js_example``: the policy is installed on the module-level ``app``.

Environment: ``HEADER_POLICY_EXAMPLE`` (``flaskr`` or ``js_example``),
``HEADER_POLICY_MODE`` (``stamped``: the preset as it is; ``unstamped``:
with ``stamp_nonces=False``; ``bare``: no policy, only the recording, for a
control run), ``HEADER_POLICY_RECORD``
(a file: the status, content type and CSP of every response the app sent,
in JSON, written when the session ends), so the caller sees that the
policy really answered their requests.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import typing as t

import pytest
from flask import Flask

from flask_header_policy import HeaderPolicy

if t.TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment

EXAMPLE = os.environ["HEADER_POLICY_EXAMPLE"]
MODE = os.environ.get("HEADER_POLICY_MODE", "stamped")
if MODE not in {"stamped", "unstamped", "bare"}:
    raise RuntimeError(f"unknown HEADER_POLICY_MODE {MODE!r}")
RECORD = os.environ.get("HEADER_POLICY_RECORD")

#: ``{"path", "status", "content_type", "csp"}`` of every response sent.
responses: list[dict[str, t.Any]] = []
installed: list[Flask] = []


def _recording(wsgi_app: WSGIApplication) -> WSGIApplication:
    """Wrap the outermost WSGI app: what it records is what left the app."""

    def record(environ: WSGIEnvironment, start_response: StartResponse) -> t.Any:
        def start(status: str, headers: list[tuple[str, str]], *args: t.Any) -> t.Any:
            fields = [(k.lower(), v) for k, v in headers]
            responses.append(
                {
                    "path": environ.get("PATH_INFO", ""),
                    "status": int(status.split()[0]),
                    "content_type": next(
                        (v for k, v in fields if k == "content-type"), None
                    ),
                    "csp": [v for k, v in fields if k == "content-security-policy"],
                }
            )
            return start_response(status, headers, *args)

        return wsgi_app(environ, start)

    return record


def install(app: Flask) -> Flask:
    """The strict preset (as ``HEADER_POLICY_MODE`` says) on ``app``."""
    if MODE != "bare":
        HeaderPolicy(
            app, preset="strict", stamp_nonces=None if MODE == "stamped" else False
        )
    app.wsgi_app = _recording(app.wsgi_app)  # type: ignore[method-assign]
    installed.append(app)
    return app


if EXAMPLE == "flaskr":
    flaskr = importlib.import_module("flaskr")
    original = flaskr.create_app

    @functools.wraps(original)
    def create_app(test_config: t.Any = None) -> Flask:
        return install(original(test_config))

    flaskr.create_app = create_app
elif EXAMPLE == "js_example":
    install(importlib.import_module("js_example").app)
else:
    raise RuntimeError(f"unknown HEADER_POLICY_EXAMPLE {EXAMPLE!r}")


def pytest_sessionfinish(session: pytest.Session) -> None:
    if RECORD:
        with open(RECORD, "w", encoding="utf-8") as out:
            json.dump({"apps": len(installed), "responses": responses}, out)
