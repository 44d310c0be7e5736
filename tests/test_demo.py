"""``make demo``: the index lists each mounted app's routes and headers."""

from __future__ import annotations

import re

from examples import demo
from werkzeug.test import Client


def test_index_lists_routes_with_the_headers_they_send() -> None:
    client = Client(demo.application)
    page = client.get("/").get_data(as_text=True)
    for mount in ("/declarative/", "/strict/", "/basic/"):
        assert f'href="{mount}"' in page
    assert "X-Custom-Header" in page and "MyHeaderValue" in page
    assert "preset:strict" in page and "preset:basic" in page


def test_mounted_examples_answer_with_their_policies() -> None:
    client = Client(demo.application)
    declarative = client.get("/declarative/wrong")
    assert declarative.get_data(as_text=True) == "Hello"
    assert declarative.headers["X-Success"] == "Works"
    strict = client.get("/strict/")
    body = strict.get_data(as_text=True)
    (nonce,) = re.findall(
        r"'nonce-([^']+)' 'strict-dynamic'", strict.headers["Content-Security-Policy"]
    )
    assert f'<script nonce="{nonce}">' in body
    assert 'href="/strict/static/demo.css"' in body
    css = client.get("/strict/static/demo.css")
    assert css.status_code == 200
    css.close()
    basic = client.get("/basic/")
    assert "'unsafe-inline'" in basic.headers["Content-Security-Policy"]
    assert "nonce" not in basic.headers["Content-Security-Policy"]


def test_legacy_page_works_under_strict_through_stamping() -> None:
    client = Client(demo.application)
    strict = client.get("/strict/legacy")
    csp = strict.headers["Content-Security-Policy"]
    (nonce,) = set(re.findall(r"'nonce-([^']+)'", csp))
    body = strict.get_data(as_text=True)
    # The template has no nonce: stamping put one on each of these.
    assert f'<script nonce="{nonce}" src="/strict/cdn/widgets.js">' in body
    assert body.count(f'nonce="{nonce}"') == 4  # link, script src, style, script
    assert "script-src-attr 'unsafe-hashes' 'sha256-" in csp
    assert "style-src-attr 'unsafe-hashes' 'sha256-" in csp
    script = client.get("/strict/cdn/widgets.js")
    assert script.status_code == 200
    script.close()
    basic = client.get("/basic/legacy")
    assert "nonce=" not in basic.get_data(as_text=True)
