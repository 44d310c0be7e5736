"""What a real Chromium does with the headers the extension sends.

Each test also loads a control page without the header under test, so that a
browser which ignored the header (or a test that could not see the effect)
fails instead of passing.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
import typing as t
import urllib.parse
from pathlib import Path

import pytest
from flask import abort
from flask import Flask
from flask import render_template
from flask import request
from flask import Response as FlaskResponse

from flask_header_policy import csp_nonce
from flask_header_policy import HeaderPolicy
from flask_header_policy import HeaderValue
from flask_header_policy import only_for
from flask_header_policy.cross_origin import CrossOriginOpenerPolicy
from flask_header_policy.csp import ContentSecurityPolicy
from flask_header_policy.csp import hash_source
from flask_header_policy.csp import NONCE
from flask_header_policy.csp import NONE
from flask_header_policy.csp import REPORT_SAMPLE
from flask_header_policy.csp import STRICT_DYNAMIC
from flask_header_policy.framing import XFrameOptions
from flask_header_policy.permissions import PermissionsPolicy
from flask_header_policy.reporting import ReportingEndpoints

if t.TYPE_CHECKING:
    from playwright.sync_api import BrowserContext
    from playwright.sync_api import Page
    from playwright.sync_api import Response

pytestmark = pytest.mark.browser


class Serve(t.Protocol):
    """The ``serve`` fixture (conftest.py): runs an app, returns its base URL."""

    def __call__(self, app: Flask, *, tls: bool = False) -> str: ...


#: Records every CSP violation the page sees; must run first, under a nonce.
LISTENER = (
    "window.violations = [];"
    'document.addEventListener("securitypolicyviolation", (e) => {'
    "window.violations.push({directive: e.violatedDirective,"
    " effective: e.effectiveDirective, blocked: e.blockedURI,"
    " disposition: e.disposition, sample: e.sample});"
    "});"
)
NONCED_JS = 'window.ran = (window.ran || []).concat("nonce");'
PLAIN_JS = 'window.ran = (window.ran || []).concat("plain");'
HASHED_JS = 'window.ran = (window.ran || []).concat("hash");'
MARKER = "protected-content-7f3a"
NONCE_SOURCE_RE = re.compile(r"'nonce-([A-Za-z0-9_-]+)'")


def make_app(name: str) -> Flask:
    app = Flask(name)
    app.testing = True  # the policy raises instead of logging and omitting
    return app


def page_html(nonce: str, body: str) -> str:
    return (
        "<!doctype html><html><head>"
        f'<script nonce="{nonce}">{LISTENER}</script>'
        f"<title>t</title></head><body>{body}</body></html>"
    )


def header_nonces(response: Response | None, name: str) -> set[str]:
    assert response is not None
    value = response.headers.get(name.lower())
    assert value is not None, f"{name} missing: {response.headers}"
    return set(NONCE_SOURCE_RE.findall(value))


def wait_until(check: t.Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


# 1. Nonces and hashes in an enforced CSP.


def test_nonce_and_hash_allow_inline_scripts_others_blocked(
    serve: Serve, page: Page
) -> None:
    app = make_app("csp_enforced")
    policy = HeaderPolicy(app)
    csp = ContentSecurityPolicy(
        {
            "default-src": [NONE],
            "script-src": [
                NONCE,
                hash_source(HASHED_JS),
                STRICT_DYNAMIC,
                REPORT_SAMPLE,
            ],
        }
    )

    @app.route("/")
    @policy.headers({"Content-Security-Policy": csp})
    def index() -> str:
        nonce = csp_nonce()
        return page_html(
            nonce,
            f'<script nonce="{nonce}">{NONCED_JS}</script>'
            f"<script>{PLAIN_JS}</script>"
            f'<script nonce="not{nonce}">{PLAIN_JS}</script>'
            f"<script>{HASHED_JS}</script>",
        )

    response = page.goto(serve(app) + "/")
    (nonce,) = header_nonces(response, "Content-Security-Policy")
    page.wait_for_function("() => window.violations.length >= 2")

    assert page.evaluate("window.ran") == ["nonce", "hash"]
    # The nonce the page was rendered with is the one in the header.
    scripts = page.evaluate("[...document.scripts].map((s) => s.nonce)")
    assert scripts[:2] == [nonce, nonce]
    violations = page.evaluate("window.violations")
    assert len(violations) == 2, violations
    for violation in violations:
        assert violation["effective"] in ("script-src", "script-src-elem")
        assert violation["blocked"] == "inline"
        assert violation["disposition"] == "enforce"
        assert violation["sample"] == PLAIN_JS[:40]


def test_second_content_type_cannot_escape_an_html_only_csp(
    serve: Serve, page: Page
) -> None:
    # A response with two Content-Type fields: Chromium renders by the last,
    # so only_for("text/html", ...) must apply when any of them is HTML.
    app = make_app("two_types")
    csp = ContentSecurityPolicy(default_src=NONE, script_src=NONCE)
    HeaderPolicy(app, headers={"Content-Security-Policy": only_for("text/html", csp)})

    @app.route("/")
    def index() -> FlaskResponse:
        nonce = csp_nonce()
        body = page_html(nonce, f"<script>{PLAIN_JS}</script>")
        response = FlaskResponse(body, mimetype="application/json")
        response.headers.add("Content-Type", "text/html; charset=utf-8")
        return response

    response = page.goto(serve(app) + "/")
    assert response is not None
    sent = [
        h["value"]
        for h in response.headers_array()
        if h["name"].lower() == "content-type"
    ]
    assert sent == ["application/json", "text/html; charset=utf-8"]
    assert page.evaluate("document.contentType") == "text/html"  # the last one
    header_nonces(response, "Content-Security-Policy")  # the CSP was sent
    page.wait_for_function("() => window.violations.length >= 1")
    assert page.evaluate("window.ran") is None  # the injected script was blocked


def test_hash_without_nonce_allows_exactly_that_script(
    serve: Serve, page: Page
) -> None:
    app = make_app("csp_hash")
    policy = HeaderPolicy(app)
    csp = ContentSecurityPolicy(
        {"script-src": [hash_source(LISTENER), hash_source(HASHED_JS)]}
    )

    @app.route("/")
    @policy.headers({"Content-Security-Policy": csp})
    def index() -> str:
        return (
            f"<!doctype html><html><head><script>{LISTENER}</script></head><body>"
            f"<script>{HASHED_JS}</script><script>{PLAIN_JS}</script>"
            f"<script>{HASHED_JS} </script></body></html>"
        )

    response = page.goto(serve(app) + "/")
    assert response is not None
    assert "'nonce-" not in response.headers["content-security-policy"]
    page.wait_for_function("() => window.violations.length >= 2")
    assert page.evaluate("window.ran") == ["hash"]
    assert [v["blocked"] for v in page.evaluate("window.violations")] == [
        "inline",
        "inline",
    ]


# 2. Report-only policies and their reports.


class ReportSink:
    """An app route that records the reports browsers POST to it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reports: list[tuple[str, str, t.Any]] = []

    def install(self, app: Flask) -> None:
        @app.post("/csp-report")
        @app.post("/reports")
        def receive() -> tuple[str, int]:
            body = json.loads(request.get_data(as_text=True))
            with self.lock:
                self.reports.append((request.path, request.mimetype, body))
            return "", 204

    def received(self, path: str) -> list[tuple[str, t.Any]]:
        with self.lock:
            return [(m, b) for p, m, b in self.reports if p == path]


