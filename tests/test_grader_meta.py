from __future__ import annotations

import pytest

from flask_header_policy.audit import grade_response
from flask_header_policy.audit._html import HtmlFacts
from flask_header_policy.audit._html import scan_html

H = list[tuple[str, str]]
HTML = [("Content-Type", "text/html; charset=utf-8")]


def _csp(value: str) -> H:
    return [("Content-Security-Policy", value)]


def _meta(http_equiv: str, content: str) -> str:
    return f'<!doctype html><head><meta http-equiv="{http_equiv}" content="{content}">'


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        (
            HTML,
            _meta("Content-Security-Policy", "default-src 'none'"),
            "csp-implemented-with-no-unsafe-default-src-none",
        ),
        (
            HTML,
            _meta(" content-security-POLICY ", "default-src 'self'"),
            "csp-implemented-with-no-unsafe",
        ),
        (
            [],
            _meta("Content-Security-Policy", "default-src 'none'"),
            "csp-implemented-with-no-unsafe-default-src-none",
        ),
        (
            [("Content-Type", "application/json")],
            _meta("Content-Security-Policy", "default-src 'none'"),
            "csp-not-implemented",
        ),
        (
            HTML,
            _meta("Content-Security-Policy", "frame-ancestors 'none'"),
            "csp-not-implemented",
        ),
        (
            HTML + _csp("default-src 'self' 'unsafe-inline'"),
            _meta("Content-Security-Policy", "default-src 'self'"),
            "csp-implemented-with-no-unsafe",
        ),
        (
            HTML,
            _meta("Content-Security-Policy", "default-src 'self'; default-src 'none'"),
            "csp-header-invalid",
        ),
        (
            [("Content-Type", "text/html; charset=latin-1")],
            _meta("Content-Security-Policy", "default-src 'self' data:").encode(
                "latin-1"
            ),
            "csp-implemented-with-unsafe-inline",
        ),
        (
            HTML,
            '<meta name="Content-Security-Policy" content="default-src \'none\'">',
            "csp-not-implemented",
        ),
    ],
)
def test_meta_csp(headers: H, body: str | bytes, expected: str) -> None:
    assert (
        grade_response(headers, body=body)["content-security-policy"].result == expected
    )


def test_meta_frame_ancestors_does_not_replace_x_frame_options() -> None:
    body = _meta(
        "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"
    )
    graded = grade_response(HTML, body=body)
    assert graded["content-security-policy"].result.endswith("default-src-none")
    assert graded["x-frame-options"].result == "x-frame-options-not-implemented"


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        (
            HTML,
            '<meta name="referrer" content="no-referrer">',
            "referrer-policy-private",
        ),
        (
            HTML + [("Referrer-Policy", "unsafe-url")],
            '<meta name="Referrer" content="same-origin">',
            "referrer-policy-private",
        ),
        (
            HTML + [("Referrer-Policy", "no-referrer")],
            '<meta name="referrer" content="same-origin">'
            '<meta name="referrer" content="origin">',
            "referrer-policy-unsafe",
        ),
        (
            HTML,
            '<meta name="referrer" content="never">',
            "referrer-policy-header-invalid",
        ),
        (
            HTML,
            '<meta http-equiv="Referrer-Policy" content="no-referrer">',
            "referrer-policy-not-implemented",
        ),
    ],
)
def test_meta_referrer(headers: H, body: str, expected: str) -> None:
    assert grade_response(headers, body=body)["referrer-policy"].result == expected


@pytest.mark.parametrize(
    ("body", "srcs"),
    [
        ('<script src="/a.js"></script><SCRIPT SRC=/b.js>', ["/a.js", "/b.js"]),
        ("<script src = ' /a.js ' src=/ignored.js>", ["/a.js"]),
        ("<script>document.write('<script src=/x.js></script>')</script>", [None]),
        ("<!-- <script src=/x.js></script> -->", []),
        ("<!--><script src=/a.js>", ["/a.js"]),
        ("<title><script src=/x.js></script></title><script src=/a.js>", ["/a.js"]),
        ("<style>a > b { }</style><script src=/a.js>", ["/a.js"]),
        ('<script src="/a.js?x=1&amp;y=2">', ["/a.js?x=1&y=2"]),
        ("<![CDATA[<script src=/x.js>]]><script src=/a.js>", ["/a.js"]),
        ("</script src=/x.js><script data-x='>' src=/a.js>", ["/a.js"]),
        ("<script src=/cut-off", []),
        ('<script src="/unterminated>', []),
        ("<plaintext><script src=/x.js>", []),
        ("a < b <3 <script src=/a.js>", ["/a.js"]),
    ],
)
def test_script_scanner(body: str, srcs: list[str | None]) -> None:
    assert [s.src for s in scan_html(body).scripts] == srcs


def test_scanner_reads_integrity_and_meta() -> None:
    facts = scan_html(
        "<meta http-equiv=Content-Security-Policy content=\"default-src 'none'\">"
        "<meta name=referrer content=origin><meta name=referrer content=no-referrer>"
        "<meta http-equiv=refresh content=5><script src=/a.js integrity=sha384-x nonce>"
    )
    assert facts.csp == ("default-src 'none'",)
    assert facts.referrer == "no-referrer"
    [script] = facts.scripts
    assert (script.integrity, script.nonce) == ("sha384-x", "")


@pytest.mark.parametrize(
    "unit",
    ["<", "<!--", "<a ", "<!", "&", "<![CDATA[", "<a b='", "<?", "</", "<a", "<a b=",
     "<script>", "<title>", "<!-->", "<a\x00"],
)  # fmt: skip
def test_scanner_takes_any_body(unit: str) -> None:
    # 256 KB of each unterminated construct; html.parser is quadratic on several.
    facts = scan_html(unit * (256 * 1024 // len(unit)))
    assert isinstance(facts, HtmlFacts)
    graded = grade_response(HTML, body=unit * (256 * 1024 // len(unit)))
    if "\x00" in unit:  # not text: no HTML parser reads it
        assert graded["subresource-integrity"].result == "html-not-parseable"
    else:
        assert graded["subresource-integrity"].passed
