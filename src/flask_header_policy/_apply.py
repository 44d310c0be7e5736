"""Merge one endpoint's winning declarations into a WSGI header list (sans-IO).

Everything here is built once: per endpoint a :class:`CompiledPolicy`, per
scheme a side, per set of mimetypes a :class:`Branch`, made on first sight of
each ``Content-Type`` value. Per response, the common case is the branch for
the scheme and the ``Content-Type`` value (a dict lookup), each of the
response's header names looked up in the branch's table (:meth:`Branch.scan`;
none for Flask's ``Content-Type`` + ``Content-Length``), and one
``list.extend`` of prebuilt ``(name, value)`` tuples, with the request's
nonce joined into the CSP when the branch's CSP carries one (the extension
does this inline). A response that already has a header the branch declares,
or a branch with a value computed per request, takes the general path
(:meth:`CompiledPolicy.apply`), which merges declaration by declaration.
"""

from __future__ import annotations

import binascii
import collections.abc as cabc
import os
import secrets
import typing as t

from ._grammar import check_grammar_cached
from ._validate import check_value
from .csp import parse_policy_list
from .errors import InvalidHeaderError
from .presets import HTML
from .reporting import parse_reporting_endpoints
from .rules import CASE_INSENSITIVE_MEMBERS
from .rules import check_semantics
from .rules import Declared
from .rules import HeaderValue
from .rules import Mode
from .rules import split_members

HeaderList = list[tuple[str, str]]

#: The request's nonce, in its WSGI environ (see :mod:`.nonce`).
NONCE_KEY = "flask_header_policy.nonce"


#: base64 to base64url (RFC 4648 §5).
URLSAFE = bytes.maketrans(b"+/", b"-_")
_b2a = binascii.b2a_base64
_urandom = os.urandom


def new_nonce() -> str:
    """A fresh nonce: what ``secrets.token_urlsafe(18)`` returns (18 bytes of
    ``os.urandom``, 144 bits, as 24 base64url characters), in two C calls
    instead of five Python ones."""
    return _b2a(_urandom(18), newline=False).translate(URLSAFE).decode()


def environ_nonce(environ: cabc.MutableMapping[str, t.Any]) -> str:
    """The request's nonce, made on first use."""
    nonce: str | None = environ.get(NONCE_KEY)
    if nonce is None:
        nonce = environ[NONCE_KEY] = new_nonce()
    return nonce


class RequestState(t.Protocol):
    """What dynamic declarations may ask of the request."""

    request: t.Any

    def response(self) -> t.Any: ...

    def nonce(self) -> str: ...


OnError = cabc.Callable[[Declared, Exception], None]
#: Splices the hashes of hash sets (by number) into one CSP value.
Splice = cabc.Callable[[str, frozenset[int]], str]
#: One header of a branch: its name and value, or the value's text around
#: the nonce.
_Out = tuple[str, str | tuple[str, ...]]
_Pairs = tuple[tuple[str, str], ...]
#: A header that needs the nonce: its name, its text around the nonce, and
#: the ready headers that follow it.
_Slot = tuple[str, tuple[str, ...], _Pairs]


class _Static:
    """Static declarations merged in one go: names, ready pairs, rules."""

    __slots__ = ("rules", "names", "items")

    def __init__(self, rules: cabc.Sequence[Declared]) -> None:
        self.rules = tuple(rules)
        self.names = frozenset(d.key for d in self.rules)
        self.items = tuple(
            (d.name, t.cast(str, d.static))
            for d in self.rules
            if d.mode is not Mode.REMOVE
        )


#: What a response's header name means for a branch (:meth:`Branch.classify`):
#: none of its business; the one ``Content-Type``; a ``Set-Cookie``; a CSP
#: the branch does not send (the response's own, which gets the hashes of
#: stamped templates); anything else, which takes the general path.
SAFE, TYPE, COOKIE, OWN_CSP, CONFLICT = range(5)
#: What :meth:`Branch.scan` finds, as bits: the response has a Set-Cookie,
#: a CSP of its own.
COOKIES, OWN_CSP_FLAG = 1, 2
# Spellings remembered per branch (an app sends few distinct header names).
_KNOWN_NAMES = 128
# Variants of a branch spliced with hashes: bounded per branch (an app has
# few distinct sets of templates per page).
_HASHED_CACHE = 256
# Content-Type values remembered per side of an endpoint's policy.
_TYPE_CACHE = 256