def report_only_app(headers: dict[str, t.Any]) -> tuple[Flask, ReportSink]:
    app = make_app("csp_report_only")
    policy = HeaderPolicy(app)
    sink = ReportSink()
    sink.install(app)

    @app.route("/")
    @policy.headers(headers)
    def index() -> str:
        nonce = csp_nonce()
        return page_html(
            nonce,
            f'<script nonce="{nonce}">{NONCED_JS}</script><script>{PLAIN_JS}</script>',
        )

    return app, sink


def test_report_only_runs_the_script_and_posts_report_uri(
    serve: Serve, page: Page
) -> None:
    csp = ContentSecurityPolicy(
        {"script-src": [NONCE, REPORT_SAMPLE], "report-uri": "/csp-report"}
    )
    app, sink = report_only_app({"Content-Security-Policy-Report-Only": csp})

    response = page.goto(serve(app) + "/")
    assert response is not None
    assert "content-security-policy" not in response.headers
    (nonce,) = header_nonces(response, "Content-Security-Policy-Report-Only")
    assert page.evaluate("window.ran") == ["nonce", "plain"]
    page.wait_for_function("() => window.violations.length >= 1")
    (violation,) = page.evaluate("window.violations")
    assert violation["disposition"] == "report"
    assert violation["blocked"] == "inline"

    assert wait_until(lambda: bool(sink.received("/csp-report"))), sink.reports
    ((mimetype, body),) = sink.received("/csp-report")
    assert mimetype == "application/csp-report"
    report = body["csp-report"]
    assert report["document-uri"] == response.url
    assert report["disposition"] == "report"
    assert report["blocked-uri"] == "inline"
    assert report["effective-directive"] in ("script-src", "script-src-elem")
    assert f"'nonce-{nonce}'" in report["original-policy"]
    assert report["script-sample"] == PLAIN_JS[:40]


