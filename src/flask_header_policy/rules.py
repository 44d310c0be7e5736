"""How a header is declared: its value and its mode (sans-IO).

A layer (the app, a blueprint, a view) declares a mapping of header names to
values. A value is a ``str``, an ``int``, a typed builder (anything with a
``to_header()`` method), a callable evaluated per request, ``None`` (cancel
what a lower layer declared), or a :class:`Header` made by :func:`force`,
:func:`append` or :func:`remove` to choose how it meets the response's own
headers.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import enum
import mimetypes as _mimetypes_db
import re
import secrets
import typing as t
import warnings

from ._config import outside_package
from ._grammar import check_grammar
from ._grammar import check_static_csp
from ._shapes import check_headers_shape
from ._validate import check_name
from ._validate import check_value
from ._validate import HeaderNameWarning
from ._validate import misspelt
from ._validate import plain_str
from ._validate import shown
from .errors import InvalidHeaderError


class Mode(enum.Enum):
    """How a policy header meets a header of the same name on the response."""

    #: Add the header only if the response has none (the view's own wins).
    DEFAULT = "default"
    #: Replace whatever the response carries.
    FORCE = "force"
    #: Merge into a comma-separated list (``Vary``), without duplicating members.
    APPEND = "append"
    #: Strip the header from every response.
    REMOVE = "remove"


@t.runtime_checkable
class HeaderValue(t.Protocol):
    """A typed builder: anything that renders itself as a field value."""

    def to_header(self) -> str: ...


class Inherit(enum.Enum):
    """The type of :data:`INHERIT` (an enum, so it has one value)."""

    INHERIT = "inherit"


#: ``only_for``'s default ``otherwise``: what the lower layer sends to the
#: other types (so a view's own CSP keeps the app's fallback for JSON).
INHERIT = Inherit.INHERIT

#: A value computed per request from ``(request, response)``; ``None`` omits it.
DynamicValue = cabc.Callable[[t.Any, t.Any], str | HeaderValue | None]
#: A declared value: text, a number, a typed builder, or a :data:`DynamicValue`.
Value = str | int | HeaderValue | DynamicValue


@dataclasses.dataclass(frozen=True, slots=True)
class Header:
    """A header value with a mode, and optionally the response types it is for.

    :param value: the value; ``None`` only with :attr:`Mode.REMOVE`.
    :param mode: see :class:`Mode`.
    :param mimetypes: send it only on responses of these mimetypes
        (``"text/html"``); ``None`` means every response.
    :param secure_only: send it only on requests made over HTTPS
        (``request.is_secure``), as browsers ignore HSTS on plain HTTP.
    :param otherwise: with ``mimetypes``, a static value for responses of
        every other type; :data:`~flask_header_policy.rules.INHERIT` takes the
        lower layer's.
    """

    value: Value | None
    mode: Mode = Mode.DEFAULT
    mimetypes: frozenset[str] | None = None
    secure_only: bool = False
    otherwise: str | int | HeaderValue | Inherit | None = None


def force(value: Value, *, mimetypes: cabc.Iterable[str] | None = None) -> Header:
    """Replace whatever header of this name the response carries."""
    return Header(value, Mode.FORCE, _mimetypes(mimetypes))


def append(value: Value, *, mimetypes: cabc.Iterable[str] | None = None) -> Header:
    """Merge comma-list members (``Vary: Cookie``) into the response's header.

    A ``Set-Cookie`` is added as a field of its own, next to the response's
    cookies. A header that holds one value (``X-Frame-Options``,
    ``Strict-Transport-Security``, ``Location``...) refuses ``append()``
    when declared.
    """
    return Header(value, Mode.APPEND, _mimetypes(mimetypes))


def remove() -> Header:
    """Strip this header (``Server``, ``X-Powered-By``) from every response."""
    return Header(None, Mode.REMOVE)


def only_for(
    mimetypes: str | cabc.Iterable[str],
    value: Value | Header,
    *,
    otherwise: str | int | HeaderValue | Inherit | None = INHERIT,
) -> Header:
    """Send ``value`` only on responses of the given mimetype(s).

    ``only_for("text/html", csp)`` sends the CSP on HTML pages only; the check
    is one mimetype lookup per response. ``otherwise`` is a static value for
    every other response (a nonce-free CSP for JSON and static files, say).
    Left out, other responses keep what the lower layer sends them (the
    preset's or the app's fallback); ``otherwise=None`` sends them nothing.
    """
    if mimetypes is None:
        raise InvalidHeaderError(
            "Content-Type", "only_for() takes mimetypes such as 'text/html', not None"
        )
    if isinstance(mimetypes, str):
        mimetypes = (mimetypes,)
    header = value if isinstance(value, Header) else Header(value)
    return dataclasses.replace(
        header, mimetypes=_mimetypes(mimetypes), otherwise=otherwise
    )


def _mimetypes(values: cabc.Iterable[str] | None) -> frozenset[str] | None:
    """Lower-cased and trimmed; the grammar is checked by :func:`declare`,
    which knows the header and the layer to name."""
    if values is None:
        return None
    if isinstance(values, str):
        values = (values,)
    items = list(values) if isinstance(values, cabc.Iterable) else [values]
    normal = []
    for value in items:
        if not isinstance(value, str):
            raise InvalidHeaderError(
                "Content-Type",
                "only_for() and mimetypes= take mimetypes such as 'text/html',"
                f" not {type(value).__name__} {shown(value)}",
            )
        normal.append(plain_str(value).strip().lower())
    return frozenset(normal)


_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+")


def check_mimetypes(name: str, mimetypes: object, layer: str) -> None:
    """Each of ``mimetypes`` must be ``type/subtype`` or ``type/*`` (lower case,
    RFC 9110 tokens, no parameters).

    :raise InvalidHeaderError: with the corrected spelling where there is one
        (``'text/html'`` for ``'html'`` or ``'text/html; charset=utf-8'``).
    """

    def fail(reason: str) -> t.NoReturn:
        raise InvalidHeaderError(name, f"only_for(): {reason}", layer=layer)

    if isinstance(mimetypes, str) or not isinstance(mimetypes, cabc.Set):
        fail(f"mimetypes must be a set of str, not {shown(mimetypes)}")
    if not mimetypes:
        fail("give at least one mimetype, e.g. 'text/html'")
    for mimetype in mimetypes:
        if not isinstance(mimetype, str):
            fail(f"a mimetype is a str such as 'text/html', not {shown(mimetype)}")
        if mimetype != mimetype.strip().lower():
            fail(f"write {mimetype.strip().lower()!r}, not {mimetype!r}")
        bare = mimetype.partition(";")[0].strip()
        kind, slash, subtype = bare.partition("/")
        if not slash:
            guess = _mimetypes_db.guess_type(f"x.{bare}", strict=False)[0]
            hint = f"; did you mean {guess!r}?" if guess else ""
            fail(f"mimetype {mimetype!r} is not type/subtype{hint}")
        if kind == "*":
            fail(
                f"{mimetype!r}: the type cannot be a wildcard; to send the header"
                " on every response, declare it without only_for()"
            )
        if not _TOKEN_RE.fullmatch(kind) or not (
            subtype == "*" or _TOKEN_RE.fullmatch(subtype)
        ):
            fail(
                f"mimetype {mimetype!r} is not type/subtype (RFC 9110 tokens,"
                " e.g. 'text/html', or 'text/*' for every text type)"
            )
        if bare != mimetype:
            fail(
                f"mimetype {mimetype!r} has parameters; only_for() compares the"
                f" mimetype alone (any charset matches): write {bare!r}"
            )


@dataclasses.dataclass(frozen=True, slots=True)
class Declared:
    """One validated declaration of one layer, ready to be merged.

    Exactly one of ``static``, ``dynamic`` and ``template`` is set, unless the
    declaration cancels a lower layer (``cancel``) or removes the header.
    """

    name: str
    mode: Mode
    layer: str
    static: str | None = None
    dynamic: DynamicValue | None = None
    #: A value that needs the request's CSP nonce: the text before and after it.
    template: tuple[str, ...] | None = None
    mimetypes: frozenset[str] | None = None
    secure_only: bool = False
    #: For a mimetype-scoped declaration, the static value for other types.
    otherwise: str | None = None
    #: Take ``otherwise`` from the lower layer's declaration of this name.
    inherit_otherwise: bool = False
    #: What plain-HTTP responses get instead (a CSP without
    #: upgrade-insecure-requests); ``None``: the same as HTTPS ones.
    plain: Declared | None = None
    cancel: bool = False
    #: The layer as ``flask headers show`` prints it (``blueprint:api``).
    source: str = "app"

    @property
    def key(self) -> str:
        return self.name.lower()

    def describe(self) -> str:
        """The value as ``flask headers show`` prints it."""
        if self.mode is Mode.REMOVE:
            return "(removed)"
        if self.dynamic is not None:
            name = getattr(self.dynamic, "__qualname__", repr(self.dynamic))
            return f"<dynamic: {name}>"
        if self.template is not None:
            value = "{nonce}".join(self.template)
        else:
            value = self.static or ""
        if self.otherwise is not None:
            return f"{value} (other types: {self.otherwise})"
        return value


#: Names a WSGI application must not set (PEP 3333): the server manages
#: the connection. wsgiref turns a response carrying one into a 500.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)


def _int_text(name: str, value: int, layer: str) -> str:
    try:
        return int.__repr__(value)  # an int subclass may print otherwise
    except ValueError:  # past sys.get_int_max_str_digits()
        raise InvalidHeaderError(
            name,
            f"the integer is too long to write ({value.bit_length()} bits); a"
            " header value is a short text",
            layer=layer,
        ) from None


def _nonce_template(name: str, value: HeaderValue, layer: str) -> tuple[str, ...]:
    """The field value cut where the per-request nonce goes.

    A builder with ``to_template()`` (:class:`~.csp.ContentSecurityPolicy`)
    cuts it where its ``NONCE`` placeholders are, so no text of the value can
    pose as a nonce. Another builder is rendered with two unguessable nonces,
    and the text around them must agree.
    """
    to_template = getattr(value, "to_template", None)
    try:
        if callable(to_template):
            parts = tuple(to_template())
        else:
            first, second = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
            text = value.to_header(nonce=first)  # type: ignore[call-arg]
            if not isinstance(text, str):
                text = check_value(name, text, layer=layer)  # raises
            parts = tuple(text.split(first))
            if second.join(parts) != value.to_header(nonce=second):  # type: ignore[call-arg]
                raise InvalidHeaderError(
                    name,
                    "the builder's value changes with the nonce beyond the nonce"
                    " itself; give it a to_template() method",
                    layer=layer,
                )
    except InvalidHeaderError as error:
        raise error.with_layer(layer) from None
    if not all(isinstance(part, str) for part in parts):
        raise InvalidHeaderError(
            name, "to_template() must return str parts", layer=layer
        )
    # Checked with a stand-in nonce: base64 characters only.
    check_value(name, "n".join(parts), layer=layer)
    return tuple(plain_str(part) for part in parts)


def _declare_otherwise(name: str, header: Header, layer: str) -> str | None:
    value = header.otherwise
    if value is None or value is INHERIT:
        return None
    if header.mimetypes is None:
        raise InvalidHeaderError(
            name, "otherwise= needs mimetypes (use only_for)", layer=layer
        )
    if getattr(value, "uses_nonce", False) or not isinstance(
        value, str | int | HeaderValue
    ):
        raise InvalidHeaderError(
            name,
            "otherwise= takes a static value (a str or a builder without NONCE)",
            layer=layer,
        )
    if isinstance(value, HeaderValue):
        text = check_value(name, _call_to_header(name, value, layer), layer=layer)
    elif isinstance(value, bool):
        raise InvalidHeaderError(
            name, f"{value!r} is not a header value; write the text", layer=layer
        )
    else:
        if isinstance(value, int):
            value = _int_text(name, value, layer)
        text = check_value(name, value, layer=layer)
        check_grammar(name, text, layer=layer)
    check_semantics(name, text, header.mode, layer)
    check_static_csp(name, text, layer=layer)
    return text


def declare(
    headers: cabc.Mapping[str, Value | Header | None] | None,
    *,
    layer: str,
    source: str = "app",
) -> dict[str, Declared]:
    """Validate one layer's mapping; keys are the lower-cased header names.

    :param headers: the layer's mapping.
    :param layer: how error messages name the layer (``"app"``,
        ``"blueprint 'api'"``, ``"view 'index'"``).
    :param source: how ``flask headers show`` names it (``"blueprint:api"``).
    :raise InvalidHeaderError: on the first bad name or static value.
    :raise TypeError: ``headers`` is not a mapping (the message shows one).
    """
    check_headers_shape(headers, where=layer)
    result: dict[str, Declared] = {}
    for name, spec in (headers or {}).items():
        name = check_name(name, layer=layer)
        typo = misspelt(name)
        if typo is not None:
            warnings.warn(
                f"header {name!r} declared by {layer} is not {typo!r}: a"
                " misspelt name is sent as it is, and browsers ignore it (a"
                " header of your own by that name? filter HeaderNameWarning)",
                HeaderNameWarning,
                stacklevel=outside_package(),
            )
        removing = spec is None or (
            isinstance(spec, Header) and spec.mode is Mode.REMOVE
        )
        if name.lower() in HOP_BY_HOP and not removing:
            raise InvalidHeaderError(
                name,
                "a hop-by-hop header belongs to the connection, which the"
                " server manages: PEP 3333 forbids an application to send it"
                " (wsgiref answers 500); only remove() may name it",
                layer=layer,
                part="name",
            )
        if isinstance(spec, Header) and spec.mimetypes is not None:
            check_mimetypes(name, spec.mimetypes, layer)
        declared = dataclasses.replace(_declare_one(name, spec, layer), source=source)
        if isinstance(spec, Header) and spec.otherwise is INHERIT:
            if spec.mimetypes is not None:
                declared = dataclasses.replace(declared, inherit_otherwise=True)
        elif isinstance(spec, Header) and spec.otherwise is not None:
            otherwise = _declare_otherwise(name, spec, layer)
            declared = dataclasses.replace(declared, otherwise=otherwise)
        if declared.key in result:
            raise InvalidHeaderError(
                name,
                f"declared twice in one layer (also as {result[declared.key].name!r})",
                layer=layer,
                part="name",
            )
        result[declared.key] = declared
    return result


def _declare_one(name: str, spec: Value | Header | None, layer: str) -> Declared:
    if spec is None:
        return Declared(name, Mode.DEFAULT, layer, cancel=True)
    header = spec if isinstance(spec, Header) else Header(spec)
    mode, value = header.mode, header.value
    if mode is Mode.APPEND and name.lower() in SINGLE_VALUED:
        raise InvalidHeaderError(
            name,
            "holds one value, not a comma-separated list: append() would join"
            " the response's own and this one into a malformed value; declare"
            " force(...) to replace the response's own, or a plain value to"
            " keep it",
            layer=layer,
        )
    scope = header.mimetypes
    secure = header.secure_only
    if mode is Mode.REMOVE:
        if value is not None:
            raise InvalidHeaderError(name, "remove() takes no value", layer=layer)
        return Declared(name, mode, layer, mimetypes=scope, secure_only=secure)
    if value is None:
        raise InvalidHeaderError(
            name, f"a {mode.value} header needs a value", layer=layer
        )
    if isinstance(value, HeaderValue):
        if getattr(value, "uses_nonce", False):
            template = _nonce_template(name, value, layer)
            return Declared(
                name,
                mode,
                layer,
                template=template,
                mimetypes=scope,
                secure_only=secure,
            )
        text = check_value(name, _call_to_header(name, value, layer), layer=layer)
    elif isinstance(value, bool):
        raise InvalidHeaderError(
            name, f"{value!r} is not a header value; write the text", layer=layer
        )
    elif isinstance(value, int):
        text = check_value(name, _int_text(name, value, layer), layer=layer)
        check_grammar(name, text, layer=layer)
    elif isinstance(value, str):
        text = check_value(name, value, layer=layer)
        check_grammar(name, text, layer=layer)
    elif callable(value):
        return Declared(
            name, mode, layer, dynamic=value, mimetypes=scope, secure_only=secure
        )
    else:
        raise InvalidHeaderError(
            name,
            f"unsupported value type {type(value).__name__}: use a str, an int,"
            " a typed builder, a callable or None",
            layer=layer,
        )
    check_semantics(name, text, mode, layer)
    check_static_csp(name, text, layer=layer)
    return Declared(name, mode, layer, static=text, mimetypes=scope, secure_only=secure)


def _call_to_header(name: str, value: HeaderValue, layer: str, **kwargs: str) -> str:
    try:
        return value.to_header(**kwargs)
    except InvalidHeaderError as error:
        raise error.with_layer(layer) from None


def check_semantics(name: str, text: str, mode: Mode, layer: str) -> None:
    """Checks beyond the grammar, for static and per-request values alike:
    ``append`` needs a member; ``Content-Type`` must be forced and a ``text/*``
    type needs a charset."""
    key = name.lower()
    if mode is Mode.APPEND and not split_members(text):
        raise InvalidHeaderError(
            name, "append() needs at least one member", layer=layer
        )
    if key != "content-type":
        return
    if mode is not Mode.FORCE:
        raise InvalidHeaderError(
            name,
            "Flask sets a Content-Type on every response, so a default-mode"
            f" value would never be sent; declare force({text!r})",
            layer=layer,
        )
    mimetype, _, params = text.partition(";")
    if mimetype.strip().lower().startswith("text/") and "charset" not in params.lower():
        raise InvalidHeaderError(
            name,
            f"{text!r} has no charset, so browsers guess one; declare"
            f" {mimetype.strip() + '; charset=utf-8'!r}",
            layer=layer,
        )


#: Headers that hold one value, not a comma-separated list (RFC 9110 §5.3):
#: ``append()`` of one would join two values into a malformed one (browsers
#: ignore ``Strict-Transport-Security: max-age=10, max-age=5``). Content-Type
#: has its own rule (``check_semantics``); Set-Cookie, a list of fields that
#: are never joined, gets a field of its own (``_apply.merge``).
SINGLE_VALUED = frozenset(
    {
        "strict-transport-security",
        "x-frame-options",
        "x-content-type-options",
        "x-xss-protection",
        "cross-origin-opener-policy",
        "cross-origin-embedder-policy",
        "cross-origin-embedder-policy-report-only",
        "cross-origin-opener-policy-report-only",
        "cross-origin-resource-policy",
        "content-length",
        "content-disposition",
        "content-range",
        "location",
        "etag",
        "last-modified",
        "expires",
        "date",
        "age",
        "retry-after",
    }
)

#: Headers whose list members compare case-insensitively: field names
#: (Vary, Access-Control-*-Headers, Trailer), content codings and
#: language tags. Members of any other header are compared byte for byte:
#: methods (Allow) are case-sensitive (RFC 9110 §9.1), and so are URLs.
CASE_INSENSITIVE_MEMBERS = frozenset(
    {
        "vary",
        "access-control-allow-headers",
        "access-control-expose-headers",
        "access-control-request-headers",
        "accept-ch",
        "accept-encoding",
        "accept-language",
        "accept-ranges",
        "content-encoding",
        "content-language",
        "critical-ch",
    }
)


def split_members(value: str) -> list[str]:
    """The members of a comma-separated list value, trimmed, empties dropped.

    A comma inside a quoted-string (``"a,b"``) or inside ``<...>`` (a URI
    reference, as in ``Link``) does not separate members.
    """
    members: list[str] = []
    start = 0
    quoted = escaped = False
    angle = 0
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif quoted:
            if char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == "<":
            angle += 1
        elif char == ">" and angle:
            angle -= 1
        elif char == "," and not angle:
            members.append(value[start:index])
            start = index + 1
    members.append(value[start:])
    return [member.strip(" \t") for member in members if member.strip(" \t")]
