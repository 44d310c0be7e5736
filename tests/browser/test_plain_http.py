"""A site served over plain HTTP from a non-loopback host name, and the
demo's pages, in a real Chromium.

``http://app.test:PORT`` reaches the test server on 127.0.0.1 (Chromium's
``--host-resolver-rules``, see conftest.py): unlike 127.0.0.1, that origin
is not potentially trustworthy, so the browser acts as on a real site.
"""

from __future__ import annotations

import typing as t

import pytest
from conftest import Serve
from conftest import TEST_HOST
from examples import demo
from examples import security
from flask import Flask

if t.TYPE_CHECKING:
    from playwright.sync_api import Page

#: The color demo.css gives the basic preset's <h1> (#8a5a00).
BASIC_H1 = "rgb(138, 90, 0)"


def _basic_app(*, hsts_only_secure: bool) -> Flask:
    app = security.create_app("basic")
    if not hsts_only_secure:
        # The old behaviour: upgrade-insecure-requests on every response.
        state = app.extensions["header_policy"]
        state.hsts_only_secure = False
        state.cache.clear()
    return app


def test_basic_preset_over_plain_http_keeps_its_css_and_js(
    serve: Serve, page: Page
) -> None:
    base = serve(_basic_app(hsts_only_secure=True)).replace("127.0.0.1", TEST_HOST)
    response = page.goto(base + "/")
    assert response is not None and response.ok
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "upgrade-insecure-requests" not in csp
    page.wait_for_function(
        "() => document.getElementById('file-status').textContent.includes('ran')"
    )
    h1 = page.evaluate("getComputedStyle(document.querySelector('h1')).color")
    assert h1 == BASIC_H1
    # The inline script is blocked by script-src 'self', and the page says why.
    assert page.inner_text("#script-status").startswith("Blocked")
    assert "script-src 'self'" in page.inner_text("#why-blocked")


def test_upgrade_insecure_requests_over_plain_http_loses_the_css(
    serve: Serve, page: Page
) -> None:
    """The control: sent over HTTP, the directive rewrites /static/ to
    https://, which this server does not speak, and the page is unstyled."""
    base = serve(_basic_app(hsts_only_secure=False)).replace("127.0.0.1", TEST_HOST)
    response = page.goto(base + "/")
    assert response is not None and response.ok
    assert "upgrade-insecure-requests" in response.headers["content-security-policy"]
    page.wait_for_load_state("load")
    h1 = page.evaluate("getComputedStyle(document.querySelector('h1')).color")
    assert h1 != BASIC_H1
    assert page.inner_text("#file-status") == "The script file has not run."


class _Named:
    """The demo's WSGI app with the name the serve fixture logs."""

    name = "demo"

    def __call__(self, environ: t.Any, start_response: t.Any) -> t.Any:
        return demo.application(environ, start_response)


# Every whitespace-separated token of the header cells, with the number of
# lines it takes on screen.
_BROKEN_TOKENS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll("td.name, td.value")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.textContent.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const tops = new Set(
          [...range.getClientRects()].map((rect) => Math.round(rect.top)));
        if (tops.size > 1) broken.push(match[0]);
      }
    }
  }
  return broken;
}"""


@pytest.mark.parametrize("width", [800, 1280])
def test_demo_index_breaks_no_token(serve: Serve, page: Page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    response = page.goto(serve(_Named()) + "/")  # type: ignore[arg-type]
    assert response is not None and response.ok
    tokens = page.evaluate("document.querySelectorAll('td.value .token').length")
    assert tokens > 100  # the check looked at the values
    assert page.evaluate(_BROKEN_TOKENS) == []
