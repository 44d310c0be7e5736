from __future__ import annotations

import enum
import typing as t

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_header_policy.cross_origin import CrossOriginEmbedderPolicy
from flask_header_policy.cross_origin import CrossOriginOpenerPolicy
from flask_header_policy.cross_origin import CrossOriginResourcePolicy
from flask_header_policy.cross_origin import parse_coep
from flask_header_policy.cross_origin import parse_coop
from flask_header_policy.cross_origin import parse_corp
from flask_header_policy.errors import InvalidHeaderError

COOP = CrossOriginOpenerPolicy
COEP = CrossOriginEmbedderPolicy
CORP = CrossOriginResourcePolicy
ALL = [*COOP, *COEP, *CORP]


@pytest.mark.parametrize(
    ("cls", "name", "values"),
    [
        (
            COOP,
            "Cross-Origin-Opener-Policy",
            [
                "unsafe-none",
                "same-origin-allow-popups",
                "same-origin",
                "noopener-allow-popups",
            ],
        ),
        (
            COEP,
            "Cross-Origin-Embedder-Policy",
            ["unsafe-none", "require-corp", "credentialless"],
        ),
        (
            CORP,
            "Cross-Origin-Resource-Policy",
            ["same-origin", "same-site", "cross-origin"],
        ),
    ],
)
def test_members(cls: type[enum.StrEnum], name: str, values: list[str]) -> None:
    assert [member.value for member in cls] == values
    assert cls.header_name == name  # type: ignore[attr-defined]
    assert "header_name" not in cls.__members__


@pytest.mark.parametrize("policy", ALL)
def test_to_header_round_trip(policy: t.Any) -> None:
    assert policy.to_header() == policy.value
    assert str(policy) == policy.value
    assert type(policy).from_header(policy.to_header()) is policy


@pytest.mark.parametrize(
    ("cls", "parse", "value", "expected"),
    [
        (COOP, parse_coop, "same-origin", COOP.SAME_ORIGIN),
        (COOP, parse_coop, 'same-origin; report-to="coop"', COOP.SAME_ORIGIN),
        (COOP, parse_coop, 'same-origin;report-to="coop"', COOP.SAME_ORIGIN),
        (COOP, parse_coop, "noopener-allow-popups", COOP.NOOPENER_ALLOW_POPUPS),
        (COEP, parse_coep, "require-corp", COEP.REQUIRE_CORP),
        (COEP, parse_coep, 'credentialless; report-to="coep"', COEP.CREDENTIALLESS),
    ],
)
def test_from_header_with_report_to(
    cls: t.Any, parse: t.Any, value: str, expected: t.Any
) -> None:
    assert cls.from_header(value) is expected
    assert parse(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  same-origin  ", COOP.SAME_ORIGIN),  # SF parsing trims spaces
        ("same-origin;foo=1", COOP.SAME_ORIGIN),  # parameters are ignored
        ("same-origin; report-to=coop", COOP.SAME_ORIGIN),
        ('"same-origin"', None),
        ("Same-Origin", None),
        ("same-origin, same-origin", None),
        ("same origin", None),
        ("require-corp", None),
        ("", None),
        ("same-origin\x00", None),
        ("s\u00e4me", None),
    ],
)
def test_parse_coop(value: str, expected: COOP | None) -> None:
    assert parse_coop(value) is expected


@pytest.mark.parametrize(
    ("cls", "value", "names"),
    [
        (COOP, '"same-origin"', "write same-origin unquoted"),
        (COOP, "Same-Origin", "'Same-Origin'; did you mean same-origin?"),
        (COOP, "same-origin-allow-popup", "did you mean same-origin-allow-popups?"),
        (COOP, "same-origin; foo", "unknown parameter 'foo'"),
        (COOP, "same-origin; report-to=coop", 'report-to="coop"'),
        (COOP, "same-origin, unsafe-none", "not a structured-field item"),
        (COOP, "1", "unknown policy '1'"),
        (COOP, "", "not a structured-field item"),
        (COOP, " same-origin", "leading or trailing whitespace"),
        (COEP, "require-corp;", "not a structured-field item"),
        (COEP, "require_corp", "did you mean require-corp?"),
        (
            COEP,
            "same-origin",
            "the policies are unsafe-none, require-corp, credentialless",
        ),
    ],
)
def test_from_header_invalid(cls: t.Any, value: str, names: str) -> None:
    with pytest.raises(InvalidHeaderError, match=cls.header_name) as info:
        cls.from_header(value)
    assert names in str(info.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("same-origin", CORP.SAME_ORIGIN),
        ("same-site", CORP.SAME_SITE),
        ("cross-origin", CORP.CROSS_ORIGIN),
        (" same-site\t", CORP.SAME_SITE),
        ("Same-Origin", None),
        ("same-origin, same-origin", None),
        ('"same-origin"', None),
        ("same-origin;x", None),
        ("", None),
    ],
)
def test_parse_corp(value: str, expected: CORP | None) -> None:
    assert parse_corp(value) is expected


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("Same-Origin", "compared case-sensitively"),
        ("same-origin, same-origin", "holds several values"),
        ("same", "did you mean 'same-site'?"),
        ('"same-origin"', "unknown policy"),
        ("same-origin ", "leading or trailing whitespace"),
    ],
)
def test_corp_from_header_invalid(value: str, names: str) -> None:
    with pytest.raises(
        InvalidHeaderError, match="Cross-Origin-Resource-Policy"
    ) as info:
        CORP.from_header(value)
    assert names in str(info.value)


@pytest.mark.parametrize("cls", [COOP, COEP, CORP])
def test_non_string(cls: t.Any) -> None:
    with pytest.raises(InvalidHeaderError, match="not bytes"):
        cls.from_header(b"same-origin")


@pytest.mark.parametrize("parse", [parse_coop, parse_coep, parse_corp])
def test_parse_non_string(parse: t.Any) -> None:
    assert parse(None) is None
    assert parse(b"same-origin") is None


@settings(max_examples=2000, deadline=None)
@given(st.text())
def test_parsers_never_raise(value: str) -> None:
    assert parse_coop(value) is None or isinstance(parse_coop(value), COOP)
    assert parse_coep(value) is None or isinstance(parse_coep(value), COEP)
    assert parse_corp(value) is None or isinstance(parse_corp(value), CORP)
