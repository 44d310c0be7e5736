from __future__ import annotations

import typing as t

import pytest

from flask_header_policy.audit import grade_response
from flask_header_policy.audit import SCORE_TABLE

H = list[tuple[str, str]]
_NAMES = {
    "csp": "Content-Security-Policy",
    "csp-ro": "Content-Security-Policy-Report-Only",
    "cookie": "Set-Cookie",
    "acao": "Access-Control-Allow-Origin",
    "acac": "Access-Control-Allow-Credentials",
    "rp": "Referrer-Policy",
    "hsts": "Strict-Transport-Security",
    "ct": "Content-Type",
    "xcto": "X-Content-Type-Options",
    "xfo": "X-Frame-Options",
    "corp": "Cross-Origin-Resource-Policy",
}
HSTS = "hsts: max-age=31536000"
HTML = "ct: text/html; charset=utf-8"
EXT = "https://cdn.example.com/lib.js"
SRI = 'integrity="sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY"'


def _h(text: str) -> H:
    """``"csp: a | xfo: b"`` -> header pairs, short names expanded."""
    pairs = []
    for field in text.split(" | ") if text else ():
        name, _, value = field.partition(": ")
        pairs.append((_NAMES[name], value))
    return pairs


def _js(attrs: str) -> dict[str, t.Any]:
    return {"body": f"<!doctype html><script {attrs}></script>"}


