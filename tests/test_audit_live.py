"""The live audit against real servers on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import collections.abc as cabc
import contextlib
import json
import pathlib
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import typing as t

import httpx
import pytest
from click.testing import CliRunner
from flask import Flask
from flask import redirect
from flask.cli import FlaskGroup
from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler

from flask_header_policy import HeaderPolicy
from flask_header_policy.audit.cli import audit_command
from flask_header_policy.audit.live import audit_url
from flask_header_policy.audit.live import AuditError
from flask_header_policy.audit.live import classify_redirection
from flask_header_policy.audit.live import http_variant
from flask_header_policy.audit.results import Hop

GOOD = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class QuietHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: t.Any) -> None:
        pass


@contextlib.contextmanager
def serve(app: t.Any, ssl_context: ssl.SSLContext | None = None) -> cabc.Iterator[int]:
    """Serve ``app`` on 127.0.0.1 in a thread; yields the port."""
    server = make_server(
        "127.0.0.1",
        0,
        app,
        threaded=True,
        request_handler=QuietHandler,
        ssl_context=ssl_context,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def site() -> Flask:
    app = Flask("site")
    HeaderPolicy(app, headers=GOOD)

    @app.get("/")
    def index() -> str:
        return "<html><script src='http://cdn.example/x.js'></script></html>"

    @app.get("/api")
    def api() -> dict[str, int]:
        return {"n": 1}

    @app.get("/big")
    def big() -> str:
        return "<html>" + "x" * 300_000 + "<script src='http://cdn.example/x.js'>"

    @app.get("/loop")
    def loop() -> t.Any:
        return redirect("/loop")

    @app.get("/reused")
    def reused() -> t.Any:
        return "<p>", {"Content-Security-Policy": "script-src 'nonce-fixed1234'"}

    @app.get("/fresh")
    def fresh() -> t.Any:
        nonce = secrets.token_urlsafe(12)
        return "<p>", {"Content-Security-Policy": f"script-src 'nonce-{nonce}'"}

    return app


@pytest.fixture(scope="module")
def port() -> cabc.Iterator[int]:
    with serve(site()) as port:
        yield port


def test_plain_http_site_is_graded_with_redirection_missing(port: int) -> None:
    audit = audit_url(f"http://127.0.0.1:{port}/")
    assert audit.status == 200
    assert audit.url == f"http://127.0.0.1:{port}/"
    assert audit.redirects == (Hop(audit.url, 200),)
    assert audit.endpoint is None
    assert audit.result["redirection"].result == "redirection-missing"
    assert audit.result["redirection"].score_modifier == -20
    assert audit.result["strict-transport-security"].result == (
        "hsts-not-implemented-no-https"
    )
    # The body was read: the external http: script counts against SRI.
    assert audit.result["subresource-integrity"].score_modifier == -50
    assert ("Referrer-Policy", "no-referrer") in audit.headers


def test_non_html_is_graded_without_body(port: int) -> None:
    # An http:// URL needs no probe: the redirection test stays.
    audit = audit_url(f"http://127.0.0.1:{port}/api", check_http=False)
    assert audit.result["redirection"].result == "redirection-missing"
    assert audit.result["subresource-integrity"].result == (
        "sri-not-implemented-response-not-html"
    )


def test_huge_body_is_truncated_and_reported(port: int) -> None:
    audit = audit_url(f"http://127.0.0.1:{port}/big", max_bytes=1000)
    (finding,) = [f for f in audit.result.findings if f.code == "body-truncated"]
    assert finding.severity == "info"
    assert "after 1,000 bytes" in finding.message
    # The script after the cut was not seen.
    assert audit.result["subresource-integrity"].score_modifier == 0


def test_reused_nonce_is_found(port: int) -> None:
    reused = audit_url(f"http://127.0.0.1:{port}/reused")
    fresh = audit_url(f"http://127.0.0.1:{port}/fresh")
    assert "csp-nonce-reused" in [f.code for f in reused.result.findings]
    assert "csp-nonce-reused" not in [f.code for f in fresh.result.findings]


def test_redirect_chain_between_two_servers(port: int) -> None:
    other = Flask("other")
    other.add_url_rule("/", "go", lambda: redirect(f"http://127.0.0.1:{port}/api"))
    with serve(other) as first:
        audit = audit_url(f"http://127.0.0.1:{first}/")
    assert [(hop.url, hop.status) for hop in audit.redirects] == [
        (f"http://127.0.0.1:{first}/", 302),
        (f"http://127.0.0.1:{port}/api", 200),
    ]
    assert audit.url == f"http://127.0.0.1:{port}/api"
    assert audit.path == f"http://127.0.0.1:{first}/"
    assert audit.result["redirection"].result == "redirection-not-to-https"


def test_redirect_loop_is_an_error(port: int) -> None:
    with pytest.raises(AuditError, match=r"/loop: more than 10 redirects"):
        audit_url(f"http://127.0.0.1:{port}/loop")


def _hops(*urls: str) -> list[Hop]:
    return [Hop(url, 301) for url in urls]


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ([], "redirection-not-needed-no-http"),
        (_hops("http://a.test/"), "redirection-missing"),
        (_hops("http://a.test/", "https://a.test/"), "redirection-to-https"),
        (
            _hops("http://a.test/", "https://www.a.test/", "https://www.a.test/x"),
            "redirection-off-host-from-http",
        ),
        (
            _hops("http://a.test/", "http://www.a.test/", "https://www.a.test/"),
            "redirection-not-to-https-on-initial-redirection",
        ),
        (_hops("http://a.test/", "http://a.test/x"), "redirection-not-to-https"),
        (
            _hops("http://a.test/", "https://a.test/", "http://a.test/"),
            "redirection-not-to-https",
        ),
    ],
)
def test_classify_redirection(route: list[Hop], expected: str) -> None:
    assert classify_redirection(route) == expected


@pytest.mark.parametrize(
    ("url", "port", "expected"),
    [
        ("https://a.test/x?q=1", 80, "http://a.test/x?q=1"),
        ("https://a.test:8443/", 80, "http://a.test/"),
        ("https://a.test/", 8080, "http://a.test:8080/"),
        ("https://[::1]/", 80, "http://[::1]/"),
    ],
)
def test_http_variant(url: str, port: int, expected: str) -> None:
    assert http_variant(url, port) == expected


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_refused_connection() -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    with pytest.raises(AuditError) as info:
        audit_url(url, timeout=2)
    assert str(info.value) == f"{url}: connection refused"
    assert info.value.kind == "refused"


def test_unknown_host() -> None:
    # RFC 6761: names under .invalid never resolve.
    with pytest.raises(AuditError) as info:
        audit_url("http://header-policy-audit.invalid/", timeout=2)
    message = str(info.value)
    assert message.startswith("http://header-policy-audit.invalid/: ")
    assert "DNS lookup failed" in message or "timed out" in message
    assert info.value.kind in ("dns", "timeout")


def test_tls_to_a_plain_http_server(port: int) -> None:
    with pytest.raises(AuditError) as info:
        audit_url(f"https://127.0.0.1:{port}/")
    assert info.value.kind == "tls"
    assert str(info.value).startswith(
        f"https://127.0.0.1:{port}/: TLS handshake failed"
    )


def test_timeout() -> None:
    with socket.socket() as sock:  # accepts connections, never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
        with pytest.raises(AuditError) as info:
            audit_url(url, timeout=0.2)
    assert str(info.value) == f"{url}: timed out after 0.2 s"
    assert info.value.kind == "timeout"


@pytest.mark.parametrize("url", ["ftp://a.test/", "http://", "http://[::1/"])
def test_invalid_url(url: str) -> None:
    with pytest.raises(AuditError, match="not a valid"):
        audit_url(url)


@pytest.fixture(scope="module")
def tls(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[ssl.SSLContext, pathlib.Path]:
    """A server context with a self-signed certificate for 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"),
            "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context, folder / "cert.pem"


