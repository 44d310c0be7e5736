"""The audit accepts anything without raising, in time linear in its input."""

from __future__ import annotations

import ast
import pathlib

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

import flask_header_policy
from flask_header_policy.audit import compare_nonces
from flask_header_policy.audit import grade_response
from flask_header_policy.audit import SCORE_TABLE

GRADED = [
    "Content-Security-Policy",
    "Content-Security-Policy-Report-Only",
    "Set-Cookie",
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Referrer-Policy",
    "Strict-Transport-Security",
    "Content-Type",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Cross-Origin-Resource-Policy",
    "X-XSS-Protection",
    "Server",
]
GRADES = {"A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D+", "D", "D-", "F"}
# Text made of the characters that matter to the parsers, so that examples hit them.
_TOKENS = st.sampled_from(
    [
        ";",
        ",",
        "=",
        " ",
        "'",
        '"',
        "\t",
        "*",
        ":",
        "/",
        "'self'",
        "'none'",
        "'nonce-",
        "'sha256-",
        "'strict-dynamic'",
        "'unsafe-inline'",
        "'unsafe-eval'",
        "http:",
        "https:",
        "data:",
        "default-src",
        "script-src",
        "object-src",
        "frame-ancestors",
        "max-age=",
        "31536000",
        "includeSubDomains",
        "preload",
        "Secure",
        "HttpOnly",
        "SameSite",
        "Lax",
        "None",
        "sess",
        "csrf",
        "no-referrer",
        "unsafe-url",
        "nosniff",
        "DENY",
        "same-origin",
        "text/html",
        "charset",
        "\x00",
        "\r\n",
        "\u00e9",
        "\U0001f600",
    ]
)
_HEADER_TEXT = st.one_of(st.text(), st.lists(_TOKENS, max_size=30).map("".join))
_BODY = st.one_of(
    st.none(),
    st.text(),
    st.binary(),
    st.lists(
        st.sampled_from(
            [
                "<script",
                " src=",
                "'//x'",
                "http://a/x.js",
                " integrity=x",
                ">",
                "</script>",
                "<meta",
                " http-equiv=content-security-policy",
                " name=referrer",
                " content='default-src *'",
                "<!--",
                "<![CDATA[",
                "&amp;",
                "<",
                "\x00",
            ]
        ),
        max_size=30,
    ).map("".join),
)


def _check(graded: object) -> None:
    from flask_header_policy.audit import GradeResult

    assert isinstance(graded, GradeResult)
    assert graded.grade in GRADES
    assert 0 <= graded.score <= 145
    for test in graded.tests:
        assert SCORE_TABLE[test.result][0] == test.score_modifier


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.tuples(st.text(), st.text()), max_size=8), _BODY, st.text())
def test_arbitrary_header_lists(
    headers: list[tuple[str, str]], body: object, url: str
) -> None:
    _check(grade_response(headers, body=body, url=url))  # type: ignore[arg-type]


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(GRADED), _HEADER_TEXT), max_size=6),
    _BODY,
    st.sampled_from(["https://localhost/", "http://localhost/", "https://[::1", ""]),
    st.one_of(st.none(), st.text()),
)
def test_arbitrary_values_of_graded_headers(
    headers: list[tuple[str, str]], body: object, url: str, origin: str | None
) -> None:
    _check(grade_response(headers, body=body, url=url, origin=origin))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", GRADED)
@settings(max_examples=2000, deadline=None)
@given(value=_HEADER_TEXT)
def test_arbitrary_value_per_header(name: str, value: str) -> None:
    _check(grade_response([(name, value), (name.lower(), value)]))


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(st.tuples(st.just("Content-Security-Policy"), _HEADER_TEXT), max_size=3),
    st.lists(st.tuples(st.just("Content-Security-Policy"), _HEADER_TEXT), max_size=3),
)
def test_compare_nonces_never_raises(
    first: list[tuple[str, str]], second: list[tuple[str, str]]
) -> None:
    finding = compare_nonces(first, second)
    assert finding is None or finding.code == "csp-nonce-reused"


@pytest.mark.parametrize(
    "junk", [None, 3, "not pairs", [("a",)], [(1, 2)], [None], {1: 2}]
)
def test_junk_headers(junk: object) -> None:
    _check(grade_response(junk, body=object(), url=None, origin=5))  # type: ignore[arg-type]


def test_mapping_headers() -> None:
    graded = grade_response({"X-Frame-Options": "DENY"})
    assert graded["x-frame-options"].result == "x-frame-options-sameorigin-or-deny"


MB = 1024 * 1024


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (
            "Content-Security-Policy",
            "default-src 'none'; script-src " + "'nonce-abcdefgh' " * (MB // 17),
        ),
        ("Content-Security-Policy", "default-src 'none'" + ";" * MB),
        ("Content-Security-Policy", "default-src 'self'," * (MB // 19)),
        ("Strict-Transport-Security", "max-age=" + "9" * MB),
        ("Strict-Transport-Security", "max-age=1;" * (MB // 10)),
        ("Set-Cookie", "sessionid=" + "a" * MB + "; Secure; HttpOnly"),
        ("Set-Cookie", "sid=1" + "; x" * (MB // 3)),
        ("Referrer-Policy", "no-referrer, " * (MB // 13)),
        ("X-Frame-Options", " " * MB + "DENY"),
        ("Server", "x" * MB),
    ],
)
def test_one_megabyte_value_is_graded(name: str, value: str) -> None:
    graded = grade_response([(name, value)], body="<script src=x>" * 1000)
    _check(graded)
    assert len(graded.tests) == 9


def test_sans_io() -> None:
    root = pathlib.Path(flask_header_policy.__file__).parent
    audit = [
        "__init__",
        "_csp_checks",
        "_csp_grade",
        "_fields",
        "_html",
        "_scoring",
        "_types",
        "findings",
        "grader",
    ]
    for path in [root / "cookies.py", *(root / "audit" / f"{m}.py" for m in audit)]:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "flask" for n in names), path
