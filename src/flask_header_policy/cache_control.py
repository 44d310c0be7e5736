"""Cache-Control for responses: a typed, validated value object (RFC 9111 §5.2).

The directive syntax is Werkzeug's: ``ResponseCacheControl`` renders it and
:func:`~werkzeug.http.parse_cache_control_header` reads it;
this module adds immutability and validation. Sans-IO: nothing here imports
Flask.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing as t

from werkzeug.datastructures import ResponseCacheControl
from werkzeug.http import parse_cache_control_header
from werkzeug.http import parse_list_header

from ._validate import check_value
from ._validate import is_token
from ._validate import MAX_DELTA_SECONDS
from ._validate import shown
from .errors import InvalidHeaderError

_HEADER = "Cache-Control"
_REQUEST_ONLY = {"max-stale", "min-fresh", "only-if-cached"}


def _fail(reason: str) -> t.NoReturn:
    raise InvalidHeaderError(_HEADER, reason)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class CacheControl:
    """An immutable, validated response ``Cache-Control``.

    Each keyword is the directive with ``_`` for ``-``; directives render in
    the order below::

        CacheControl(no_store=True, max_age=0)  # no-store, max-age=0
        CacheControl(public=True, max_age=3600)  # public, max-age=3600

    :param public: any cache may store the response, even an authenticated one.
    :param private: only the browser may store it; a str limits this to the
        named header fields, e.g. ``"Set-Cookie"``.
    :param no_cache: caches must revalidate before each use; a str limits
        this to the named header fields.
    :param no_store: nothing may store the response.
    :param max_age: freshness lifetime in seconds.
    :param s_maxage: freshness lifetime in shared caches, in seconds.
    :param must_revalidate: a stale response must not be used unrevalidated.
    :param proxy_revalidate: ``must_revalidate`` for shared caches only.
    :param must_understand: store only if the status code is understood.
    :param no_transform: intermediaries must not transform the content.
    :param immutable: the content never changes while fresh (RFC 8246).
    :param stale_while_revalidate: seconds a stale response may be served
        while revalidating (RFC 5861).
    :param stale_if_error: seconds a stale response may be served on an
        error (RFC 5861).
    :raise InvalidHeaderError: a wrong type, a negative number, no directive
        at all, or ``public`` with ``private``.
    """

    header_name: t.ClassVar[str] = _HEADER
    public: bool = False
    private: bool | str = False
    no_cache: bool | str = False
    no_store: bool = False
    max_age: int | None = None
    s_maxage: int | None = None
    must_revalidate: bool = False
    proxy_revalidate: bool = False
    must_understand: bool = False
    no_transform: bool = False
    immutable: bool = False
    stale_while_revalidate: int | None = None
    stale_if_error: int | None = None

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            directive = field.name.replace("_", "-")
            if field.type == "bool":
                if not isinstance(value, bool):
                    _fail(f"{field.name} must be True or False, not {shown(value)}")
            elif field.type == "int | None":
                if value is not None and (
                    isinstance(value, bool) or not isinstance(value, int) or value < 0
                ):
                    _fail(
                        f"{directive} takes a non-negative int (seconds), got"
                        f" {shown(value)}"
                    )
                if value is not None and value > MAX_DELTA_SECONDS:
                    _fail(
                        f"{directive}={shown(value)} is more than 2**31 seconds (68"
                        " years), which caches read as 2**31 (RFC 9111 §1.2.2);"
                        f" write at most {MAX_DELTA_SECONDS}"
                    )
            elif isinstance(value, str):
                names = [name.strip(" \t") for name in value.split(",")]
                bad = next((n for n in names if not is_token(n)), None)
                if bad is not None:
                    _fail(
                        f"{directive}={value!r}: {bad!r} is not a header field name;"
                        f" give field names like 'Set-Cookie', or True"
                    )
            elif not isinstance(value, bool):
                _fail(f"{field.name} must be a bool or field names, not {shown(value)}")
        if self.public and self.private:
            _fail(
                "public and private contradict each other: private keeps the"
                " response out of shared caches, public lets them store it;"
                " choose one"
            )
        if not self.to_header():
            _fail("no directive is set; e.g. CacheControl(no_store=True)")

    @classmethod
    def from_header(cls, value: str) -> t.Self:
        """Read a value strictly (directive names are case-insensitive).

        :raise InvalidHeaderError: an unknown, request-only or repeated
            directive, a value where none belongs (or none where one is
            needed), or anything the constructor refuses.
        """
        if not isinstance(value, str):
            _fail(f"from_header takes a str, not {type(value).__name__}")
        check_value(_HEADER, value)
        fields = {f.name.replace("_", "-"): f for f in dataclasses.fields(cls)}
        seen: set[str] = set()
        for item in parse_list_header(value):
            name = item.partition("=")[0].strip(" \t").lower()
            if name in seen:
                _fail(f"directive {name!r} is repeated; caches may use either copy")
            seen.add(name)
            if name in _REQUEST_ONLY:
                _fail(f"{name!r} is a request directive; responses do not use it")
            if name not in fields:
                close = difflib.get_close_matches(name, list(fields), 1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                _fail(f"unknown directive {name!r}{hint}")
        parsed = parse_cache_control_header(value, cls=ResponseCacheControl)
        kwargs: dict[str, t.Any] = {}
        for key, raw in parsed.items():
            name = key.lower()
            field = fields.get(name)
            if field is None:  # parse_list_header and parse_dict_header disagree
                _fail(f"cannot read directive {key!r}")
            if field.type == "int | None":
                if raw is None:
                    _fail(f"{name} needs a number of seconds, e.g. {name}=3600")
                if not raw.isdigit() or not raw.isascii():
                    _fail(
                        f"{name}={shown(raw)}: give a number of seconds, e.g."
                        f" {name}=3600"
                    )
                # No int() of thousands of digits: anything this long is too big.
                seconds = raw.lstrip("0") or "0"
                if len(seconds) > 10 or int(seconds) > MAX_DELTA_SECONDS:
                    _fail(
                        f"{name}={shown(raw, 40)} is more than 2**31 seconds (68"
                        " years), which caches read as 2**31 (RFC 9111 §1.2.2);"
                        f" write at most {MAX_DELTA_SECONDS}"
                    )
                kwargs[field.name] = int(seconds)
            elif field.type == "bool":
                if raw is not None:
                    _fail(f"{name} takes no value; write {name}, not {name}={raw}")
                kwargs[field.name] = True
            else:
                kwargs[field.name] = True if raw is None else raw
        return cls(**kwargs)

    def to_header(self) -> str:
        """Render the field value with Werkzeug's ``ResponseCacheControl``."""
        control = ResponseCacheControl()
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is not False and value is not None:
                setattr(control, field.name, value)
        return check_value(_HEADER, control.to_header())

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        args = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != f.default
        )
        return f"{type(self).__name__}({args})"


#: Nothing stores the response (OWASP's value): pages with personal data.
NO_STORE: t.Final = CacheControl(no_store=True, max_age=0)
#: Stored, but revalidated on every use: pages that change often.
NO_CACHE: t.Final = CacheControl(no_cache=True)
#: Fingerprinted static files (``app.3f9c1.js``): cached for a year, never
#: revalidated.
IMMUTABLE: t.Final = CacheControl(public=True, max_age=31536000, immutable=True)