class Branch:
    """What the responses of one scheme and one set of mimetypes get.

    :param out: each header in the order it is added: name and value, or
        name and the value's text around the nonce.
    :param names: the lower-cased names of every declaration that acts on
        these responses (removals included): a response that carries one
        takes the general path.
    :param fast: whether the general path is never needed for want of a
        per-request value (no callable).
    :param html: whether these responses are HTML pages (any of their
        ``Content-Type`` fields), whose CSP gets the hashes of the rendered
        templates.
    """

    __slots__ = (
        "out",
        "names",
        "fast",
        "html",
        "sets_cookie",
        "simple",
        "nonces",
        "items",
        "head",
        "slots",
        "known",
        "_hashed",
    )

    def __init__(
        self,
        out: cabc.Sequence[_Out],
        names: frozenset[str],
        *,
        fast: bool,
        html: bool,
    ) -> None:
        self.out = tuple(out)
        self.names = names
        self.fast = fast
        self.html = html
        #: Whether the branch adds a ``Set-Cookie`` (to be hardened).
        self.sets_cookie = "set-cookie" in names
        #: Whether a response of Flask's two headers (``Content-Type``,
        #: ``Content-Length``) gets the branch as it is.
        self.simple = fast and "content-length" not in names
        head: list[tuple[str, str]] = []
        slots: list[tuple[str, tuple[str, ...], list[tuple[str, str]]]] = []
        for name, value in self.out:
            if isinstance(value, str):
                (slots[-1][2] if slots else head).append((name, value))
            else:
                slots.append((name, value, []))
        #: How many headers need the nonce: 0 (:attr:`items` is all), or
        #: more (:attr:`head`, then each of :attr:`slots`: a name, its text
        #: around the nonce, the headers that follow it).
        self.nonces = len(slots)
        self.items: _Pairs = tuple(head)
        self.head: _Pairs = tuple(head)
        self.slots: tuple[_Slot, ...] = tuple(
            (name, parts, tuple(tail)) for name, parts, tail in slots
        )
        #: A response's header names, as spelt, to what they mean for this
        #: branch (:data:`SAFE`, :data:`TYPE`, :data:`COOKIE`, :data:`OWN_CSP`
        #: or :data:`CONFLICT`): filled by :meth:`classify`, so that a
        #: response's names are looked up, not lower-cased, each time.
        self.known: dict[str, int] = {}
        self._hashed: dict[frozenset[int], Branch] = {}

    def classify(self, name: str) -> int:
        """What a response's header called ``name`` means for this branch."""
        key = name.lower()
        if key == "content-type":
            # Flask's spelling; another one takes the general path, which
            # reads every Content-Type field.
            code = TYPE if name == "Content-Type" else CONFLICT
        elif key in self.names:
            code = CONFLICT
        elif key == "set-cookie":
            code = COOKIE
        elif key in _CSP_HEADERS:
            code = OWN_CSP
        else:
            code = SAFE
        if len(self.known) >= _KNOWN_NAMES:
            self.known.clear()
        self.known[name] = code
        return code

    def scan(self, headers: HeaderList) -> int:
        """What the response's header names mean: ``-1`` when it must take
        the general path (it has a header the branch declares, a second
        ``Content-Type``, or the branch a callable), else :data:`COOKIES`
        and :data:`OWN_CSP_FLAG` bits.

        The response's ``Content-Type`` is its first header."""
        if not self.fast:
            return -1
        known = self.known
        flags = 0
        typed = False
        for name, _ in headers:
            code = known.get(name)
            if code is None:
                code = self.classify(name)
            if not code:  # SAFE
                continue
            if code == TYPE and not typed:
                typed = True
            elif code == COOKIE:
                flags |= COOKIES
            elif code == OWN_CSP:
                flags |= OWN_CSP_FLAG
            else:
                return -1
        return flags

    def extend(
        self, headers: HeaderList, environ: cabc.MutableMapping[str, t.Any]
    ) -> None:
        """Add the branch's headers to ``headers``, with the request's nonce
        (from ``environ``, made on first use) joined in where it goes."""
        if not self.nonces:
            headers.extend(self.items)
            return
        nonce = environ.get(NONCE_KEY)
        if nonce is None:  # environ_nonce(), without a call per response
            nonce = environ[NONCE_KEY] = new_nonce()
        headers.extend(self.head)
        for name, parts, tail in self.slots:
            headers.append((name, nonce.join(parts)))
            headers.extend(tail)

    def hashed(self, numbers: cabc.Iterable[int], splice: Splice) -> Branch:
        """This branch with the hash sets ``numbers`` spliced into its CSPs;
        made once per distinct set of numbers."""
        key = frozenset(numbers)
        found = self._hashed.get(key)
        if found is None:
            out: list[_Out] = []
            for name, value in self.out:
                if name.lower() in _CSP_HEADERS:
                    if isinstance(value, str):
                        value = splice(value, key)
                    else:
                        value = _splice_template(value, key, splice)
                out.append((name, value))
            found = Branch(out, self.names, fast=self.fast, html=self.html)
            found.known = self.known  # the same names: the same meanings
            if len(self._hashed) >= _HASHED_CACHE:
                self._hashed.clear()
            self._hashed[key] = found
        return found


