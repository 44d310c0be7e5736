from __future__ import annotations

import pickle
import typing as t

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_header_policy.cache_control import CacheControl
from flask_header_policy.cache_control import IMMUTABLE
from flask_header_policy.cache_control import NO_CACHE
from flask_header_policy.cache_control import NO_STORE
from flask_header_policy.errors import InvalidHeaderError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (NO_STORE, "no-store, max-age=0"),
        (NO_CACHE, "no-cache"),
        (IMMUTABLE, "public, max-age=31536000, immutable"),
        (CacheControl(no_store=True), "no-store"),
        (CacheControl(public=True, max_age=3600), "public, max-age=3600"),
        (CacheControl(max_age=3600, public=True), "public, max-age=3600"),
        (CacheControl(private=True, max_age=0), "private, max-age=0"),
        (CacheControl(private="Set-Cookie"), "private=Set-Cookie"),
        (
            CacheControl(no_cache="Set-Cookie, X-Token"),
            'no-cache="Set-Cookie, X-Token"',
        ),
        (
            CacheControl(s_maxage=60, must_revalidate=True, proxy_revalidate=True),
            "s-maxage=60, must-revalidate, proxy-revalidate",
        ),
        (
            CacheControl(no_store=True, must_understand=True, no_transform=True),
            "no-store, must-understand, no-transform",
        ),
        (
            CacheControl(max_age=60, stale_while_revalidate=30, stale_if_error=600),
            "max-age=60, stale-while-revalidate=30, stale-if-error=600",
        ),
    ],
)
def test_to_header(value: CacheControl, expected: str) -> None:
    assert value.to_header() == expected
    assert str(value) == expected
    assert CacheControl.from_header(expected) == value


def test_owasp_value() -> None:
    assert CacheControl.from_header("no-store, max-age=0") == NO_STORE


def test_face() -> None:
    assert CacheControl.header_name == "Cache-Control"
    assert repr(NO_STORE) == "CacheControl(no_store=True, max_age=0)"
    assert (
        repr(CacheControl(private="Set-Cookie")) == "CacheControl(private='Set-Cookie')"
    )
    assert hash(NO_STORE) == hash(CacheControl(max_age=0, no_store=True))
    with pytest.raises(AttributeError):
        NO_STORE.max_age = 5  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(NO_STORE)) == NO_STORE


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({}, "no directive is set"),
        ({"public": True, "private": True}, "public and private contradict"),
        ({"public": True, "private": "Set-Cookie"}, "choose one"),
        ({"max_age": -1}, "max-age takes a non-negative int"),
        ({"max_age": 1.5}, "got 1.5"),
        ({"max_age": "60"}, "got '60'"),
        ({"s_maxage": True}, "s-maxage"),
        ({"no_store": 1}, "no_store must be True or False, not 1"),
        ({"immutable": "yes"}, "immutable must be True or False"),
        ({"private": "Set Cookie"}, "'Set Cookie' is not a header field name"),
        ({"no_cache": ""}, "'' is not a header field name"),
        ({"no_cache": "a,,b"}, "'' is not a header field name"),
        ({"no_cache": 5}, "no_cache must be a bool or field names, not 5"),
    ],
)
def test_invalid(kwargs: dict[str, t.Any], names: str) -> None:
    with pytest.raises(InvalidHeaderError, match="Cache-Control") as info:
        CacheControl(**kwargs)
    assert names in str(info.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("No-Store, MAX-AGE=0", NO_STORE),
        ("no-store,max-age=0", NO_STORE),
        ('max-age="0", no-store', NO_STORE),
        ("PRIVATE", CacheControl(private=True)),
        ('private="Set-Cookie"', CacheControl(private="Set-Cookie")),
        ("immutable, public, max-age=31536000", IMMUTABLE),
    ],
)
def test_from_header(value: str, expected: CacheControl) -> None:
    assert CacheControl.from_header(value) == expected


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("", "no directive is set"),
        ("public, private", "public and private contradict"),
        ("max-age=abc", "max-age='abc': give a number of seconds"),
        ("max-age=-1", "max-age='-1'"),
        ("max-age=1.5", "max-age='1.5'"),
        ("max-age", "max-age needs a number of seconds"),
        ("no-store=1", "no-store takes no value"),
        ("max-age=1, max-age=2", "directive 'max-age' is repeated"),
        ("max-age=1, MAX-AGE=1", "directive 'max-age' is repeated"),
        ("only-if-cached", "'only-if-cached' is a request directive"),
        ("max-stale=5", "request directive"),
        ("nostore", "did you mean 'no-store'?"),
        ("no-store, frobnicate", "unknown directive 'frobnicate'"),
        ("no-store\r\n", "'\\r' (CR)"),
    ],
)
def test_from_header_invalid(value: str, names: str) -> None:
    with pytest.raises(InvalidHeaderError, match="Cache-Control") as info:
        CacheControl.from_header(value)
    assert names in str(info.value)


def test_from_header_non_string() -> None:
    with pytest.raises(InvalidHeaderError, match="not NoneType"):
        CacheControl.from_header(None)  # type: ignore[arg-type]


_seconds = st.none() | st.integers(min_value=0, max_value=10**10)


@settings(deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "public": st.booleans(),
            "private": st.booleans() | st.sampled_from(["Set-Cookie", "A, B"]),
            "no_cache": st.booleans() | st.sampled_from(["Set-Cookie", "A, B"]),
            "no_store": st.booleans(),
            "max_age": _seconds,
            "s_maxage": _seconds,
            "must_revalidate": st.booleans(),
            "immutable": st.booleans(),
            "stale_while_revalidate": _seconds,
        },
    )
)
def test_round_trip(kwargs: dict[str, t.Any]) -> None:
    try:
        value = CacheControl(**kwargs)
    except InvalidHeaderError:
        return  # public with private, or nothing set
    assert CacheControl.from_header(value.to_header()) == value
