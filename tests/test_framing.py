from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from flask_header_policy.errors import InvalidHeaderError
from flask_header_policy.framing import parse_x_content_type_options
from flask_header_policy.framing import parse_x_frame_options
from flask_header_policy.framing import XContentTypeOptions
from flask_header_policy.framing import XFrameOptions


def test_members() -> None:
    assert [m.value for m in XFrameOptions] == ["DENY", "SAMEORIGIN"]
    assert [m.value for m in XContentTypeOptions] == ["nosniff"]
    assert XFrameOptions.header_name == "X-Frame-Options"
    assert XContentTypeOptions.header_name == "X-Content-Type-Options"
    assert "header_name" not in XFrameOptions.__members__


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (XFrameOptions.DENY, "DENY"),
        (XFrameOptions.SAMEORIGIN, "SAMEORIGIN"),
        (XContentTypeOptions.NOSNIFF, "nosniff"),
    ],
)
def test_to_header(policy: XFrameOptions | XContentTypeOptions, expected: str) -> None:
    assert policy.to_header() == expected
    assert str(policy) == expected
    assert type(policy).from_header(expected) is policy


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("DENY", XFrameOptions.DENY),
        ("deny", XFrameOptions.DENY),
        ("SameOrigin", XFrameOptions.SAMEORIGIN),
        ("sameorigin", XFrameOptions.SAMEORIGIN),
        ("DENY, deny", XFrameOptions.DENY),
    ],
)
def test_xfo_from_header(value: str, expected: XFrameOptions) -> None:
    assert XFrameOptions.from_header(value) is expected
    assert parse_x_frame_options(value) is expected


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("ALLOW-FROM https://a.example", "frame-ancestors"),
        ("allow-from https://a.example", "browsers ignore ALLOW-FROM"),
        ("DENY, SAMEORIGIN", "several values"),
        ("DENY,", "several values"),
        ("ALLOWALL", "unknown value 'ALLOWALL'"),
        ("", "unknown value ''"),
        ("DENY\r\n", "'\\r' (CR)"),
    ],
)
def test_xfo_from_header_invalid(value: str, names: str) -> None:
    with pytest.raises(InvalidHeaderError, match="X-Frame-Options") as info:
        XFrameOptions.from_header(value)
    assert names in str(info.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # WHATWG HTML: several values that include deny/sameorigin/allowall block.
        ("DENY, SAMEORIGIN", XFrameOptions.DENY),
        ("SAMEORIGIN, ALLOWALL", XFrameOptions.DENY),
        ("SAMEORIGIN,", XFrameOptions.DENY),
        ("sameorigin, SAMEORIGIN", XFrameOptions.SAMEORIGIN),
        (" deny ", XFrameOptions.DENY),
        ("ALLOW-FROM https://a.example", None),
        ("ALLOWALL", None),
        ("foo, bar", None),
        ("", None),
    ],
)
def test_parse_x_frame_options(value: str, expected: XFrameOptions | None) -> None:
    assert parse_x_frame_options(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("nosniff", XContentTypeOptions.NOSNIFF),
        ("NoSniff", XContentTypeOptions.NOSNIFF),
        ("nosniff, foo", XContentTypeOptions.NOSNIFF),
        ("nosniff,nosniff", XContentTypeOptions.NOSNIFF),
        ("foo, nosniff", None),
        (", nosniff", None),
        ("no-sniff", None),
        ("", None),
    ],
)
def test_parse_x_content_type_options(
    value: str, expected: XContentTypeOptions | None
) -> None:
    assert parse_x_content_type_options(value) is expected
    if expected is not None:
        assert XContentTypeOptions.from_header(value) is expected


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("no-sniff", "'no-sniff' is not nosniff"),
        ("foo, nosniff", "'foo' is not nosniff"),
        ("", "'' is not nosniff"),
        ("nosniff\x00", "'\\x00' (NUL)"),
    ],
)
def test_xcto_from_header_invalid(value: str, names: str) -> None:
    with pytest.raises(InvalidHeaderError, match="X-Content-Type-Options") as info:
        XContentTypeOptions.from_header(value)
    assert names in str(info.value)


def test_non_string() -> None:
    assert parse_x_frame_options(None) is None  # type: ignore[arg-type]
    assert parse_x_content_type_options(None) is None  # type: ignore[arg-type]
    with pytest.raises(InvalidHeaderError, match="not bytes"):
        XFrameOptions.from_header(b"DENY")  # type: ignore[arg-type]
    with pytest.raises(InvalidHeaderError, match="not bytes"):
        XContentTypeOptions.from_header(b"nosniff")  # type: ignore[arg-type]


@settings(max_examples=2000, deadline=None)
@given(st.text())
def test_parsers_never_raise(value: str) -> None:
    xfo = parse_x_frame_options(value)
    assert xfo is None or isinstance(xfo, XFrameOptions)
    xcto = parse_x_content_type_options(value)
    assert xcto is None or xcto is XContentTypeOptions.NOSNIFF
