"""Current scoring: the Observatory's algorithm 6 behind an option,
``html-not-parseable``, and Google's CSP Evaluator checks as of 2026-05."""

from __future__ import annotations

import pytest
from flask import Flask
from flask import session

from flask_header_policy import HeaderPolicy
from flask_header_policy.audit import ALGORITHMS
from flask_header_policy.audit import grade_response
from flask_header_policy.audit import TEST_NAMES

H = list[tuple[str, str]]
HTML: H = [("Content-Type", "text/html; charset=utf-8")]


def _result(headers: H, test: str, **kwargs: object) -> str:
    return grade_response(HTML + headers, url="https://x/", **kwargs)[test].result  # type: ignore[arg-type]


def test_algorithm_5_is_the_default_and_has_no_coop_coep_tests() -> None:
    assert ALGORITHMS == (5, 6)
    graded = grade_response(HTML + [("Cross-Origin-Opener-Policy", "same-origin")])
    names = [test.name for test in graded.tests]
    assert "cross-origin-opener-policy" not in names
    assert "cross-origin-embedder-policy" not in names
    assert names == [n for n in TEST_NAMES if n != "redirection"][:9]


@pytest.mark.parametrize(
    ("value", "result", "modifier"),
    [
        (None, "coop-not-implemented", 0),
        ("same-origin", "coop-implemented-with-same-origin", 10),
        (
            "same-origin-allow-popups",
            "coop-implemented-with-same-origin-allow-popups",
            10,
        ),
        ("noopener-allow-popups", "coop-implemented-with-noopener-allow-popups", 10),
        ("unsafe-none", "coop-implemented-with-unsafe-none", 0),
        ('same-origin; report-to="coop"', "coop-implemented-with-same-origin", 10),
        ("same-orgin", "coop-header-invalid", -5),
        ("Same-Origin", "coop-header-invalid", -5),
        ('"same-origin"', "coop-header-invalid", -5),
        ("same-origin" + " " * 1020 + "x", "coop-implemented-with-same-origin", 10),
    ],
)
def test_coop_test_of_algorithm_6(
    value: str | None, result: str, modifier: int
) -> None:
    headers = [] if value is None else [("Cross-Origin-Opener-Policy", value)]
    graded = grade_response(HTML + headers, url="https://x/", algorithm=6)
    test = graded["cross-origin-opener-policy"]
    assert (test.result, test.score_modifier) == (result, modifier)
    assert test.passed is (modifier >= 0)


@pytest.mark.parametrize(
    ("value", "result", "modifier"),
    [
        (None, "coep-not-implemented", 0),
        ("require-corp", "coep-implemented-with-require-corp", 10),
        ("credentialless", "coep-implemented-with-credentialless", 10),
        ("unsafe-none", "coep-implemented-with-unsafe-none", 0),
        ("require_corp", "coep-header-invalid", -5),
    ],
)
def test_coep_test_of_algorithm_6(
    value: str | None, result: str, modifier: int
) -> None:
    headers = [] if value is None else [("Cross-Origin-Embedder-Policy", value)]
    assert _result(headers, "cross-origin-embedder-policy", algorithm=6) == result


@pytest.mark.parametrize(
    "header", ["Cross-Origin-Opener-Policy", "Cross-Origin-Embedder-Policy"]
)
def test_coop_or_coep_sent_twice_is_invalid(header: str) -> None:
    value = "same-origin" if "Opener" in header else "require-corp"
    test = header.lower().removeprefix("")
    graded = grade_response(HTML + [(header, value), (header, value)], algorithm=6)
    assert graded[test].result.endswith("-header-invalid")


def _strict_page(coep: str | None) -> H:
    app = Flask("strict_v6")
    app.secret_key = "test"
    headers = {"Cross-Origin-Embedder-Policy": coep} if coep else {}
    HeaderPolicy(app, preset="strict", headers=headers)

    @app.get("/")
    def page() -> str:
        session["user"] = "ada"
        return "<!doctype html><p>page</p>"

    response = app.test_client().get("/", base_url="https://localhost/")
    return response.headers.to_wsgi_list()


