from __future__ import annotations

import ast
import base64
import dataclasses
import hashlib
import pathlib
import pickle
import typing as t

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_header_policy import csp
from flask_header_policy.csp import ContentSecurityPolicy
from flask_header_policy.csp import hash_source
from flask_header_policy.csp import NONCE
from flask_header_policy.csp import NONE
from flask_header_policy.csp import parse_policy_list
from flask_header_policy.csp import SELF
from flask_header_policy.csp import STRICT_DYNAMIC
from flask_header_policy.csp import UNSAFE_INLINE
from flask_header_policy.errors import InvalidHeaderError

CSP = ContentSecurityPolicy
SHA256_A = "'sha256-" + base64.b64encode(hashlib.sha256(b"a").digest()).decode() + "'"


def test_module_is_sans_io() -> None:
    tree = ast.parse(pathlib.Path(csp.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    }
    assert not {
        name for name in imported if name.split(".")[0] in ("flask", "werkzeug")
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("SELF", "'self'"),
        ("NONE", "'none'"),
        ("UNSAFE_INLINE", "'unsafe-inline'"),
        ("UNSAFE_EVAL", "'unsafe-eval'"),
        ("STRICT_DYNAMIC", "'strict-dynamic'"),
        ("UNSAFE_HASHES", "'unsafe-hashes'"),
        ("REPORT_SAMPLE", "'report-sample'"),
        ("WASM_UNSAFE_EVAL", "'wasm-unsafe-eval'"),
        ("UNSAFE_ALLOW_REDIRECTS", "'unsafe-allow-redirects'"),
        ("TRUSTED_TYPES_EVAL", "'trusted-types-eval'"),
    ],
)
def test_keyword_constants(name: str, expected: str) -> None:
    assert getattr(csp, name) == expected
    assert CSP(script_src=[NONCE, expected] if expected != NONE else expected)


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        (({"default-src": [NONE]},), {}, "default-src 'none'"),
        ((), {"default_src": SELF}, "default-src 'self'"),
        (
            ({"default-src": [SELF]},),
            {"img_src": ["data:", "https://*.example.com:8443/img/"]},
            "default-src 'self'; img-src data: https://*.example.com:8443/img/",
        ),
        (
            (),
            {"script_src": [SELF, SHA256_A, STRICT_DYNAMIC], "object_src": NONE},
            f"script-src 'self' {SHA256_A} 'strict-dynamic'; object-src 'none'",
        ),
        (
            (),
            {"default_src": SELF, "upgrade_insecure_requests": True},
            "default-src 'self'; upgrade-insecure-requests",
        ),
        (
            ([("img-src", "*"), ("report-uri", ["/csp", "https://r.example/c?a=1"])],),
            {"report_to": "csp-end"},
            "img-src *; report-uri /csp https://r.example/c?a=1; report-to csp-end",
        ),
        (
            (),
            {"frame_ancestors": [SELF, "https://parent.example"], "base_uri": NONE},
            "frame-ancestors 'self' https://parent.example; base-uri 'none'",
        ),
        ((), {"sandbox": True}, "sandbox"),
        (
            (),
            {"sandbox": ["allow-scripts", "allow-forms"]},
            "sandbox allow-scripts allow-forms",
        ),
        (
            (),
            {"webrtc": "'block'", "block_all_mixed_content": True},
            "webrtc 'block'; block-all-mixed-content",
        ),
        (
            (),
            {
                "require_trusted_types_for": "'script'",
                "trusted_types": ["app", "'allow-duplicates'"],
            },
            "require-trusted-types-for 'script'; trusted-types app 'allow-duplicates'",
        ),
        ((), {"trusted_types": True}, "trusted-types"),
        ((), {"object_src": [NONE, NONE]}, "object-src 'none'"),
        # None and False leave a directive out; repeated sources collapse.
        (
            (),
            {
                "img_src": [SELF, SELF, "blob:"],
                "style_src": None,
                "upgrade_insecure_requests": False,
            },
            "img-src 'self' blob:",
        ),
        # Keyword order is kept, and names are case-insensitive in a mapping.
        (
            ({"IMG-SRC": SELF},),
            {"script_src": "'nonce-abc_-+/=='", "connect_src": "wss://x.example"},
            "img-src 'self'; script-src 'nonce-abc_-+/=='; connect-src wss://x.example",
        ),
        (
            (),
            {"connect_src": ["localhost:5000", "http://127.0.0.1:*", "example.com."]},
            "connect-src localhost:5000 http://127.0.0.1:* example.com.",
        ),
    ],
)
def test_construct_and_render(
    args: tuple[t.Any, ...], kwargs: dict[str, t.Any], expected: str
) -> None:
    policy = CSP(*args, **kwargs)
    assert policy.to_header() == expected
    assert str(policy) == expected
    assert not policy.uses_nonce
    assert eval(repr(policy), {"ContentSecurityPolicy": CSP}) == policy


