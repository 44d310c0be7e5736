"""The CSP evaluator and the page scanner behind the audit's "breaks" verdict.

Vectors follow W3C CSP3 (matching algorithms, section 6.7) and, where noted,
what Chromium does; ``tests/browser/test_csp_prediction.py`` checks the
whole prediction against Chromium.
"""

from __future__ import annotations

import pytest

from flask_header_policy.audit._csp_eval import _parse_url
from flask_header_policy.audit._csp_eval import _url_matches
from flask_header_policy.audit._csp_eval import evaluate
from flask_header_policy.audit._csp_eval import policies_for
from flask_header_policy.audit._html import scan_html
from flask_header_policy.audit._resources import MAX_RESOURCES
from flask_header_policy.audit._resources import parse_srcset
from flask_header_policy.csp import hash_source

PAGE = "https://example.org/app/page"


def violations(
    body: str,
    csp: str | list[str] = (),  # type: ignore[assignment]
    *,
    report_only: tuple[str, ...] = (),
    url: str = PAGE,
) -> list[tuple[str, str]]:
    """``(directive, element)`` of each violation of ``body`` under ``csp``."""
    enforced = [csp] if isinstance(csp, str) else list(csp)
    page = scan_html(body).page
    found = evaluate(page, policies_for(enforced, report_only, page.meta), url)
    return [(v.directive, v.resource.describe()) for v in found]


def directives(body: str, csp: str | list[str], **options: object) -> list[str]:
    return [d for d, _ in violations(body, csp, **options)]  # type: ignore[arg-type]


# -- Source expressions (CSP3 6.7.2) ----------------------------------------


@pytest.mark.parametrize(
    ("url", "sources", "matches"),
    [
        # '*' matches HTTP(S) and the page's own scheme, never data:/blob:.
        ("https://a.example/x.js", "*", True),
        ("http://a.example/x.js", "*", True),
        ("data:text/plain,x", "*", False),
        ("blob:https://example.org/1", "*", False),
        ("ftp://a.example/", "*", False),
        # Scheme sources, with the secure upgrade.
        ("https://a.example/", "https:", True),
        ("http://a.example/", "https:", False),
        ("https://a.example/", "http:", True),
        ("wss://a.example/", "ws:", True),
        ("data:image/png;base64,x", "data:", True),
        ("data:image/png;base64,x", "DATA:", True),
        # Hosts: wildcards, case, trailing dot; a bare host takes the page's
        # scheme (https) and its upgrade only.
        ("https://cdn.example.com/a", "cdn.example.com", True),
        ("http://cdn.example.com/a", "cdn.example.com", False),
        ("https://CDN.Example.com/a", "cdn.example.COM", True),
        ("https://a.b.example.com/", "*.example.com", True),
        ("https://example.com/", "*.example.com", False),
        ("https://example.com/", "https://example.com.", True),
        ("https://evilexample.com/", "*.example.com", False),
        ("https://a.example/", "http://a.example", True),
        ("http://a.example/", "https://a.example", False),
        # IP addresses: the spec says no, Chromium matches them.
        ("http://127.0.0.1:8000/a.js", "http://127.0.0.1:8000", True),
        ("http://127.0.0.1:8001/a.js", "http://127.0.0.1:8000", False),
        # Ports: default, explicit, '*'.
        ("https://a.example/", "https://a.example:443", True),
        ("https://a.example:8443/", "https://a.example", False),
        ("https://a.example:8443/", "https://a.example:*", True),
        ("https://a.example:8443/", "https://a.example:8443", True),
        # Paths: exact file, directory prefix, percent-decoding; query ignored.
        ("https://a.example/js/app.js?v=1", "https://a.example/js/app.js", True),
        ("https://a.example/js/app.js", "https://a.example/js/", True),
        ("https://a.example/js/app.js", "https://a.example/js", False),
        ("https://a.example/jsx/app.js", "https://a.example/js/", False),
        ("https://a.example/a%20b/x", "https://a.example/a b/", False),
        ("https://a.example/a%2Fb", "https://a.example/a%2fb", True),
        # 'self': the page's origin, and its https/wss upgrade on default ports.
        ("https://example.org/x", "'self'", True),
        ("https://example.org:443/x", "'SELF'", True),
        ("http://example.org/x", "'self'", False),
        ("wss://example.org/socket", "'self'", True),
        ("https://example.org:8443/x", "'self'", False),
        ("https://sub.example.org/x", "'self'", False),
        # 'none', an empty list, keywords, nonces and hashes match no URL.
        ("https://example.org/x", "'none'", False),
        ("https://example.org/x", "", False),
        ("https://example.org/x", "'none' https://example.org", True),
        ("https://example.org/x", "'unsafe-inline' 'nonce-abc'", False),
        ("https://example.org/x", "not/a:valid^source", False),
    ],
)  # fmt: skip
def test_url_matching(url: str, sources: str, matches: bool) -> None:
    target, origin = _parse_url(url), _parse_url(PAGE)
    assert target is not None and origin is not None
    assert _url_matches(tuple(sources.split()), target, origin) is matches


