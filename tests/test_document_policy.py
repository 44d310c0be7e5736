from __future__ import annotations

import pickle
import typing as t

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_header_policy import DocumentPolicy
from flask_header_policy import HeaderPolicy
from flask_header_policy.document_policy import parse_document_policy
from flask_header_policy.errors import InvalidHeaderError


@pytest.mark.parametrize(
    ("policy", "kwargs", "expected"),
    [
        ({"document-write": False}, {}, "document-write=?0"),
        ({"js-profiling": True}, {}, "js-profiling"),
        ({"oversized-images": 2.0}, {}, "oversized-images=2.0"),
        ({"oversized-images": 2.5}, {}, "oversized-images=2.5"),
        ({"lossy-images-max-bpp": 0.125}, {}, "lossy-images-max-bpp=0.125"),
        ({"frame-count": 3}, {}, "frame-count=3"),
        (
            {"force-load-at-top": False, "mode": "strict"},
            {},
            "force-load-at-top=?0, mode=strict",
        ),
        (
            {"document-write": False, "oversized-images": 2.0},
            {"report_to": "main"},
            "document-write=?0, oversized-images=2.0, *;report-to=main",
        ),
        (
            {"document-write": False, "sync-xhr": False},
            {"report_to": "main", "endpoints": {"sync-xhr": "none"}},
            "document-write=?0, sync-xhr=?0;report-to=none, *;report-to=main",
        ),
        ([("b", 1), ("a", 2)], {}, "b=1, a=2"),
    ],
)
def test_renders_a_structured_field_dictionary(
    policy: t.Any, kwargs: dict[str, t.Any], expected: str
) -> None:
    value = DocumentPolicy(policy, **kwargs)
    assert value.to_header() == expected
    assert str(value) == expected
    assert DocumentPolicy.from_header(expected) == value
    assert DocumentPolicy.header_name == "Document-Policy"


@pytest.mark.parametrize(
    ("policy", "kwargs", "match"),
    [
        ({}, {}, "no features"),
        ({"Document-Write": False}, {}, "write 'document-write'"),
        ({"*": True}, {}, "report_to="),
        ({"a b": True}, {}, "not a structured-field key"),
        ({"x": "?0"}, {}, "pass False"),
        ({"x": "?1"}, {}, "pass True"),
        ({"x": "two words"}, {}, "not a Token"),
        ({"x": '"quoted"'}, {}, "not a Token"),
        ({"x": 1.2345}, {}, "3 decimal places"),
        ({"x": float("inf")}, {}, "Decimal"),
        ({"x": 10**16}, {}, "Integer"),
        ({"x": None}, {}, "not a bool"),
        ({"x": [1]}, {}, "not a bool"),
        ({"x": True}, {"report_to": "two words"}, "Reporting-Endpoints"),
        ({"x": True}, {"report_to": '"s"'}, "Reporting-Endpoints"),
        ({"x": True}, {"endpoints": {"y": "main"}}, "does not set"),
        ({"x": True}, {"endpoints": {"x": "a;b"}}, "Reporting-Endpoints"),
        ({"x\r\n": True}, {}, "not a structured-field key"),
    ],
)
def test_bad_values_fail_with_a_reason(
    policy: t.Any, kwargs: dict[str, t.Any], match: str
) -> None:
    with pytest.raises(InvalidHeaderError, match=match) as info:
        DocumentPolicy(policy, **kwargs)
    assert info.value.header == "Document-Policy"


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("a=(1 2)", "inner list"),
        ('a="text"', "not a Boolean, Integer, Decimal or Token"),
        ("a=:AQID:", "not a Boolean, Integer, Decimal or Token"),
        ('a;report-to="main"', "only report-to=<token>"),
        ("a;other=1", "only report-to=<token>"),
        ("*=1;report-to=main", "'\\*' takes no value"),
        ("a, a=?0", "declared twice"),
        ("a=(1, 2)", "not a structured-field dictionary"),
        ("", "no features"),
        ("a\r\n", "control character"),
    ],
)
def test_from_header_is_strict(value: str, match: str) -> None:
    with pytest.raises(InvalidHeaderError, match=match):
        DocumentPolicy.from_header(value)


def test_reading_and_copying() -> None:
    policy = DocumentPolicy({"document-write": False, "a": 1}, report_to="main")
    assert list(policy) == ["document-write", "a"]
    assert policy["a"] == 1 and "a" in policy and "b" not in policy
    assert len(policy) == 2
    assert dict(policy.features) == {"document-write": False, "a": 1}
    changed = policy.with_feature("a", 2).with_feature("b", "tok")
    assert changed.to_header() == "document-write=?0, a=2, b=tok, *;report-to=main"
    assert policy.to_header() == "document-write=?0, a=1, *;report-to=main"
    assert repr(policy) == (
        "DocumentPolicy({'document-write': False, 'a': 1}, report_to='main')"
    )
    assert pickle.loads(pickle.dumps(policy)) == policy
    assert hash(policy) == hash(DocumentPolicy.from_header(policy.to_header()))


def test_as_a_header_value() -> None:
    app = Flask("doc")
    app.testing = True
    policy = DocumentPolicy({"document-write": False})
    HeaderPolicy(app, headers={"Document-Policy-Report-Only": policy})
    app.get("/")(lambda: "page")
    response = app.test_client().get("/")
    assert response.headers["Document-Policy-Report-Only"] == "document-write=?0"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "a, b=?0, c=2, d=2.5, e=tok",
            {"a": True, "b": False, "c": 2, "d": 2.5, "e": "tok"},
        ),
        ('a=(1 2), b="s", c=:AQID:, d=1, *;report-to=x', {"d": 1}),
        ("a=(1, 2)", None),
        ("not valid =", None),
    ],
)
def test_lenient_parse(value: str, expected: dict[str, t.Any] | None) -> None:
    assert parse_document_policy(value) == expected


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_lenient_parse_never_raises(value: str) -> None:
    parse_document_policy(value)


@settings(deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9\-]{0,10}", fullmatch=True),
        st.one_of(
            st.booleans(),
            st.integers(-(10**15) + 1, 10**15 - 1),
            st.decimals(-(10**11), 10**11, places=3).map(float),
            st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_round_trip(features: dict[str, t.Any]) -> None:
    policy = DocumentPolicy(features)
    again = DocumentPolicy.from_header(policy.to_header())
    assert again.to_header() == policy.to_header()
    assert parse_document_policy(policy.to_header()) == dict(again.features)
