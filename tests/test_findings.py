from __future__ import annotations

import pytest

from flask_header_policy.audit import compare_nonces
from flask_header_policy.audit import Finding
from flask_header_policy.audit import grade_response

H = list[tuple[str, str]]
SAFE_BASE = "object-src 'none'; base-uri 'none'; report-to csp"


def _codes(headers: H, **kwargs: object) -> set[str]:
    return {f.code for f in grade_response(headers, **kwargs).findings}  # type: ignore[arg-type]


def _csp(value: str) -> H:
    return [("Content-Security-Policy", value)]


@pytest.mark.parametrize(
    ("csp", "code"),
    [
        ("script-src 'self' 'unsafe-inline'", "csp-unsafe-inline"),
        ("script-src 'self' 'unsafe-eval'", "csp-unsafe-eval"),
        ("script-src https:", "csp-plain-scheme"),
        ("script-src data:", "csp-plain-scheme"),
        ("default-src *", "csp-wildcard"),
        ("script-src 'none'; object-src *", "csp-wildcard"),
        ("script-src 'none'; base-uri http:", "csp-plain-scheme"),
        ("script-src 'self'", "csp-missing-object-src"),
        ("object-src 'none'", "csp-missing-script-src"),
        ("script-src 'nonce-abcdefghij'; object-src 'none'", "csp-missing-base-uri"),
        ("script-src 'sha256-abcdefghij='; object-src 'none'", "csp-missing-base-uri"),
        ("script-src self", "csp-unquoted-keyword"),
        ("script-src nonce-abcdefghij", "csp-unquoted-keyword"),
        ("script-src 'unsafe-inlined'", "csp-invalid-keyword"),
        ("scirpt-src 'self'", "csp-unknown-directive"),
        ("script-src 'self' object-src 'none'", "csp-missing-semicolon"),
        ("script-src 'nonce-abc'", "csp-nonce-too-short"),
        ("script-src 'nonce-abc!defgh*'", "csp-nonce-charset"),
        ("script-src 'strict-dynamic'", "csp-strict-dynamic-without-nonce"),
        ("script-src 'self'; script-src 'none'", "csp-duplicate-directive"),
        ("script-src http://cdn.example.com", "csp-http-source"),
        ("script-src 'self' https://cdn.example.com", "csp-script-allowlist"),
        ("script-src 'none'; reflected-xss block", "csp-deprecated-directive"),
        ("script-src 'none'", "csp-no-reporting"),
    ],
)
def test_csp_findings(csp: str, code: str) -> None:
    assert code in _codes(_csp(csp))


@pytest.mark.parametrize(
    ("csp", "code"),
    [
        ("script-src 'nonce-abcdefghij' 'unsafe-inline'", "csp-unsafe-inline"),
        (
            "script-src 'nonce-abcdefghij' 'strict-dynamic' https: http:",
            "csp-plain-scheme",
        ),
        (
            "script-src 'nonce-abcdefghij' 'strict-dynamic' 'self'",
            "csp-script-allowlist",
        ),
        ("default-src 'none'", "csp-missing-object-src"),
        ("default-src 'none'", "csp-missing-script-src"),
        ("script-src 'self'", "csp-missing-base-uri"),
        ("script-src 'nonce-abcdefghij'; base-uri 'self'", "csp-missing-base-uri"),
        ("script-src 'nonce-r4nd0m+/_-=='", "csp-nonce-charset"),
    ],
)
def test_csp_findings_not_raised(csp: str, code: str) -> None:
    assert code not in _codes(_csp(f"{csp}; {SAFE_BASE}"))


def test_meta_csp_findings() -> None:
    body = (
        "<meta http-equiv='Content-Security-Policy' content=\"frame-ancestors 'none'\">"
    )
    codes = _codes([("Content-Type", "text/html")], body=body)
    assert {"csp-meta-ignored-directive", "csp-missing-script-src"} <= codes


