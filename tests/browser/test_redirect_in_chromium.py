"""A real Chromium posts a form over plain HTTP to a non-loopback host name
and follows the 308 to HTTPS with the method and the body intact.

There is no DNS here: Chromium's ``--host-resolver-rules`` maps the name
``app.example`` to 127.0.0.1, so the browser sees an ordinary site (not a
loopback host, which the redirect leaves alone by default).
"""

from __future__ import annotations

import collections.abc as cabc
import html
import typing as t

import pytest
from conftest import DEADLINE_MS
from flask import Flask
from flask import request

from flask_header_policy import HeaderPolicy
from flask_header_policy import HTTPSRedirect

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser

HOST = "app.example"


class Serve(t.Protocol):
    def __call__(self, app: Flask, *, tls: bool = False) -> str: ...


class Later:
    """A WSGI app bound to a server before the real app exists (the
    redirect needs the HTTPS server's port)."""

    app: t.Any = None
    name = "later"

    def __call__(self, environ: t.Any, start_response: t.Any) -> t.Any:
        return self.app(environ, start_response)


def test_post_over_http_is_redirected_with_308_and_keeps_its_body(
    serve: Serve, launch: cabc.Callable[[list[str]], Browser]
) -> None:
    mapped_browser = launch([f"--host-resolver-rules=MAP {HOST} 127.0.0.1"])
    later = Later()
    https_base = serve(t.cast(Flask, later), tls=True)
    https_port = int(https_base.rsplit(":", 1)[1])

    app = Flask("shop")
    HeaderPolicy(
        app,
        headers={"X-Frame-Options": "DENY"},
        https_redirect=HTTPSRedirect(exempt_paths=["/form"], port=https_port),
    )

    @app.get("/form")
    def form() -> str:
        return (
            '<form method="post" action="/order?ref=%2Fhome">'
            '<input name="item" value="Zoë &amp; tea"><button>Buy</button></form>'
        )

    @app.post("/order")
    def order() -> str:
        scheme = request.scheme
        return (
            f"<p id=result>{html.escape(scheme)} {html.escape(request.method)}"
            f" {html.escape(request.form.get('item', ''))}"
            f" {html.escape(request.args.get('ref', ''))}</p>"
        )

    later.app = app
    http_port = int(serve(app).rsplit(":", 1)[1])

    context = mapped_browser.new_context()
    context.set_default_timeout(DEADLINE_MS)
    try:
        page = context.new_page()
        statuses: list[tuple[str, str, int]] = []
        page.on(
            "response",
            lambda response: statuses.append(
                (response.request.method, response.url, response.status)
            ),
        )
        page.goto(f"http://{HOST}:{http_port}/form")
        with page.expect_navigation():
            page.click("button")
        assert page.url == f"https://{HOST}:{https_port}/order?ref=%2Fhome"
        assert page.text_content("#result") == "https POST Zoë & tea /home"
    finally:
        context.close()
    assert (
        "POST",
        f"http://{HOST}:{http_port}/order?ref=%2Fhome",
        308,
    ) in statuses
    assert ("POST", f"https://{HOST}:{https_port}/order?ref=%2Fhome", 200) in statuses