def test_self_on_http_page_allows_https_upgrade() -> None:
    origin = _parse_url("http://example.org/")
    assert origin is not None
    cases = [
        ("https://example.org/", True), ("http://example.org/", True),
        ("ws://example.org/", True), ("http://example.org:81/", False),
    ]  # fmt: skip
    for url, matches in cases:
        target = _parse_url(url)
        assert target is not None
        assert _url_matches(("'self'",), target, origin) is matches, url


# -- Inline code: nonces, hashes, 'unsafe-inline', 'strict-dynamic' --------


def test_nonce_matches_elements_exactly() -> None:
    body = (
        '<script nonce="abc">1</script><script nonce="abc ">2</script>'
        '<script nonce="ABC">3</script><script>4</script>'
        '<style nonce="abc">a{}</style><link rel=stylesheet nonce=abc href=/s.css>'
    )
    csp = "script-src 'nonce-abc'; style-src 'NONCE-abc'"
    assert [e for _, e in violations(body, csp)] == [
        "<script>2</script>",
        "<script>3</script>",
        "<script>4</script>",
    ]


def test_nonce_is_ignored_on_a_script_with_script_in_an_attribute() -> None:
    body = (
        '<script nonce=abc title="<script">1</script>'
        '<style nonce=abc x="<style">b{}</style>'
    )
    # Only <script> elements are checked (CSP3 "Is element nonceable?").
    assert directives(body, "script-src 'nonce-abc'; style-src 'nonce-abc'") == [
        "script-src-elem"
    ]


def test_hashes_cover_the_exact_text() -> None:
    body = "<script>alert(1)</script><script> alert(1)</script><style>p{}</style>"
    script, style = hash_source("alert(1)"), hash_source("p{}", "sha512")
    csp = f"script-src {script}; style-src {style}"
    assert [e for _, e in violations(body, csp)] == ["<script>alert(1)</script>"]


def test_hash_sees_normalized_line_breaks() -> None:
    body = "<script>a()\r\nb()\rc()</script>"
    normalized = hash_source("a()\nb()\nc()")
    assert violations(body, f"script-src {normalized}") == []


def test_base64url_hashes_match() -> None:
    source = hash_source("x()").replace("+", "-").replace("/", "_")
    assert violations("<script>x()</script>", f"script-src {source}") == []


def test_unsafe_inline_is_ignored_next_to_a_nonce_or_hash() -> None:
    body = "<script>1</script><p onclick=go() style=color:red>x</p>"
    assert (
        violations(body, "script-src 'unsafe-inline'; style-src 'unsafe-inline'") == []
    )
    assert directives(body, "script-src 'unsafe-inline' 'nonce-abc'") == [
        "script-src-elem",
        "script-src-attr",
    ]
    assert directives(body, f"style-src 'unsafe-inline' {hash_source('a')}") == [
        "style-src-attr"
    ]