def test_report_only_posts_report_to_via_reporting_endpoints(
    serve: Serve, page: Page
) -> None:
    csp = ContentSecurityPolicy({"script-src": NONCE, "report-to": "csp"})
    app, sink = report_only_app(
        {
            "Content-Security-Policy-Report-Only": csp,
            "Reporting-Endpoints": ReportingEndpoints({"csp": "/reports"}),
        }
    )

    # Chromium reads Reporting-Endpoints only on https:// responses and
    # posts only to https:// endpoints, loopback included.
    response = page.goto(serve(app, tls=True) + "/")
    assert response is not None
    assert response.headers["reporting-endpoints"] == 'csp="/reports"'
    assert page.evaluate("window.ran") == ["nonce", "plain"]

    # The browser is launched with --short-reporting-delay (100 ms batches).
    assert wait_until(lambda: bool(sink.received("/reports"))), sink.reports
    ((mimetype, body),) = sink.received("/reports")
    assert mimetype == "application/reports+json"
    (report,) = body
    assert report["type"] == "csp-violation"
    assert report["url"] == response.url
    assert report["body"]["disposition"] == "report"
    assert report["body"]["blockedURL"] == "inline"
    assert report["body"]["effectiveDirective"] in ("script-src", "script-src-elem")


def test_report_only_beside_enforced_policy_share_the_nonce(
    serve: Serve, page: Page
) -> None:
    app, sink = report_only_app(
        {
            "Content-Security-Policy": ContentSecurityPolicy({"script-src": NONCE}),
            "Content-Security-Policy-Report-Only": ContentSecurityPolicy(
                {"script-src": NONCE, "report-uri": "/csp-report"}
            ),
        }
    )

    response = page.goto(serve(app) + "/")
    enforced = header_nonces(response, "Content-Security-Policy")
    reported = header_nonces(response, "Content-Security-Policy-Report-Only")
    assert len(enforced) == 1
    assert enforced == reported
    # The nonce'd script passes both policies; the plain one is blocked by
    # the first and reported by the second, and nothing else is.
    assert page.evaluate("window.ran") == ["nonce"]
    page.wait_for_function("() => window.violations.length >= 2")
    time.sleep(0.3)
    violations = page.evaluate("window.violations")
    assert sorted(v["disposition"] for v in violations) == ["enforce", "report"]
    assert wait_until(lambda: bool(sink.received("/csp-report"))), sink.reports
    time.sleep(0.3)
    ((_, body),) = sink.received("/csp-report")
    assert body["csp-report"]["blocked-uri"] == "inline"


# 3. Framing: CSP frame-ancestors and X-Frame-Options.

