"""Prebuilt branches: what a response gets from its branch is what merging
the declarations one by one gives it, and a branch is made once."""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask
from flask import render_template
from flask import Response
from hypothesis import assume
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from jinja2 import DictLoader
from markupsafe import Markup
from werkzeug.test import EnvironBuilder

from flask_header_policy import _apply
from flask_header_policy import append
from flask_header_policy import ContentSecurityPolicy
from flask_header_policy import CookiePolicy
from flask_header_policy import force
from flask_header_policy import Header
from flask_header_policy import HeaderPolicy
from flask_header_policy import InvalidHeaderError
from flask_header_policy import NONCE
from flask_header_policy import only_for
from flask_header_policy import remove
from flask_header_policy import SELF
from flask_header_policy._apply import CompiledPolicy
from flask_header_policy._apply import NONCE_KEY
from flask_header_policy._upgrade import with_plain_variant
from flask_header_policy.extension import _stack
from flask_header_policy.rules import declare
from flask_header_policy.rules import INHERIT

HeaderList = list[tuple[str, str]]

NONCE_CSP = ContentSecurityPolicy(
    {"script-src": [NONCE, "'strict-dynamic'"], "object-src": ["'none'"]}
)
UPGRADE_CSP = ContentSecurityPolicy(
    {"default-src": [SELF], "upgrade-insecure-requests": True}
)
TYPES = (["text/html"], ["application/json"], ["text/*"], ["image/png", "text/html"])


def _values() -> st.SearchStrategy[t.Any]:
    plain = st.sampled_from(["one", "two", "a, b"])
    csp_like = st.sampled_from([NONCE_CSP, UPGRADE_CSP, "default-src 'none'"])
    return st.one_of(
        plain,
        plain.map(force),
        plain.map(append),
        st.just(remove()),
        plain.map(lambda value: Header(value, secure_only=True)),
        st.builds(
            only_for,
            st.sampled_from(TYPES),
            plain,
            otherwise=st.sampled_from([None, "other", INHERIT]),
        ),
        st.builds(
            lambda kind, value: only_for(kind, force(value)),
            st.sampled_from(TYPES),
            plain,
        ),
        st.just(lambda request, response: "computed"),
        st.just(lambda request, response: None),
        csp_like,
    )


# Names a response may carry too; the CSP ones take the CSP values.
NAMES = ["X-A", "X-B", "Vary", "Set-Cookie"]
CSPS = ["Content-Security-Policy", "Content-Security-Policy-Report-Only"]


@st.composite
def layers(draw: st.DrawFn) -> dict[str, t.Any]:
    layer: dict[str, t.Any] = {}
    for name in draw(st.lists(st.sampled_from(NAMES + CSPS), unique=True)):
        value = draw(_values())
        if name in CSPS and isinstance(value, str) and "'" not in value:
            value = "default-src 'self'"  # a CSP value must read as one
        if name not in CSPS and isinstance(value, ContentSecurityPolicy):
            value = "one"
        layer[name] = value
    return layer


RESPONSE_HEADERS = [
    ("Content-Type", "text/html; charset=utf-8"),
    ("content-type", "application/json"),
    ("Content-Type", "image/png"),
    ("X-A", "response"),
    ("x-b", "response"),
    ("Vary", "Cookie"),
    ("Set-Cookie", "a=b"),
    ("Content-Security-Policy", "default-src 'self'"),
    ("Content-Length", "5"),
]


class _State:
    request = None

    def response(self) -> None:
        return None

    def nonce(self) -> str:
        return "N"


def _compile(lower: dict[str, t.Any], upper: dict[str, t.Any]) -> CompiledPolicy:
    merged = _stack(declare(lower, layer="app"), declare(upper, layer="view"))
    for key in ("content-security-policy",):
        if key in merged:
            merged[key] = with_plain_variant(merged[key])
    return CompiledPolicy(list(merged.values()))


def general(compiled: CompiledPolicy, headers: HeaderList, secure: bool) -> HeaderList:
    out = list(headers)
    compiled.apply(out, secure, _State(), environ={NONCE_KEY: "N"})
    return out


def by_branch(
    compiled: CompiledPolicy, headers: HeaderList, secure: bool
) -> HeaderList | None:
    """What the extension sends from the branch, or ``None`` when the
    response must take the general path."""
    side = compiled.secure if secure else compiled.plain
    present = {name.lower() for name, _ in headers}
    branch = side.for_headers(headers)
    if not (branch.fast and present.isdisjoint(branch.names)):
        return None
    out = list(headers)
    branch.extend(out, {NONCE_KEY: "N"})
    return out


