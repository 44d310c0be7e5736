from __future__ import annotations

import pickle
import typing as t

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_header_policy.errors import InvalidHeaderError
from flask_header_policy.reporting import parse_reporting_endpoints
from flask_header_policy.reporting import ReportingEndpoints


@pytest.mark.parametrize(
    ("endpoints", "expected"),
    [
        ({"csp": "/csp-reports"}, 'csp="/csp-reports"'),
        (
            {"csp": "/csp-reports", "default": "https://r.example/x"},
            'csp="/csp-reports", default="https://r.example/x"',
        ),
        (
            {"a": "https://r.example/x?y=1&z=%20#f"},
            'a="https://r.example/x?y=1&z=%20#f"',
        ),
        ({"local": "http://localhost:5000/r"}, 'local="http://localhost:5000/r"'),
        ({"local": "http://127.0.0.1/r"}, 'local="http://127.0.0.1/r"'),
        ({"local": "http://[::1]:8000/r"}, 'local="http://[::1]:8000/r"'),
        ({"local": "http://app.localhost/r"}, 'local="http://app.localhost/r"'),
        ({"cdn": "//r.example/x"}, 'cdn="//r.example/x"'),
        ({"rel": "reports"}, 'rel="reports"'),
        ({"x-1.y_z*": "HTTPS://R.EXAMPLE/"}, 'x-1.y_z*="HTTPS://R.EXAMPLE/"'),
        ([("b", "/b"), ("a", "/a")], 'b="/b", a="/a"'),
    ],
)
def test_to_header(endpoints: t.Any, expected: str) -> None:
    value = ReportingEndpoints(endpoints)
    assert value.to_header() == expected
    assert str(value) == expected
    assert ReportingEndpoints.from_header(expected) == value


def test_face() -> None:
    value = ReportingEndpoints({"csp": "/csp", "default": "https://r.example/x"})
    assert ReportingEndpoints.header_name == "Reporting-Endpoints"
    assert repr(value) == (
        "ReportingEndpoints({'csp': '/csp', 'default': 'https://r.example/x'})"
    )
    assert value["csp"] == "/csp"
    assert "csp" in value and "nope" not in value
    assert list(value) == ["csp", "default"] and len(value) == 2
    assert hash(value) == hash(ReportingEndpoints(dict(value.endpoints)))
    with pytest.raises(TypeError):
        value.endpoints["x"] = "/x"  # type: ignore[index]
    assert pickle.loads(pickle.dumps(value)) == value


@pytest.mark.parametrize(
    ("endpoints", "names"),
    [
        ({}, "no endpoints"),
        ({"CSP": "/x"}, "write 'csp'"),
        ({"1csp": "/x"}, "'1csp'"),
        ({"c sp": "/x"}, "'c sp'"),
        ({"csp": "http://r.example/x"}, "not potentially trustworthy"),
        ({"csp": "ftp://r.example/x"}, "https:// or a path"),
        ({"csp": "javascript:alert(1)"}, "https:// or a path"),
        ({"csp": "https:///x"}, "https:// or a path"),
        ({"csp": "/a b"}, "' ' (U+0020)"),
        ({"csp": "/a\r\nb"}, "'\\r' (CR)"),
        ({"csp": "/é"}, "percent-encode"),
        ({"csp": '/a"b'}, "not a URI-reference"),
        ({"csp": "/a%zz"}, "not a URI-reference (character '%'"),
        ({"csp": "http://[::1/x"}, "not a valid URL"),
        ({"csp": 5}, "not a str URL"),
    ],
)
def test_invalid(endpoints: t.Any, names: str) -> None:
    with pytest.raises(InvalidHeaderError, match="Reporting-Endpoints") as info:
        ReportingEndpoints(endpoints)
    assert names in str(info.value)


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("", "no endpoints"),
        ("csp=/x", "not a structured-field dictionary"),
        ("csp=x", "'x' is not a String"),
        ('csp=("/x")', "is not a String"),
        ("csp", "True is not a String"),
        ('csp="/x", csp="/y"', "'csp' is declared twice"),
        ('CSP="/x"', "'C'"),
        ('csp="http://r.example"', "not potentially trustworthy"),
        ('csp="/x",', "trailing comma"),
    ],
)
def test_from_header_invalid(value: str, names: str) -> None:
    with pytest.raises(InvalidHeaderError, match="Reporting-Endpoints") as info:
        ReportingEndpoints.from_header(value)
    assert names in str(info.value)


def test_from_header_ignores_parameters() -> None:
    """W3C Reporting: parameters on a member are ignored."""
    value = ReportingEndpoints.from_header('csp="/csp";priority=1')
    assert value.to_header() == 'csp="/csp"'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('csp="/csp"', {"csp": "/csp"}),
        ('csp="/a", csp="/b"', {"csp": "/b"}),
        (
            'csp="/a";x=1, b="https://r.example"',
            {"csp": "/a", "b": "https://r.example"},
        ),
        ('csp="http://r.example", b=1, c="/c"', {"c": "/c"}),
        ("", {}),
        ("csp=/x", None),
        ('csp="/x",', None),
        ('csp="/é"', None),
        ('csp="/\u2603"', None),
    ],
)
def test_parse_lenient(value: str, expected: dict[str, str] | None) -> None:
    assert parse_reporting_endpoints(value) == expected


def test_parse_non_string() -> None:
    assert parse_reporting_endpoints(None) is None  # type: ignore[arg-type]


@settings(deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_\-.*]{0,10}", fullmatch=True),
        st.sampled_from(["/r", "https://r.example/x", "http://localhost:1/r", "r?a=b"]),
        min_size=1,
    )
)
def test_round_trip(endpoints: dict[str, str]) -> None:
    value = ReportingEndpoints(endpoints)
    assert ReportingEndpoints.from_header(value.to_header()) == value
    assert parse_reporting_endpoints(value.to_header()) == endpoints


@settings(max_examples=2000, deadline=None)
@given(st.text())
def test_parse_never_raises(value: str) -> None:
    result = parse_reporting_endpoints(value)
    assert result is None or isinstance(result, dict)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(["csp", "=", '"', "/", "https://", "[", ",", ";", " ", "%"])
    ).map("".join)
)
def test_parse_never_raises_near_grammar(value: str) -> None:
    result = parse_reporting_endpoints(value)
    assert result is None or isinstance(result, dict)
