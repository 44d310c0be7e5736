"""The audit explains every point it takes.

Every Observatory result with a negative modifier comes with a finding that
says why and how to fix it; header values at fault are explained with the
message of the header's builder.
"""

from __future__ import annotations

import typing as t

import pytest

from flask_header_policy import InvalidHeaderError
from flask_header_policy import ReferrerPolicy
from flask_header_policy import XFrameOptions
from flask_header_policy.audit import Finding
from flask_header_policy.audit import grade_response
from flask_header_policy.audit import SCORE_TABLE
from flask_header_policy.audit import TestResult
from flask_header_policy.audit._explain import explain
from flask_header_policy.audit._explain import EXPLAINED_BY
from flask_header_policy.audit._fields import collect

H = list[tuple[str, str]]
HTTPS = "https://example.org/"
SAFE: H = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Strict-Transport-Security", "max-age=63072000"),
    ("X-Content-Type-Options", "nosniff"),
]
HSTS = ("Strict-Transport-Security", "max-age=63072000")


def _with(extra: H, *, drop: tuple[str, ...] = ()) -> H:
    names = {name.lower() for name, _ in extra} | {d.lower() for d in drop}
    return [(n, v) for n, v in SAFE if n.lower() not in names] + extra


class Case(t.NamedTuple):
    headers: H
    body: str | bytes | None = None
    url: str = HTTPS
    origin: str | None = None
    algorithm: int = 5