@settings(max_examples=200, deadline=None)
@given(
    layers(),
    layers(),
    st.lists(st.sampled_from(RESPONSE_HEADERS), max_size=4),
    st.booleans(),
)
def test_a_branch_sends_what_merging_one_by_one_sends(
    lower: dict[str, t.Any],
    upper: dict[str, t.Any],
    headers: HeaderList,
    secure: bool,
) -> None:
    try:
        compiled = _compile(lower, upper)
    except InvalidHeaderError:
        assume(False)  # e.g. append() of a CSP
        raise
    fast = by_branch(compiled, headers, secure)
    if fast is not None:
        assert fast == general(compiled, headers, secure)


def test_the_fast_path_is_the_common_one() -> None:
    compiled = _compile(
        {"X-A": "one", "Content-Security-Policy": only_for("text/html", NONCE_CSP)},
        {"X-B": remove()},
    )
    html = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "5")]
    assert by_branch(compiled, html, True) == [
        *html,
        ("X-A", "one"),
        (
            "Content-Security-Policy",
            "script-src 'nonce-N' 'strict-dynamic'; object-src 'none'",
        ),
    ]
    # A header of the response that the branch declares: the general path.
    assert by_branch(compiled, [*html, ("x-b", "1")], True) is None
    # One the branch does not declare for this type: still the branch.
    json = [("Content-Type", "application/json"), ("Content-Security-Policy", "x")]
    assert by_branch(compiled, json, True) == [*json, ("X-A", "one")]
    # A callable: never the branch.
    dynamic = _compile({"X-A": lambda request, response: "d"}, {})
    assert by_branch(dynamic, html, True) is None


def test_branches_are_made_once_per_type_and_bounded() -> None:
    compiled = _compile(
        {
            "Content-Security-Policy": only_for(
                "text/html", NONCE_CSP, otherwise="default-src 'none'"
            )
        },
        {},
    )
    side = compiled.secure
    html = side.for_type("text/html; charset=utf-8")
    assert side.for_type("text/html; charset=utf-8") is html
    assert side.for_type("text/html") is html  # the same mimetypes
    assert side.for_headers([("content-type", "TEXT/HTML")]) is html
    assert side.for_type("application/json") is not html
    for number in range(2000):
        side.for_type(f"text/plain; v={number}")
    assert len(side.by_type) <= 256
    assert len(side.by_found) <= 256


@pytest.mark.parametrize(
    ("content_types", "html"),
    [
        ([], False),
        (["application/json"], False),
        (["text/html"], True),
        (["application/json", "text/html"], True),  # any field (issue 7)
        (["text/html, application/json"], True),
    ],
)
def test_any_html_content_type_selects_the_html_branch(
    content_types: list[str], html: bool
) -> None:
    compiled = _compile(
        {
            "Content-Security-Policy": only_for(
                "text/html", NONCE_CSP, otherwise="default-src 'none'"
            )
        },
        {},
    )
    branch = compiled.secure.for_headers([("Content-Type", v) for v in content_types])
    assert branch.html is html
    assert bool(branch.nonces) is html


def test_hashed_variants_are_spliced_once_per_set() -> None:
    compiled = _compile({"Content-Security-Policy": NONCE_CSP}, {})
    branch = compiled.secure.for_type("text/html")
    calls: list[tuple[str, frozenset[int]]] = []

    def splice(text: str, numbers: frozenset[int]) -> str:
        calls.append((text, numbers))
        return text + "; style-src 'sha256-x'"

    first = branch.hashed({1, 2}, splice)
    assert branch.hashed([2, 1], splice) is first
    assert calls == [
        (
            "script-src 'nonce-{nonce}' 'strict-dynamic'; object-src 'none'",
            frozenset({1, 2}),
        )
    ]
    out: HeaderList = []
    first.extend(out, {NONCE_KEY: "abc"})
    assert out == [
        (
            "Content-Security-Policy",
            "script-src 'nonce-abc' 'strict-dynamic'; object-src 'none';"
            " style-src 'sha256-x'",
        )
    ]


# The extension's inline fast path (the first header, the names table, the
# cookie and own-CSP flags, the hashed variants) against the general path,
# through the whole WSGI wrapper.

