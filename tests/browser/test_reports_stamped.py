"""Reports from a stamped page served over plain HTTP reach the collector.

Stamping appends the directives that hold a page's hashes after the
collector's ``report-to``; Chromium sends no report at all for a policy with
``report-to`` on a page that is not served over HTTPS, so the collector must
take it out wherever it ended up. Served as ``http://app.test:PORT`` (not
loopback, which Chromium treats as secure), like a real plain-HTTP site.
"""

from __future__ import annotations

import time
import typing as t
from pathlib import Path

import pytest
from conftest import Serve
from conftest import TEST_HOST
from flask import Flask
from flask import render_template_string

from flask_header_policy import HeaderPolicy
from flask_header_policy import only_for
from flask_header_policy.presets import STRICT_CSP

if t.TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

pytestmark = pytest.mark.browser

CSP_RO = "Content-Security-Policy-Report-Only"
# A static handler and a style attribute: stamping adds their hashes. The
# image from another host is what the report-only policy reports.
PAGE = """<!doctype html><title>stamped</title>
<button id="go" onclick="window.clicked = true">Go</button>
<p style="color: green">x</p>
<img id="logo" src="http://elsewhere.test:1/logo.png" alt="">
<script>window.ran = true;</script>"""


def test_stamped_page_over_plain_http_sends_reports(
    serve: Serve, context: BrowserContext, tmp_path: Path
) -> None:
    app = Flask("reports_stamped", instance_path=str(tmp_path))
    app.testing = True
    policy = HeaderPolicy(
        app,
        preset="strict",
        headers={
            "Content-Security-Policy": None,
            CSP_RO: only_for("text/html", STRICT_CSP),
        },
    )
    collector = policy.collect_reports(app, rate=None)

    @app.get("/")
    def index() -> str:
        return render_template_string(PAGE)

    base = serve(app).replace("127.0.0.1", TEST_HOST)
    page = context.new_page()
    response = page.goto(base + "/")
    assert response is not None and response.status == 200
    sent = response.headers["content-security-policy-report-only"]
    assert "script-src-attr 'unsafe-hashes' 'sha256-" in sent  # stamped
    assert "report-uri /__csp-reports" in sent
    assert "report-to" not in sent
    page.wait_for_function("() => window.ran === true")
    page.click("#go")
    page.wait_for_function("() => window.clicked === true")  # hashed: no report

    deadline = time.monotonic() + 20
    while not collector.counters(app).get("received:csp-report"):
        assert time.monotonic() < deadline, collector.counters(app)
        time.sleep(0.1)
    assert collector.flush(app)
    rows = collector.store(app).fingerprints()
    assert {(row["directive"], row["blocked"]) for row in rows} == {
        ("img-src", "http://elsewhere.test:1")
    }
    page.close()