def test_strict_preset_scores_155_under_algorithm_6_with_coep() -> None:
    """The reference's maximum without preload or external scripts."""
    v5 = grade_response(_strict_page("require-corp"), url="https://localhost/")
    v6 = grade_response(
        _strict_page("require-corp"), url="https://localhost/", algorithm=6
    )
    assert (v5.score, v6.score, v6.grade) == (135, 155, "A+")
    without = grade_response(_strict_page(None), url="https://localhost/", algorithm=6)
    assert without.score == 145  # the strict preset sends COOP, not COEP


@pytest.mark.parametrize("algorithm", [4, 7, True, "6"])
def test_an_unknown_algorithm_is_refused(algorithm: object) -> None:
    with pytest.raises(ValueError, match="choose one of 5, 6"):
        grade_response(HTML, algorithm=algorithm)  # type: ignore[arg-type]


# html-not-parseable.


NOT_HTML = "sri-not-implemented-response-not-html"
NO_SCRIPTS = "sri-not-implemented-but-no-scripts-loaded"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"


@pytest.mark.parametrize(
    ("body", "content_type", "result"),
    [
        (b"\x1f\x8b\x08\x00gzip bytes", "text/html", "html-not-parseable"),
        (PNG, "text/html", "html-not-parseable"),
        (PNG, None, "html-not-parseable"),
        ("<p>a\x00b</p>", "text/html", "html-not-parseable"),
        (PNG, "image/png", NOT_HTML),
        ("<p>caf\xe9</p>".encode("utf-16"), "text/html", NO_SCRIPTS),
        (b"<p>\xff\xfe broken</p>", "text/html; charset=utf-8", NO_SCRIPTS),
        (b"", "text/html", NO_SCRIPTS),
    ],
)
def test_html_not_parseable(
    body: str | bytes, content_type: str | None, result: str
) -> None:
    headers = [] if content_type is None else [("Content-Type", content_type)]
    graded = grade_response(headers, body=body, url="https://x/")
    test = graded["subresource-integrity"]
    assert test.result == result
    if result == "html-not-parseable":
        assert test.score_modifier == -20
        assert not test.passed


# CSP Evaluator, 2026-05.


def _codes(csp: str) -> set[str]:
    headers = HTML + [("Content-Security-Policy", csp)]
    return {f.code for f in grade_response(headers, url="https://x/").findings}


@pytest.mark.parametrize(
    ("script_src", "unsafe"),
    [
        ("'nonce-' 'unsafe-inline'", True),
        ("'nonce-a!b' 'unsafe-inline'", True),
        ("'sha256-' 'unsafe-inline'", True),
        ("'sha256-$$$' 'unsafe-inline'", True),
        ("'sha1-abcd' 'unsafe-inline'", True),
        ("'nonce-r4nd0m+/_-==' 'unsafe-inline'", False),
        ("'sha256-abcDEF123+/=' 'unsafe-inline'", False),
    ],
)
def test_a_malformed_nonce_or_hash_does_not_neutralise_unsafe_inline(
    script_src: str, unsafe: bool
) -> None:
    codes = _codes(f"script-src {script_src}; object-src 'none'; base-uri 'none'")
    assert ("csp-unsafe-inline" in codes) is unsafe


@pytest.mark.parametrize(
    ("reporting", "code"),
    [
        ("report-to csp", "csp-report-to-only"),
        ("report-uri /r", None),
        ("report-to csp; report-uri /r", None),
        ("", "csp-no-reporting"),
    ],
)
def test_report_to_without_report_uri(reporting: str, code: str | None) -> None:
    codes = _codes(f"default-src 'none'; {reporting}".rstrip("; "))
    reporting_codes = codes & {"csp-report-to-only", "csp-no-reporting"}
    assert reporting_codes == ({code} if code else set())