def test_strict_dynamic_drops_unsafe_inline_for_scripts_only() -> None:
    body = "<script>1</script><p style=x onclick=y()>"
    keywords = "'unsafe-inline' 'strict-dynamic'"
    csp = f"script-src {keywords}; style-src {keywords}"
    assert directives(body, csp) == ["script-src-elem", "script-src-attr"]


def test_attributes_need_unsafe_hashes_for_their_hash() -> None:
    body = '<button onclick="go()">x</button><p style="color: red">'
    hashes = f"{hash_source('go()')} {hash_source('color: red')}"
    csp = f"script-src {hashes}; style-src {hashes}"
    assert directives(body, csp) == ["script-src-attr", "style-src-attr"]
    csp = f"script-src 'unsafe-hashes' {hashes}; style-src 'unsafe-hashes' {hashes}"
    assert violations(body, csp) == []


def test_javascript_urls_hash_the_whole_url_with_unsafe_hashes() -> None:
    body = '<a href=" JavaScript:go()">x</a>'
    assert directives(body, "script-src 'self'") == ["script-src-elem"]
    whole = hash_source("javascript:go()")
    assert violations(body, f"script-src 'unsafe-hashes' {whole}") == []
    assert directives(body, f"script-src {whole}") == ["script-src-elem"]
    code_only = hash_source("go()")
    assert directives(body, f"script-src 'unsafe-hashes' {code_only}") == [
        "script-src-elem"
    ]


def test_nonces_never_allow_attributes() -> None:
    body = '<p nonce=abc onclick="x()" style="y">'
    assert directives(body, "default-src 'nonce-abc'") == [
        "script-src-attr",
        "style-src-attr",
    ]


def test_speculation_rules_keyword() -> None:
    body = '<script type="speculationrules">{}</script>'
    assert directives(body, "script-src 'self'") == ["script-src-elem"]
    assert violations(body, "script-src 'self' 'inline-speculation-rules'") == []


# -- External scripts: nonce, integrity, 'strict-dynamic' -------------------


def test_strict_dynamic_ignores_hosts_and_self_for_parser_inserted_scripts() -> None:
    body = (
        '<script src="/app.js"></script>'
        '<script src="https://cdn.example/lib.js"></script>'
        '<script nonce="abc" src="https://elsewhere.example/x.js"></script>'
        '<link rel="modulepreload" href="https://elsewhere.example/m.js">'
        '<link rel="preload" as="script" href="https://cdn.example/p.js">'
    )
    csp = "script-src 'nonce-abc' 'strict-dynamic' 'self' https://cdn.example https:"
    assert [e for _, e in violations(body, csp)] == [
        '<script src="/app.js">',
        '<script src="https://cdn.example/lib.js">',
        '<link href="https://cdn.example/p.js">',
    ]
    without = csp.replace(" 'strict-dynamic'", "")
    assert violations(body, without) == []


def test_integrity_matches_hash_sources() -> None:
    digest = hash_source("lib", "sha384")[1:-1]
    body = (
        f'<script src="https://cdn.example/a.js" integrity="{digest}"></script>'
        f'<script src="https://cdn.example/b.js" integrity="{digest} sha512-A">'
        "</script>"
        '<script src="https://cdn.example/c.js" integrity="md5-x"></script>'
    )
    assert [e for _, e in violations(body, f"script-src '{digest}'")] == [
        '<script src="https://cdn.example/b.js">',
        '<script src="https://cdn.example/c.js">',
    ]


# -- Directives and fallbacks -----------------------------------------------