def test_https_with_http_probe(tls: tuple[ssl.SSLContext, pathlib.Path]) -> None:
    context, cert = tls
    trusting = ssl.create_default_context(cafile=cert)
    with serve(site(), ssl_context=context) as secure:
        upgrade = Flask("upgrade")
        upgrade.add_url_rule(
            "/", "up", lambda: redirect(f"https://127.0.0.1:{secure}/", 301)
        )
        with serve(upgrade) as plain, httpx.Client(verify=trusting) as client:
            audit = audit_url(
                f"https://127.0.0.1:{secure}/", client=client, http_port=plain
            )
            assert audit.result["redirection"].result == "redirection-to-https"
            assert audit.result["strict-transport-security"].result == (
                "hsts-not-implemented"
            )
            # Nothing listens on the probe's port: HTTP is not offered at all.
            closed = audit_url(
                f"https://127.0.0.1:{secure}/", client=client, http_port=free_port()
            )
            assert closed.result["redirection"].result == (
                "redirection-not-needed-no-http"
            )
        with pytest.raises(AuditError, match="TLS certificate error: self.signed"):
            audit_url(f"https://127.0.0.1:{secure}/", check_http=False)


def test_console_script_json(port: int) -> None:
    url = f"http://127.0.0.1:{port}/"
    result = CliRunner().invoke(audit_command, [url, "--url", "/api", "--json"])
    assert result.exit_code == 0, result.output
    audits = json.loads(result.stdout)
    assert [a["url"] for a in audits] == [url, url + "api"]
    assert audits[0]["redirects"] == [{"url": url, "status": 200}]
    assert {"name": "redirection", "result": "redirection-missing",
            "score_modifier": -20} in audits[0]["tests"]  # fmt: skip
    assert result.stderr.splitlines() == [
        f"auditing 1/2 {url}",
        f"auditing 2/2 {url}api",
    ]


def test_console_script_details_and_min_grade(port: int) -> None:
    url = f"http://127.0.0.1:{port}/"
    result = CliRunner().invoke(audit_command, [url, "--min-grade", "A"])
    assert result.exit_code == 1
    assert "redirection-missing" in result.stdout  # one URL: tests are listed
    assert "fix: " in result.stdout
    assert "1 of 1 below A:\n  F " in result.stderr


def test_console_script_error_is_one_line() -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    result = CliRunner().invoke(audit_command, [url])
    assert result.exit_code == 1
    assert result.output == f"Error: {url}: connection refused\n"


def test_flask_command_with_url(port: int) -> None:
    cli = FlaskGroup(create_app=lambda: Flask("unused"))
    url = f"http://127.0.0.1:{port}/api"
    result = CliRunner().invoke(cli, ["headers", "audit", url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["path"] == url


def test_missing_httpx_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)
    monkeypatch.delitem(sys.modules, "flask_header_policy.audit.live")
    result = CliRunner().invoke(audit_command, ["http://127.0.0.1:9/"])
    assert result.exit_code == 1
    assert "pip install flask-header-policy[live]" in result.output
