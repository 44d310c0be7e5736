"""Strict-Transport-Security: a typed, validated value object (RFC 6797).

Sans-IO: nothing here imports Flask. :func:`parse_hsts` is the one lenient
grammar (it never raises, the audit uses it);
:meth:`StrictTransportSecurity.from_header` is the strict reader built on it.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import typing as t

from ._validate import check_value
from ._validate import is_token
from .errors import InvalidHeaderError

_HEADER = "Strict-Transport-Security"
#: The smallest ``max-age`` hstspreload.org accepts (one year, in seconds).
PRELOAD_MIN_MAX_AGE: t.Final = 31536000
#: Two years: the default, and what hstspreload.org recommends.
DEFAULT_MAX_AGE: t.Final = 63072000

# Canonical spelling of each directive, keyed by its case-folded name.
_DIRECTIVES = {
    "max-age": "max-age",
    "includesubdomains": "includeSubDomains",
    "preload": "preload",
}
_DELTA_SECONDS_RE = re.compile(r"[0-9]+")
_LOOKS_ALIKE_RE = re.compile(r"[^a-z]")


@dataclasses.dataclass(frozen=True, slots=True)
class HstsParse:
    """What :func:`parse_hsts` read, and what is wrong with it.

    :param max_age: the ``max-age`` in seconds, ``None`` if missing or invalid.
    :param include_subdomains: whether ``includeSubDomains`` is present.
    :param preload: whether ``preload`` is present.
    :param problems: one teaching sentence per problem; empty when the value
        is valid.
    :param notes: valid but unusual spellings, such as ``includeSubdomains``:
        names are case-insensitive (RFC 6797), so browsers accept them, but
        they usually betray a typo and other tools may not.
    """

    max_age: int | None = None
    include_subdomains: bool = False
    preload: bool = False
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _split_directives(value: str) -> list[str]:
    """Split on ``;`` outside quoted-strings (RFC 6797 §6.1 directive list)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _unquote(text: str) -> str | None:
    """The content of a token or quoted-string, ``None`` if it is neither."""
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text if is_token(text) else None


def _suggest(name: str) -> str | None:
    """The directive ``name`` was probably meant to be, if any."""
    folded = _LOOKS_ALIKE_RE.sub("", name.lower())
    for key, canonical in _DIRECTIVES.items():
        if folded == _LOOKS_ALIKE_RE.sub("", key):
            return canonical
    close = difflib.get_close_matches(name.lower(), list(_DIRECTIVES), n=1, cutoff=0.75)
    return _DIRECTIVES[close[0]] if close else None


def parse_hsts(value: str) -> HstsParse:
    """Read a ``Strict-Transport-Security`` value leniently; never raises.

    Directive names are case-insensitive (``includesubdomains`` is fine);
    ``max-age`` may be a token or a quoted-string of digits. Reported as
    problems: a value that is not a string or holds control characters, a
    missing or invalid ``max-age``, a directive given twice (browsers then
    ignore the whole header), a value on a flag directive, and unknown
    directives, with a "did you mean" for misspellings such as
    ``include-subdomains``.

    :param value: the field value as received.
    """
    if not isinstance(value, str):
        return HstsParse(
            problems=(f"the value is a {type(value).__name__}, not a str",)
        )
    problems: list[str] = []
    notes: list[str] = []
    try:
        check_value(_HEADER, value.strip(" \t"))
    except InvalidHeaderError as exc:
        problems.append(exc.reason)
    seen: set[str] = set()
    max_age: int | None = None
    flags = {"includesubdomains": False, "preload": False}
    for directive in _split_directives(value):
        name, eq, raw = directive.partition("=")
        name, raw = name.strip(" \t"), raw.strip(" \t")
        if not name and not eq:
            continue  # RFC 6797 allows empty directives: "max-age=1;;"
        key = name.lower()
        if key not in _DIRECTIVES:
            hint = _suggest(name)
            if hint is not None:
                problems.append(f"unknown directive {name!r}: did you mean {hint}?")
            else:
                problems.append(
                    f"unknown directive {name!r} (browsers ignore it; the known"
                    " directives are max-age, includeSubDomains and preload)"
                )
            continue
        if name != _DIRECTIVES[key]:
            notes.append(
                f"{name!r} is spelled {_DIRECTIVES[key]} in RFC 6797; browsers"
                " accept any case, but write it as the RFC does"
            )
        if key in seen:
            problems.append(
                f"directive {_DIRECTIVES[key]} appears twice; RFC 6797 §6.1 allows"
                " each once and browsers ignore the whole header otherwise"
            )
            continue
        seen.add(key)
        if key == "max-age":
            seconds = _unquote(raw) if eq else None
            if seconds is None or not _DELTA_SECONDS_RE.fullmatch(seconds):
                problems.append(
                    f"invalid max-age {raw!r}: it takes a number of seconds"
                    " (digits only), e.g. max-age=63072000"
                )
            elif len(seconds.lstrip("0")) > 18:
                # Too long to be meant (and int() refuses > 4300 digits):
                # read it as delta-seconds' "infinity", 2**31 (RFC 9111 §1.2.2).
                max_age = 2**31
            else:
                max_age = int(seconds.lstrip("0") or "0")
        elif eq:
            problems.append(
                f"{_DIRECTIVES[key]} takes no value; write {_DIRECTIVES[key]},"
                f" not {directive.strip(' ')!r}"
            )
        else:
            flags[key] = True
    if "max-age" not in seen:
        problems.append("max-age is missing; it is required (e.g. max-age=63072000)")
    return HstsParse(
        max_age,
        flags["includesubdomains"],
        flags["preload"],
        tuple(problems),
        tuple(notes),
    )


