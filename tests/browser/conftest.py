"""Real-browser fixtures: Debian's Chromium driven by Playwright, real servers.

Every test here is skipped, with the reason, when Chromium or Playwright is
missing, unless ``HEADER_POLICY_REQUIRE_BROWSER=1`` (CI sets it): then a
missing browser fails every test instead of hiding them.
"""

from __future__ import annotations

import collections.abc as cabc
import importlib.util
import os
import shutil
import ssl
import subprocess
import threading
import typing as t
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser
    from playwright.sync_api import BrowserContext
    from playwright.sync_api import Page

HERE = Path(__file__).parent
REQUIRE_ENV = "HEADER_POLICY_REQUIRE_BROWSER"
DEBIAN_CHROMIUM = "/usr/bin/chromium"
#: A host name the browser resolves to 127.0.0.1 (see CHROMIUM_ARGS).
TEST_HOST = "app.test"
# Without the background-networking flags Chromium keeps dialling out, and
# this closed network answers with refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Deliver Reporting API (report-to) reports after 100 ms, not a minute.
    "--short-reporting-delay",
    # Chromium sends Reporting API reports only from and to https:// (even
    # on loopback), so those tests serve a throwaway self-signed certificate.
    # Report uploads ignore a context's ignore_https_errors: only this works.
    "--ignore-certificate-errors",
    # http://app.test:PORT reaches the test servers on 127.0.0.1 under a
    # name that is not loopback: Chromium treats loopback origins as secure
    # and would hide what a real plain-HTTP site suffers.
    f"--host-resolver-rules=MAP {TEST_HOST} 127.0.0.1",
]


#: Playwright's deadline for each action and wait of a test.
DEADLINE_MS = 20_000
# Waits in these tests give page.wait_for_function() a function ("() =>
# …"), never an expression: Playwright evaluates an expression that is not
# true at once with eval() in the page, which a CSP without 'unsafe-eval'
# blocks (an EvalError, and a violation event), so such a wait failed
# exactly when the machine was slow.


class Serve(t.Protocol):
    """Runs a Flask app on a real server on 127.0.0.1; returns its base URL."""

    def __call__(self, app: Flask, *, tls: bool = False) -> str: ...


def find_chromium() -> str | None:
    if os.access(DEBIAN_CHROMIUM, os.X_OK):
        return DEBIAN_CHROMIUM
    return shutil.which("chromium")


def unavailable() -> str | None:
    """Why the browser tests cannot run here, or ``None`` when they can."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not importable (pip install -e '.[dev]')"
    if find_chromium() is None:
        return (
            f"Chromium not found ({DEBIAN_CHROMIUM} or 'chromium' on PATH);"
            " 'make browser' installs Debian's package"
        )
    return None


def required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    reason = unavailable()
    if reason is None or required():
        return  # when required, the browser fixture fails each test loudly
    skip = pytest.mark.skip(reason=f"browser tests skipped: {reason}")
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> cabc.Iterator[Browser]:
    reason = unavailable()
    if reason is not None:
        message = f"browser tests cannot run: {reason}"
        if required():
            pytest.fail(f"{REQUIRE_ENV}=1 but {message}", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=find_chromium(), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def launch(browser: Browser) -> cabc.Iterator[cabc.Callable[[list[str]], Browser]]:
    """``launch(flags)``: another Chromium with extra command-line flags (such
    as ``--host-resolver-rules``), closed at teardown. Skips or fails as the
    ``browser`` fixture does."""
    launched: list[Browser] = []

    def start(flags: list[str]) -> Browser:
        chromium = browser.browser_type.launch(
            executable_path=find_chromium(),
            args=[*CHROMIUM_ARGS, *flags],
            headless=True,
        )
        launched.append(chromium)
        return chromium

    yield start
    for chromium in launched:
        chromium.close()


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, made by openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        message = "openssl is needed to make a test certificate for https://"
        if required():
            pytest.fail(f"{REQUIRE_ENV}=1 but {message}", pytrace=False)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def serve(request: pytest.FixtureRequest) -> cabc.Iterator[Serve]:
    """Start apps on threaded werkzeug servers; every one stops at teardown.

    ``serve(app, tls=True)`` serves https:// with a self-signed certificate
    (the browser is launched to accept it).
    """
    running: list[tuple[t.Any, threading.Thread]] = []

    def start(app: Flask, *, tls: bool = False) -> str:
        context = None
        if tls:
            cert, key = request.getfixturevalue("tls_files")
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
        server = make_server(
            "127.0.0.1",
            0,
            app,
            threaded=True,
            request_handler=QuietHandler,
            ssl_context=context,
        )
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # quick to stop at teardown
            name=f"serve {app.name}",
            daemon=True,
        )
        thread.start()
        running.append((server, thread))
        scheme = "https" if tls else "http"
        return f"{scheme}://127.0.0.1:{server.server_port}"

    yield start
    for server, _ in running:
        server.shutdown()
        server.server_close()
    for _, thread in running:
        thread.join(timeout=10)
        assert not thread.is_alive(), f"{thread.name} did not stop"


@pytest.fixture
def context(browser: Browser, serve: Serve) -> cabc.Iterator[BrowserContext]:
    """A fresh browser context per test, closed before the servers stop."""
    ctx = browser.new_context()
    # A deadline for what never happens, not a pause: every wait is for a
    # condition, and on a machine loaded by other jobs a page can take
    # seconds to load.
    ctx.set_default_timeout(DEADLINE_MS)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
