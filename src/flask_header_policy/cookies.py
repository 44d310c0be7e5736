"""Lenient ``Set-Cookie`` parsing and hardening (sans-IO).

The parser follows the user-agent algorithm of RFC 6265bis §5.6: it never
raises, it keeps every attribute in order (duplicates included) and it leaves
the interpretation of odd values to the caller. :func:`harden_set_cookie`
builds on it to add the ``Secure``, ``HttpOnly`` and ``SameSite`` attributes
that a cookie lacks, without touching anything that is already there.
"""

from __future__ import annotations

import dataclasses
import re

from .errors import InvalidHeaderError

__all__ = [
    "SAMESITE_VALUES",
    "CookiePolicy",
    "SetCookie",
    "harden_set_cookie",
    "normalize_samesite",
    "parse_set_cookie",
]

#: The SameSite values browsers understand, in their canonical spelling.
SAMESITE_VALUES: tuple[str, ...] = ("Strict", "Lax", "None")

# RFC 6265bis §5.6 step 1: a set-cookie-string that holds a control character
# other than HTAB is ignored entirely by user agents.
_CTL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_WSP = " \t"


@dataclasses.dataclass(frozen=True, slots=True)
class SetCookie:
    """One parsed ``Set-Cookie`` field value.

    :param name: the cookie name, whitespace-trimmed (may be empty).
    :param value: the cookie value, whitespace-trimmed, quotes kept.
    :param attributes: ``(name, value)`` pairs in order of appearance, the
        name lower-cased, the value ``None`` when the attribute has no ``=``.
    """

    name: str
    value: str
    attributes: tuple[tuple[str, str | None], ...] = ()

    def get(self, attribute: str) -> str | None:
        """The value of the *last* ``attribute`` (as a user agent keeps it).

        Returns ``""`` for an attribute present without a value and ``None``
        when the attribute is absent.
        """
        wanted = attribute.lower()
        found: str | None = None
        for key, value in self.attributes:
            if key == wanted:
                found = "" if value is None else value
        return found

    def has(self, attribute: str) -> bool:
        """Whether ``attribute`` appears at least once (case-insensitive)."""
        wanted = attribute.lower()
        return any(key == wanted for key, _ in self.attributes)

    @property
    def secure(self) -> bool:
        """Whether the cookie carries the ``Secure`` attribute."""
        return self.has("secure")

    @property
    def httponly(self) -> bool:
        """Whether the cookie carries the ``HttpOnly`` attribute."""
        return self.has("httponly")

    @property
    def samesite(self) -> str | None:
        """The raw value of the last ``SameSite`` attribute, or ``None``."""
        return self.get("samesite")


def parse_set_cookie(value: str) -> SetCookie | None:
    """Parse one ``Set-Cookie`` field value; never raises.

    Returns ``None`` when a user agent would ignore the whole field: it is not
    a string, it holds a control character other than HTAB, or both the name
    and the value are empty.
    """
    if not isinstance(value, str) or _CTL_RE.search(value) is not None:
        return None
    pair, _, rest = value.partition(";")
    if "=" in pair:
        name, _, cookie_value = pair.partition("=")
    else:
        # RFC 6265bis: a pair without "=" is a nameless cookie.
        name, cookie_value = "", pair
    name = name.strip(_WSP)
    cookie_value = cookie_value.strip(_WSP)
    if not name and not cookie_value:
        return None
    attributes: list[tuple[str, str | None]] = []
    if rest:
        for item in rest.split(";"):
            key, eq, attr_value = item.partition("=")
            key = key.strip(_WSP).lower()
            if not key:
                continue
            attributes.append((key, attr_value.strip(_WSP) if eq else None))
    return SetCookie(name, cookie_value, tuple(attributes))


def normalize_samesite(samesite: str | None, *, secure: bool) -> str | None:
    """Return the canonical spelling of ``samesite``, or raise.

    :param samesite: ``"Strict"``, ``"Lax"``, ``"None"`` (any case) or ``None``
        for "do not add SameSite".
    :param secure: whether ``Secure`` is added too; browsers reject
        ``SameSite=None`` without ``Secure``.
    :raise InvalidHeaderError: unknown value, or ``None`` without ``Secure``.
    """
    if samesite is None:
        return None
    if not isinstance(samesite, str):
        raise InvalidHeaderError(
            "Set-Cookie",
            f"SameSite must be a str or None, not {type(samesite).__name__}",
        )
    for canonical in SAMESITE_VALUES:
        if samesite.strip().lower() == canonical.lower():
            break
    else:
        raise InvalidHeaderError(
            "Set-Cookie",
            f"SameSite={samesite!r} is not one of Strict, Lax or None",
        )
    if canonical == "None" and not secure:
        raise InvalidHeaderError(
            "Set-Cookie",
            "SameSite=None requires Secure (browsers reject the cookie"
            " otherwise); pass secure=True or choose Lax",
        )
    return canonical