@pytest.mark.parametrize(
    ("policy", "bad"),
    [
        ({}, "no directives"),
        ({"script-src": "self"}, "write SELF / \"'self'\""),
        ({"default-src": ["none"]}, "write NONE"),
        ({"script-src": ["unsafe-inline"]}, "write UNSAFE_INLINE"),
        ({"frame-ancestors": "Self"}, "'Self'"),
        ({"script-src": "nonce-abc"}, "\"'nonce-abc'\""),
        ({"scrpt-src": SELF}, "'script-src'"),
        ({"script_src ": SELF}, "unknown directive"),
        ({"referrer": "origin"}, "Referrer-Policy"),
        ({"reflected-xss": "block"}, "deprecated"),
        ({"plugin-types": "application/pdf"}, "object-src 'none'"),
        ({"prefetch-src": SELF}, "prefetch-src"),
        ({"navigate-to": SELF}, "navigate-to"),
        ({"disown-opener": True}, "Cross-Origin-Opener-Policy"),
        ({"img-src": "a.example b.example"}, "'a.example b.example'"),
        ({"img-src": "a.example;"}, "';'"),
        ({"img-src": "https://a.example/x,y"}, "','"),
        ({"img-src": "a.example\r\nX-Evil: 1"}, "'\\r' (CR)"),
        ({"img-src": "exämple.com"}, "'ä'"),
        ({"img-src": ""}, "empty source"),
        ({"img-src": []}, "write [NONE]"),
        ({"img-src": True}, "not True"),
        ({"img-src": 5}, "not int"),
        ({"img-src": [b"x"]}, "not bytes"),
        ({"img-src": "https://"}, "'https://'"),
        ({"img-src": "exa_mple.com"}, "'exa_mple.com'"),
        ({"script-src": "'unsafe_inline'"}, "did you mean 'unsafe-inline'"),
        ({"script-src": "'self"}, '"\'self"'),
        ({"script-src": [STRICT_DYNAMIC]}, "'strict-dynamic' without a nonce or hash"),
        (
            {"script-src-elem": [SELF, STRICT_DYNAMIC]},
            "script-src-elem: 'strict-dynamic'",
        ),
        (
            {"default-src": [UNSAFE_INLINE, STRICT_DYNAMIC]},
            "default-src: 'strict-dynamic'",
        ),
        ({"default-src": [NONE, SELF]}, "'none' cannot be combined"),
        ({"script-src": [SELF, NONE]}, "'none' cannot be combined"),
        ({"script-src": [NONE, NONE, SELF]}, "'none' cannot be combined"),
        ({"script-src": "'sha256-abc'"}, "\"'sha256-abc'\""),
        ({"script-src": SHA256_A.replace("=", "")}, "44 characters"),
        ({"script-src": SHA256_A.replace("sha256", "sha512")}, "88 characters"),
        ({"script-src": "'sha1-" + "A" * 27 + "='"}, "'sha1-"),
        ({"script-src": "'nonce-'"}, "\"'nonce-'\""),
        ({"script-src": "'nonce-a b'"}, "'nonce-a b'"),
        ({"script-src": "'nonce-a!'"}, "\"'nonce-a!'\""),
        ({"frame-ancestors": UNSAFE_INLINE}, "\"'unsafe-inline'\" is not allowed"),
        ({"frame-ancestors": SHA256_A}, "is not allowed"),
        ({"report-to": ["a", "b"]}, "'a b'"),
        ({"report-to": "'self'"}, "\"'self'\""),
        ({"report-to": "a@b"}, "'a@b'"),
        ({"report-uri": "'self'"}, "is not a URL"),
        ({"report-uri": "/csp<x>"}, "'/csp<x>'"),
        ({"report-uri": "/a;b"}, "';'"),
        ({"webrtc": "allow"}, "'allow'"),
        ({"webrtc": ["'allow'", "'block'"]}, "\"'allow' 'block'\""),
        ({"sandbox": "allow-script"}, "'allow-script'"),
        ({"sandbox": "'none'"}, "unknown flag"),
        ({"require-trusted-types-for": "script"}, "'script'"),
        ({"trusted-types": ["app", NONE]}, "'none' cannot be combined"),
        ({"trusted-types": "a<b"}, "'a<b'"),
        ({"upgrade-insecure-requests": "yes"}, "pass True"),
        ({"upgrade-insecure-requests": [SELF]}, "pass True"),
        ({1: SELF}, "not int"),
        ([("img-src", SELF), ("img_src", "data:")], "'img-src' is declared twice"),
    ],
)
def test_invalid(policy: t.Any, bad: str) -> None:
    with pytest.raises(InvalidHeaderError) as info:
        CSP(policy)
    assert bad in str(info.value)
    assert info.value.header == "Content-Security-Policy"