def _splice_template(
    parts: tuple[str, ...], numbers: frozenset[int], splice: Splice
) -> tuple[str, ...]:
    """A nonce template with hashes spliced in: joined on ``{nonce}`` (so the
    text reads ``'nonce-{nonce}'``, as a policy is spliced everywhere), or on
    a random mark when a part holds that text; spliced; cut again at every
    mark (the splice may copy the nonce source into a directive it makes)."""
    mark = "{nonce}"
    while any(mark in part for part in parts):
        mark = secrets.token_hex(16)
    return tuple(splice(mark.join(parts), numbers).split(mark))


class _Side:
    """The declarations for one scheme (HTTPS or plain HTTP), and the
    branches made from them, by ``Content-Type``."""

    __slots__ = ("static", "conditional", "fast", "by_type", "by_found", "untyped")

    def __init__(self, entries: cabc.Sequence[Declared]) -> None:
        self.static = _Static([d for d in entries if _is_static(d)])
        self.conditional = tuple(d for d in entries if not _is_static(d))
        # A Content-Type the policy sets changes which scoped declarations
        # apply; the general path reads it after merging.
        self.fast = all(d.key != "content-type" for d in entries)
        self.by_type: dict[str, Branch] = {}
        self.by_found: dict[frozenset[str], Branch] = {}
        #: The branch of responses without a Content-Type.
        self.untyped = self.branch(frozenset())

    def branch(self, found: frozenset[str]) -> Branch:
        """The branch of responses whose mimetypes (and ``type/*``) are ``found``."""
        branch = self.by_found.get(found)
        if branch is not None:
            return branch
        out: list[_Out] = []
        names: set[str] = set()
        dynamic = False
        for declared in self.static.rules:
            names.add(declared.key)
            if declared.mode is not Mode.REMOVE:
                out.append((declared.name, t.cast(str, declared.static)))
        for declared in self.conditional:
            if declared.mimetypes is not None and declared.mimetypes.isdisjoint(found):
                if declared.otherwise is not None:
                    names.add(declared.key)
                    out.append((declared.name, declared.otherwise))
                continue
            names.add(declared.key)
            if declared.mode is Mode.REMOVE:
                continue
            if declared.static is not None:
                out.append((declared.name, declared.static))
            elif declared.template is not None:
                out.append((declared.name, declared.template))
            else:
                dynamic = True
        branch = Branch(
            out,
            frozenset(names),
            fast=self.fast and not dynamic,
            html=not found.isdisjoint(HTML),
        )
        if len(self.by_found) >= _TYPE_CACHE:
            self.by_found.clear()
        self.by_found[found] = branch
        return branch

    def for_type(self, value: str) -> Branch:
        """The branch of responses with the one ``Content-Type`` ``value``."""
        branch = self.by_type.get(value)
        if branch is None:
            parsed = _PARSED.get(value)
            if parsed is None:
                parsed = _parse_content_type(value)
            branch = self.branch(parsed)
            if len(self.by_type) >= _TYPE_CACHE:
                self.by_type.clear()
            self.by_type[value] = branch
        return branch

    def for_headers(self, headers: HeaderList) -> Branch:
        """The branch of a response by all its ``Content-Type`` fields."""
        return self.branch(_mimetypes(headers))