TEMPLATES = {
    "handler.html": "<button onclick=\"return confirm('Sure?')\">x</button>",
    "plain.html": "<p>x</p>",
    "trusted.html": "{{ markup | trust_scripts }}",
}
TRUSTED = Markup('<button onclick="go()">x</button>')
# What a lower layer often is: a CSP with a nonce, a name responses have, a
# value by mimetype.
HTML = ("Content-Type", "text/html; charset=utf-8")
JSON = ("Content-Type", "application/json")
BASE = {
    "Content-Security-Policy": NONCE_CSP,
    "X-A": "one",
    "X-B": only_for("text/html", "page", otherwise="other"),
}


def _app(
    lower: dict[str, t.Any],
    upper: dict[str, t.Any],
    headers: HeaderList,
    template: str,
    stamp: bool,
) -> Flask:
    app = Flask("branches")
    app.jinja_loader = DictLoader(TEMPLATES)
    policy = HeaderPolicy(
        app, headers=lower, stamp_nonces=stamp, cookies=CookiePolicy()
    )

    @app.get("/")
    def index() -> Response:
        if template:
            render_template(template, markup=TRUSTED)  # records its hashes
        response = Response("x")
        response.headers.clear()
        for name, value in headers:
            response.headers.add(name, value)
        return response

    policy.add_view_headers("index", upper)
    return app


def _sent(app: Flask, scheme: str) -> list[tuple[str, str]]:
    environ = EnvironBuilder(base_url=f"{scheme}://app.example/").get_environ()
    environ[NONCE_KEY] = "N"
    sent: list[tuple[str, str]] = []

    def start_response(
        status: str, headers: HeaderList, exc_info: t.Any = None
    ) -> t.Any:
        sent.extend(headers)
        return lambda data: None

    body = app(environ, start_response)
    b"".join(body)
    t.cast(t.Any, body).close()
    return sent


def _general_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every response takes :meth:`CompiledPolicy.apply`."""
    init = _apply.Branch.__init__

    def no_shortcut(self: _apply.Branch, *args: t.Any, **kwargs: t.Any) -> None:
        init(self, *args, **kwargs)
        self.simple = False

    monkeypatch.setattr(_apply.Branch, "__init__", no_shortcut)
    monkeypatch.setattr(_apply.Branch, "scan", lambda self, headers: -1)


# Headers of the response that no layer declares, so that the branch is
# taken often.
OWN_HEADERS = [
    ("X-Own", "1"),
    ("x-own", "2"),
    ("Set-Cookie", "own=1"),
    ("Set-Cookie", "own=2; SameSite=None; Secure"),
    ("Content-Security-Policy-Report-Only", "script-src 'self'"),
    ("Content-Type", "text/html"),  # a second one
]


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(st.just(BASE), layers()),
    st.one_of(st.just({}), layers()),
    st.lists(st.sampled_from(RESPONSE_HEADERS + OWN_HEADERS * 2), max_size=3),
    st.sampled_from(RESPONSE_HEADERS[:3] + [("Content-Type", "text/html")] * 3),
    st.sampled_from([True, True, True, False]),
    st.sampled_from(list(TEMPLATES)),
    st.booleans(),
    st.sampled_from(["https", "http"]),
)
# Each a shortcut of the fast path: hashes of the templates, of trusted
# markup, a second Content-Type, a cookie, a header of the policy.
@example(BASE, {}, [], HTML, True, "handler.html", True, "https")
@example(BASE, {}, [], HTML, True, "trusted.html", True, "http")
@example(BASE, {}, [("Content-Type", "text/html")], JSON, True, "", False, "https")
@example(BASE, {}, [("Set-Cookie", "own=1")], HTML, True, "", False, "https")
@example(BASE, {}, [("X-A", "own")], HTML, True, "plain.html", False, "https")
def test_the_fast_path_sends_what_the_general_path_sends(
    lower: dict[str, t.Any],
    upper: dict[str, t.Any],
    headers: HeaderList,
    first: tuple[str, str],
    typed: bool,
    template: str,
    stamp: bool,
    scheme: str,
) -> None:
    if typed:  # as Flask makes them: the Content-Type first
        headers = [first, *headers]
    try:
        fast = _sent(_app(lower, upper, headers, template, stamp), scheme)
    except InvalidHeaderError:
        assume(False)  # e.g. append() of a CSP
        raise
    with pytest.MonkeyPatch.context() as monkeypatch:
        _general_only(monkeypatch)
        general = _sent(_app(lower, upper, headers, template, stamp), scheme)
    assert fast == general