def test_mapping_and_keyword_duplicate() -> None:
    with pytest.raises(InvalidHeaderError, match="'script-src' is declared twice"):
        CSP({"script-src": SELF}, script_src=SELF)


@pytest.mark.parametrize(
    "header",
    [
        "default-src 'none'",
        "default-src 'self'; script-src 'nonce-r4nd0m' 'strict-dynamic';"
        " object-src 'none'; base-uri 'none'",
        f"script-src {SHA256_A} 'unsafe-hashes' 'report-sample';"
        " style-src 'self' 'unsafe-inline'",
        "img-src * data: blob:; media-src https://*.cdn.example:443/v/;"
        " font-src fonts.gstatic.com",
        "frame-ancestors 'none'; form-action 'self'; upgrade-insecure-requests",
        "report-uri /csp-report https://r.example/x; report-to default",
        "sandbox allow-scripts allow-same-origin; webrtc 'allow'",
        "require-trusted-types-for 'script';"
        " trusted-types default dompurify 'allow-duplicates'",
        "script-src 'wasm-unsafe-eval' 'trusted-types-eval' 'unsafe-eval';"
        " connect-src 'unsafe-allow-redirects' 'self'",
        "worker-src blob:; manifest-src 'self'; child-src 'self'; frame-src https:;"
        " sandbox",
    ],
)
def test_round_trip(header: str) -> None:
    policy = CSP.from_header(header)
    assert policy.to_header() == header
    assert CSP.from_header(policy.to_header()) == policy
    assert hash(CSP.from_header(header)) == hash(policy)


def test_from_header_normalises_spacing_and_case() -> None:
    policy = CSP.from_header("  Default-SRC\t'self' ;; IMG-src  data:  ;")
    assert policy == CSP(default_src=SELF, img_src="data:")
    assert policy.to_header() == "default-src 'self'; img-src data:"


@pytest.mark.parametrize(
    ("header", "bad"),
    [
        ("", "no directives"),
        (" ; ; ", "no directives"),
        ("default-src 'self', img-src *", "',' at index 18"),
        ("script-src 'self'; script-src *", "'script-src' is declared twice"),
        ("script_src 'self'", "unknown directive 'script_src'"),
        ("script-src self", "write SELF"),
        ("script-src 'nonce-{nonce}'", "placeholder"),
        ("script-src 'self'\r\nSet-Cookie: a=b", "'\\r' (CR)"),
        ("img-src h\u00e9.example", "'é'"),
        ("img-src \u2028x", "U+2028"),
        ("referrer no-referrer", "deprecated"),
        ("upgrade-insecure-requests 1", "pass True"),
        ("img-src", "needs a value"),
    ],
)
def test_from_header_invalid(header: str, bad: str) -> None:
    with pytest.raises(InvalidHeaderError) as info:
        CSP.from_header(header)
    assert bad in str(info.value)


