"""Sans-IO checks for header names and values (RFC 9110 §5.1, §5.5)."""

from __future__ import annotations

import re
import typing as t

from .errors import InvalidHeaderError

# tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
#         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Anything that is not HTAB, SP, VCHAR or obs-text (0x80-0xFF).
_BAD_VALUE_CHAR_RE = re.compile(r"[^\t\x20-\x7e\x80-\xff]")

_CONTROL_NAMES = {"\r": "CR", "\n": "LF", "\x00": "NUL", "\x7f": "DEL"}


def describe_char(char: str) -> str:
    """Show one character so that it can be read in an error message."""
    name = _CONTROL_NAMES.get(char)
    escaped = repr(char)
    if name is not None:
        return f"{escaped} ({name})"
    return f"{escaped} (U+{ord(char):04X})"


def is_token(text: str) -> bool:
    """Whether ``text`` is an RFC 9110 ``token``."""
    return _TOKEN_RE.fullmatch(text) is not None


def check_name(name: str, *, layer: str | None = None) -> str:
    """Return ``name`` if it is a valid field name, else raise.

    :raise InvalidHeaderError: empty name, or a character outside ``tchar``.
    """
    if not isinstance(name, str):
        raise InvalidHeaderError(
            repr(name),
            f"a header name must be a str, not {type(name).__name__}",
            layer=layer,
            part="name",
        )
    if not name:
        raise InvalidHeaderError(name, "the name is empty", layer=layer, part="name")
    if _TOKEN_RE.fullmatch(name) is None:
        bad = next(c for c in name if _TOKEN_RE.fullmatch(c) is None)
        raise InvalidHeaderError(
            name,
            f"character {describe_char(bad)} at index {name.index(bad)} is not"
            " allowed in a field name (RFC 9110 token: letters, digits and"
            " !#$%&'*+-.^_`|~)",
            layer=layer,
            part="name",
        )
    return name


def check_value(name: str, value: str, *, layer: str | None = None) -> str:
    """Return ``value`` if it can be sent as the value of ``name``, else raise.

    Rejected: CR, LF, NUL and every other control character but HTAB;
    characters outside Latin-1; leading or trailing whitespace.

    :raise InvalidHeaderError: naming the header, the character and the layer.
    """
    match = _BAD_VALUE_CHAR_RE.search(value)
    if match is not None:
        char = match.group()
        if ord(char) > 0xFF:
            why = "is outside Latin-1 and cannot be sent in a header"
        else:
            why = "is a control character that could split or corrupt the response"
        raise InvalidHeaderError(
            name,
            f"character {describe_char(char)} at index {match.start()} {why}",
            layer=layer,
        )
    if value != value.strip(" \t"):
        raise InvalidHeaderError(
            name,
            f"leading or trailing whitespace in {value!r}; field values are"
            " trimmed by recipients, so declare the trimmed value",
            layer=layer,
        )
    return value


def enum_missing(cls: t.Any, value: object) -> t.Any:
    """``_missing_`` of a header enum: ``XFrameOptions("deny")`` is ``DENY``
    (a spelling the header allows); anything else raises the message of the
    enum's ``from_header``, with its suggestion.

    :raise InvalidHeaderError: ``value`` names no member.
    """
    header = cls.header_name
    if not isinstance(value, str):
        known = ", ".join(repr(member.value) for member in cls)
        raise InvalidHeaderError(
            header, f"{value!r} is not a str; the values are {known}"
        )
    member = cls.from_header(value)
    if member.value.lower() == value.strip(" \t").lower():
        return member
    raise InvalidHeaderError(
        header,
        f"{value!r} is not one {cls.__name__} value; write {member.value!r}",
    )