def test_no_csp_and_report_only() -> None:
    assert "csp-missing" in _codes([])
    only = [("Content-Security-Policy-Report-Only", "default-src 'none'")]
    [finding] = [f for f in grade_response(only).findings if f.code == "csp-missing"]
    assert "Report-Only" in finding.message


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ([("Server", "gunicorn")], "header-leak"),
        ([("x-powered-by", "PHP/8.1")], "header-leak"),
        ([("X-AspNet-Version", "4.0")], "header-leak"),
        ([("X-XSS-Protection", "1; mode=block")], "x-xss-protection"),
        ([("Expect-CT", "max-age=86400")], "deprecated-header"),
        ([("Public-Key-Pins", 'pin-sha256="x"; max-age=1')], "deprecated-header"),
        ([("Feature-Policy", "camera 'none'")], "deprecated-header"),
        ([("Strict-Transport-Security", "max-age=86400")], "hsts-short"),
        ([("Strict-Transport-Security", "max-age=0")], "hsts-cleared"),
        (
            [("Strict-Transport-Security", "max-age=63072000; preload")],
            "hsts-preload-not-ready",
        ),
        (
            [("Strict-Transport-Security", "max-age=100; includeSubDomains; preload")],
            "hsts-preload-not-ready",
        ),
        (
            [("Strict-Transport-Security", "max-age=63072000; include-subdomains")],
            "hsts-syntax",
        ),
        (
            [
                ("Strict-Transport-Security", "max-age=1"),
                ("Strict-Transport-Security", "max-age=1"),
            ],
            "hsts-repeated",
        ),
        ([], "hsts-missing"),
        ([("Set-Cookie", "sid=1")], "cookie-without-secure"),
        ([("Set-Cookie", "sid=1")], "cookie-without-httponly"),
        ([("Set-Cookie", "sid=1")], "cookie-without-samesite"),
        ([("Set-Cookie", "a=1; Secure; SameSite=Maybe")], "cookie-samesite-invalid"),
        ([("Set-Cookie", "a=1; SameSite=None")], "cookie-samesite-none-insecure"),
        ([("Content-Type", "text/plain")], "content-type-charset"),
        ([("Content-Type", "text/html; q=1")], "content-type-charset"),
        (
            [
                ("Access-Control-Allow-Origin", "https://a.example"),
                ("Access-Control-Allow-Credentials", "true"),
            ],
            "cors-credentials",
        ),
    ],
)
def test_other_findings(headers: H, code: str) -> None:
    assert code in _codes(headers)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ([("X-XSS-Protection", "0")], "x-xss-protection"),
        (
            [
                (
                    "Strict-Transport-Security",
                    "max-age=63072000; includeSubDomains; preload",
                )
            ],
            "hsts-preload-not-ready",
        ),
        ([("Strict-Transport-Security", "max-age=31536000")], "hsts-short"),
        (
            [("Set-Cookie", "sid=1; Secure; HttpOnly; SameSite=Lax")],
            "cookie-without-secure",
        ),
        ([("Content-Type", "text/html; Charset=UTF-8")], "content-type-charset"),
        ([("Content-Type", "application/json")], "content-type-charset"),
        ([("Server-Timing", "db;dur=53")], "header-leak"),
    ],
)
def test_findings_not_raised(headers: H, code: str) -> None:
    assert code not in _codes(headers)


def test_hsts_findings_on_http() -> None:
    codes = _codes([("Strict-Transport-Security", "max-age=63072000")], url="http://x/")
    assert "hsts-over-http" in codes
    assert "hsts-missing" not in _codes([], url="http://x/")


@pytest.mark.parametrize("url", ["https://x/", "http://x/"])
def test_session_cookie_without_secure_is_high(url: str) -> None:
    """The same severity whatever the scheme: in process (https://localhost/)
    and live (often http:// in development) agree."""
    graded = grade_response([("Set-Cookie", "sessionid=1")], url=url)
    [finding] = [f for f in graded.findings if f.code == "cookie-without-secure"]
    assert finding.severity == "high"
    graded = grade_response([("Set-Cookie", "theme=dark")], url=url)
    [finding] = [f for f in graded.findings if f.code == "cookie-without-secure"]
    assert finding.severity == "medium"


def test_findings_sorted_and_unique() -> None:
    headers = _csp("script-src 'unsafe-inline'") * 2 + [
        ("Server", "x"),
        ("Server", "y"),
    ]
    findings = grade_response(headers).findings
    order = ["high", "medium", "low", "info"]
    assert [order.index(f.severity) for f in findings] == sorted(
        order.index(f.severity) for f in findings
    )
    assert len(findings) == len(set(findings))
    assert sum(f.code == "header-leak" for f in findings) == 1
    for finding in findings:
        assert finding.fix and "\n" not in finding.fix


def _nonce_headers(nonce: str) -> H:
    return [("Content-Security-Policy", f"script-src 'nonce-{nonce}' 'strict-dynamic'")]


def test_compare_nonces() -> None:
    finding = compare_nonces(
        _nonce_headers("AAAAbbbb1234"), _nonce_headers("AAAAbbbb1234")
    )
    assert isinstance(finding, Finding)
    assert (finding.severity, finding.code) == ("high", "csp-nonce-reused")
    assert "AAAAbbbb1234" in finding.message
    assert (
        compare_nonces(_nonce_headers("one11111"), _nonce_headers("two22222")) is None
    )
    assert compare_nonces([], []) is None
    report_only = [
        ("Content-Security-Policy-Report-Only", "script-src 'nonce-same1234'")
    ]
    assert compare_nonces(report_only, report_only) is not None


@pytest.mark.parametrize(
    "junk", [None, 42, "abc", [("a",)], [(1, 2)], {"x": 1}, [None]]
)
def test_compare_nonces_junk(junk: object) -> None:
    assert compare_nonces(junk, junk) is None  # type: ignore[arg-type]


def test_findings_are_capped_per_code() -> None:
    csp = "; ".join(f"x{i}-src 'self'" for i in range(50))
    found = [f for f in grade_response(_csp(csp)).findings]
    unknown = [f for f in found if f.code == "csp-unknown-directive"]
    assert len(unknown) == 11
    assert (
        unknown[-1].message
        == "40 more csp-unknown-directive findings like the ones above"
    )
    assert "did you mean" in unknown[0].message


def test_hsts_typo_in_spelling_is_reported() -> None:
    result = grade_response(
        [("Strict-Transport-Security", "max-age=63072000; includeSubdomains")],
        url="https://localhost/",
    )
    spelling = [f for f in result.findings if f.code == "hsts-spelling"]
    assert len(spelling) == 1 and "includeSubDomains" in spelling[0].message
    assert result["strict-transport-security"].score_modifier == 0
