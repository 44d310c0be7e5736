"""The audit predicts what Chromium's CSP blocks, directive by directive.

Pages with every kind of resource a CSP governs (inline and external scripts
and styles, event handlers, style attributes, images, frames, forms, plugins,
media, ``<base>``, a ``javascript:`` link) are served under the presets and
hand-written policies; a second 127.0.0.1 port plays the CDN. For each, the
violations the audit predicts (:mod:`csp_compare`) must equal the
``securitypolicyviolation`` events Chromium fires, per disposition and
effective directive. Each case also asserts that something is blocked (or,
where it says so, that nothing is), so a page that loads nothing cannot pass.
"""

from __future__ import annotations

import base64
import hashlib
import typing as t

import pytest
from csp_compare import compare
from csp_compare import install
from flask import Flask
from flask import Response

from flask_header_policy import csp_nonce
from flask_header_policy import HeaderPolicy
from flask_header_policy.csp import ContentSecurityPolicy
from flask_header_policy.csp import hash_source
from flask_header_policy.csp import NONCE
from flask_header_policy.csp import NONE
from flask_header_policy.csp import parse_policy_list
from flask_header_policy.csp import SELF
from flask_header_policy.csp import STRICT_DYNAMIC
from flask_header_policy.csp import UNSAFE_INLINE

if t.TYPE_CHECKING:
    from playwright.sync_api import BrowserContext
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
DATA_PNG = "data:image/png;base64," + base64.b64encode(PNG).decode()
INLINE_JS = "window.inline = 1;"
HASHED_JS = "window.hashed = 1;"
CDN_JS = "window.cdn = (window.cdn || 0) + 1;"
HANDLER = "this.dataset.clicked = 1"
STYLE_ATTR = "color: teal"
JS_URL = "javascript:void(0)"


class Serve(t.Protocol):
    def __call__(self, app: Flask, *, tls: bool = False) -> str: ...


def sri(text: str) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(text.encode()).digest()).decode()


def cdn_app() -> Flask:
    """The "CDN": scripts, styles, images, a page, media, on its own port."""
    app = Flask("cdn")

    @app.get("/<path:name>")
    def asset(name: str) -> Response:
        kind = name.rpartition(".")[2]
        if name == "loads.css":  # a stylesheet that loads an image
            return Response("body { background: url(/bg.png) }", mimetype="text/css")
        body: bytes | str = {
            "js": CDN_JS, "css": "p { margin: 0 }", "html": "<p>framed</p>",
            "png": PNG, "vtt": "WEBVTT\n",
        }.get(kind, b"\0")  # fmt: skip
        mimetype = {
            "js": "text/javascript", "css": "text/css", "html": "text/html",
            "png": "image/png", "vtt": "text/vtt", "woff2": "font/woff2",
        }.get(kind, "application/octet-stream")  # fmt: skip
        response = Response(body, mimetype=mimetype)
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    return app