HTTP = {"url": "http://localhost/"}
# test name -> (expected result, headers as for _h, grade_response keywords)
TABLE: dict[str, list[tuple[str, str, dict[str, t.Any]]]] = {
    "content-security-policy": [
        (
            "csp-implemented-with-no-unsafe-default-src-none",
            "csp: default-src 'none'",
            {},
        ),
        ("csp-implemented-with-no-unsafe", "csp: default-src 'self'", {}),
        (
            "csp-implemented-with-unsafe-inline-in-style-src-only",
            "csp: default-src 'self'; style-src 'self' 'unsafe-inline'",
            {},
        ),
        (
            "csp-implemented-with-unsafe-inline-in-style-src-only",
            "csp: script-src 'self'; object-src 'none'",
            {},
        ),
        (
            "csp-implemented-with-insecure-scheme-in-passive-content-only",
            "csp: default-src 'self'; img-src http://img.example.com",
            {},
        ),
        (
            "csp-implemented-with-no-unsafe",
            "csp: default-src 'self'; img-src http:",
            HTTP,
        ),
        (
            "csp-implemented-with-unsafe-eval",
            "csp: default-src 'self'; script-src 'self' 'unsafe-eval'",
            {},
        ),
        (
            "csp-implemented-with-unsafe-inline",
            "csp: default-src 'self'; script-src 'self' 'unsafe-inline'",
            {},
        ),
        (
            "csp-implemented-with-unsafe-inline",
            "csp: default-src 'self'; object-src https:",
            {},
        ),
        ("csp-implemented-with-unsafe-inline", "csp: default-src 'self' data:", {}),
        (
            "csp-implemented-with-insecure-scheme",
            "csp: default-src 'self'; script-src 'self' http://cdn.example.com",
            {},
        ),
        ("csp-header-invalid", "csp: default-src 'self'; default-src 'none'", {}),
        (
            "csp-header-invalid",
            "csp: default-src 'self'; script-src 'strict-dynamic'",
            {},
        ),
        ("csp-header-invalid", "csp: default-src 'none',", {}),
        ("csp-header-invalid", "csp: ", {}),
        ("csp-not-implemented", "", {}),
        ("csp-not-implemented-but-reporting-enabled", "csp-ro: default-src 'none'", {}),
        (
            "csp-implemented-but-duplicate-directives",
            "csp: default-src 'none'; report-uri /a; report-uri /b",
            {},
        ),
        (
            "csp-implemented-with-no-unsafe-default-src-none",
            "csp: default-src 'none'; script-src 'nonce-abcdefgh' 'unsafe-inline'",
            {},
        ),
        (
            "csp-implemented-with-no-unsafe-default-src-none",
            "csp: default-src 'none'; script-src 'nonce-abcd1234' 'strict-dynamic' *",
            {},
        ),
        # Several policies: a source counts only if every policy allows it.
        (
            "csp-implemented-with-no-unsafe",
            "csp: default-src 'self' 'unsafe-inline' | csp: default-src 'self'",
            {},
        ),
        (
            "csp-implemented-with-no-unsafe",
            "csp: default-src 'self' 'unsafe-inline', default-src 'self'",
            {},
        ),
    ],
    "cookies": [
        (
            "cookies-secure-with-httponly-sessions-and-samesite",
            "cookie: sid=1; Secure; HttpOnly; SameSite=Lax"
            " | cookie: a=1; Secure; SameSite=None",
            {},
        ),
        (
            "cookies-secure-with-httponly-sessions",
            "cookie: sid=1; Secure; HttpOnly",
            {},
        ),
        ("cookies-not-found", "", {}),
        (
            "cookies-not-found",
            "cookie: heroku-session-affinity=1 | cookie: =nameless",
            {},
        ),
        (
            "cookies-without-secure-flag-but-protected-by-hsts",
            f"cookie: pref=1; HttpOnly; SameSite=Lax | {HSTS}",
            {},
        ),
        (
            "cookies-session-without-secure-flag-but-protected-by-hsts",
            f"cookie: sessionid=1; HttpOnly; SameSite=Lax | {HSTS}",
            {},
        ),
        ("cookies-without-secure-flag", "cookie: pref=1; SameSite=Lax", {}),
        # HSTS under six months does not protect cookies.
        ("cookies-without-secure-flag", "cookie: pref=1 | hsts: max-age=300", {}),
        (
            "cookies-samesite-flag-invalid",
            "cookie: pref=1; Secure; SameSite=Sometimes",
            {},
        ),
        (
            "cookies-samesite-flag-invalid",
            f"cookie: pref=1; SameSite=None | {HSTS}",
            {},
        ),
        ("cookies-anticsrf-without-samesite-flag", "cookie: csrftoken=1; Secure", {}),
        ("cookies-session-without-httponly-flag", "cookie: sessionid=1; Secure", {}),
        ("cookies-session-without-secure-flag", "cookie: MyLoginToken=1; HttpOnly", {}),
    ],
    "cross-origin-resource-sharing": [
        ("cross-origin-resource-sharing-not-implemented", "", {}),
        ("cross-origin-resource-sharing-implemented-with-public-access", "acao: *", {}),
        (
            "cross-origin-resource-sharing-implemented-with-restricted-access",
            "acao: https://app.example | acac: true",
            {},
        ),
        (
            "cross-origin-resource-sharing-implemented-with-universal-access",
            "acao: https://evil.example | acac: true",
            {"origin": "https://evil.example"},
        ),
        (
            "cross-origin-resource-sharing-implemented-with-universal-access",
            "acao: null | acac: TRUE",
            {},
        ),
    ],
    "referrer-policy": [
        ("referrer-policy-private", "rp: no-referrer", {}),
        (
            "referrer-policy-private",
            "rp: unsafe-url, strict-origin-when-cross-origin",
            {},
        ),
        ("referrer-policy-not-implemented", "", {}),
        ("referrer-policy-unsafe", "rp: no-referrer-when-downgrade", {}),
        ("referrer-policy-unsafe", "rp: origin | rp: bogus", {}),
        # Tokens are case-sensitive for browsers: the last recognised one wins.
        ("referrer-policy-unsafe", "rp: unsafe-url, Strict-Origin", {}),
        ("referrer-policy-header-invalid", "rp: No-Referrer", {}),
        ("referrer-policy-header-invalid", "rp: nope", {}),
    ],
    "strict-transport-security": [
        ("hsts-preloaded", "", {"hsts_preloaded": True}),
        ("hsts-implemented-max-age-at-least-six-months", "hsts: max-age=15552000", {}),
        ("hsts-implemented-max-age-less-than-six-months", "hsts: max-age=15551999", {}),
        ("hsts-not-implemented", "", {}),
        ("hsts-header-invalid", "hsts: includeSubDomains", {}),
        ("hsts-header-invalid", f"{HSTS} | {HSTS}", {}),
        ("hsts-not-implemented-no-https", HSTS, HTTP),
    ],
    "subresource-integrity": [
        (
            "sri-implemented-and-all-scripts-loaded-securely",
            HTML,
            _js(f'src="/a.js" {SRI}'),
        ),
        (
            "sri-implemented-and-external-scripts-loaded-securely",
            HTML,
            _js(f'src="{EXT}" {SRI}'),
        ),
        (
            "sri-not-implemented-response-not-html",
            "ct: application/json",
            _js(f'src="{EXT}"'),
        ),
        (
            "sri-not-implemented-but-no-scripts-loaded",
            HTML,
            {"body": "<p>no scripts</p>"},
        ),
        ("sri-not-implemented-but-no-scripts-loaded", HTML, {}),
        (
            "sri-not-implemented-but-all-scripts-loaded-from-secure-origin",
            HTML,
            _js('src="/a.js"></script><script src="https://LOCALHOST:443/b.js"'),
        ),
        (
            "sri-not-implemented-but-all-scripts-loaded-from-secure-origin",
            HTML,
            {"body": "<script>inline()</script>"},
        ),
        (
            "sri-not-implemented-but-external-scripts-loaded-securely",
            HTML,
            _js(f'src="{EXT}"'),
        ),
        (
            "sri-implemented-but-external-scripts-not-loaded-securely",
            HTML,
            _js(f'src="//cdn.example.com/x.js" {SRI}'),
        ),
        (
            "sri-not-implemented-and-external-scripts-not-loaded-securely",
            "",
            _js('src="http://cdn.example.com/x.js"'),
        ),
        (
            "sri-not-implemented-and-external-scripts-not-loaded-securely",
            HTML,
            {"body": b'<script src="http://localhost/x.js"></script>'},
        ),
    ],
    "x-content-type-options": [
        ("x-content-type-options-nosniff", "xcto: NoSniff", {}),
        ("x-content-type-options-not-implemented", "", {}),
        ("x-content-type-options-header-invalid", "xcto: sniff", {}),
        ("x-content-type-options-header-invalid", "xcto: sniff, nosniff", {}),
    ],
    "x-frame-options": [
        ("x-frame-options-implemented-via-csp", "csp: frame-ancestors 'none'", {}),
        ("x-frame-options-sameorigin-or-deny", "xfo: DENY", {}),
        ("x-frame-options-sameorigin-or-deny", "xfo: sameorigin", {}),
        ("x-frame-options-sameorigin-or-deny", "xfo: DENY | xfo: deny", {}),
        ("x-frame-options-allow-from-origin", "xfo: ALLOW-FROM https://a.example", {}),
        ("x-frame-options-not-implemented", "", {}),
        ("x-frame-options-not-implemented", "xfo: ", {}),
        ("x-frame-options-header-invalid", "xfo: ALLOWALL", {}),
    ],
    "cross-origin-resource-policy": [
        ("corp-implemented-with-same-origin", "corp: same-origin", {}),
        ("corp-implemented-with-same-site", "corp: same-site", {}),
        ("corp-implemented-with-cross-origin", "corp: cross-origin", {}),
        ("corp-not-implemented", "", {}),
        ("corp-header-invalid", "corp: same-origin, same-site", {}),
        ("corp-header-invalid", "corp: Same-Origin", {}),
    ],
}
CASES = [(test, *row) for test, rows in TABLE.items() for row in rows]