def harden_set_cookie(
    value: str,
    *,
    secure: bool,
    httponly: bool,
    samesite: str | None,
) -> str:
    """Add the ``Secure``, ``HttpOnly`` and ``SameSite`` attributes a cookie lacks.

    Existing attributes are never removed nor changed (an explicit
    ``SameSite=None`` stays), and the original text is kept: the missing
    attributes are appended after it. A value that a user agent would ignore
    (see :func:`parse_set_cookie`) is returned unchanged.

    :param value: one ``Set-Cookie`` field value.
    :param secure: add ``Secure`` when missing.
    :param httponly: add ``HttpOnly`` when missing.
    :param samesite: ``"Strict"``, ``"Lax"`` or ``"None"`` to add when the
        cookie has no SameSite attribute; ``None`` to leave it alone.
    :raise InvalidHeaderError: ``samesite`` is invalid, or ``"None"`` without
        ``secure`` (a configuration error, see :func:`normalize_samesite`).
    """
    canonical = normalize_samesite(samesite, secure=secure)
    if not isinstance(value, str):
        return value
    attribute = None if canonical is None else f"SameSite={canonical}"
    return _harden(value, secure, httponly, attribute)


def _harden(value: str, secure: bool, httponly: bool, samesite: str | None) -> str:
    """:func:`harden_set_cookie` with ``samesite`` already checked and
    written as the attribute to add (``"SameSite=Lax"``).

    It reads the value as :func:`parse_set_cookie` does, without building a
    :class:`SetCookie`: only the attribute names matter here, and this runs
    for every cookie of every response.
    """
    # Printable ASCII has no control character: the regex only for the rest.
    if not (value.isascii() and value.isprintable()) and _CTL_RE.search(value):
        return value
    pair, _, rest = value.partition(";")
    name, eq, cookie_value = pair.partition("=")
    if not eq:
        name, cookie_value = "", pair
    if not name.strip(_WSP) and not cookie_value.strip(_WSP):
        return value
    lowered = rest.lower()
    # An attribute's name can only be there if its text is.
    names = (
        {item.partition("=")[0].strip(_WSP) for item in lowered.split(";")}
        if "secure" in lowered or "httponly" in lowered or "samesite" in lowered
        else _NO_NAMES
    )
    additions: list[str] = []
    if secure and "secure" not in names:
        additions.append("Secure")
    if httponly and "httponly" not in names:
        additions.append("HttpOnly")
    if samesite is not None and "samesite" not in names:
        additions.append(samesite)
    if not additions:
        return value
    # Only trailing separators are dropped, so "a=b;" does not become "a=b;;".
    base = value.rstrip(" \t;")
    return "; ".join([base, *additions])


_NO_NAMES: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True, slots=True)
class CookiePolicy:
    """How the extension hardens every ``Set-Cookie`` of a response.

    Only missing attributes are added (see
    :func:`~flask_header_policy.cookies.harden_set_cookie`).

    :param secure: add ``Secure`` to cookies sent over HTTPS. Over plain HTTP
        it is never added, since the browser would drop the cookie.
    :param httponly: add ``HttpOnly``.
    :param samesite: ``"Strict"``, ``"Lax"`` or ``"None"`` to add when a
        cookie has no SameSite attribute; ``None`` to leave SameSite alone.
        ``"None"`` needs ``secure=True`` and is not added over plain HTTP.
    :param exempt: names of cookies to leave exactly as the app sets them
        (a cookie that client-side script must read, for example).
    :param only: when given, harden only the cookies of these names (the
        session cookie's, say) and leave every other one alone.
    :raise InvalidHeaderError: at construction, for an invalid ``samesite``.
    """

    secure: bool = True
    httponly: bool = True
    samesite: str | None = "Lax"
    exempt: frozenset[str] = frozenset()
    only: frozenset[str] | None = None
    #: For plain HTTP and HTTPS (index ``is_secure``): whether ``Secure`` is
    #: added, and the ``SameSite`` attribute to add; worked out once.
    _plans: tuple[tuple[bool, str | None], ...] = dataclasses.field(
        init=False, repr=False, compare=False, default=()
    )

    def __post_init__(self) -> None:
        canonical = normalize_samesite(self.samesite, secure=self.secure)
        object.__setattr__(self, "samesite", canonical)
        plans = []
        for is_secure in (False, True):
            secure = self.secure and is_secure
            samesite = None if canonical == "None" and not secure else canonical
            plans.append((secure, None if samesite is None else f"SameSite={samesite}"))
        object.__setattr__(self, "_plans", tuple(plans))
        if isinstance(self.exempt, str):
            raise TypeError("exempt takes a collection of cookie names, not a str")
        object.__setattr__(self, "exempt", frozenset(self.exempt))
        if self.only is not None:
            if isinstance(self.only, str):
                raise TypeError("only takes a collection of cookie names, not a str")
            object.__setattr__(self, "only", frozenset(self.only))

    def harden(self, value: str, *, is_secure: bool) -> str:
        """Return one ``Set-Cookie`` value with the missing attributes added.

        :param is_secure: whether the response goes over HTTPS.
        """
        secure, samesite = self._plans[is_secure]
        return _harden(value, secure, self.httponly, samesite)

    def apply(self, headers: list[tuple[str, str]], *, is_secure: bool) -> None:
        """Harden every ``Set-Cookie`` in a WSGI header list, in place."""
        secure, samesite = self._plans[is_secure]
        for index, (name, value) in enumerate(headers):
            # The length test spares a lower() for nearly every other header.
            if len(name) == 10 and name.lower() == "set-cookie":
                if self.exempt or self.only is not None:
                    cookie = value.partition("=")[0].strip()
                    if cookie in self.exempt or (
                        self.only is not None and cookie not in self.only
                    ):
                        continue
                hardened = _harden(value, secure, self.httponly, samesite)
                if hardened != value:
                    headers[index] = (name, hardened)
