"""The whole report loop in a real Chromium: report-only strict → collect →
``flask headers reports`` → ``flask headers suggest`` → apply → no report.

A page under the strict CSP, report-only, loads an image from a "CDN" (another
127.0.0.1 port) and runs an inline script without a nonce. Over plain HTTP the
browser reports through ``report-uri`` (``application/csp-report``), over
HTTPS through ``report-to`` (``application/reports+json``); both land in the
SQLite file of the app's instance folder.
"""

from __future__ import annotations

import base64
import json
import time
import typing as t
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask import render_template_string
from flask import request
from flask.cli import FlaskGroup

from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import HeaderPolicy
from flask_header_policy import only_for
from flask_header_policy.presets import STRICT_CSP
from flask_header_policy.reports import ReportCollector

if t.TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

pytestmark = pytest.mark.browser

CSP_RO = "Content-Security-Policy-Report-Only"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
LISTENER = (
    "window.violations = [];"
    'document.addEventListener("securitypolicyviolation", (e) => {'
    "window.violations.push({effective: e.effectiveDirective,"
    " blocked: e.blockedURI, disposition: e.disposition});});"
)
GALLERY = """<!doctype html><html><head><title>gallery</title>
<script nonce="{{ csp_nonce() }}">{{ listener | safe }}</script></head>
<body><img id="logo" src="{{ cdn }}/logo.png" alt="logo">
<script{% if stamped %} nonce="{{ csp_nonce() }}"{% endif %}>
window.inlineRan = true;</script>
</body></html>"""
CONTROL = """<!doctype html><html><head><title>control</title></head>
<body><script>window.controlRan = true;</script></body></html>"""


class Serve(t.Protocol):
    def __call__(self, app: Flask, *, tls: bool = False) -> str: ...


def cdn_app() -> Flask:
    app = Flask("cdn")

    @app.get("/logo.png")
    def logo() -> tuple[bytes, int, dict[str, str]]:
        return PNG, 200, {"Content-Type": "image/png"}

    return app


def gallery_app(
    instance: Path, csp: ContentSecurityPolicy, cdns: dict[str, str], *, stamped: bool
) -> tuple[Flask, ReportCollector]:
    app = Flask("reports_gallery", instance_path=str(instance))
    app.testing = True
    policy = HeaderPolicy(app, headers={CSP_RO: only_for("text/html", csp)})

    @app.get("/gallery")
    def gallery() -> str:
        cdn = cdns["https" if request.is_secure else "http"]
        return render_template_string(
            GALLERY, cdn=cdn, stamped=stamped, listener=LISTENER
        )

    @app.get("/control")
    def control() -> str:
        return CONTROL

    # No rate limit: the test's browser is one client with many reports.
    return app, policy.collect_reports(app, rate=None)


def cli(app: Flask, *args: str) -> str:
    runner = CliRunner()
    result = runner.invoke(FlaskGroup(create_app=lambda: app), ["headers", *args])
    assert result.exit_code == 0, result.output
    return result.output