# A response that gets each result with a negative modifier.
CASES: dict[str, Case] = {
    "csp-implemented-with-insecure-scheme-in-passive-content-only": Case(
        _with([("Content-Security-Policy", "default-src 'none'; img-src http:")])
    ),
    "csp-implemented-with-unsafe-eval": Case(
        _with(
            [
                (
                    "Content-Security-Policy",
                    "default-src 'self'; object-src 'none'; style-src 'unsafe-eval'",
                )
            ]
        )
    ),
    "csp-implemented-with-unsafe-inline": Case(
        _with([("Content-Security-Policy", "default-src 'none'; script-src https://*")])
    ),
    "csp-implemented-with-insecure-scheme": Case(
        _with([("Content-Security-Policy", "default-src 'self'; connect-src http:")])
    ),
    "csp-header-invalid": Case(_with([("Content-Security-Policy", "a")])),
    "csp-not-implemented": Case(_with([], drop=("Content-Security-Policy",))),
    "csp-not-implemented-but-reporting-enabled": Case(
        _with(
            [("Content-Security-Policy-Report-Only", "default-src 'none'")],
            drop=("Content-Security-Policy",),
        )
    ),
    "cookies-without-secure-flag-but-protected-by-hsts": Case(
        _with([("Set-Cookie", "theme=1; HttpOnly; SameSite=Lax")])
    ),
    "cookies-session-without-secure-flag-but-protected-by-hsts": Case(
        _with([("Set-Cookie", "sessionid=1; HttpOnly; SameSite=Lax")])
    ),
    "cookies-without-secure-flag": Case(
        _with([("Set-Cookie", "theme=1")], drop=("Strict-Transport-Security",))
    ),
    "cookies-samesite-flag-invalid": Case(
        _with([("Set-Cookie", "theme=1; Secure; SameSite=Bogus")])
    ),
    "cookies-anticsrf-without-samesite-flag": Case(
        _with([("Set-Cookie", "csrftoken=1; Secure")])
    ),
    "cookies-session-without-httponly-flag": Case(
        _with([("Set-Cookie", "sessionid=1; Secure; SameSite=Lax")])
    ),
    "cookies-session-without-secure-flag": Case(
        _with(
            [("Set-Cookie", "sessionid=1; HttpOnly")],
            drop=("Strict-Transport-Security",),
        )
    ),
    "cross-origin-resource-sharing-implemented-with-universal-access": Case(
        _with(
            [
                ("Access-Control-Allow-Origin", "https://evil.example"),
                ("Access-Control-Allow-Credentials", "true"),
            ]
        ),
        origin="https://evil.example",
    ),
    "referrer-policy-unsafe": Case(_with([("Referrer-Policy", "unsafe-url")])),
    "referrer-policy-header-invalid": Case(_with([("Referrer-Policy", "no-referer")])),
    "hsts-implemented-max-age-less-than-six-months": Case(
        _with([("Strict-Transport-Security", "max-age=300")])
    ),
    "hsts-not-implemented": Case(_with([], drop=("Strict-Transport-Security",))),
    "hsts-header-invalid": Case(
        _with([HSTS, ("Strict-Transport-Security", "max-age=1")])
    ),
    "hsts-not-implemented-no-https": Case(_with([]), url="http://example.org/"),
    "sri-not-implemented-but-external-scripts-loaded-securely": Case(
        SAFE, body="<script src='https://cdn.example/a.js'></script>"
    ),
    "sri-implemented-but-external-scripts-not-loaded-securely": Case(
        SAFE,
        body="<script src='http://cdn.example/a.js' integrity='sha384-x'></script>",
    ),
    "sri-not-implemented-and-external-scripts-not-loaded-securely": Case(
        SAFE, body="<script src='//cdn.example/a.js'></script>"
    ),
    "html-not-parseable": Case(SAFE, body=b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"),
    "x-content-type-options-not-implemented": Case(
        _with([], drop=("X-Content-Type-Options",))
    ),
    "x-content-type-options-header-invalid": Case(
        _with([("X-Content-Type-Options", "nosnif")])
    ),
    "x-frame-options-not-implemented": Case(
        _with([("Content-Security-Policy", "default-src 'none'")])
    ),
    "x-frame-options-header-invalid": Case(
        _with(
            [
                ("Content-Security-Policy", "default-src 'none'"),
                ("X-Frame-Options", "DENYY"),
            ]
        )
    ),
    "corp-header-invalid": Case(
        _with([("Cross-Origin-Resource-Policy", "Same-Origin")])
    ),
    "coop-header-invalid": Case(
        _with([("Cross-Origin-Opener-Policy", "same-orgin")]), algorithm=6
    ),
    "coep-header-invalid": Case(
        _with(
            [
                ("Cross-Origin-Embedder-Policy", "require-corp"),
                ("Cross-Origin-Embedder-Policy", "require-corp"),
            ]
        ),
        algorithm=6,
    ),
}
# Results only a live scan gives (the redirect chain, the certificate).
LIVE_ONLY = {
    "redirection-off-host-from-http",
    "redirection-not-to-https-on-initial-redirection",
    "redirection-not-to-https",
    "redirection-missing",
    "redirection-invalid-cert",
    "hsts-invalid-cert",
}
NEGATIVE = sorted(name for name, (modifier, _) in SCORE_TABLE.items() if modifier < 0)


def test_every_negative_result_has_a_case() -> None:
    """A result added to SCORE_TABLE without an explanation fails here."""
    assert set(NEGATIVE) == set(CASES) | LIVE_ONLY


def _explains(finding: Finding, result: str) -> bool:
    return finding.code == result or finding.code in EXPLAINED_BY.get(result, ())


@pytest.mark.parametrize("result", NEGATIVE)
def test_every_lost_point_is_explained(result: str) -> None:
    if result in LIVE_ONLY:
        test = TestResult.make(result.split("-")[0].replace("hsts", "x"), result)
        findings = explain([test], [], collect([]))
    else:
        case = CASES[result]
        graded = grade_response(
            case.headers,
            body=case.body,
            url=case.url,
            origin=case.origin,
            algorithm=case.algorithm,
        )
        assert result in [test.result for test in graded.tests]
        findings = list(graded.findings)
    explaining = [f for f in findings if _explains(f, result)]
    assert explaining, (result, findings)
    for finding in explaining:
        assert finding.message and finding.fix
        assert finding.severity in ("high", "medium", "low", "info")


@pytest.mark.parametrize("result", sorted(set(CASES) - set(EXPLAINED_BY)))
def test_an_explanation_names_the_points(result: str) -> None:
    case = CASES[result]
    graded = grade_response(
        case.headers, body=case.body, url=case.url, origin=case.origin,
        algorithm=case.algorithm,
    )  # fmt: skip
    (finding,) = [f for f in graded.findings if f.code == result]
    modifier = SCORE_TABLE[result][0]
    assert finding.message.endswith(f"{modifier:+d})")


def test_allow_from_is_explained_with_the_builders_message() -> None:
    value = "ALLOW-FROM https://partner.example"
    graded = grade_response(
        _with(
            [
                ("Content-Security-Policy", "default-src 'none'"),
                ("X-Frame-Options", value),
            ]
        ),
        url=HTTPS,
    )
    assert graded["x-frame-options"].result == "x-frame-options-allow-from-origin"
    (finding,) = [f for f in graded.findings if f.code.startswith("x-frame-options")]
    with pytest.raises(InvalidHeaderError) as builder:
        XFrameOptions.from_header(value)
    assert builder.value.reason in finding.message
    assert "frame-ancestors" in finding.fix
    assert finding.severity == "medium"


def test_an_invalid_value_is_explained_with_the_builders_message() -> None:
    graded = grade_response(_with([("Referrer-Policy", "no-referer")]))
    (finding,) = [f for f in graded.findings if f.code.startswith("referrer-policy")]
    with pytest.raises(InvalidHeaderError) as builder:
        ReferrerPolicy.from_header("no-referer")
    assert finding.message.startswith(f"Referrer-Policy: {builder.value.reason}")
    assert "did you mean 'no-referrer'" in finding.message


def test_nothing_to_fix_means_nothing_lost() -> None:
    graded = grade_response(
        _with([("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY")])
    )
    assert all(test.score_modifier >= 0 for test in graded.tests)
    assert not [f for f in graded.findings if f.code in SCORE_TABLE]


def test_a_huge_invalid_value_gives_a_short_explanation() -> None:
    csp = ("Content-Security-Policy", "default-src 'none'")
    graded = grade_response(_with([csp, ("X-Frame-Options", "x" * 1_000_000)]))
    (finding,) = [f for f in graded.findings if f.code.startswith("x-frame-options")]
    assert len(finding.message) < 600


# Non-documents.


@pytest.mark.parametrize(
    "content_type",
    ["text/css; charset=utf-8", "text/javascript", "image/png", "application/json"],
)
def test_a_non_document_without_csp_is_not_high(content_type: str) -> None:
    headers = _with([("Content-Type", content_type)], drop=("Content-Security-Policy",))
    graded = grade_response(headers, url=HTTPS)
    (finding,) = [f for f in graded.findings if f.code == "csp-missing"]
    assert finding.severity == "info"
    assert "not a page" in finding.message
    # The Observatory still takes its points; the finding says so.
    assert graded["content-security-policy"].result == "csp-not-implemented"
    assert "25 points" in finding.message


@pytest.mark.parametrize("content_type", ["text/html", "image/svg+xml", None])
def test_a_document_without_csp_is_high(content_type: str | None) -> None:
    headers = _with([], drop=("Content-Security-Policy", "Content-Type"))
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    graded = grade_response(headers, url=HTTPS)
    (finding,) = [f for f in graded.findings if f.code == "csp-missing"]
    assert finding.severity == "high"