@dataclasses.dataclass(frozen=True, slots=True)
class StrictTransportSecurity:
    """An immutable, validated ``Strict-Transport-Security``.

    ::

        StrictTransportSecurity()  # max-age=63072000; includeSubDomains
        StrictTransportSecurity(max_age=0)  # tell browsers to forget HSTS

    Browsers only honour the header over HTTPS.

    :param max_age: how long browsers remember to use HTTPS only, in seconds;
        ``0`` clears a previous policy.
    :param include_subdomains: also apply to every subdomain.
    :param preload: ask to be in browsers' built-in HSTS list; hstspreload.org
        requires ``max_age >= 31536000`` and ``include_subdomains``, and
        removal from that list takes months.
    :raise InvalidHeaderError: a negative or non-integer ``max_age``, or
        ``preload`` without what hstspreload.org requires.
    """

    header_name: t.ClassVar[str] = _HEADER
    max_age: int = DEFAULT_MAX_AGE
    include_subdomains: bool = True
    preload: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.max_age, bool) or not isinstance(self.max_age, int):
            raise InvalidHeaderError(
                _HEADER,
                f"max_age must be an int number of seconds, not {self.max_age!r}",
            )
        if self.max_age < 0:
            raise InvalidHeaderError(
                _HEADER,
                f"max_age={self.max_age} is negative; use 0 to clear HSTS",
            )
        for field in ("include_subdomains", "preload"):
            if not isinstance(getattr(self, field), bool):
                raise InvalidHeaderError(
                    _HEADER,
                    f"{field} must be True or False, not {getattr(self, field)!r}",
                )
        if self.preload and (
            self.max_age < PRELOAD_MIN_MAX_AGE or not self.include_subdomains
        ):
            missing = []
            if self.max_age < PRELOAD_MIN_MAX_AGE:
                missing.append(f"max_age >= {PRELOAD_MIN_MAX_AGE} (one year)")
            if not self.include_subdomains:
                missing.append("include_subdomains=True")
            raise InvalidHeaderError(
                _HEADER,
                "preload needs " + " and ".join(missing) + " (hstspreload.org"
                " refuses the domain otherwise); the token alone preloads nothing",
            )

    @classmethod
    def from_header(cls, value: str) -> t.Self:
        """Read a value strictly: any problem
        :func:`~flask_header_policy.hsts.parse_hsts` finds raises.

        :raise InvalidHeaderError: listing every problem, or when ``preload``
            lacks what hstspreload.org requires.
        """
        parsed = parse_hsts(value)
        if parsed.problems:
            raise InvalidHeaderError(_HEADER, "; ".join(parsed.problems))
        assert parsed.max_age is not None  # no problems: max-age was read
        return cls(parsed.max_age, parsed.include_subdomains, parsed.preload)

    def to_header(self) -> str:
        """Render the field value, e.g. ``max-age=63072000; includeSubDomains``."""
        parts = [f"max-age={self.max_age}"]
        if self.include_subdomains:
            parts.append("includeSubDomains")
        if self.preload:
            parts.append("preload")
        return check_value(_HEADER, "; ".join(parts))

    def __str__(self) -> str:
        return self.to_header()
