from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_header_policy.errors import InvalidHeaderError
from flask_header_policy.hsts import HstsParse
from flask_header_policy.hsts import parse_hsts
from flask_header_policy.hsts import StrictTransportSecurity


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (StrictTransportSecurity(), "max-age=63072000; includeSubDomains"),
        (StrictTransportSecurity(max_age=0), "max-age=0; includeSubDomains"),
        (StrictTransportSecurity(300, include_subdomains=False), "max-age=300"),
        (
            StrictTransportSecurity(preload=True),
            "max-age=63072000; includeSubDomains; preload",
        ),
        (
            StrictTransportSecurity(31536000, preload=True),
            "max-age=31536000; includeSubDomains; preload",
        ),
    ],
)
def test_to_header(value: StrictTransportSecurity, expected: str) -> None:
    assert value.to_header() == expected
    assert str(value) == expected
    assert StrictTransportSecurity.from_header(expected) == value


def test_face() -> None:
    hsts = StrictTransportSecurity()
    assert StrictTransportSecurity.header_name == "Strict-Transport-Security"
    assert repr(hsts) == (
        "StrictTransportSecurity(max_age=63072000, include_subdomains=True,"
        " preload=False)"
    )
    assert hash(hsts) == hash(StrictTransportSecurity())
    with pytest.raises(AttributeError):
        hsts.max_age = 1  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(hsts)) == hsts


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"max_age": -1}, "max_age=-1"),
        ({"max_age": 1.5}, "1.5"),
        ({"max_age": "3600"}, "'3600'"),
        ({"max_age": True}, "True"),
        ({"include_subdomains": "yes"}, "include_subdomains"),
        ({"preload": 1}, "preload"),
        ({"max_age": 31535999, "preload": True}, "31536000"),
        ({"include_subdomains": False, "preload": True}, "include_subdomains=True"),
    ],
)
def test_invalid_construction(kwargs: dict[str, object], names: str) -> None:
    with pytest.raises(InvalidHeaderError, match="Strict-Transport-Security") as info:
        StrictTransportSecurity(**kwargs)  # type: ignore[arg-type]
    assert names in str(info.value)


def test_preload_message_teaches() -> None:
    with pytest.raises(InvalidHeaderError) as info:
        StrictTransportSecurity(max_age=300, include_subdomains=False, preload=True)
    message = str(info.value)
    assert "hstspreload.org" in message
    assert "31536000" in message and "include_subdomains=True" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("max-age=63072000; includeSubDomains", HstsParse(63072000, True)),
        ("max-age=5", HstsParse(5)),
        ("MAX-AGE=5; INCLUDESUBDOMAINS; PRELOAD", HstsParse(5, True, True)),
        ("max-age=5; includesubdomains", HstsParse(5, True)),
        (
            "max-age=5; includeSubdomains",
            HstsParse(
                5,
                True,
                notes=(
                    "'includeSubdomains' is spelled includeSubDomains in RFC 6797;"
                    " browsers accept any case, but write it as the RFC does",
                ),
            ),
        ),
        ('max-age="5"', HstsParse(5)),
        ("max-age = 5 ;includeSubDomains;", HstsParse(5, True)),
        ("max-age=5;;preload", HstsParse(5, False, True)),
        ("  max-age=0  ", HstsParse(0)),
    ],
)
def test_parse_valid(value: str, expected: HstsParse) -> None:
    parsed = parse_hsts(value)
    assert parsed.problems == ()
    assert parsed.max_age == expected.max_age
    assert parsed.include_subdomains == expected.include_subdomains
    assert parsed.preload == expected.preload
    if expected.notes:
        assert parsed.notes == expected.notes