def kitchen(cdn: str, nonce: str | None) -> str:
    """A page with one of each thing a CSP governs (``nonce``: stamped)."""
    n = f' nonce="{nonce}"' if nonce else ""
    return f"""<!doctype html>
<html><head><title>kitchen</title>
<script{n}>{INLINE_JS}</script>
<script>{HASHED_JS}</script>
<script{n} src="/static/app.js"></script>
<script{n} src="{cdn}/jquery.js"></script>
<script{n} type="module" src="{cdn}/module.js"></script>
<script src="{cdn}/pinned.js" integrity="{sri(CDN_JS)}" crossorigin></script>
<script type="application/ld+json">{{"@type": "Thing"}}</script>
<script type="text/template"><p onclick="never()">template</p></script>
<script></script>
<style{n}>p {{ padding: 0 }}</style>
<link{n} rel="stylesheet" href="/static/site.css">
<link{n} rel="stylesheet" href="{cdn}/bootstrap.css">
<link rel="preload" as="font" href="{cdn}/icons.woff2" crossorigin>
</head>
<body>
<button onclick="{HANDLER}">delete</button>
<p style="{STYLE_ATTR}" onmouseover="void 0">styled</p>
<a href="{JS_URL}">menu</a>
<img src="/static/logo.png" alt="">
<img src="{cdn}/avatar.png" alt="">
<img src="{DATA_PNG}" alt="">
<img src="/static/logo.png" srcset="{cdn}/big.png 2x, {cdn}/small.png 1x" alt="">
<picture><source srcset="{cdn}/photo.png"><img src="/static/logo.png" alt=""></picture>
<input type="image" src="{cdn}/go.png" alt="go">
<iframe src="{cdn}/widget.html"></iframe>
<iframe src="data:text/html,hi"></iframe>
<object data="{cdn}/embed.html"></object>
<video src="{cdn}/clip.mp4" poster="{cdn}/poster.png"></video>
<audio><source src="{cdn}/a.mp3"><source src="{cdn}/a.ogg"></audio>
<form action="/search"><input name="q"></form>
<form action="{cdn}/collect" method="post">
<button formaction="{cdn}/other">x</button></form>
<template><img src="{cdn}/inert.png" alt="" onclick="x()"></template>
<noscript><img src="{cdn}/noscript.png" alt=""></noscript>
</body></html>"""


Body = t.Callable[[str, str | None], str]


def site_app(
    cdn: str,
    headers: dict[str, t.Any],
    *,
    preset: str | None = None,
    stamped: bool = False,
    body: Body = kitchen,
) -> Flask:
    """The site: ``body(cdn, nonce)`` at ``/``, files at ``/static/``."""
    app = Flask("site", static_folder=None)
    HeaderPolicy(app, preset=preset, headers=headers)

    @app.get("/")
    def index() -> str:
        return body(cdn, csp_nonce() if stamped else None)

    @app.get("/static/<name>")
    def static_file(name: str) -> Response:
        kind = name.rpartition(".")[2]
        content: bytes | str = {"js": "window.local = 1;", "css": "a { }"}.get(
            kind, PNG
        )
        mimetype = {"js": "text/javascript", "css": "text/css"}.get(kind, "image/png")
        return Response(content, mimetype=mimetype)

    @app.route("/search", methods=["GET", "POST"])
    def search() -> str:
        return "<p>results</p>"

    return app


@pytest.fixture
def browser_page(context: BrowserContext) -> Page:
    install(context)
    return context.new_page()


def quiet_page(cdn: str, nonce: str | None) -> str:
    """The kitchen page without what Chromium checks more than once when a
    report-only policy lets it load: frames and plugins (checked on the
    request and on the response), media (one check per range request) and
    javascript: URLs (checked on click and when run)."""
    page = kitchen(cdn, nonce)
    for line in page.splitlines():
        if line.startswith(("<iframe", "<object", "<video", "<audio", "<a href")):
            page = page.replace(line + "\n", "")
    return page


def edge_page(cdn: str, nonce: str | None) -> str:
    """What is checked, and what is not, where it is easy to get wrong."""
    return f"""<!doctype html><html><head>
<script type="importmap">{{"imports": {{}}}}</script>
<script type="speculationrules">{{"prefetch": []}}</script>
<script nomodule>window.old = 1;</script>
<script></script>
<script> </script>
<script nonce="{nonce}" data-x="<script">window.hijacked = 1;</script>
<script nonce="{nonce}" data-x="<LINK rel=x>">window.hijacked = 2;</script>
<script nonce="{nonce}">window.ok = 1;</script>
<style></style>
<link rel="stylesheet" href="/static/off.css" disabled>
<link rel="preload" as="script" href="{cdn}/preloaded.js">
<link rel="modulepreload" href="{cdn}/module.js">
<link rel="preload" as="style" href="{cdn}/preloaded.css" nonce="{nonce}">
</head><body><p style="">empty</p><p onfoo="not a handler">x</p></body></html>"""