class CompiledPolicy:
    """The effective declarations of one endpoint, ready to apply.

    Declarations are prebuilt for each scheme (HSTS is sent on HTTPS only, a
    CSP may have a plain-HTTP variant) and, on first sight of each
    ``Content-Type``, into a :class:`Branch` for it.

    :param entries: the winning declaration for each header name, in the
        order they will be applied (lower layers first).
    """

    __slots__ = (
        "entries",
        "needs_state",
        "problems",
        "sends_nonce",
        "secure",
        "plain",
    )

    def __init__(self, entries: cabc.Sequence[Declared]) -> None:
        self.entries = tuple(entries)
        # What plain-HTTP responses get: HTTPS-only values left out or
        # replaced by their plain variant (a CSP without upgrade-insecure-requests).
        plain = [d.plain or d for d in self.entries]
        plain = [d for d in plain if not d.cancel and not d.secure_only]
        #: The declarations and branches of HTTPS responses.
        self.secure = _Side(self.entries)
        #: The declarations and branches of plain-HTTP responses.
        self.plain = _Side(plain)
        #: Whether some declaration is computed per request (a callable),
        #: which needs a :class:`RequestState`.
        self.needs_state = any(
            d.dynamic is not None
            for side in (self.secure, self.plain)
            for d in side.conditional
        )
        #: Inconsistencies between the winning declarations, found once.
        self.problems = reporting_problems(self.entries)
        #: Whether a CSP of this endpoint can carry the request's nonce (one
        #: with ``NONCE``, or a per-request one that may use it).
        self.sends_nonce = any(
            d.template is not None or (d.dynamic is not None and d.key in _CSP_HEADERS)
            for d in self.entries
            if d.key in _CSP_HEADERS
        )

    def apply(
        self,
        headers: HeaderList,
        is_secure: bool,
        state: RequestState | None = None,
        on_error: OnError | None = None,
        *,
        environ: cabc.MutableMapping[str, t.Any] | None = None,
    ) -> None:
        """Merge the declarations into ``headers`` in place, one by one.

        :param state: for declarations computed per request (callables).
        :param environ: the request's WSGI environ, which holds its nonce;
            without it, the nonce comes from ``state``.
        """
        side = self.secure if is_secure else self.plain
        group = side.static
        conditional = side.conditional
        present = {name.lower() for name, _ in headers}
        if present.isdisjoint(group.names):
            headers.extend(group.items)
            if not conditional:
                return
            present.update(name.lower() for name, _ in group.items)
        else:
            for declared in group.rules:
                merge(headers, present, declared.name, declared.static, declared.mode)
        mimetypes: frozenset[str] | None = None
        for declared in conditional:
            if declared.mimetypes is not None:
                if mimetypes is None:
                    mimetypes = _mimetypes(headers)
                if declared.mimetypes.isdisjoint(mimetypes):
                    if declared.otherwise is not None:
                        merge(
                            headers,
                            present,
                            declared.name,
                            declared.otherwise,
                            declared.mode,
                        )
                    continue
            if declared.dynamic is not None and state is None:
                continue  # no request to compute it for
            try:
                value = _resolve(declared, state, environ)
            except Exception as error:  # a user's callable may raise anything
                if on_error is None:
                    raise
                on_error(declared, error)
                continue
            if value is not None or declared.mode is Mode.REMOVE:
                merge(headers, present, declared.name, value, declared.mode)


_CSP_HEADERS = ("content-security-policy", "content-security-policy-report-only")


def _is_static(declared: Declared) -> bool:
    """Ready before the request: a fixed value (or removal) for every type."""
    return (
        declared.static is not None or declared.mode is Mode.REMOVE
    ) and declared.mimetypes is None


def reporting_problems(entries: cabc.Iterable[Declared]) -> list[InvalidHeaderError]:
    """CSP ``report-to`` names that no ``Reporting-Endpoints`` entry defines.

    Browsers drop reports for a name they have no endpoint for, so a policy
    that reports to ``csp`` must send ``Reporting-Endpoints: csp="…"`` too.
    Dynamic values are not known in advance and are not checked.
    """
    by_key = {d.key: d for d in entries}
    endpoints: set[str] = set()
    declared_endpoints = by_key.get("reporting-endpoints")
    if declared_endpoints is not None and declared_endpoints.static is not None:
        endpoints = set(parse_reporting_endpoints(declared_endpoints.static) or {})
    problems = []
    for key in _CSP_HEADERS:
        declared = by_key.get(key)
        if declared is None or declared.dynamic is not None:
            continue
        text = declared.static or "".join(declared.template or ())
        for policy in parse_policy_list(text):
            for name, sources in policy:
                missing = [
                    s for s in sources if name == "report-to" and s not in endpoints
                ]
                for group in missing:
                    problems.append(
                        InvalidHeaderError(
                            declared.name,
                            f"report-to {group!r} names no endpoint: declare"
                            f' Reporting-Endpoints with {group}="<url>" in the'
                            " same or a lower layer",
                            layer=declared.layer,
                        )
                    )
    return problems