def test_fallbacks() -> None:
    body = (
        '<img src="https://x.example/a.png"><iframe src="https://x.example/f"></iframe>'
        '<script>1</script><p onclick=x()></p><form action="https://x.example/f"></form>'
        '<base href="https://x.example/">'
    )
    assert directives(body, "default-src 'self'") == [
        "img-src", "frame-src", "script-src-elem", "script-src-attr",
    ]  # fmt: skip
    # frame-src falls back to child-src; form-action and base-uri to nothing.
    assert directives(body, "default-src *; child-src 'none'; script-src 'none'") == [
        "frame-src", "script-src-elem", "script-src-attr",
    ]  # fmt: skip
    assert directives(body, "form-action 'self'; base-uri 'none'") == [
        "base-uri", "form-action",
    ]  # fmt: skip
    # The -elem/-attr directives beat script-src, which beats default-src.
    split = "default-src 'none'; script-src 'unsafe-inline'; script-src-attr 'none'"
    assert directives(body, split) == ["img-src", "frame-src", "script-src-attr"]


def test_first_directive_wins_and_unknown_ones_are_ignored() -> None:
    body = "<img src=/a.png>"
    assert violations(body, "img-src 'self'; img-src 'none'; bogus-src x") == []
    assert directives(body, "img-src 'none'; img-src 'self'") == ["img-src"]


def test_each_policy_reports_and_report_only_is_separate() -> None:
    body = "<img src=data:x><img src=https://cdn.example/a.png>"
    page = scan_html(body).page
    policies = policies_for(
        ["img-src 'self', img-src 'self' https://cdn.example"], ["img-src 'none'"]
    )
    found = evaluate(page, policies, PAGE)
    assert [(v.policy.index, v.policy.disposition) for v in found] == [
        (0, "enforce"), (1, "enforce"), (2, "report"),
        (0, "enforce"), (2, "report"),
    ]  # fmt: skip


def test_meta_policy_governs_what_follows_it_in_the_head() -> None:
    body = (
        "<html><head><img src=https://cdn.example/1.png>"
        "<meta http-equiv=Content-Security-Policy content=\"img-src 'self'\">"
    )
    # An <img> starts the body: the <meta> after it is ignored.
    assert violations(body) == []
    body = (
        "<head><link rel=stylesheet href=https://cdn.example/a.css>"
        "<meta http-equiv=content-security-policy"
        " content=\"style-src 'self'; img-src 'self'\">"
        "<link rel=stylesheet href=https://cdn.example/b.css></head>"
        "<body><img src=https://cdn.example/1.png>"
    )
    assert [e for _, e in violations(body)] == [
        '<link href="https://cdn.example/b.css">',
        '<img src="https://cdn.example/1.png">',
    ]


def test_meta_policy_ignores_frame_ancestors_report_uri_sandbox() -> None:
    facts = scan_html(
        "<meta http-equiv=Content-Security-Policy content=\"sandbox; img-src 'self'\">"
    )
    (policy,) = policies_for([], [], facts.page.meta)
    assert dict(policy.directives) == {"img-src": ("'self'",)}


def test_base_applies_only_when_base_uri_allows_it() -> None:
    body = (
        '<base href="https://cdn.example/assets/"><img src="a.png"><img src="/b.png">'
    )
    assert violations(body, "img-src 'self'; base-uri 'none'") == [
        ("base-uri", '<base href="https://cdn.example/assets/">')
    ]
    found = violations(body, "img-src 'self'; base-uri https://cdn.example")
    assert found == [
        ("img-src", '<img src="a.png">'),
        ("img-src", '<img src="/b.png">'),
    ]


def test_forms() -> None:
    body = (
        "<form></form><form action=/search></form><form method=dialog action=https://x></form>"
        "<form action=https://pay.example/><button formaction=https://x.example/>b</button></form>"
        "<form action=javascript:go()></form>"
    )
    found = evaluate(
        scan_html(body).page, policies_for(["form-action 'self'"], []), PAGE
    )
    assert [(v.directive, v.url) for v in found] == [
        ("form-action", "https://pay.example/"),
        ("form-action", "https://x.example/"),
        ("form-action", "javascript:go()"),
    ]
    assert [r.when for r in scan_html(body).page.resources] == ["submit"] * 5
    # form-action allows it: the javascript: URL is then checked as script.
    assert directives("<form action=javascript:go()>", "script-src 'self'") == [
        "script-src-elem"
    ]