def meta_page(cdn: str, nonce: str | None) -> str:
    """A ``<meta>`` policy governs only what follows it, and only in the head."""
    return f"""<!doctype html><html><head>
<link rel="stylesheet" href="{cdn}/before.css">
<meta http-equiv="Content-Security-Policy" content="style-src 'self'; img-src 'self'">
<link rel="stylesheet" href="{cdn}/after.css">
<link rel="icon" href="{cdn}/favicon.png">
</head><body><img src="{cdn}/avatar.png" alt="">
<meta http-equiv="Content-Security-Policy" content="img-src 'none'">
<img src="/static/logo.png" alt=""></body></html>"""


def base_page(cdn: str, nonce: str | None) -> str:
    """Relative URLs follow <base href> only when base-uri allows it."""
    return f"""<!doctype html><html><head><base href="{cdn}/assets/">
<script src="lib.js"></script></head>
<body><img src="pic.png" alt=""><img src="/static/logo.png" alt=""></body></html>"""


CDN = "{cdn}"  # replaced by the CDN's origin in hand-written policies
ALLOWLIST = (
    f"default-src 'self'; script-src 'self' {CDN} 'unsafe-inline';"
    f" style-src 'self' {CDN}; img-src 'self' data: {CDN}; media-src {CDN};"
    " frame-src 'self'; object-src 'none'; form-action 'self'; base-uri 'none'"
)
HASHES = (
    f"default-src 'self' {CDN}; script-src {hash_source(HASHED_JS)}"
    f" '{sri(CDN_JS)}' 'unsafe-hashes' {hash_source(HANDLER)}"
    f" {hash_source(JS_URL)} 'unsafe-inline'; style-src 'self' {CDN}"
    f" 'unsafe-hashes' {hash_source(STYLE_ATTR)}; form-action *"
)
SPLIT = (
    "default-src 'none'; script-src-elem 'self'; script-src-attr 'unsafe-inline';"
    f" style-src-elem 'self' 'unsafe-inline'; style-src-attr 'none'; child-src {CDN}"
)


#: Host sources, 'self', https: and 'unsafe-inline' next to a nonce and
#: 'strict-dynamic': CSP3 browsers ignore all four for scripts.
def nonce_and_hosts(cdn: str) -> ContentSecurityPolicy:
    return ContentSecurityPolicy(
        {
            "default-src": ["*", "data:"],
            "script-src": [NONCE, STRICT_DYNAMIC, cdn, SELF, "https:", UNSAFE_INLINE],
            "style-src": [NONCE, UNSAFE_INLINE],
            "form-action": [NONE],
        }
    )