def _resolve(
    declared: Declared,
    state: RequestState | None,
    environ: cabc.MutableMapping[str, t.Any] | None,
) -> str | None:
    if declared.static is not None or declared.mode is Mode.REMOVE:
        return declared.static
    if declared.template is not None:
        if environ is not None:
            return environ_nonce(environ).join(declared.template)
        assert state is not None
        return state.nonce().join(declared.template)
    assert declared.dynamic is not None and state is not None
    value = declared.dynamic(state.request, state.response())
    if value is None:
        return None
    checked = False  # a builder's value is valid by construction
    if isinstance(value, HeaderValue):
        checked = True
        if getattr(value, "uses_nonce", False):
            value = value.to_header(nonce=state.nonce())  # type: ignore[call-arg]
        else:
            value = value.to_header()
    if not isinstance(value, str):
        raise InvalidHeaderError(
            declared.name,
            f"the callable returned {type(value).__name__}, not a str, a typed"
            " builder or None",
            layer=declared.layer,
        )
    value = check_value(declared.name, value, layer=declared.layer)
    if not checked:
        check_grammar_cached(declared.name, value, layer=declared.layer)
    check_semantics(declared.name, value, declared.mode, declared.layer)
    return value


def _mimetypes(headers: HeaderList) -> frozenset[str]:
    """What ``only_for`` matches against: every Content-Type field's mimetype
    and its ``type/*`` wildcard.

    Every value counts, not just the first: a browser renders by the last
    (Fetch splits the fields, and each field, on commas), a proxy may keep
    the first, so a response with two must not escape a branch meant for
    either.
    """
    found: frozenset[str] = frozenset()
    for name, value in headers:
        # The length test spares a lower() for nearly every other header.
        if len(name) == 12 and name.lower() == "content-type":
            parsed = _PARSED.get(value)
            if parsed is None:
                parsed = _parse_content_type(value)
            found = parsed if not found else found | parsed
    return found


# An app sends few distinct Content-Type values: each is parsed once.
_PARSED: dict[str, frozenset[str]] = {}


def _parse_content_type(value: str) -> frozenset[str]:
    found: set[str] = set()
    for member in split_members(value) if "," in value else (value,):
        mimetype = member.partition(";")[0].strip().lower()
        found.add(mimetype)
        found.add(mimetype.partition("/")[0] + "/*")
    parsed = frozenset(found)
    if len(_PARSED) >= 256:
        _PARSED.clear()  # a bound, for apps that vary the value per response
    _PARSED[value] = parsed
    return parsed


def merge(
    headers: HeaderList, present: set[str], name: str, value: str | None, mode: Mode
) -> None:
    """Merge one header into a WSGI header list, keeping ``present`` in step."""
    key = name.lower()
    if mode is Mode.DEFAULT:
        if key not in present:
            headers.append((name, t.cast(str, value)))
            present.add(key)
        return
    if mode is Mode.APPEND and key == "set-cookie":
        # Cookies are never joined into one field (RFC 9110 §5.3): the
        # declared one is a field of its own, unless the same text is there.
        if key not in present or all(
            v != value for n, v in headers if n.lower() == key
        ):
            headers.append((name, t.cast(str, value)))
            present.add(key)
        return
    if key in present:
        old = [v for n, v in headers if n.lower() == key]
        headers[:] = [(n, v) for n, v in headers if n.lower() != key]
        present.discard(key)
    else:
        old = []
    if mode is Mode.REMOVE:
        return
    assert value is not None
    if mode is Mode.APPEND and old:
        value = merge_members(old, value, name)
    headers.append((name, value))
    present.add(key)


def merge_members(old: cabc.Iterable[str], new: str, name: str = "") -> str:
    """Join comma-list values, dropping repeated members, keeping the first.

    Members are split as :func:`~.rules.split_members` does (not inside
    quotes or ``<...>``) and kept byte for byte. They compare
    case-insensitively only for the headers in
    :data:`~.rules.CASE_INSENSITIVE_MEMBERS` (``Vary``: field names), exactly
    for every other header (``Link`` URLs, ``Allow`` methods).
    """
    fold = name.lower() in CASE_INSENSITIVE_MEMBERS
    members: dict[str, str] = {}
    for value in (*old, new):
        for member in split_members(value):
            members.setdefault(member.lower() if fold else member, member)
    return ", ".join(members.values())
