"""X-Frame-Options and X-Content-Type-Options as enums.

X-Frame-Options follows WHATWG HTML ("check a navigation response's
adherence to X-Frame-Options"); X-Content-Type-Options follows Fetch §3.5
("determine nosniff"). Sans-IO: nothing here imports Flask. The lenient
readers :func:`parse_x_frame_options` and :func:`parse_x_content_type_options`
never raise; each ``from_header`` is the strict reader.
"""

from __future__ import annotations

import enum
import typing as t

from ._validate import check_value
from ._validate import enum_missing
from .errors import InvalidHeaderError

_XFO = "X-Frame-Options"
_XCTO = "X-Content-Type-Options"


def _values(value: str) -> list[str]:
    """Split a field value on ``,`` and trim each value; empty values are kept
    because browsers count them (HTML and Fetch "split")."""
    return [part.strip(" \t") for part in value.split(",")]


def _check_str(header: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidHeaderError(
            header, f"from_header takes a str, not {type(value).__name__}"
        )
    return check_value(header, value)


class XFrameOptions(enum.StrEnum):
    """Whether other pages may show this one in a frame.

    A CSP ``frame-ancestors`` directive overrides this header in current
    browsers; send both for older ones.
    """

    DENY = "DENY"
    SAMEORIGIN = "SAMEORIGIN"

    # An Enum turns class attributes into members; nonmember keeps a str.
    header_name = enum.nonmember(_XFO)

    @classmethod
    def _missing_(cls, value: object) -> t.Any:
        # XFrameOptions("bad") teaches like from_header, not a bare ValueError.
        return enum_missing(cls, value)

    @classmethod
    def from_header(cls, value: str) -> t.Self:
        """Read one value, case-insensitively (``deny`` is ``DENY``).

        :raise InvalidHeaderError: ``ALLOW-FROM`` (browsers ignore it),
            several or conflicting values, or an unknown value.
        """
        values = _values(_check_str(_XFO, value))
        lowered = list(dict.fromkeys(v.lower() for v in values))
        for original in values:
            if original.lower().startswith("allow-from"):
                raise InvalidHeaderError(
                    _XFO,
                    f"{original!r}: browsers ignore ALLOW-FROM (and then allow"
                    " framing by anyone); use Content-Security-Policy"
                    " frame-ancestors with the origins to allow",
                )
        if len(lowered) > 1:
            raise InvalidHeaderError(
                _XFO,
                f"several values {values!r}; browsers block framing entirely or"
                " ignore the header: send one of DENY or SAMEORIGIN",
            )
        if lowered[0] in ("deny", "sameorigin"):
            return cls(lowered[0].upper())
        shown = values[0]
        raise InvalidHeaderError(
            _XFO,
            f"unknown value {shown!r}; write DENY or SAMEORIGIN (to allow framing"
            " by anyone, send no X-Frame-Options)",
        )

    def to_header(self) -> str:
        """The field value: ``DENY`` or ``SAMEORIGIN``."""
        return check_value(_XFO, self.value)


class XContentTypeOptions(enum.StrEnum):
    """Stop browsers from guessing a response's type (MIME sniffing)."""

    NOSNIFF = "nosniff"

    header_name = enum.nonmember(_XCTO)

    @classmethod
    def _missing_(cls, value: object) -> t.Any:
        # XFrameOptions("bad") teaches like from_header, not a bare ValueError.
        return enum_missing(cls, value)

    @classmethod
    def from_header(cls, value: str) -> t.Self:
        """Read a value as Fetch does: the first value, case-insensitively.

        :raise InvalidHeaderError: the first value is not ``nosniff``.
        """
        values = _values(_check_str(_XCTO, value))
        if values[0].lower() == cls.NOSNIFF:
            return cls.NOSNIFF
        raise InvalidHeaderError(
            _XCTO,
            f"{values[0]!r} is not nosniff, the only value (browsers read the first"
            " value only)",
        )

    def to_header(self) -> str:
        """The field value: ``nosniff``."""
        return check_value(_XCTO, self.value)


def parse_x_frame_options(value: str) -> XFrameOptions | None:
    """The framing rule a browser applies; never raises.

    Per WHATWG HTML: values are compared case-insensitively; several
    different values that include ``deny``, ``sameorigin`` or ``allowall``
    block framing (returned as :attr:`XFrameOptions.DENY`); anything else,
    ``ALLOW-FROM`` included, is ignored (``None``).

    :param value: the field value as received, or several joined by ``,``.
    """
    if not isinstance(value, str):
        return None
    values = {v.lower() for v in _values(value)}
    if len(values) > 1:
        blocking = values & {"deny", "sameorigin", "allowall"}
        return XFrameOptions.DENY if blocking else None
    if values == {"deny"}:
        return XFrameOptions.DENY
    if values == {"sameorigin"}:
        return XFrameOptions.SAMEORIGIN
    return None


def parse_x_content_type_options(value: str) -> XContentTypeOptions | None:
    """:attr:`XContentTypeOptions.NOSNIFF` when the first value is ``nosniff``
    (any case), else ``None``; never raises (Fetch "determine nosniff")."""
    if not isinstance(value, str):
        return None
    if _values(value)[0].lower() == "nosniff":
        return XContentTypeOptions.NOSNIFF
    return None
