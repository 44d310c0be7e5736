"""Cross-Origin-Opener-, -Embedder- and -Resource-Policy as enums.

COOP and COEP are Structured Field Items (WHATWG HTML): a token, optionally
with a ``report-to`` parameter, read with :mod:`http_sf`. CORP is an exact,
case-sensitive string (Fetch §3.6). Sans-IO: nothing here imports Flask. The
lenient readers :func:`parse_coop`, :func:`parse_coep` and :func:`parse_corp`
never raise; each ``from_header`` is the strict reader.
"""

from __future__ import annotations

import difflib
import enum
import typing as t

import http_sf

from ._validate import check_value
from ._validate import describe_char
from ._validate import enum_missing
from .errors import InvalidHeaderError

_COOP = "Cross-Origin-Opener-Policy"
_COEP = "Cross-Origin-Embedder-Policy"
_CORP = "Cross-Origin-Resource-Policy"


def _known(values: t.Iterable[str]) -> str:
    return ", ".join(values)


def _strict_item(header: str, value: object, allowed: t.Iterable[str]) -> str:
    """The token of a COOP/COEP value, or raise a teaching error."""
    allowed = list(allowed)
    if not isinstance(value, str):
        raise InvalidHeaderError(
            header, f"from_header takes a str, not {type(value).__name__}"
        )
    check_value(header, value)
    try:
        item, params = t.cast(
            "tuple[object, dict[str, object]]",
            http_sf.parse(value.encode("latin-1"), tltype="item"),
        )
    except ValueError as exc:
        offending = getattr(exc, "offending_char", None)
        where = f" (character {describe_char(chr(offending))})" if offending else ""
        hint = f"; write one of {_known(allowed)}"
        raise InvalidHeaderError(
            header, f"not a structured-field item (RFC 9651): {exc}{where}{hint}"
        ) from None
    if isinstance(item, str) and item in allowed:
        raise InvalidHeaderError(header, f'"{item}" is quoted; write {item} unquoted')
    if not isinstance(item, http_sf.Token) or str(item) not in allowed:
        shown = str(item) if isinstance(item, http_sf.Token) else repr(item)
        close = difflib.get_close_matches(shown.lower(), allowed, 1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise InvalidHeaderError(
            header,
            f"unknown policy {shown!r}; {hint}the policies are {_known(allowed)}",
        )
    for key, param in params.items():
        if key != "report-to":
            raise InvalidHeaderError(
                header,
                f'unknown parameter {key!r}; only report-to="endpoint" is defined',
            )
        if not isinstance(param, str):
            raise InvalidHeaderError(
                header, f'report-to must be a quoted String, e.g. report-to="{param}"'
            )
    return str(item)


def _lenient_item(value: object, allowed: t.Container[str]) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        item = t.cast(
            "tuple[object, object]",
            http_sf.parse(value.encode("latin-1"), tltype="item"),
        )[0]
    except Exception:  # http_sf may raise more than StructuredFieldError
        return None
    if isinstance(item, http_sf.Token) and str(item) in allowed:
        return str(item)
    return None


class CrossOriginOpenerPolicy(enum.StrEnum):
    """Whether this page shares a browsing context group with its openers.

    ``SAME_ORIGIN`` isolates it from cross-origin windows (with COEP, it
    enables ``crossOriginIsolated``).
    """

    UNSAFE_NONE = "unsafe-none"
    SAME_ORIGIN_ALLOW_POPUPS = "same-origin-allow-popups"
    SAME_ORIGIN = "same-origin"
    NOOPENER_ALLOW_POPUPS = "noopener-allow-popups"

    # An Enum turns class attributes into members; nonmember keeps a str.
    header_name = enum.nonmember(_COOP)

    @classmethod
    def _missing_(cls, value: object) -> t.Any:
        # XFrameOptions("bad") teaches like from_header, not a bare ValueError.
        return enum_missing(cls, value)

    @classmethod
    def from_header(cls, value: str) -> t.Self:
        """Read a value strictly; a ``report-to`` String parameter is allowed
        (and dropped).

        :raise InvalidHeaderError: not a structured-field item, or not one of
            the policy tokens.
        """
        return cls(_strict_item(_COOP, value, (m.value for m in cls)))

    def to_header(self) -> str:
        """The field value: the bare policy token."""
        return check_value(_COOP, self.value)


class CrossOriginEmbedderPolicy(enum.StrEnum):
    """Which cross-origin resources this page may load.

    ``REQUIRE_CORP`` (or ``CREDENTIALLESS``) with COOP ``same-origin``
    enables ``crossOriginIsolated``.
    """

    UNSAFE_NONE = "unsafe-none"
    REQUIRE_CORP = "require-corp"
    CREDENTIALLESS = "credentialless"

    header_name = enum.nonmember(_COEP)

    @classmethod
    def _missing_(cls, value: object) -> t.Any:
        # XFrameOptions("bad") teaches like from_header, not a bare ValueError.
        return enum_missing(cls, value)

    @classmethod
    def from_header(cls, value: str) -> t.Self:
        """Read a value strictly; a ``report-to`` String parameter is allowed
        (and dropped).

        :raise InvalidHeaderError: not a structured-field item, or not one of
            the policy tokens.
        """
        return cls(_strict_item(_COEP, value, (m.value for m in cls)))

    def to_header(self) -> str:
        """The field value: the bare policy token."""
        return check_value(_COEP, self.value)


class CrossOriginResourcePolicy(enum.StrEnum):
    """Which sites may load this resource in ``no-cors`` mode."""

    SAME_ORIGIN = "same-origin"
    SAME_SITE = "same-site"
    CROSS_ORIGIN = "cross-origin"

    header_name = enum.nonmember(_CORP)

    @classmethod
    def _missing_(cls, value: object) -> t.Any:
        # XFrameOptions("bad") teaches like from_header, not a bare ValueError.
        return enum_missing(cls, value)

    @classmethod
    def from_header(cls, value: str) -> t.Self:
        """Read a value strictly: exactly one token, in lowercase.

        :raise InvalidHeaderError: anything else, e.g. ``Same-Origin`` or two
            values (browsers then apply no policy at all).
        """
        if not isinstance(value, str):
            raise InvalidHeaderError(
                _CORP, f"from_header takes a str, not {type(value).__name__}"
            )
        check_value(_CORP, value)
        policy = parse_corp(value)
        if policy is not None:
            return cls(policy)
        known = _known(m.value for m in cls)
        if "," in value:
            reason = (
                f"{value!r} holds several values; browsers then apply no policy"
                " (send the header once)"
            )
        elif value.lower() in cls._value2member_map_:
            reason = (
                f"{value!r} is compared case-sensitively and browsers ignore it;"
                f" write {value.lower()!r}"
            )
        else:
            close = difflib.get_close_matches(value.lower(), [m.value for m in cls], 1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            reason = f"unknown policy {value!r}; {hint}the policies are {known}"
        raise InvalidHeaderError(_CORP, reason)

    def to_header(self) -> str:
        """The field value: the policy token."""
        return check_value(_CORP, self.value)


def parse_coop(value: str) -> CrossOriginOpenerPolicy | None:
    """The COOP a browser applies, ``None`` for an invalid value (browsers
    then use ``unsafe-none``); never raises. Parameters are ignored."""
    token = _lenient_item(value, CrossOriginOpenerPolicy._value2member_map_)
    return None if token is None else CrossOriginOpenerPolicy(token)


def parse_coep(value: str) -> CrossOriginEmbedderPolicy | None:
    """The COEP a browser applies, ``None`` for an invalid value (browsers
    then use ``unsafe-none``); never raises. Parameters are ignored."""
    token = _lenient_item(value, CrossOriginEmbedderPolicy._value2member_map_)
    return None if token is None else CrossOriginEmbedderPolicy(token)


def parse_corp(value: str) -> CrossOriginResourcePolicy | None:
    """The CORP a browser applies, ``None`` when it applies none; never raises.

    Fetch compares the whole (combined) value exactly: ``Same-Origin`` or
    ``same-origin, same-origin`` are no policy.
    """
    if not isinstance(value, str):
        return None
    token = value.strip(" \t")
    if token in CrossOriginResourcePolicy._value2member_map_:
        return CrossOriginResourcePolicy(token)
    return None
