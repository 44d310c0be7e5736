"""Referrer-Policy: the policy tokens as an enum (W3C Referrer Policy).

Sans-IO: nothing here imports Flask. :func:`parse_referrer_policy` is the one
lenient grammar (it never raises, the audit uses it);
:meth:`ReferrerPolicy.from_header` is the strict reader built on it.
"""

from __future__ import annotations

import difflib
import enum
import typing as t

from ._validate import check_value
from ._validate import enum_missing
from .errors import InvalidHeaderError

_HEADER = "Referrer-Policy"


class ReferrerPolicy(enum.StrEnum):
    """How much of the page URL browsers send in the ``Referer`` header.

    ``str(policy)`` and :meth:`to_header` give the token, e.g.
    ``ReferrerPolicy.NO_REFERRER.to_header() == "no-referrer"``.
    """

    NO_REFERRER = "no-referrer"
    NO_REFERRER_WHEN_DOWNGRADE = "no-referrer-when-downgrade"
    ORIGIN = "origin"
    ORIGIN_WHEN_CROSS_ORIGIN = "origin-when-cross-origin"
    SAME_ORIGIN = "same-origin"
    STRICT_ORIGIN = "strict-origin"
    #: The browsers' default.
    STRICT_ORIGIN_WHEN_CROSS_ORIGIN = "strict-origin-when-cross-origin"
    #: Sends the full URL, path and query included, even to HTTP sites.
    UNSAFE_URL = "unsafe-url"

    # An Enum turns class attributes into members; nonmember keeps a str.
    header_name = enum.nonmember(_HEADER)

    @classmethod
    def _missing_(cls, value: object) -> t.Any:
        # XFrameOptions("bad") teaches like from_header, not a bare ValueError.
        return enum_missing(cls, value)

    @classmethod
    def from_header(cls, value: str) -> t.Self:
        """Read a comma-separated list; the last recognised token wins.

        Unknown tokens are allowed next to a known one: that is how a header
        offers a newer policy with a fallback for older browsers.

        :raise InvalidHeaderError: no token is a referrer policy; the message
            names the tokens and suggests the closest policy.
        """
        if not isinstance(value, str):
            raise InvalidHeaderError(
                _HEADER, f"from_header takes a str, not {type(value).__name__}"
            )
        check_value(_HEADER, value.strip(" \t"))
        policy = parse_referrer_policy(value)
        if policy is None:
            tokens = [tok.strip(" \t") for tok in value.split(",") if tok.strip(" \t")]
            if not tokens:
                raise InvalidHeaderError(_HEADER, "the value is empty")
            hints = []
            for token in tokens:
                if token.lower() in cls._value2member_map_:
                    hints.append(f"{token!r} must be lowercase: {token.lower()!r}")
                else:
                    close = difflib.get_close_matches(
                        token.lower(), [m.value for m in cls], 1
                    )
                    if close:
                        hints.append(f"{token!r}: did you mean {close[0]!r}?")
            known = ", ".join(member.value for member in cls)
            raise InvalidHeaderError(
                _HEADER,
                f"no referrer policy in {', '.join(map(repr, tokens))}"
                + (f" ({'; '.join(hints)})" if hints else "")
                + f"; the policies are {known}",
            )
        return cls(policy)

    def to_header(self) -> str:
        """The field value: the policy token."""
        return check_value(_HEADER, self.value)


def parse_referrer_policy(value: str) -> ReferrerPolicy | None:
    """Read a value as a browser does; never raises.

    Following W3C Referrer Policy §8.1, the value is split on ``,`` and the
    last token that is a referrer policy (compared case-sensitively) wins;
    ``None`` when there is none (browsers then keep their default).

    :param value: the field value as received, or several joined by ``,``.
    """
    if not isinstance(value, str):
        return None
    policy: ReferrerPolicy | None = None
    for token in value.split(","):
        token = token.strip(" \t")
        if token in ReferrerPolicy._value2member_map_:
            policy = ReferrerPolicy(token)
    return policy
