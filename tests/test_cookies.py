from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_header_policy.cookies import CookiePolicy
from flask_header_policy.cookies import harden_set_cookie
from flask_header_policy.cookies import normalize_samesite
from flask_header_policy.cookies import parse_set_cookie
from flask_header_policy.cookies import SetCookie
from flask_header_policy.errors import InvalidHeaderError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sid=abc", SetCookie("sid", "abc")),
        (" sid = abc ", SetCookie("sid", "abc")),
        ("sid=a=b", SetCookie("sid", "a=b")),
        ('sid="quoted"', SetCookie("sid", '"quoted"')),
        ("lonely", SetCookie("", "lonely")),
        ("=v", SetCookie("", "v")),
        ("k=", SetCookie("k", "")),
        (
            "sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax",
            SetCookie(
                "sid",
                "abc",
                (
                    ("path", "/"),
                    ("secure", None),
                    ("httponly", None),
                    ("samesite", "Lax"),
                ),
            ),
        ),
        ("a=b;;  ; secure ;", SetCookie("a", "b", (("secure", None),))),
        ("a=b; =x; Domain= ex.com ", SetCookie("a", "b", (("domain", "ex.com"),))),
        ("a=b; SameSite=", SetCookie("a", "b", (("samesite", ""),))),
        ("", None),
        ("   ", None),
        ("=", None),
        (";secure", None),
        ("a=b\r\nX-Evil: 1", None),
        ("a=b\x00", None),
        ("a=\tb\t", SetCookie("a", "b")),
    ],
)
def test_parse_set_cookie(value: str, expected: SetCookie | None) -> None:
    assert parse_set_cookie(value) == expected


def test_parse_non_string_is_none() -> None:
    assert parse_set_cookie(b"a=b") is None  # type: ignore[arg-type]
    assert parse_set_cookie(None) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "secure", "httponly", "samesite"),
    [
        ("a=b", False, False, None),
        ("a=b; Secure", True, False, None),
        ("a=b; secure; HTTPONLY", True, True, None),
        ("a=b; SameSite=Strict", False, False, "Strict"),
        ("a=b; SameSite=Lax; SameSite=None", False, False, "None"),
        ("a=b; SameSite", False, False, ""),
        ("a=b; Secure=yes", True, False, None),
    ],
)
def test_flags(value: str, secure: bool, httponly: bool, samesite: str | None) -> None:
    cookie = parse_set_cookie(value)
    assert cookie is not None
    assert cookie.secure is secure
    assert cookie.httponly is httponly
    assert cookie.samesite == samesite


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sid=1", "sid=1; Secure; HttpOnly; SameSite=Lax"),
        ("sid=1;", "sid=1; Secure; HttpOnly; SameSite=Lax"),
        ("sid=1; Path=/ ; ", "sid=1; Path=/; Secure; HttpOnly; SameSite=Lax"),
        ("sid=1; secure", "sid=1; secure; HttpOnly; SameSite=Lax"),
        ("sid=1; SameSite=None; Secure", "sid=1; SameSite=None; Secure; HttpOnly"),
        ("sid=1; samesite=bogus", "sid=1; samesite=bogus; Secure; HttpOnly"),
        (
            "sid=1; Secure; HttpOnly; SameSite=Strict",
            "sid=1; Secure; HttpOnly; SameSite=Strict",
        ),
        ("", ""),
        ("a=b\r\nX: y", "a=b\r\nX: y"),
    ],
)
def test_harden(value: str, expected: str) -> None:
    assert (
        harden_set_cookie(value, secure=True, httponly=True, samesite="lax") == expected
    )


def test_harden_adds_only_what_is_asked() -> None:
    assert (
        harden_set_cookie("a=b", secure=False, httponly=False, samesite=None) == "a=b"
    )
    assert harden_set_cookie("a=b", secure=False, httponly=True, samesite="Strict") == (
        "a=b; HttpOnly; SameSite=Strict"
    )
    assert harden_set_cookie("a=b", secure=True, httponly=False, samesite="NONE") == (
        "a=b; Secure; SameSite=None"
    )


@pytest.mark.parametrize(
    ("samesite", "secure", "expected"),
    [
        (None, False, None),
        ("strict", False, "Strict"),
        (" Lax ", False, "Lax"),
        ("none", True, "None"),
    ],
)
def test_normalize_samesite(
    samesite: str | None, secure: bool, expected: str | None
) -> None:
    assert normalize_samesite(samesite, secure=secure) == expected


@pytest.mark.parametrize(
    ("samesite", "secure", "match"),
    [
        ("None", False, "requires Secure"),
        ("relaxed", True, "'relaxed'"),
        ("", True, "not one of"),
    ],
)
def test_harden_rejects_bad_samesite(samesite: str, secure: bool, match: str) -> None:
    with pytest.raises(InvalidHeaderError, match=match):
        harden_set_cookie("a=b", secure=secure, httponly=True, samesite=samesite)


