"""Nonces on a real threaded server: one per response, unique, unguessable."""

from __future__ import annotations

import base64
import concurrent.futures
import http.client
import re
import socket
import threading
import typing as t

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler

from flask_header_policy import csp_nonce
from flask_header_policy import HeaderPolicy
from flask_header_policy.csp import ContentSecurityPolicy
from flask_header_policy.csp import NONCE
from flask_header_policy.csp import SELF
from flask_header_policy.csp import STRICT_DYNAMIC

CLIENTS = 8
POOL = 4
REQUESTS = 10_000
NONCE_RE = re.compile(r"'nonce-([^']*)'")
BASE64URL_RE = re.compile(r"[A-Za-z0-9_-]+")


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class PooledWSGIServer(BaseWSGIServer):
    """Werkzeug's server on a fixed pool of reused worker threads.

    Werkzeug's own threaded server starts a thread per connection; a pool
    (as production servers use) also catches a nonce kept per thread.
    """

    multithread = True

    def __init__(self, host: str, port: int, app: t.Any) -> None:
        super().__init__(host, port, app, handler=QuietHandler)
        self.pool = concurrent.futures.ThreadPoolExecutor(POOL, "nonce-worker")

    def process_request(self, request: t.Any, client_address: t.Any) -> None:
        self.pool.submit(self._work, request, client_address)

    def _work(self, request: socket.socket, client_address: t.Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        self.pool.shutdown(wait=True)
        super().server_close()


def build(workers: set[int]) -> Flask:
    app = Flask("test_app")
    app.testing = True
    HeaderPolicy(
        app,
        headers={
            "Content-Security-Policy": ContentSecurityPolicy(
                {"script-src": [NONCE, STRICT_DYNAMIC], "style-src": [SELF, NONCE]}
            ),
            "Content-Security-Policy-Report-Only": ContentSecurityPolicy(
                {"script-src": NONCE, "report-uri": "/csp-report"}
            ),
        },
    )

    @app.route("/")
    def index() -> str:
        workers.add(threading.get_ident())
        return csp_nonce()

    return app


def client(port: int, count: int) -> list[str]:
    """Send ``count`` requests through one HTTPConnection; return the nonces.

    Werkzeug answers ``Connection: close``, so the connection reopens for
    each request; http.client does that by itself.
    """
    nonces = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for _ in range(count):
            conn.request("GET", "/")
            response = conn.getresponse()
            body = response.read().decode()
            assert response.status == 200, body
            csp = response.getheader("Content-Security-Policy") or ""
            report_only = response.getheader("Content-Security-Policy-Report-Only")
            in_headers = NONCE_RE.findall(csp) + NONCE_RE.findall(report_only or "")
            # Both CSP sources and the report-only policy carry the body's nonce.
            assert in_headers == [body] * 3, (csp, report_only, body)
            nonces.append(body)
    finally:
        conn.close()
    return nonces


@pytest.mark.parametrize("server_kind", ["thread-per-connection", "thread-pool"])
def test_nonces_unique_and_matching_over_10000_requests(server_kind: str) -> None:
    workers: set[int] = set()
    app = build(workers)
    server: BaseWSGIServer
    if server_kind == "thread-pool":
        server = PooledWSGIServer("127.0.0.1", 0, app)
    else:
        server = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler
        )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        counts = [REQUESTS // CLIENTS] * CLIENTS
        counts[0] += REQUESTS - sum(counts)
        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            futures = [pool.submit(client, server.server_port, n) for n in counts]
            nonces = [nonce for future in futures for nonce in future.result()]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    assert not thread.is_alive()

    assert len(nonces) == REQUESTS
    assert len(set(nonces)) == REQUESTS, "a nonce was served twice"
    if server_kind == "thread-pool":
        assert len(workers) <= POOL  # each worker thread served many requests
    for nonce in nonces:
        assert BASE64URL_RE.fullmatch(nonce), nonce
        raw = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
        assert len(raw) >= 16, f"{nonce!r} carries {len(raw) * 8} bits, not 128"
