"""Reporting-Endpoints: a typed, validated value object (W3C Reporting API).

The field is a Structured Field Dictionary (RFC 9651) of String URLs; its
syntax is left to :mod:`http_sf`. Sans-IO: nothing here imports Flask.
:func:`parse_reporting_endpoints` is the lenient reader (it never raises);
:meth:`ReportingEndpoints.from_header` is the strict one.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import ipaddress
import re
import types
import typing as t
import urllib.parse

import http_sf

from ._validate import check_value
from ._validate import describe_char
from ._validate import shown
from .errors import InvalidHeaderError

_HEADER = "Reporting-Endpoints"
# RFC 9651 key: lcalpha or "*", then lcalpha, DIGIT, "_", "-", ".", "*".
_KEY_RE = re.compile(r"[a-z*][a-z0-9_\-.*]*")
# RFC 3986 URI-reference characters, with well-formed percent-encodings.
_URI_REFERENCE_RE = re.compile(
    r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+"
)
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def _fail(reason: str) -> t.NoReturn:
    raise InvalidHeaderError(_HEADER, reason)


def _is_local(host: str) -> bool:
    """Whether ``host`` is potentially trustworthy over plain HTTP (loopback)."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_problem(url: object) -> str | None:
    """Why ``url`` cannot receive reports, or ``None`` when it can."""
    if not isinstance(url, str):
        return f"{shown(url)} is not a str URL"
    bad = next((c for c in url if not " " < c < "\x7f"), None)
    if bad is not None:
        return (
            f"{url!r}: character {describe_char(bad)} at index {url.index(bad)}"
            " is not allowed in a URL (percent-encode it)"
        )
    if not _URI_REFERENCE_RE.fullmatch(url):
        bad = next(
            (c for c in url if not _URI_REFERENCE_RE.fullmatch(c) and c != "%"), "%"
        )
        return f"{url!r} is not a URI-reference (character {describe_char(bad)})"
    if not _SCHEME_RE.match(url):
        return None  # relative: resolved against the response's own URL
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        return f"{url!r} is not a valid URL ({exc})"
    if parts.scheme.lower() == "https" and parts.hostname:
        return None
    if parts.scheme.lower() == "http" and parts.hostname and _is_local(parts.hostname):
        return None
    if parts.scheme.lower() == "http":
        return (
            f"{url!r} is not potentially trustworthy: browsers only send reports"
            " over HTTPS (plain http is allowed for localhost and 127.0.0.1)"
        )
    return f"{url!r}: reports are POSTed, so the URL must be https:// or a path"


@dataclasses.dataclass(frozen=True, slots=True, init=False, repr=False)
class ReportingEndpoints:
    """An immutable, validated ``Reporting-Endpoints``.

    ::

        ReportingEndpoints({"csp": "/csp-reports", "default": "https://r.example/x"})
        # csp="/csp-reports", default="https://r.example/x"

    Name an endpoint in ``Content-Security-Policy: report-to csp`` or a
    Permissions-Policy ``report_to``. Equality follows the endpoints, in order.

    :param endpoints: a mapping or ``(name, url)`` pairs; a name is a
        structured-field key (lowercase), a URL is a path or an https URL
        (http only for localhost).
    :raise InvalidHeaderError: naming the endpoint and what is wrong.
    """

    header_name: t.ClassVar[str] = _HEADER
    _endpoints: tuple[tuple[str, str], ...]

    def __init__(
        self, endpoints: cabc.Mapping[str, str] | cabc.Iterable[tuple[str, str]], /
    ) -> None:
        pairs = endpoints.items() if isinstance(endpoints, cabc.Mapping) else endpoints
        try:
            pairs = [(name, url) for name, url in pairs]
        except (TypeError, ValueError):
            _fail(
                "give a mapping of endpoint names to URLs, e.g."
                f" {{'csp': '/csp-reports'}}, not {shown(endpoints)}"
            )
        result: dict[str, str] = {}
        for name, url in pairs:
            if not isinstance(name, str) or not _KEY_RE.fullmatch(name):
                hint = ""
                if isinstance(name, str) and _KEY_RE.fullmatch(name.lower()):
                    hint = f": write {name.lower()!r}"
                _fail(
                    f"endpoint name {shown(name)} is not a structured-field key"
                    " (lowercase letters, digits and _-.*, starting with a"
                    f" letter){hint}"
                )
            if name in result:
                _fail(f"endpoint {name!r} is declared twice")
            problem = _url_problem(url)
            if problem is not None:
                _fail(f"endpoint {name!r}: {problem}")
            result[name] = url
        if not result:
            _fail("no endpoints; declare at least one, e.g. {'default': '/reports'}")
        object.__setattr__(self, "_endpoints", tuple(result.items()))

    @classmethod
    def from_header(cls, value: str) -> t.Self:
        """Read a value strictly with :mod:`http_sf`; parameters are ignored.

        :raise InvalidHeaderError: not a structured-field dictionary, a name
            given twice, a value that is not a String, or a URL the
            constructor refuses.
        """
        if not isinstance(value, str):
            _fail(f"from_header takes a str, not {type(value).__name__}")
        check_value(_HEADER, value)

        def duplicate(key: str, context: str) -> None:
            _fail(f"endpoint {key!r} is declared twice (browsers keep the last)")

        try:
            parsed = t.cast(
                "dict[str, t.Any]",
                http_sf.parse(
                    value.encode("latin-1"),
                    tltype="dictionary",
                    on_duplicate_key=duplicate,
                ),
            )
        except InvalidHeaderError:
            raise
        except ValueError as exc:
            offending = getattr(exc, "offending_char", None)
            where = f" (character {describe_char(chr(offending))})" if offending else ""
            _fail(f"not a structured-field dictionary (RFC 9651): {exc}{where}")
        pairs: list[tuple[str, str]] = []
        for name, (url, _params) in parsed.items():
            if not isinstance(url, str):
                shown = repr(str(url)) if isinstance(url, http_sf.Token) else repr(url)
                _fail(
                    f"endpoint {name!r}: {shown} is not a String; quote the URL:"
                    f' {name}="https://..."'
                )
            pairs.append((name, url))
        return cls(pairs)

    @property
    def endpoints(self) -> cabc.Mapping[str, str]:
        """A read-only ``name -> URL`` view, in declaration order."""
        return types.MappingProxyType(dict(self._endpoints))

    def __getitem__(self, name: str) -> str:
        return self.endpoints[name]

    def __contains__(self, name: object) -> bool:
        return name in self.endpoints

    def __iter__(self) -> cabc.Iterator[str]:
        return (name for name, _ in self._endpoints)

    def __len__(self) -> int:
        return len(self._endpoints)

    def to_header(self) -> str:
        """Render the field value with :func:`http_sf.ser`."""
        return check_value(_HEADER, http_sf.ser(dict(self._endpoints)))

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self._endpoints)!r})"


def parse_reporting_endpoints(value: str) -> dict[str, str] | None:
    """Read a value as a browser does; never raises.

    Returns ``None`` when the value is not a structured-field dictionary
    (browsers then ignore the header); otherwise the endpoints whose value
    is a String URL that could receive reports (others are skipped).

    :param value: the field value as received.
    """
    if not isinstance(value, str):
        return None
    try:
        parsed = http_sf.parse(value.encode("latin-1"), tltype="dictionary")
    except Exception:  # http_sf may raise more than StructuredFieldError
        return None
    return {
        name: url
        for name, (url, _params) in t.cast("dict[str, t.Any]", parsed).items()
        if isinstance(url, str) and _url_problem(url) is None
    }
