from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_header_policy.errors import InvalidHeaderError
from flask_header_policy.referrer import parse_referrer_policy
from flask_header_policy.referrer import ReferrerPolicy

TOKENS = [
    "no-referrer",
    "no-referrer-when-downgrade",
    "origin",
    "origin-when-cross-origin",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
    "unsafe-url",
]


def test_members() -> None:
    assert [policy.value for policy in ReferrerPolicy] == TOKENS
    assert ReferrerPolicy.header_name == "Referrer-Policy"
    assert ReferrerPolicy.NO_REFERRER.header_name == "Referrer-Policy"
    assert "header_name" not in ReferrerPolicy.__members__


@pytest.mark.parametrize("policy", list(ReferrerPolicy))
def test_to_header(policy: ReferrerPolicy) -> None:
    assert policy.to_header() == policy.value
    assert str(policy) == policy.value
    assert ReferrerPolicy.from_header(policy.to_header()) is policy
    assert pickle.loads(pickle.dumps(policy)) is policy
    assert hash(policy) == hash(policy.value)


def test_repr() -> None:
    assert (
        repr(ReferrerPolicy.NO_REFERRER)
        == "<ReferrerPolicy.NO_REFERRER: 'no-referrer'>"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("no-referrer", ReferrerPolicy.NO_REFERRER),
        (
            "no-referrer, strict-origin-when-cross-origin",
            ReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
        ),
        ("strict-origin, no-referrer", ReferrerPolicy.NO_REFERRER),
        ("no-referrer, future-policy", ReferrerPolicy.NO_REFERRER),
        ("future-policy,same-origin", ReferrerPolicy.SAME_ORIGIN),
        (" origin ,\tunsafe-url\t", ReferrerPolicy.UNSAFE_URL),
        ("origin,,", ReferrerPolicy.ORIGIN),
    ],
)
def test_last_recognised_wins(value: str, expected: ReferrerPolicy) -> None:
    assert parse_referrer_policy(value) is expected
    assert ReferrerPolicy.from_header(value.strip(" \t")) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", None),
        ("foo", None),
        ("No-Referrer", None),  # tokens compare case-sensitively
        ("'no-referrer'", None),
        ("no-referrer;", None),
        (", ,", None),
    ],
)
def test_parse_unrecognised(value: str, expected: None) -> None:
    assert parse_referrer_policy(value) is expected


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("", "the value is empty"),
        (" , ", "the value is empty"),
        ("No-Referrer", "'No-Referrer' must be lowercase: 'no-referrer'"),
        ("no-referer", "did you mean 'no-referrer'"),
        (
            "strict-origin-when-crossorigin",
            "did you mean 'strict-origin-when-cross-origin'",
        ),
        ("foo, bar", "no referrer policy in 'foo', 'bar'"),
        ("no-referrer\n", "'\\n' (LF)"),
    ],
)
def test_from_header_invalid(value: str, names: str) -> None:
    with pytest.raises(InvalidHeaderError, match="Referrer-Policy") as info:
        ReferrerPolicy.from_header(value)
    assert names in str(info.value)


def test_non_string() -> None:
    assert parse_referrer_policy(None) is None  # type: ignore[arg-type]
    with pytest.raises(InvalidHeaderError, match="not NoneType"):
        ReferrerPolicy.from_header(None)  # type: ignore[arg-type]


@settings(deadline=None)
@given(st.lists(st.sampled_from([*TOKENS, "x-future", ""]), min_size=1))
def test_round_trip_lists(tokens: list[str]) -> None:
    known = [token for token in tokens if token in TOKENS]
    parsed = parse_referrer_policy(", ".join(tokens))
    assert parsed == (ReferrerPolicy(known[-1]) if known else None)


@settings(max_examples=2000, deadline=None)
@given(st.text())
def test_parse_never_raises(value: str) -> None:
    result = parse_referrer_policy(value)
    assert result is None or isinstance(result, ReferrerPolicy)