def test_from_header_nonce_is_concrete() -> None:
    policy = CSP.from_header("script-src 'nonce-abc123' 'strict-dynamic'")
    assert not policy.uses_nonce
    assert policy["script-src"] == ("'nonce-abc123'", STRICT_DYNAMIC)


@pytest.mark.parametrize("algorithm", ["sha256", "sha384", "sha512"])
@pytest.mark.parametrize("text", ["alert(1)", "", "console.log('é')\n"])
def test_hash_source(text: str, algorithm: str) -> None:
    digest = hashlib.new(algorithm, text.encode("utf-8")).digest()
    expected = f"'{algorithm}-{base64.b64encode(digest).decode('ascii')}'"
    assert hash_source(text, algorithm) == expected
    assert hash_source(text.encode("utf-8"), algorithm) == expected
    assert CSP(script_src=[expected, STRICT_DYNAMIC])["script_src"][0] == expected


def test_hash_source_known_vector() -> None:
    assert (
        hash_source("alert(1)")
        == "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
    )


@pytest.mark.parametrize("algorithm", ["sha1", "md5", "SHA256", "sha3_256"])
def test_hash_source_algorithm(algorithm: str) -> None:
    with pytest.raises(InvalidHeaderError, match=repr(algorithm)):
        hash_source("x", algorithm)


def test_nonce() -> None:
    policy = CSP(default_src=NONE, script_src=[NONCE, STRICT_DYNAMIC], style_src=NONCE)
    assert policy.uses_nonce
    assert policy.to_header(nonce="r4nd0m-_+/A==") == (
        "default-src 'none'; script-src 'nonce-r4nd0m-_+/A==' 'strict-dynamic';"
        " style-src 'nonce-r4nd0m-_+/A=='"
    )
    assert str(policy) == (
        "default-src 'none'; script-src 'nonce-{nonce}' 'strict-dynamic';"
        " style-src 'nonce-{nonce}'"
    )
    with pytest.raises(InvalidHeaderError, match="a nonce is per request"):
        policy.to_header()


@pytest.mark.parametrize(
    "nonce", ["", "a b", "a'b", "abc;", "a=b", "abc===", "é", "a\r\n"]
)
def test_nonce_invalid(nonce: str) -> None:
    policy = CSP(script_src=NONCE)
    with pytest.raises(InvalidHeaderError, match="is not base64"):
        policy.to_header(nonce=nonce)


def test_nonce_ignored_without_placeholder() -> None:
    assert CSP(default_src=SELF).to_header(nonce="abc") == "default-src 'self'"


def test_value_object() -> None:
    policy = CSP(default_src=SELF, img_src=["data:", "*"])
    assert policy == CSP({"default-src": [SELF], "img-src": ("data:", "*")})
    assert policy != CSP(img_src=["data:", "*"], default_src=SELF)
    assert len({policy, CSP(default_src=SELF, img_src=["data:", "*"])}) == 1
    assert CSP.header_name == "Content-Security-Policy"
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy._directives = ()  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(policy)) == policy


def test_directives_view() -> None:
    policy = CSP(default_src=SELF, upgrade_insecure_requests=True)
    assert dict(policy.directives) == {
        "default-src": (SELF,),
        "upgrade-insecure-requests": (),
    }
    with pytest.raises(TypeError):
        policy.directives["img-src"] = ("*",)  # type: ignore[index]
    assert policy["default-src"] == policy["default_src"] == (SELF,)
    assert policy.get("img-src") is None
    assert policy.get("img-src", ()) == ()
    assert "upgrade-insecure-requests" in policy
    assert "img-src" not in policy
    assert 1 not in policy
    assert list(policy) == ["default-src", "upgrade-insecure-requests"]
    with pytest.raises(KeyError):
        policy["img-src"]


def test_copy_helpers() -> None:
    app = CSP(default_src=SELF, script_src=[NONCE, STRICT_DYNAMIC], img_src=SELF)
    view = app.with_sources("img_src", "https://maps.example", SELF)
    assert view["img-src"] == (SELF, "https://maps.example")
    assert app["img-src"] == (SELF,)

    added = app.with_sources("connect-src", "wss://live.example")
    assert list(added) == ["default-src", "script-src", "img-src", "connect-src"]

    replaced = app.with_directive("script-src", SELF)
    assert list(replaced) == ["default-src", "script-src", "img-src"]
    assert replaced["script-src"] == (SELF,)
    assert not replaced.uses_nonce

    flagged = app.with_directive("upgrade-insecure-requests")
    assert flagged.to_header(nonce="n").endswith("; upgrade-insecure-requests")

    dropped = app.without("img-src", "frame-src")
    assert list(dropped) == ["default-src", "script-src"]
    assert app.without("script_src").to_header() == "default-src 'self'; img-src 'self'"