FRAMING: dict[str, dict[str, HeaderValue]] = {
    "frame-ancestors": {
        "Content-Security-Policy": ContentSecurityPolicy({"frame-ancestors": NONE})
    },
    "x-frame-options": {"X-Frame-Options": XFrameOptions.DENY},
    "both": {
        "Content-Security-Policy": ContentSecurityPolicy({"frame-ancestors": NONE}),
        "X-Frame-Options": XFrameOptions.DENY,
    },
}


def framing_apps() -> tuple[Flask, Flask]:
    protected = make_app("framed")
    policy = HeaderPolicy(protected)
    body = f'<!doctype html><p id="marker">{MARKER}</p>'

    for name, headers in FRAMING.items():

        def view() -> str:
            return body

        protected.add_url_rule(f"/{name}", name, view)
        policy.add_view_headers(name, headers)
    protected.add_url_rule("/open", "open", lambda: body)

    framer = make_app("framer")

    @framer.route("/")
    def frame() -> str:
        src = html.escape(request.args["src"])
        return f'<!doctype html><iframe id="f" src="{src}"></iframe>'

    return protected, framer


def framed_text(page: Page, framer_url: str, target: str) -> str:
    """Load ``target`` in an iframe of a page from another origin."""
    query = urllib.parse.urlencode({"src": target})
    page.goto(f"{framer_url}/?{query}", wait_until="load")
    handle = page.query_selector("#f")
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    if frame.url != target:  # a blocked frame shows chrome-error://chromewebdata/
        return f"<not loaded: {frame.url}>"
    return frame.inner_text("body")


@pytest.mark.parametrize("headers", list(FRAMING))
def test_framing_is_refused_cross_origin(
    serve: Serve, page: Page, headers: str
) -> None:
    protected, framer = framing_apps()
    protected_url, framer_url = serve(protected), serve(framer)
    assert framer_url != protected_url

    control = framed_text(page, framer_url, f"{protected_url}/open")
    assert control.strip() == MARKER

    text = framed_text(page, framer_url, f"{protected_url}/{headers}")
    assert MARKER not in text
    assert text.startswith("<not loaded: chrome-error://")
    # Loaded on its own, the page is fine.
    page.goto(f"{protected_url}/{headers}")
    assert page.inner_text("#marker") == MARKER


# 4. Permissions-Policy.

ALLOWS = (
    "feature => (document.permissionsPolicy || document.featurePolicy)"
    ".allowsFeature(feature)"
)


def test_permissions_policy_denies_camera(serve: Serve, page: Page) -> None:
    app = make_app("permissions")
    policy = HeaderPolicy(app)
    body = "<!doctype html><p>camera</p>"

    @app.route("/denied")
    @policy.headers({"Permissions-Policy": PermissionsPolicy({"camera": []})})
    def denied() -> str:
        return body

    @app.route("/restrictive")
    @policy.headers({"Permissions-Policy": PermissionsPolicy.restrictive()})
    def restrictive() -> str:
        return body

    @app.route("/open")
    def open_() -> str:
        return body

    base = serve(app)
    response = page.goto(base + "/open")
    assert response is not None
    assert "permissions-policy" not in response.headers
    assert page.evaluate(ALLOWS, "camera") is True
    assert page.evaluate(ALLOWS, "microphone") is True

    response = page.goto(base + "/denied")
    assert response is not None
    assert response.headers["permissions-policy"] == "camera=()"
    assert page.evaluate(ALLOWS, "camera") is False
    assert page.evaluate(ALLOWS, "microphone") is True

    page.goto(base + "/restrictive")
    known = set(page.evaluate("document.featurePolicy.features()"))
    declared = set(PermissionsPolicy.restrictive())
    assert {"camera", "microphone", "geolocation"} <= known & declared
    allowed = {f for f in known & declared if page.evaluate(ALLOWS, f)}
    assert allowed == set()


# 5. Cross-Origin-Opener-Policy.


