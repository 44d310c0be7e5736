"""A real threaded server: every response carries exactly its own policy."""

from __future__ import annotations

import concurrent.futures
import http.client
import threading
import typing as t

from flask import Blueprint
from flask import Flask
from flask import request
from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler

from flask_header_policy import append
from flask_header_policy import force
from flask_header_policy import HeaderPolicy

THREADS = 8
REQUESTS = 500
POLICY_NAMES = ("x-frame-options", "x-endpoint", "x-area", "x-echo", "x-length", "vary")


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def echo(req: t.Any, resp: t.Any) -> str | None:
    value: str | None = req.args.get("n")
    return value


def build() -> Flask:
    app = Flask("test_app")
    app.testing = True
    policy = HeaderPolicy(
        app, headers={"X-Frame-Options": "DENY", "Vary": append("Accept-Encoding")}
    )

    @app.route("/a")
    @policy.headers({"X-Endpoint": "a", "X-Echo": echo})
    def a() -> str:
        return f"a:{request.args['n']}"

    bp = Blueprint("bp", __name__, url_prefix="/bp")

    @bp.route("/b")
    @policy.headers({"X-Endpoint": "b", "X-Frame-Options": None})
    def b() -> tuple[str, dict[str, str]]:
        return f"b:{request.args['n']}", {"Vary": "Cookie"}

    policy.add_blueprint_headers(bp, {"X-Area": "bp", "X-Echo": echo})
    app.register_blueprint(bp)

    @app.route("/c")
    @policy.headers(
        {
            "X-Endpoint": force("c"),
            "X-Length": lambda req, resp: resp.headers["Content-Length"],
        }
    )
    def c() -> tuple[str, dict[str, str]]:
        return "c" * (len(request.args["n"]) % 7 + 1), {"X-Endpoint": "view"}

    return app


def expected(path: str, n: str) -> tuple[bytes, dict[str, list[str]]]:
    if path == "/a":
        return f"a:{n}".encode(), {
            "x-frame-options": ["DENY"],
            "x-endpoint": ["a"],
            "x-echo": [n],
            "vary": ["Accept-Encoding"],
        }
    if path == "/bp/b":
        return f"b:{n}".encode(), {
            "x-endpoint": ["b"],
            "x-area": ["bp"],
            "x-echo": [n],
            "vary": ["Cookie, Accept-Encoding"],
        }
    body = b"c" * (len(n) % 7 + 1)
    return body, {
        "x-frame-options": ["DENY"],
        "x-endpoint": ["c"],
        "x-length": [str(len(body))],
        "vary": ["Accept-Encoding"],
    }


def client(port: int, worker: int) -> int:
    paths = ("/a", "/bp/b", "/c")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for i in range(REQUESTS):
            path = paths[(worker + i) % len(paths)]
            n = f"w{worker}-r{i}-" + "x" * (i % 5)
            conn.request("GET", f"{path}?n={n}")
            response = conn.getresponse()
            body = response.read()
            got: dict[str, list[str]] = {}
            for name, value in response.getheaders():
                if name.lower() in POLICY_NAMES:
                    got.setdefault(name.lower(), []).append(value)
            assert (response.status, body, got) == (200, *expected(path, n)), (
                path,
                n,
            )
    finally:
        conn.close()
    return REQUESTS


def test_threaded_server_no_cross_talk() -> None:
    server = make_server(
        "127.0.0.1", 0, build(), threaded=True, request_handler=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            futures = [
                pool.submit(client, server.server_port, w) for w in range(THREADS)
            ]
            done = [future.result() for future in futures]
        assert done == [REQUESTS] * THREADS
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert not thread.is_alive()