def test_upgrade_insecure_requests_upgrades_http_but_not_loopback() -> None:
    body = "<img src=http://cdn.example/a.png><img src=http://127.0.0.1:9/b.png>"
    csp = "img-src https:; upgrade-insecure-requests"
    assert [e for _, e in violations(body, csp)] == [
        '<img src="http://127.0.0.1:9/b.png">'
    ]
    assert len(violations(body, "img-src https:")) == 2


def test_media_sources_stop_at_the_first_allowed() -> None:
    body = (
        "<video><source src=https://x.example/1.mp4><source src=/2.mp4>"
        "<source src=https://x.example/3.mp4><track default src=https://x.example/t.vtt></video>"
        "<audio src=/a.mp3><source src=https://x.example/ignored.ogg></audio>"
    )
    assert [e for _, e in violations(body, "media-src 'self'")] == [
        '<source src="https://x.example/1.mp4">',
        '<track src="https://x.example/t.vtt">',
    ]


# -- The scanner ------------------------------------------------------------


def kinds(body: str) -> list[tuple[str, str]]:
    return [(r.kind, r.describe()) for r in scan_html(body).page.resources]


def test_scanner_skips_what_the_browser_never_checks() -> None:
    body = (
        "<script></script><script type='text/template'>x</script>"
        "<script type=application/ld+json>{}</script><script nomodule>1</script>"
        "<script type='text/javascript; charset=utf-8'>1</script>"
        "<script language=vbscript>1</script><script src=''></script>"
        "<p onfoo=1 data-onclick=2 onhashchange=3></p>"
        "<link rel=stylesheet href=/x disabled><img src=''>"
        "<iframe srcdoc='<p>' src=/f></iframe><iframe src=about:blank></iframe>"
        "<template><img src=/t.png><script>1</script></template>"
        "<noscript><img src=/n.png><p style=x></noscript>"
        "<style type=text/less>a{}</style><textarea><img src=/ta.png></textarea>"
    )
    assert kinds(body) == []


def test_scanner_checks_attributes_inside_templates() -> None:
    assert kinds("<template><p onclick=x() style=y></template>") == [
        ("event-handler", '<p onclick="x()">'),
        ("style-attribute", '<p style="y">'),
    ]


def test_scanner_lists_every_kind() -> None:
    body = """<script>1</script><script type=module src=/m.js></script>
<script type=importmap>{}</script><style></style><p style="">
<link rel="preload stylesheet" href=/s.css><link rel=preload as=font href=/f.woff2>
<link rel=preload as=fetch href=/data.json><link rel="shortcut icon" href=/i.png>
<link rel=manifest href=/m.webmanifest><body onload=go() onhashchange=h()>
<a href="javascript:go()">x</a><area href=" javascript:x()">
<iframe src="javascript:1"></iframe>
<frame src=/frame.html><object data=/o.swf></object><embed src=/e.swf>
<video src=/v.mp4 poster=/p.png></video><track src=/t.vtt><input type=image src=/go.png>
<table background=/bg.png></table><form action=/f></form>"""
    assert [k for k, _ in kinds(body)] == [
        "inline-script", "script", "inline-script", "inline-style",
        "style-attribute", "stylesheet", "font", "connect", "image", "manifest",
        "event-handler", "event-handler", "javascript-url", "javascript-url",
        "javascript-url", "frame", "object", "object", "media", "image", "media",
        "image", "image", "form",
    ]  # fmt: skip
    whens = {r.describe(): r.when for r in scan_html(body).page.resources}
    assert whens['<a href="javascript:go()">'] == "click"
    assert whens['<iframe src="javascript:1">'] == "load"
    assert whens['<track src="/t.vtt">'] == "use"  # not a default track
    assert whens['<link href="/m.webmanifest">'] == "use"