#: case: (options for site_app, Content-Security-Policy, report-only policy,
#: expected enforced counts, expected report-only counts). Each count is
#: derived in the comment from the page and the policy, by hand.
Case = tuple[dict[str, t.Any], t.Any, str | None, dict[str, int], dict[str, int]]
CASES: dict[str, Case] = {
    # 2 inline + 4 src= (no nonce; 'strict-dynamic') + javascript:; 3
    # handlers (one in <template>); <style> and the CDN stylesheet; every
    # image but same-origin ones; frames, media, plugin, font fall back to
    # default-src 'none'; two CDN form targets. (The data: image loads:
    # strict allows data: images, for Bootstrap's CSS icons.)
    "strict": (
        {"preset": "strict"}, None, None,
        {"script-src-elem": 7, "script-src-attr": 3, "style-src-elem": 2,
         "style-src-attr": 1, "img-src": 5, "font-src": 1, "frame-src": 2,
         "object-src": 1, "media-src": 3, "form-action": 2},
        {},
    ),
    # Stamped: the un-nonced hashed script, the integrity-pinned script and
    # the javascript: link remain; nonced CDN stylesheet loads.
    "strict-stamped": (
        {"preset": "strict", "stamped": True}, None, None,
        {"script-src-elem": 3, "script-src-attr": 3, "style-src-attr": 1,
         "img-src": 5, "font-src": 1, "frame-src": 2, "object-src": 1,
         "media-src": 3, "form-action": 2},
        {},
    ),
    # script-src 'self': 2 inline + 3 CDN + javascript:; style-src has
    # https: and 'unsafe-inline' but the CDN is http: (loopback is never
    # upgraded by upgrade-insecure-requests); data: images allowed.
    "basic": (
        {"preset": "basic"}, None, None,
        {"script-src-elem": 6, "script-src-attr": 3, "style-src-elem": 1,
         "img-src": 5, "font-src": 1, "frame-src": 2, "object-src": 1,
         "media-src": 3, "form-action": 2},
        {},
    ),
    # Hosts with ports match; 'unsafe-inline' allows scripts and handlers.
    "allowlist": (
        {}, ALLOWLIST, None,
        {"style-src-elem": 1, "style-src-attr": 1, "font-src": 1,
         "frame-src": 2, "object-src": 1, "form-action": 2},
        {},
    ),
    # 'unsafe-inline' is ignored next to hashes: the plain inline script,
    # app.js and two CDN scripts fail; the hashed one, the pinned one
    # (integrity) and the javascript: URL (hash of the whole URL, with
    # 'unsafe-hashes') run; onclick's hash matches, two handlers don't.
    "hashes": (
        {}, HASHES, None,
        {"script-src-elem": 4, "script-src-attr": 2, "style-src-elem": 1,
         "img-src": 1, "frame-src": 1},
        {},
    ),
    # -elem/-attr directives; frames use child-src; form-action has no
    # fallback; every image falls to default-src 'none'.
    "split": (
        {}, SPLIT, None,
        {"script-src-elem": 6, "style-src-elem": 1, "style-src-attr": 1,
         "img-src": 7, "font-src": 1, "frame-src": 1, "object-src": 1,
         "media-src": 3},
        {},
    ),
    # Hosts, 'self', https: and 'unsafe-inline' are ignored next to a nonce
    # and 'strict-dynamic': un-nonced scripts, handlers and the javascript:
    # link fail; the style attribute fails ('unsafe-inline' next to a nonce).
    "nonce-and-hosts": (
        {"stamped": True}, nonce_and_hosts, None,
        {"script-src-elem": 3, "script-src-attr": 3, "style-src-attr": 1,
         "form-action": 3},
        {},
    ),
    # Two enforced policies in one field, and a report-only one: each
    # policy reports on its own (data: images fail both enforced ones).
    # (The poster image went with the <video>.)
    "two-policies-and-report-only": (
        {"body": quiet_page},
        f"img-src 'self', img-src 'self' {CDN}; script-src 'self' 'unsafe-inline'",
        "default-src 'self'",
        {"img-src": 6, "script-src-elem": 3},
        {"script-src-elem": 5, "script-src-attr": 3, "style-src-elem": 2,
         "style-src-attr": 1, "img-src": 5, "font-src": 1},
    ),
    # Import maps, speculation rules, a whitespace-only script, a nonce on a
    # <script> with "<script" or (Chromium) "<link" in an attribute, a
    # preload without nonce: 6.
    # Not checked: nomodule, empty scripts, unknown on* attributes, disabled
    # stylesheets, modulepreload under 'strict-dynamic'. Checked although
    # empty: <style></style> and style="".
    "edge": (
        {"body": edge_page, "stamped": True},
        "script-src {nonce} 'strict-dynamic'; style-src {nonce}; default-src 'self'",
        None, {"script-src-elem": 6, "style-src-elem": 1, "style-src-attr": 1}, {},
    ),
    # The head's <meta> governs after.css, the icon and the CDN image, not
    # before.css; the body's <meta> is ignored.
    "meta": ({"body": meta_page}, "script-src 'none'", None,
             {"style-src-elem": 1, "img-src": 2}, {}),
    # base-uri 'self' blocks the CDN <base>: relative URLs stay on the site.
    "base-blocked": ({"body": base_page}, "base-uri 'self'; default-src 'self'",
                     None, {"base-uri": 1}, {}),
    # An allowed <base> sends relative URLs (and /static/logo.png) to the
    # CDN, which default-src 'self' blocks.
    "base-allowed": ({"body": base_page}, f"base-uri {CDN}; default-src 'self'",
                     None, {"script-src-elem": 1, "img-src": 2}, {}),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_prediction_equals_chromium(
    serve: Serve, browser_page: Page, case: str
) -> None:
    options, csp, report_only, enforced, reported = CASES[case]
    cdn = serve(cdn_app())
    headers: dict[str, t.Any] = {}
    if isinstance(csp, str) and "{nonce}" in csp:
        sources = dict(parse_policy_list(csp.replace("{nonce}", NONCE))[0])
        headers["Content-Security-Policy"] = ContentSecurityPolicy(sources)
    elif isinstance(csp, str):
        headers["Content-Security-Policy"] = csp.replace(CDN, cdn)
    elif csp is not None:
        headers["Content-Security-Policy"] = csp(cdn)
    if report_only is not None:
        headers["Content-Security-Policy-Report-Only"] = report_only
    site = serve(site_app(cdn, headers, **options))
    outcome = compare(browser_page, site + "/")
    assert outcome.equal, outcome.explain()
    by_disposition = {"enforce": {}, "report": {}}
    for disposition, directive, _, observed in outcome.rows():
        by_disposition[disposition][directive] = observed
    assert by_disposition == {"enforce": enforced, "report": reported}, (
        outcome.explain()
    )
    assert (outcome.result.verdict == "breaks") == bool(enforced)


def test_what_stylesheets_load_is_not_predicted(
    serve: Serve, browser_page: Page
) -> None:
    # The audit reads the HTML: the image a stylesheet loads is not in it.
    cdn = serve(cdn_app())

    def page(cdn: str, nonce: str | None) -> str:
        return f'<link rel="stylesheet" href="{cdn}/loads.css"><img src="{cdn}/a.png">'

    headers = {"Content-Security-Policy": f"style-src {cdn}; img-src 'self'"}
    site = serve(site_app(cdn, headers, body=page))
    outcome = compare(browser_page, site + "/")
    assert outcome.rows() == [("enforce", "img-src", 1, 2)]
    assert not outcome.equal
    ignored = compare(browser_page, site + "/", ignore=("img-src",))
    assert ignored.rows() == [] and ignored.equal


# Why compare() waits after each form submission, and that it counts all.


def forms_page(cdn: str, nonce: str | None) -> str:
    """Forms posting to the CDN (form-action 'self' blocks them), one to the
    site (allowed), submit buttons with their own targets, javascript:
    links between them."""
    forms = []
    for number in range(3):
        forms.append(
            f'<form action="{cdn}/f{number}" method="post">'
            f'<button formaction="{cdn}/b{number}">b</button></form>'
            f'<form action="/search"></form><a href="{JS_URL}">js</a>'
        )
    return "<!doctype html><title>forms</title>" + "".join(forms)


def test_a_planned_submission_is_cancelled_by_the_next(
    serve: Serve, browser_page: Page
) -> None:
    """``submit()`` only plans the navigation; Chromium checks form-action
    when it starts. A second submission before that cancels the first,
    which is then never checked nor reported: running the next action as
    soon as the last returned loses violations."""
    cdn = serve(cdn_app())
    headers = {"Content-Security-Policy": "form-action 'self'"}
    base = serve(site_app(cdn, headers, body=forms_page))
    browser_page.goto(base + "/")
    browser_page.evaluate("document.forms[0].submit(); document.forms[2].submit()")
    browser_page.wait_for_function("() => window.__cspViolations.length >= 1")
    blocked = browser_page.evaluate("window.__cspViolations.map((v) => v.blocked)")
    # Only the second: the first was replaced before it was checked (had it
    # been checked, its event would have come first).
    assert blocked == [f"{cdn}/f1"]


def test_every_submission_is_checked_and_counted(
    serve: Serve, browser_page: Page
) -> None:
    cdn = serve(cdn_app())
    headers = {"Content-Security-Policy": "form-action 'self'"}
    base = serve(site_app(cdn, headers, body=forms_page))
    outcome = compare(browser_page, base + "/")
    assert outcome.rows() == [("enforce", "form-action", 6, 6)], outcome.explain()