def opened_by_other_origin(
    context: BrowserContext, page: Page, opener_url: str, target: str
) -> tuple[bool, bool]:
    """Open ``target`` from a page of another origin.

    :return: whether the popup sees ``window.opener``, and whether the
        opener's handle on the popup reports it closed.
    """
    page.goto(opener_url)
    with context.expect_page() as info:
        page.evaluate("url => { window.popup = window.open(url); }", target)
    popup = info.value
    popup.wait_for_load_state("load")
    assert popup.url == target
    assert popup.inner_text("#marker") == MARKER
    has_opener = bool(popup.evaluate("window.opener !== null"))
    severed = bool(page.evaluate("window.popup.closed"))
    popup.close()
    return has_opener, severed


def test_coop_same_origin_severs_the_opener(
    serve: Serve, context: BrowserContext, page: Page
) -> None:
    target = make_app("coop_target")
    policy = HeaderPolicy(target)
    body = f'<!doctype html><p id="marker">{MARKER}</p>'

    @target.route("/coop")
    @policy.headers({"Cross-Origin-Opener-Policy": CrossOriginOpenerPolicy.SAME_ORIGIN})
    def coop() -> str:
        return body

    @target.route("/open")
    def open_() -> str:
        return body

    opener = make_app("coop_opener")
    opener.add_url_rule("/", "index", lambda: "<!doctype html><p>opener</p>")

    target_url, opener_url = serve(target), serve(opener)
    assert opened_by_other_origin(context, page, opener_url, f"{target_url}/open") == (
        True,
        False,
    )
    assert opened_by_other_origin(context, page, opener_url, f"{target_url}/coop") == (
        False,
        True,
    )


# 6. The strict preset, end to end.

STRICT_TEMPLATE = """<!doctype html>
<html><head>
<script nonce="{{ csp_nonce() }}">LISTENER</script>
<title>strict</title>
<link rel="stylesheet" href="{{ url_for('static', filename='site.css') }}">
</head><body>
<p id="styled">styled</p>
<p id="out"></p>
<form method="post" action="{{ url_for('submit') }}">
<input name="word" value="hello"><button id="send">send</button>
</form>
<script nonce="{{ csp_nonce() }}">
document.getElementById("out").textContent = "ran";
const s = document.createElement("script");
s.src = "{{ url_for('static', filename='dynamic.js') }}";
document.head.appendChild(s);
</script>
</body></html>
""".replace("LISTENER", LISTENER)


def test_strict_preset_end_to_end(serve: Serve, page: Page, tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text(STRICT_TEMPLATE)
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "site.css").write_text("#styled { color: rgb(1, 2, 3); }\n")
    (tmp_path / "static" / "dynamic.js").write_text(
        'document.body.dataset.dynamic = "loaded";\n'
    )
    app = Flask("strict_app", root_path=str(tmp_path))
    app.testing = True
    HeaderPolicy(app, preset="strict")
    submitted: list[str] = []

    @app.route("/")
    def index() -> str:
        return render_template("page.html")

    @app.post("/submit")
    def submit() -> str:
        word = request.form.get("word")
        if word is None:
            abort(400)
        submitted.append(word)
        return '<!doctype html><p id="done">submitted</p>'

    base = serve(app)
    response = page.goto(base + "/")
    assert response is not None and response.ok
    headers = response.headers
    assert "strict-transport-security" not in headers  # plain http
    (nonce,) = header_nonces(response, "Content-Security-Policy")
    assert headers["x-frame-options"] == "DENY"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert "camera=()" in headers["permissions-policy"]

    page.wait_for_function("() => document.body.dataset.dynamic === 'loaded'")
    assert page.inner_text("#out") == "ran"
    assert page.evaluate("document.scripts[0].nonce") == nonce
    color = page.evaluate("getComputedStyle(document.getElementById('styled')).color")
    assert color == "rgb(1, 2, 3)"
    time.sleep(0.2)
    assert page.evaluate("window.violations") == []

    with page.expect_navigation():
        page.click("#send")  # form-action 'self'
    assert page.inner_text("#done") == "submitted"
    assert submitted == ["hello"]

    # The same app over https:// does send HSTS.
    response = page.goto(serve(app, tls=True) + "/")
    assert response is not None
    assert response.headers["strict-transport-security"] == (
        "max-age=63072000; includeSubDomains"
    )