def test_scanner_lines_and_text() -> None:
    body = "<p>\n\n<script>\r\nx()\r\n</script>\n<img\nsrc=/a.png>"
    script, image = scan_html(body).page.resources
    assert (script.line, script.text) == (3, "\nx()\n")
    assert image.line == 6


@pytest.mark.parametrize(
    ("srcset", "src", "expected"),
    [
        ("/a.png 1x, /b.png 2x", None, ("/a.png",)),
        ("/b.png 2x, /c.png 3x", "/a.png", ("/a.png",)),
        ("/b.png 2x, /c.png 3x", None, ("/b.png",)),
        ("/c.png 0.5x", None, ("/c.png",)),
        ("/a.png 100w, /b.png 200w", "/z.png", ("/a.png", "/b.png", "/z.png")),
        ("/a,b.png 1x,/c.png 2x", None, ("/a,b.png",)),
    ],
)
def test_image_candidates(
    srcset: str, src: str | None, expected: tuple[str, ...]
) -> None:
    attrs = f' src="{src}"' if src else ""
    (image,) = scan_html(f'<img srcset="{srcset}"{attrs}>').page.resources
    assert (image.url, *image.candidates) == expected


def test_picture_uses_its_first_usable_source() -> None:
    body = (
        "<picture><source srcset=/a.jxl type=image/jxl>"
        "<source srcset=/b.webp type=image/webp>"
        "<img src=/c.png></picture><img src=/d.png>"
    )
    assert [r.url for r in scan_html(body).page.resources] == ["/b.webp", "/d.png"]


def test_parse_srcset() -> None:
    assert parse_srcset(" /a.png 1x , /b.png  2x,/c.png,, /d.png (x, y) 3x") == [
        ("/a.png", "1x"), ("/b.png", "2x"), ("/c.png", ""), ("/d.png", "(x, y) 3x"),
    ]  # fmt: skip


def test_scanner_stops_listing_at_the_cap() -> None:
    page = scan_html("<img src=/a.png>" * (MAX_RESOURCES + 5)).page
    assert len(page.resources) == MAX_RESOURCES
    assert page.truncated


def test_prediction_checks_a_bounded_number_of_policies() -> None:
    """A hostile site's header block (up to 100 KB) holds thousands of
    policies: each was checked against each of up to 10,000 resources, so
    that one page cost minutes and millions of Blocked items."""
    from flask_header_policy.audit import grade_response
    from flask_header_policy.audit._breaks import MAX_POLICIES

    many = ", ".join(f"img-src 'none' https://h{n}.example" for n in range(300))
    result = grade_response(
        [("Content-Type", "text/html"), ("Content-Security-Policy", many)],
        body="<img src=/a.png>" * 50,
        url="https://app.example/",
    )
    assert len(result.breaks) == MAX_POLICIES * 50
    (finding,) = [f for f in result.findings if f.code == "csp-policies-truncated"]
    assert f"300 policies: only the first {MAX_POLICIES}" in finding.message
    assert result.verdict == "breaks"


@pytest.mark.parametrize(
    "unit",
    ["<template>", "<picture><source srcset=/a.png>", "<video>", "<noscript>",
     "<p onclick=x() style=y>", "<meta http-equiv=content-security-policy content=x>",
     "<img srcset='" + "a, " * 50 + "'>", "<!-- x --> ", "</head>"],
)  # fmt: skip
def test_scan_and_evaluate_take_any_body(unit: str) -> None:
    # 256 KB of each construct: a quadratic step would hang the suite here.
    body = unit * (256 * 1024 // len(unit))
    page = scan_html(body).page
    found = evaluate(page, policies_for(["default-src 'none'"], []), PAGE)
    assert len(found) <= len(page.resources) <= MAX_RESOURCES
