"""Stamped templates in a real Chromium: real-app pages work under ``strict``.

The app (``tests/apps/realistic.py``) mimics what breaks real apps under a
strict CSP. With stamping it must show no violation and pass every behaviour
check; with stamping off, the violations Chromium reports are pinned per
directive (``test_realistic_breaks.py`` compares the audit's predictions and
``flask headers audit``'s breaks with Chromium on every page of the app).
"""

from __future__ import annotations

import typing as t
import urllib.parse

import pytest
from flask import Flask
from flask import render_template_string
from flask import request
from tests.apps.realistic import BEHAVIOUR
from tests.apps.realistic import create_app
from tests.apps.realistic import create_cdn
from violations import exercise_inline_code
from violations import violations
from violations import violations_by_directive
from violations import watch_violations

from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import hash_source
from flask_header_policy import HeaderPolicy
from flask_header_policy import NONCE
from flask_header_policy import SELF
from flask_header_policy import STRICT_DYNAMIC
from flask_header_policy import UNSAFE_HASHES
from flask_header_policy.presets import PRESETS
from flask_header_policy.presets import STRICT_CSP

if t.TYPE_CHECKING:
    from playwright.sync_api import BrowserContext
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


class Serve(t.Protocol):
    def __call__(self, app: Flask, *, tls: bool = False) -> str: ...


def serve_realistic(serve: Serve, **options: t.Any) -> tuple[str, str]:
    cdn_url = serve(create_cdn())
    app = create_app(cdn_url, TESTING=True, **options)
    return serve(app), cdn_url


# Keeps the page in place when a check clicks: forms are not submitted and
# links are not followed (but javascript: ones are, so the CSP checks them).
# Listeners on window in the capture phase run before the elements' own
# inline handlers, which still run (or are blocked) as usual.
STAY = """() => {
  window.addEventListener("submit", (event) => event.preventDefault(), true);
  window.addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (link && !/^\\s*javascript:/i.test(link.getAttribute("href"))) {
      event.preventDefault();
    }
  }, true);
}"""


