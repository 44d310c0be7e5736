"""Sans-IO checks for header names and values (RFC 9110 §5.1, §5.5)."""

from __future__ import annotations

import difflib
import re
import typing as t

from .errors import InvalidHeaderError

# tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
#         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Anything that is not HTAB, SP, VCHAR or the printable part of obs-text
# (U+00A0-U+00FF). The C1 controls U+0080-U+009F are refused like the C0
# ones: NEL (U+0085) is a line break to str.splitlines, U+009B a CSI to
# terminals.
_BAD_VALUE_CHAR_RE = re.compile(r"[^\t\x20-\x7e\xa0-\xff]")

_CONTROL_NAMES = {"\r": "CR", "\n": "LF", "\x00": "NUL", "\x7f": "DEL"}


#: The largest delta-seconds worth writing: RFC 9111 §1.2.2 has recipients
#: read any larger value as 2**31 (68 years).
MAX_DELTA_SECONDS = 2**31


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)`` for an error message, never raising, at most ``limit``
    characters (an ``int`` past Python's digit limit has no repr)."""
    try:
        text = repr(value)
    except ValueError:
        return f"<{type(value).__name__} of {getattr(value, 'bit_length', int)()} bits>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


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


def plain_str(text: str) -> str:
    """``text`` as a plain ``str``: a subclass may print (``__str__``, ``%s``)
    otherwise than it reads, and a server may send what it prints."""
    return text if type(text) is str else str.__str__(text)


def check_name(name: str, *, layer: str | None = None) -> str:
    """Return ``name`` (as a plain ``str``) if it is a valid field name, else raise.

    :raise InvalidHeaderError: empty name, or a character outside ``tchar``.
    """
    if not isinstance(name, str):
        raise InvalidHeaderError(
            shown(name),
            f"a header name must be a str, not {type(name).__name__}",
            layer=layer,
            part="name",
        )
    name = plain_str(name)
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
    """Return ``value`` (as a plain ``str``) if it can be sent as the value of
    ``name``, else raise.

    Rejected: anything but a ``str``; CR, LF, NUL and every other C0 control
    character but HTAB, DEL and the C1 controls (U+0080-U+009F); characters
    outside Latin-1 (lone surrogates among them); leading or trailing
    whitespace.

    :raise InvalidHeaderError: naming the header, the character and the layer.
    """
    if not isinstance(value, str):
        raise InvalidHeaderError(
            name,
            f"a header value must be a str, not {type(value).__name__}",
            layer=layer,
        )
    value = plain_str(value)
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


class HeaderNameWarning(UserWarning):
    """A declared header name is a letter or two away from a header browsers
    act on (``X-Frame-Option``): a misspelt name is sent, and ignored by
    every browser. A header of the app's own with such a name can keep it
    (filter the warning)."""


#: Response headers that browsers, proxies or crawlers act on, lower-cased:
#: a declared name close to one of them, but not it, is most likely a typo.
KNOWN_NAMES = frozenset(
    {
        "accept-ch",
        "accept-ranges",
        "access-control-allow-credentials",
        "access-control-allow-headers",
        "access-control-allow-methods",
        "access-control-allow-origin",
        "access-control-expose-headers",
        "access-control-max-age",
        "cache-control",
        "clear-site-data",
        "content-disposition",
        "content-encoding",
        "content-language",
        "content-location",
        "content-security-policy",
        "content-security-policy-report-only",
        "content-type",
        "critical-ch",
        "cross-origin-embedder-policy",
        "cross-origin-embedder-policy-report-only",
        "cross-origin-opener-policy",
        "cross-origin-opener-policy-report-only",
        "cross-origin-resource-policy",
        "document-policy",
        "document-policy-report-only",
        "expires",
        "last-modified",
        "location",
        "origin-agent-cluster",
        "permissions-policy",
        "referrer-policy",
        "reporting-endpoints",
        "retry-after",
        "service-worker-allowed",
        "set-cookie",
        "strict-transport-security",
        "timing-allow-origin",
        "x-content-type-options",
        "x-dns-prefetch-control",
        "x-frame-options",
        "x-permitted-cross-domain-policies",
        "x-robots-tag",
        "x-xss-protection",
    }
)
# How alike two names must be (difflib's ratio) to be called a typo, and
# the shortest name looked at: short names are alike by chance.
_TYPO_RATIO = 0.88
_TYPO_MIN_LENGTH = 6


_ACRONYMS = {"ch": "CH", "dns": "DNS", "xss": "XSS"}


def misspelt(name: str) -> str | None:
    """The known header ``name`` looks like a misspelling of (as it is
    usually written), or ``None``."""
    key = name.lower()
    if key in KNOWN_NAMES or len(key) < _TYPO_MIN_LENGTH:
        return None
    close = difflib.get_close_matches(key, KNOWN_NAMES, n=1, cutoff=_TYPO_RATIO)
    if not close:
        return None
    parts = close[0].split("-")
    return "-".join(_ACRONYMS.get(part, part.capitalize()) for part in parts)