# Published modifiers (observatory-scoring.md), written out apart from the code.
MODIFIERS = {
    "csp-implemented-with-no-unsafe-default-src-none": 10,
    "csp-implemented-with-no-unsafe": 5,
    "csp-implemented-with-unsafe-inline-in-style-src-only": 0,
    "csp-implemented-but-duplicate-directives": 0,
    "csp-implemented-with-insecure-scheme-in-passive-content-only": -10,
    "csp-implemented-with-unsafe-eval": -10,
    "csp-implemented-with-unsafe-inline": -20,
    "csp-implemented-with-insecure-scheme": -20,
    "csp-header-invalid": -25,
    "csp-not-implemented": -25,
    "csp-not-implemented-but-reporting-enabled": -25,
    "cookies-secure-with-httponly-sessions-and-samesite": 5,
    "cookies-secure-with-httponly-sessions": 0,
    "cookies-not-found": 0,
    "cookies-without-secure-flag-but-protected-by-hsts": -5,
    "cookies-session-without-secure-flag-but-protected-by-hsts": -10,
    "cookies-without-secure-flag": -20,
    "cookies-samesite-flag-invalid": -20,
    "cookies-anticsrf-without-samesite-flag": -20,
    "cookies-session-without-httponly-flag": -30,
    "cookies-session-without-secure-flag": -40,
    "cross-origin-resource-sharing-not-implemented": 0,
    "cross-origin-resource-sharing-implemented-with-public-access": 0,
    "cross-origin-resource-sharing-implemented-with-restricted-access": 0,
    "cross-origin-resource-sharing-implemented-with-universal-access": -50,
    "referrer-policy-private": 5,
    "referrer-policy-not-implemented": 0,
    "referrer-policy-unsafe": -5,
    "referrer-policy-header-invalid": -5,
    "hsts-preloaded": 5,
    "hsts-implemented-max-age-at-least-six-months": 0,
    "hsts-implemented-max-age-less-than-six-months": -10,
    "hsts-not-implemented": -20,
    "hsts-header-invalid": -20,
    "hsts-not-implemented-no-https": -20,
    "sri-implemented-and-all-scripts-loaded-securely": 5,
    "sri-implemented-and-external-scripts-loaded-securely": 5,
    "sri-not-implemented-response-not-html": 0,
    "sri-not-implemented-but-no-scripts-loaded": 0,
    "sri-not-implemented-but-all-scripts-loaded-from-secure-origin": 0,
    "sri-not-implemented-but-external-scripts-loaded-securely": -5,
    "sri-implemented-but-external-scripts-not-loaded-securely": -20,
    "sri-not-implemented-and-external-scripts-not-loaded-securely": -50,
    "x-content-type-options-nosniff": 0,
    "x-content-type-options-not-implemented": -5,
    "x-content-type-options-header-invalid": -5,
    "x-frame-options-implemented-via-csp": 5,
    "x-frame-options-sameorigin-or-deny": 5,
    "x-frame-options-allow-from-origin": 0,
    "x-frame-options-not-implemented": -20,
    "x-frame-options-header-invalid": -20,
    "corp-implemented-with-same-origin": 10,
    "corp-implemented-with-same-site": 10,
    "corp-implemented-with-cross-origin": 0,
    "corp-not-implemented": 0,
    "corp-header-invalid": -5,
}


@pytest.mark.parametrize(("test", "expected", "headers", "kwargs"), CASES)
def test_result_table(
    test: str, expected: str, headers: str, kwargs: dict[str, t.Any]
) -> None:
    result = grade_response(_h(headers), **kwargs)[test]
    assert result.result == expected
    assert result.score_modifier == MODIFIERS[expected]
    passive_only = "csp-implemented-with-insecure-scheme-in-passive-content-only"
    assert result.passed is (MODIFIERS[expected] >= 0 or expected == passive_only)
    assert result.description


def test_every_result_name_is_covered() -> None:
    assert {case[1] for case in CASES} == set(MODIFIERS)
    for name, modifier in MODIFIERS.items():
        assert SCORE_TABLE[name][0] == modifier


def test_tests_in_observatory_order() -> None:
    names = [test.name for test in grade_response([]).tests]
    assert names == [
        "content-security-policy", "cookies", "cross-origin-resource-sharing",
        "referrer-policy", "strict-transport-security", "subresource-integrity",
        "x-content-type-options", "x-frame-options", "cross-origin-resource-policy",
    ]  # fmt: skip