@pytest.mark.parametrize(
    ("call", "bad"),
    [
        (lambda p: p.with_sources("object-src", SELF), "'none' cannot be combined"),
        (lambda p: p.with_sources("img-src", "self"), "write SELF"),
        (lambda p: p.with_sources("imgsrc", "x"), "unknown directive 'imgsrc'"),
        (lambda p: p.with_directive("script-src", STRICT_DYNAMIC), "'strict-dynamic'"),
        (lambda p: p.with_directive("script-src"), "needs a value"),
        (lambda p: p.with_directive("upgrade-insecure-requests", SELF), "pass True"),
        (lambda p: p.without("default-src", "object-src"), "no directives"),
        (lambda p: p.without("referrer"), "deprecated"),
    ],
)
def test_copy_helpers_revalidate(call: t.Callable[[CSP], CSP], bad: str) -> None:
    policy = CSP(default_src=SELF, object_src=NONE)
    with pytest.raises(InvalidHeaderError) as info:
        call(policy)
    assert bad in str(info.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", []),
        (",;, ;", []),
        ("default-src 'self'", [[("default-src", ["'self'"])]]),
        (
            "a b;A c,,x",
            [[("a", ["b"]), ("a", ["c"])], [("x", [])]],
        ),
        ("Script-SRC\t'SELF'\x0c\r\n  *", [[("script-src", ["'SELF'", "*"])]]),
        # Only ASCII is lowercased, only ASCII whitespace splits.
        ("İMG-src a\xa0b\u2028c", [[("İmg-src", ["a\xa0b\u2028c"])]]),
        ("KELVIN-\u212a x", [[("kelvin-\u212a", ["x"])]]),
        ("\x00;\x00 \x00", [[("\x00", []), ("\x00", ["\x00"])]]),
        (
            "img-src 'none' 'self'; img-src *",
            [[("img-src", ["'none'", "'self'"]), ("img-src", ["*"])]],
        ),
        (
            "report-uri https://a.example/x,report-to b",
            [[("report-uri", ["https://a.example/x"])], [("report-to", ["b"])]],
        ),
    ],
)
def test_parse_policy_list(
    value: str, expected: list[list[tuple[str, list[str]]]]
) -> None:
    assert parse_policy_list(value) == expected


_CSP_ALPHABET = "abcdefilmnoprstuy-_'*:/.;, \t\r\n\x00é=+" + "ABCDEFGHS0123456789"
_CSP_TEXT = st.one_of(
    st.text(),
    st.text(alphabet=_CSP_ALPHABET),
    st.lists(
        st.sampled_from(
            [
                "script-src",
                "default-src",
                "img-src",
                "report-to",
                "sandbox",
                "upgrade-insecure-requests",
                "webrtc",
                "trusted-types",
                SELF,
                NONE,
                NONCE,
                STRICT_DYNAMIC,
                "'nonce-abc'",
                SHA256_A,
                "self",
                "*",
                "data:",
                "https://a.example:*/p",
                "allow-scripts",
                "'allow'",
                ";",
                ",",
                " ",
            ]
        )
    ).map(" ".join),
)


@settings(max_examples=2000, deadline=None)
@given(_CSP_TEXT)
def test_parse_never_raises(value: str) -> None:
    policies = parse_policy_list(value)
    for policy in policies:
        assert policy
        for name, sources in policy:
            assert name and all(sources)
    try:
        policy_obj = CSP.from_header(value)
    except InvalidHeaderError:
        return
    if not policy_obj.uses_nonce:
        assert CSP.from_header(policy_obj.to_header()) == policy_obj


def test_from_header_takes_str() -> None:
    with pytest.raises(InvalidHeaderError, match="takes a str, not bytes"):
        CSP.from_header(b"default-src 'self'")  # type: ignore[arg-type]