def test_cookie_policy_defaults_and_apply() -> None:
    policy = CookiePolicy()
    assert (policy.secure, policy.httponly, policy.samesite) == (True, True, "Lax")
    headers = [
        ("Content-Type", "text/html"),
        ("Set-Cookie", "session=1; Path=/"),
        ("set-cookie", "pref=dark; Secure; HttpOnly; SameSite=Strict"),
    ]
    policy.apply(headers, is_secure=True)
    assert headers == [
        ("Content-Type", "text/html"),
        ("Set-Cookie", "session=1; Path=/; Secure; HttpOnly; SameSite=Lax"),
        ("set-cookie", "pref=dark; Secure; HttpOnly; SameSite=Strict"),
    ]


def test_cookie_policy_only_some_names() -> None:
    policy = CookiePolicy(only={"session"}, exempt={"pref"})
    assert policy.only == frozenset({"session"})
    headers = [
        ("Set-Cookie", "session=1; Path=/"),
        ("Set-Cookie", "theme=dark"),
        ("Set-Cookie", " session =2"),
    ]
    policy.apply(headers, is_secure=True)
    assert headers == [
        ("Set-Cookie", "session=1; Path=/; Secure; HttpOnly; SameSite=Lax"),
        ("Set-Cookie", "theme=dark"),
        ("Set-Cookie", " session =2; Secure; HttpOnly; SameSite=Lax"),
    ]
    with pytest.raises(TypeError, match="not a str"):
        CookiePolicy(only="session")


def test_cookie_policy_over_http_adds_no_secure() -> None:
    assert (
        CookiePolicy().harden("a=b", is_secure=False) == "a=b; HttpOnly; SameSite=Lax"
    )
    policy = CookiePolicy(samesite="none")
    assert policy.samesite == "None"
    assert policy.harden("a=b", is_secure=False) == "a=b; HttpOnly"
    assert (
        policy.harden("a=b", is_secure=True) == "a=b; Secure; HttpOnly; SameSite=None"
    )


def test_cookie_policy_rejects_bad_samesite() -> None:
    with pytest.raises(InvalidHeaderError, match="requires Secure"):
        CookiePolicy(secure=False, samesite="None")
    with pytest.raises(InvalidHeaderError, match="not one of"):
        CookiePolicy(samesite="sometimes")


@settings(max_examples=2000)
@given(st.text())
def test_parse_never_raises(value: str) -> None:
    cookie = parse_set_cookie(value)
    if cookie is not None:
        assert cookie.name or cookie.value
        assert all(key == key.lower() and key for key, _ in cookie.attributes)


_cookie_text = st.text(
    alphabet=st.characters(codec="latin-1", exclude_characters="\x7f"),
).filter(lambda s: not any(ord(c) < 32 and c != "\t" for c in s))


@settings(max_examples=2000)
@given(
    _cookie_text,
    st.booleans(),
    st.booleans(),
    st.sampled_from([None, "Strict", "Lax", "None"]),
)
def test_harden_reparses(
    value: str, secure: bool, httponly: bool, samesite: str | None
) -> None:
    if samesite == "None":
        secure = True
    hardened = harden_set_cookie(
        value, secure=secure, httponly=httponly, samesite=samesite
    )
    before = parse_set_cookie(value)
    after = parse_set_cookie(hardened)
    if before is None:
        assert hardened == value
        return
    assert after is not None
    assert (after.name, after.value) == (before.name, before.value)
    # Nothing that was there is lost or changed.
    assert after.attributes[: len(before.attributes)] == before.attributes
    assert after.secure or not secure
    assert after.httponly or not httponly
    if samesite is not None:
        assert after.samesite is not None
        if not before.has("samesite"):
            assert after.samesite == samesite


def _harden_by_parsing(
    value: str, secure: bool, httponly: bool, samesite: str | None
) -> str:
    """Hardening as :class:`SetCookie` reads a cookie (what ``_harden``,
    which builds no SetCookie, must agree with)."""
    cookie = parse_set_cookie(value)
    if cookie is None:
        return value
    additions = []
    if secure and not cookie.secure:
        additions.append("Secure")
    if httponly and not cookie.httponly:
        additions.append("HttpOnly")
    if samesite is not None and not cookie.has("samesite"):
        additions.append(f"SameSite={samesite}")
    if not additions:
        return value
    return "; ".join([value.rstrip(" \t;"), *additions])


@settings(max_examples=1000)
@given(
    st.one_of(
        st.text(),
        st.lists(
            st.sampled_from(
                [
                    "a=b",
                    " a = b ",
                    "=",
                    "",
                    "Secure",
                    " secure ",
                    "HTTPONLY=1",
                    "SameSite=Lax",
                    "samesite",
                    "Path=/secure",
                    "x=httponly",
                    ";",
                    "\t",
                ]
            )
        ).map(";".join),
    ),
    st.booleans(),
    st.booleans(),
    st.sampled_from([None, "Strict", "Lax", "None"]),
)
def test_lean_hardening_reads_cookies_as_the_parser_does(
    value: str, secure: bool, httponly: bool, samesite: str | None
) -> None:
    from flask_header_policy.cookies import _harden

    attribute = None if samesite is None else f"SameSite={samesite}"
    assert _harden(value, secure, httponly, attribute) == _harden_by_parsing(
        value, secure, httponly, samesite
    )