def test_unusual_spellings_are_noted_not_rejected() -> None:
    parsed = parse_hsts("MAX-AGE=5; includesubdomains; preload")
    assert parsed.problems == ()
    assert [note.split(" is spelled ")[0] for note in parsed.notes] == [
        "'MAX-AGE'",
        "'includesubdomains'",
    ]
    assert parse_hsts("max-age=5; includeSubDomains").notes == ()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "max-age is missing"),
        ("includeSubDomains", "max-age is missing"),
        ("max-age=abc", "invalid max-age 'abc'"),
        ("max-age=-1", "invalid max-age '-1'"),
        ("max-age=", "invalid max-age ''"),
        ("max-age", "invalid max-age"),
        ("max-age=1.5", "invalid max-age '1.5'"),
        ('max-age="5', "invalid max-age"),
        ("max-age=5; max-age=6", "max-age appears twice"),
        ("max-age=5; includeSubDomains; includesubdomains", "appears twice"),
        ("max-age=5; includeSubDomains=1", "includeSubDomains takes no value"),
        ("max-age=5; preload=true", "preload takes no value"),
        ("max-age=5; include_subdomains", "did you mean includeSubDomains"),
        ("max-age=5; includeSubDomain", "did you mean includeSubDomains"),
        ("max-age=5; includesubdomain", "did you mean includeSubDomains"),
        ("max-age=5; include-subdomains", "did you mean includeSubDomains"),
        ("max-age=5; includeSubDomainss", "did you mean includeSubDomains"),
        ("max_age=5", "did you mean max-age"),
        ("maxage=5", "did you mean max-age"),
        ("max-age=5; preloaded", "did you mean preload"),
        ("max-age=5; report-uri=x", "unknown directive 'report-uri'"),
        ("max-age=5\r\nX-Evil: 1", "'\\r' (CR)"),
    ],
)
def test_parse_problems(value: str, problem: str) -> None:
    parsed = parse_hsts(value)
    assert any(problem in p for p in parsed.problems), parsed.problems
    with pytest.raises(InvalidHeaderError) as info:
        StrictTransportSecurity.from_header(value)
    assert problem in str(info.value)


def test_duplicate_keeps_first_value() -> None:
    parsed = parse_hsts("max-age=5; max-age=6")
    assert parsed.max_age == 5
    assert len(parsed.problems) == 1


def test_typo_is_not_a_flag() -> None:
    parsed = parse_hsts("max-age=5; includeSubDomain")
    assert parsed.include_subdomains is False


def test_from_header_checks_preload_rule() -> None:
    # Valid for RFC 6797, but not what the preload list accepts.
    assert parse_hsts("max-age=300; preload").problems == ()
    with pytest.raises(InvalidHeaderError, match="preload needs"):
        StrictTransportSecurity.from_header("max-age=300; preload")


def test_parse_non_string() -> None:
    assert parse_hsts(None).problems  # type: ignore[arg-type]
    assert parse_hsts(b"max-age=1").max_age is None  # type: ignore[arg-type]
    with pytest.raises(InvalidHeaderError):
        StrictTransportSecurity.from_header(None)  # type: ignore[arg-type]


@settings(deadline=None)
@given(
    st.integers(min_value=0, max_value=2**31),
    st.booleans(),
    st.booleans(),
)
def test_round_trip(max_age: int, include: bool, preload: bool) -> None:
    preload = preload and include and max_age >= 31536000
    hsts = StrictTransportSecurity(max_age, include, preload)
    assert StrictTransportSecurity.from_header(hsts.to_header()) == hsts


@settings(max_examples=2000, deadline=None)
@given(st.text())
def test_parse_never_raises(value: str) -> None:
    parsed = parse_hsts(value)
    assert isinstance(parsed, HstsParse)
    assert parsed.max_age is None or parsed.max_age >= 0


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["max-age=1", "max-age", "includeSubDomains", "preload", '"', ";", " ", "="]
        )
    ).map("".join)
)
def test_parse_never_raises_near_grammar(value: str) -> None:
    assert isinstance(parse_hsts(value), HstsParse)


def test_parse_reads_an_absurdly_long_max_age_without_raising() -> None:
    # int() refuses strings of more than 4300 digits; the parser must not raise.
    assert parse_hsts("max-age=" + "9" * 5000).max_age == 2**31
    assert parse_hsts("max-age=" + "0" * 5000 + "600").max_age == 600