def wait_for(check: t.Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def visit(context: BrowserContext, url: str, *, expect: int) -> dict[str, t.Any]:
    """Load ``url``; what its page saw, once ``expect`` violations arrived."""
    page = context.new_page()
    response = page.goto(url)
    assert response is not None and response.status == 200
    page.wait_for_function("() => document.getElementById('logo').complete")
    # Violation events are queued as tasks, late on a loaded machine: wait
    # for the expected ones, then give any other a moment to show up.
    page.wait_for_function("(n) => window.violations.length >= n", arg=expect)
    page.wait_for_timeout(300)
    facts = {
        "headers": response.headers,
        "violations": page.evaluate("window.violations"),
        "inline_ran": page.evaluate("window.inlineRan === true"),
        "image_loaded": page.evaluate(
            "document.getElementById('logo').naturalWidth > 0"
        ),
    }
    page.close()
    return facts


def test_reports_loop_in_chromium(
    serve: Serve, context: BrowserContext, tmp_path: Path
) -> None:
    cdns = {"http": serve(cdn_app()), "https": serve(cdn_app(), tls=True)}
    app, collector = gallery_app(tmp_path, STRICT_CSP, cdns, stamped=False)
    plain, secure = serve(app), serve(app, tls=True)

    # 1. Report-only: everything runs and loads, and is reported.
    over_http = visit(context, plain + "/gallery", expect=2)
    over_https = visit(context, secure + "/gallery", expect=2)
    for facts in (over_http, over_https):
        assert facts["inline_ran"] and facts["image_loaded"]
        assert sorted(v["effective"] for v in facts["violations"]) == [
            "img-src",
            "script-src-elem",
        ]
        assert {v["disposition"] for v in facts["violations"]} == {"report"}
    # report-to over HTTPS only: on plain HTTP it would silence report-uri.
    assert (
        "report-to" not in over_http["headers"]["content-security-policy-report-only"]
    )
    assert over_https["headers"]["content-security-policy-report-only"].endswith(
        "; report-uri /__csp-reports; report-to header-policy"
    )
    assert over_https["headers"]["reporting-endpoints"] == (
        'header-policy="/__csp-reports"'
    )

    def received(kind: str) -> int:
        return collector.counters(app).get(f"received:{kind}", 0)

    assert wait_for(lambda: received("csp-report") >= 2), collector.counters(app)
    assert wait_for(lambda: received("reports+json") >= 2), collector.counters(app)
    assert collector.flush(app)
    assert (tmp_path / "header-policy-reports.sqlite3").is_file()

    # 2. flask headers reports --json: the route, the layer, the directive.
    data = json.loads(cli(app, "reports", "--json"))
    rows = data["reports"]
    seen = {(r["endpoint"], r["rule"], r["directive"], r["blocked"]) for r in rows}
    assert seen == {
        ("gallery", "/gallery", "img-src", cdns["http"]),
        ("gallery", "/gallery", "img-src", cdns["https"]),
        ("gallery", "/gallery", "script-src-elem", "inline"),
    }
    assert {
        (r["layer"], r["header"], r["disposition"], r["browser"]) for r in rows
    } == {("app", CSP_RO, "report", "Chrome")}
    assert sum(r["count"] for r in rows) == 4
    assert data["counters"]["received:csp-report"] == 2
    assert data["counters"]["received:reports+json"] == 2
    table = cli(app, "reports")
    assert "gallery" in table and "img-src" in table and cdns["http"] in table

    # 3. flask headers suggest: the image host at the app layer, nonces for
    # the inline script, and not ready to enforce yet.
    (suggestion,) = json.loads(cli(app, "suggest", "--json"))
    assert (suggestion["layer"], suggestion["header"]) == ("app", CSP_RO)
    expected = f'csp.with_sources("img-src", "{cdns["http"]}", "{cdns["https"]}")'
    assert suggestion["python"] == expected
    new_img_src = f"img-src 'self' data: {cdns['http']} {cdns['https']};"
    assert new_img_src in suggestion["new_header"]
    assert "'unsafe-inline'" not in json.dumps(suggestion)
    (advice,) = suggestion["advice"]
    assert advice["directive"] == "script-src-elem" and advice["blocked"] == "inline"
    assert "nonce" in advice["text"]
    assert suggestion["readiness"]["ready"] is False
    assert expected in cli(app, "suggest")

    # 4. Apply both: the suggested snippet on the declared policy, and the
    # nonce on the inline script. A fresh run reports nothing for the page.
    fixed_csp = eval(suggestion["python"], {"csp": STRICT_CSP})  # our own output
    fixed, fixed_collector = gallery_app(tmp_path, fixed_csp, cdns, stamped=True)
    fixed_plain, fixed_secure = serve(fixed), serve(fixed, tls=True)
    before = {r["fingerprint"]: r["count"] for r in rows}
    for base in (fixed_plain, fixed_secure):
        facts = visit(context, base + "/gallery", expect=0)
        assert facts["violations"] == []
        assert facts["inline_ran"] and facts["image_loaded"]
        # A page that still breaks the policy proves that reports still flow.
        page = context.new_page()
        page.goto(base + "/control")
        page.close()

    def control_reports() -> int:
        totals = fixed_collector.counters(fixed)
        return totals.get("received:csp-report", 0) + totals.get(
            "received:reports+json", 0
        )

    assert wait_for(lambda: control_reports() >= 2), fixed_collector.counters(fixed)
    time.sleep(0.5)  # anything else the browser had queued
    assert fixed_collector.flush(fixed)
    after = json.loads(cli(fixed, "reports", "--json"))["reports"]
    assert {
        r["fingerprint"]: r["count"] for r in after if r["endpoint"] == "gallery"
    } == before
    assert {r["endpoint"] for r in after if r["fingerprint"] not in before} == {
        "control"
    }
    # The image change is applied: it is not suggested again.
    for again in json.loads(cli(fixed, "suggest", "--json")):
        assert "img-src" not in [c["directive"] for c in again["changes"]]