def check_behaviour(page: Page, base: str, path: str) -> dict[str, bool]:
    """Run the behaviour checks of one page, each on a fresh load of it;
    name -> whether it works."""
    dialogs: list[str] = []

    def on_dialog(dialog: t.Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    results = {}
    for name, (where, script, dialog) in BEHAVIOUR.items():
        if where != path:
            continue
        page.goto(base + path)
        page.evaluate(STAY)
        works = bool(page.evaluate(script))
        if dialog is not None:
            works = works and dialog in dialogs
        results[name] = works
    page.remove_listener("dialog", on_dialog)
    return results


def test_realistic_app_works_under_strict_with_stamping(
    serve: Serve, context: BrowserContext, page: Page
) -> None:
    watch_violations(context)
    base, _ = serve_realistic(serve)
    results: dict[str, bool] = {}
    for path in ("/", "/admin/"):
        results.update(check_behaviour(page, base, path))
        exercise_inline_code(page)
        assert violations(page) == [], path
    assert results == dict.fromkeys(BEHAVIOUR, True)


def test_realistic_app_without_stamping_is_broken_as_pinned(
    serve: Serve, context: BrowserContext, page: Page
) -> None:
    """What Chromium blocks without stamping: the baseline the audit's
    predictions are compared with. The helper's Markup piped through
    ``| trust_scripts`` is stamped either way, so moment.js runs."""
    watch_violations(context)
    base, cdn = serve_realistic(serve, stamp_nonces=False)
    page.goto(base + "/")
    assert exercise_inline_code(page) == 1
    assert violations_by_directive(page, at_least=12) == {
        "script-src-elem": sorted([f"{cdn}/jq.js", f"{cdn}/bs.js", "inline", "inline"]),
        "script-src-attr": ["inline"] * 3,
        "style-src-elem": sorted([f"{cdn}/bs.css", "inline"]),
        "style-src-attr": ["inline"] * 3,
    }
    assert page.evaluate("typeof window.moment") == "function"
    page.goto(base + "/admin/")
    exercise_inline_code(page)
    assert violations_by_directive(page, at_least=4) == {
        "script-src-elem": sorted([f"{base}/admin/static/admin.js", "inline"]),
        "script-src-attr": ["inline"],
        "style-src-attr": ["inline"],
    }
    results: dict[str, bool] = {}
    for path in ("/", "/admin/"):
        results.update(check_behaviour(page, base, path))
    broken = sorted(name for name, works in results.items() if not works)
    assert broken == sorted(
        [
            "admin action asks for confirmation",
            "admin inline script",
            "admin script",
            "admin style attribute",
            "bootstrap from the CDN",
            "client-side template",
            "data: icon from the CSS",  # the CSS that draws it is blocked
            "delete asks for confirmation",
            "dropdown opens",
            "inline script",
            "javascript: link with handler",
            "jquery from the CDN",
            "style attribute",
            "style block",
            "stylesheet from the CDN",
        ]
    )


# The security property: only template source is stamped.

XSS_TEMPLATE = """<!doctype html><html><head><title>search</title></head><body>
<p>Results for {{ q|safe }}</p>
<p title="{{ q|safe }}">hover</p>
<p>Escaped: {{ q }}</p>
<script>window.pageRan = true;</script>
</body></html>"""

PAYLOADS = [
    "<script>window.pwned = 'body'</script>",
    '"><script>window.pwned = "attribute"</script><p x="',
    "<SCRIPT src=\"data:text/javascript,window.pwned='src'\"></SCRIPT>",
    "<img src=x onerror=\"window.pwned='handler'\">",
    '<p style="color: rgb(9, 9, 9)" id=injected>styled</p>',
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_reflected_markup_gets_no_nonce_and_does_not_run(
    serve: Serve, context: BrowserContext, page: Page, payload: str
) -> None:
    watch_violations(context)
    app = Flask("xss")
    app.testing = True
    HeaderPolicy(app, preset="strict")

    @app.get("/search")
    def search() -> str:
        return render_template_string(XSS_TEMPLATE, q=request.args["q"])

    base = serve(app)
    page.goto(f"{base}/search?" + urllib.parse.urlencode({"q": payload}))
    assert page.evaluate("window.pageRan") is True  # the template's own script
    assert page.evaluate("window.pwned") is None
    nonces = page.evaluate("[...document.scripts].map((s) => s.nonce)")
    assert nonces[-1] != "" and nonces.count("") == len(nonces) - 1
    # Each payload is blocked, not merely inert: the browser reports it.
    assert violations(page, at_least=1)
    if "style=" in payload:
        color = page.evaluate(
            "getComputedStyle(document.getElementById('injected')).color"
        )
        assert color != "rgb(9, 9, 9)"


# javascript: URLs and 'unsafe-hashes': what Chromium does, pinned.


@pytest.mark.parametrize(
    "href",
    [
        "javascript:window.went = 1",
        "JavaScript:window.went = 1",
        " javascript:window.went%20= 1 ",
        "javascript:window.went&#x20;= 1",
        "java\tscript:window.went = 1",
    ],
)
def test_javascript_url_allowed_by_the_hash_stamping_computes(
    serve: Serve, context: BrowserContext, page: Page, href: str
) -> None:
    watch_violations(context)
    app = Flask("jsurl")
    app.testing = True
    HeaderPolicy(app, preset="strict")

    @app.get("/")
    def index() -> str:
        return render_template_string(f'<!doctype html><a id=a href="{href}">go</a>')

    @app.get("/unstamped")
    def unstamped() -> tuple[str, dict[str, str]]:
        # The same link, without the hash in the policy: blocked.
        return f'<!doctype html><a id=a href="{href}">go</a>', {}

    base = serve(app)
    page.goto(base + "/")
    page.click("#a")
    page.wait_for_function("() => window.went === 1")
    assert violations(page) == []
    page.goto(base + "/unstamped")
    page.click("#a")
    blocked = violations(page, at_least=1)
    assert [v["directive"] for v in blocked] == ["script-src-elem"]
    assert page.evaluate("window.went") is None


# Splicing: a created -attr directive blocks nothing the policy allowed.


def test_created_attr_directives_keep_what_the_fallback_allowed(
    serve: Serve, context: BrowserContext, page: Page
) -> None:
    """``script-src`` allows handler A by its hash; the template holds
    handler B: the spliced ``script-src-attr`` must allow both."""
    watch_violations(context)
    handler_a = "window.ran = (window.ran || []).concat('a')"
    handler_b = "window.ran = (window.ran || []).concat('b')"
    app = Flask("fallbacks")
    app.testing = True
    policy = ContentSecurityPolicy(
        {
            "default-src": [SELF],
            "script-src": [
                NONCE,
                STRICT_DYNAMIC,
                UNSAFE_HASHES,
                hash_source(handler_a),
            ],
            "style-src": [SELF, NONCE],
        }
    )
    HeaderPolicy(app, headers={"Content-Security-Policy": policy}, stamp_nonces=True)

    @app.get("/")
    def index() -> str:
        return render_template_string(
            '<!doctype html><button id=b onclick="{{ b }}">b</button>'
            '<p id=s style="color: rgb(4, 5, 6)">s</p>'
            "<script>window.inline = 1</script>",
            b=handler_a,  # dynamic: not hashed; allowed by script-src's hash
        ) + render_template_string(f'<button id=c onclick="{handler_b}">c</button>')

    base = serve(app)
    response = page.goto(base + "/")
    assert response is not None
    header = response.headers["content-security-policy"]
    assert "script-src-attr 'unsafe-hashes' " in header
    page.click("#b")
    page.click("#c")
    assert page.evaluate("window.ran") == ["a", "b"]
    assert page.evaluate("window.inline") == 1
    color = page.evaluate("getComputedStyle(document.getElementById('s')).color")
    assert color == "rgb(4, 5, 6)"
    assert violations(page) == []


# The strict preset and Bootstrap's data: icons.


def test_strict_img_src_allows_css_data_icons(
    serve: Serve, context: BrowserContext, page: Page
) -> None:
    """Bootstrap draws icons as data: SVG from CSS: img-src needs data:."""
    watch_violations(context)
    base, cdn = serve_realistic(serve)
    app = Flask("old_strict")
    app.testing = True
    # The strict preset as it was, with the CDN's stylesheet allowed.
    csp = STRICT_CSP.with_directive("img-src", SELF).with_sources("style-src", cdn)
    old = PRESETS["strict"].replace({"Content-Security-Policy": csp})
    HeaderPolicy(app, preset=old)

    @app.get("/")
    def index() -> str:
        return (
            f'<!doctype html><link rel=stylesheet href="{cdn}/bs.css">'
            '<span class="navbar-toggler-icon"></span>'
        )

    page.goto(serve(app) + "/")
    assert violations_by_directive(page, at_least=1) == {"img-src": ["data"]}
    page.goto(base + "/")
    assert violations(page) == []


# The demo's page written without nonces.


def test_demo_legacy_page_works_under_strict_only(
    serve: Serve, context: BrowserContext, page: Page
) -> None:
    from examples import security

    watch_violations(context)
    dialogs: list[str] = []

    def on_dialog(dialog: t.Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(serve(security.strict_app) + "/legacy")
    page.click("#confirm")
    assert dialogs == ["An inline onclick handler ran. Keep going?"]
    for status in ("#cdn-status", "#inline-status"):
        assert page.get_attribute(status, "class") == "ok"
    weight = page.evaluate(
        "getComputedStyle(document.getElementById('styled')).fontWeight"
    )
    assert weight == "700"
    assert violations(page) == []

    page.goto(serve(security.basic_app) + "/legacy")
    page.click("#confirm")
    assert len(dialogs) == 1
    assert page.get_attribute("#inline-status", "class") is None
    assert violations_by_directive(page, at_least=2) == {
        "script-src-attr": ["inline"],
        "script-src-elem": ["inline"],
    }
